"""A cited source and the one way practices, places and links are named to users.

`Source` is a passage as the API returns it, numbered as the answer cites it; its shown fields (label,
where, section label, place, link) are computed here once and serialised, so the page, Telegram and
the API show the same words.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from pydantic import BaseModel, computed_field

from bpge.labels import label
from indexer.models import SECTION_LABELS, Passage, Record, Section


def location_label(page: int | None, slide: int | None, lines: tuple[int, int]) -> str:
    """Where to look in the document, in Spanish: 'página 27', 'diapositiva 5' or 'líneas 10–14'."""
    if page is not None:
        return label("places", "page", page=page)
    if slide is not None:
        return label("places", "slide", slide=slide)
    if lines[0] == lines[1]:
        return label("places", "line", line=lines[0])
    return label("places", "lines", first=lines[0], last=lines[1])


def where_label(offices: list[str], region: str | None) -> str:
    """'DRE X, UGEL Y, otras 9 oficinas (Region)': the one way offices are named to users."""
    shown = offices if len(offices) <= 3 else [*offices[:2], f"otras {len(offices) - 2} oficinas"]
    where = ", ".join(shown)
    if region and region.lower() not in where.lower():
        where = f"{where} ({region})" if where else region
    return where


def practice_label(title: str, offices: list[str], region: str | None) -> str:
    """'Title — offices (region)', how a practice is named to users (web, Telegram, answers)."""
    where = where_label(offices, region)
    return f"{title} — {where}" if where else title


def record_label(record: Record) -> str:
    """'Title — offices (region)' of a record."""
    return practice_label(record.title, record.offices, record.region)


class Source(BaseModel):
    """A passage as returned to users: numbered as cited in the answer."""

    n: int
    practice: str
    practice_id: str
    region: str
    offices: list[str]
    section: str
    document: str
    lines: tuple[int, int]
    text: str
    score: float
    document_title: str = ""
    page: int | None = None
    slide: int | None = None
    expert: str | None = None  # the expert whose commentary this is (expert sections only)

    def location(self) -> str:
        """'página 27' for a PDF, 'diapositiva 5' for a deck, the line range otherwise."""
        return location_label(self.page, self.slide, self.lines)

    @classmethod
    def from_passage(cls, n: int, passage: Passage, score: float) -> Source:
        return cls(
            n=n,
            practice=passage.practice,
            practice_id=passage.record_id,
            region=passage.region,
            offices=passage.offices,
            section=passage.section,
            document=passage.document,
            lines=passage.lines,
            text=passage.text,
            score=round(float(score), 4),
            document_title=passage.document_title,
            page=passage.page,
            slide=passage.slide,
            expert=passage.expert,
        )

    @classmethod
    def from_section(cls, n: int, record: Record, section: Section, score: float) -> Source:
        """A whole section as a source (quoting a record's own section rather than a retrieved chunk)."""
        location = section.slide if section.slide is not None else section.page
        return cls.from_passage(n, Passage.of(record, section, section.text, section.lines, location), score)

    # Shown fields, computed once here and serialised with the source (the page renders them as they come).

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """'Practice — offices (region)'."""
        return practice_label(self.practice, self.offices, self.region)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def where(self) -> str:
        """'offices (region)'."""
        return where_label(self.offices, self.region)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def section_label(self) -> str:
        return SECTION_LABELS.get(self.section, self.section)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def place(self) -> str:
        """Where in the document: 'página 27', 'diapositiva 5' or 'líneas 10–14'."""
        return self.location()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def href(self) -> str:
        """The practice sheet with this passage highlighted (relative to the site)."""
        return cited_href(self.practice_id, self.document, self.lines)


def sheet_href(practice_id: str) -> str:
    return "/practicas/" + quote(practice_id, safe="")


def cited_href(practice_id: str, document: str, lines: tuple[int, int]) -> str:
    """`/practicas/{id}?doc=…&lineas=a-b#citado`: the sheet, scrolled to the cited passage."""
    query = urlencode({"doc": document, "lineas": f"{lines[0]}-{lines[1]}"})
    return f"{sheet_href(practice_id)}?{query}#citado"
