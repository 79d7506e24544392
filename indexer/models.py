"""The typed records shared by the indexer, the retriever, the API and the bot.

A field is named once here; the API's JSON is these models serialised.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, Field, PrivateAttr, computed_field

SectionType = Literal[
    "problem",
    "objectives",
    "strategies",
    "results",
    "lessons",
    "contacts",
    "gallery",
    "expert_key_aspects",
    "expert_opportunities",
    "expert_recommendations",
    "event",
    "other",
]

SECTION_LABELS: dict[str, str] = {
    "problem": "Problema",
    "objectives": "Objetivos",
    "strategies": "Estrategias",
    "results": "Resultados",
    "lessons": "Lecciones aprendidas",
    "contacts": "Contactos",
    "gallery": "Galería",
    "expert_key_aspects": "Aspecto clave (experto)",
    "expert_opportunities": "Oportunidades de mejora (experto)",
    "expert_recommendations": "Recomendaciones del experto",
    "event": "Intercambio",
    "other": "Texto",
}

EXPERT_SECTIONS: frozenset[str] = frozenset({"expert_key_aspects", "expert_opportunities", "expert_recommendations"})

RecordKind = Literal["practice", "event", "document"]


def location_label(page: int | None, slide: int | None, lines: tuple[int, int]) -> str:
    """Where to look in the document, in Spanish: 'página 27', 'diapositiva 5' or 'líneas 10–14'."""
    if page is not None:
        return f"página {page}"
    if slide is not None:
        return f"diapositiva {slide}"
    return f"línea {lines[0]}" if lines[0] == lines[1] else f"líneas {lines[0]}–{lines[1]}"


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


class Section(BaseModel):
    """One section of a record, with where it lies in its source file (1-based, inclusive)."""

    type: SectionType
    heading: str
    text: str
    document: str
    lines: tuple[int, int]
    expert: str | None = None
    document_title: str = ""  # the document's own title, for citations a person can follow
    page: int | None = None  # first page (PDF) of the section
    slide: int | None = None  # first slide (PPTX) of the section
    # Source line of each line of `text` (blank separators included), kept while indexing; not serialised.
    _line_numbers: list[int] = PrivateAttr(default_factory=list)
    # Page or slide of each line of `text` (parallel to _line_numbers); empty for plain text.
    _line_locations: list[int | None] = PrivateAttr(default_factory=list)


class ExpertCommentary(BaseModel):
    """What an invited expert said about a practice at an exchange."""

    expert: str
    role: str = ""
    document: str
    event: str | None = None
    key_aspects: list[Section] = Field(default_factory=list)
    opportunities: list[Section] = Field(default_factory=list)
    recommendations: list[Section] = Field(default_factory=list)

    @property
    def sections(self) -> list[Section]:
        return [*self.key_aspects, *self.opportunities, *self.recommendations]


class Contact(BaseModel):
    """A person to contact about a practice, read from its contacts section."""

    name: str
    role: str = ""
    email: str | None = None


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def parse_contacts(text: str) -> list[Contact]:
    """The people of a contacts section: a name line, then role lines, then (optionally) an e-mail line."""
    contacts: list[Contact] = []
    lines: list[str] = []

    def close(email: str | None) -> None:
        if lines or email:
            name = lines[0] if lines else ""
            contacts.append(Contact(name=name, role=", ".join(lines[1:]), email=email))
        lines.clear()

    for raw in text.split("\n"):
        line = raw.strip().strip("-•* ").strip()
        if not line:
            if lines and len(lines) >= 2:
                close(None)
            continue
        found = _EMAIL.search(line)
        if found:
            close(found.group(0))
        else:
            lines.append(line)
    if lines:
        close(None)
    return [c for c in contacts if c.name or c.email]


class Record(BaseModel):
    """A practice, a part of an exchange (event), or any other document."""

    id: str
    kind: RecordKind
    title: str
    region: str | None = None
    offices: list[str] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)
    event: str | None = None
    sections: list[Section] = Field(default_factory=list)
    experts: list[ExpertCommentary] = Field(default_factory=list)

    @property
    def has_expert_commentary(self) -> bool:
        return bool(self.experts)

    def all_sections(self) -> list[Section]:
        """Own sections followed by the expert commentary's sections."""
        return [*self.sections, *(s for e in self.experts for s in e.sections)]

    def contacts(self) -> list[Contact]:
        """The people of the record's contacts sections (the sections' text is kept as it is)."""
        return [c for s in self.sections if s.type == "contacts" for c in parse_contacts(s.text)]

    def label(self) -> str:
        """'Title — offices (region)', how a practice is named to users."""
        return practice_label(self.title, self.offices, self.region)


class Passage(BaseModel):
    """A chunk of a section: what is embedded, searched and cited."""

    id: str
    record_id: str
    practice: str
    kind: RecordKind
    region: str = ""
    offices: list[str] = Field(default_factory=list)
    section: SectionType
    heading: str = ""
    document: str
    lines: tuple[int, int]
    text: str
    expert: str | None = None
    document_title: str = ""
    page: int | None = None  # PDF page where the passage starts
    slide: int | None = None  # PPTX slide where the passage starts

    def location(self) -> str:
        """'página 27' for a PDF, 'diapositiva 5' for a deck, the line range otherwise."""
        return location_label(self.page, self.slide, self.lines)

    def embedding_text(self) -> str:
        """The text that is embedded: prefixed with its record and section so it keeps its context."""
        where = ", ".join(self.offices) or self.region
        label = SECTION_LABELS.get(self.section, self.section)
        head = f"{self.practice} ({where})" if where else self.practice
        return f"{head}. {label}: {self.text}"


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
        return cls(
            n=n,
            practice=record.title,
            practice_id=record.id,
            region=record.region or "",
            offices=record.offices,
            section=section.type,
            document=section.document,
            lines=section.lines,
            text=section.text,
            score=score,
            document_title=section.document_title,
            page=section.page,
            slide=section.slide,
            expert=section.expert,
        )

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
