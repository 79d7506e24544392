"""The typed records the indexer builds and the assistant reads: records, sections, passages.

A field is named once here. How they are shown to people (labels, links, cited sources) lives in
`bot/sources.py` and `bot/views.py`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

from bpge.labels import labels

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
    "heading",
]

SECTION_LABELS: dict[str, str] = labels()["sections"]

EXPERT_SECTIONS: frozenset[str] = frozenset({"expert_key_aspects", "expert_opportunities", "expert_recommendations"})

RecordKind = Literal["practice", "event", "document"]


class Span(BaseModel):
    """A place in a corpus document (1-based lines, inclusive), for a citation a person can follow."""

    document: str
    document_title: str = ""
    lines: tuple[int, int]
    page: int | None = None
    slide: int | None = None


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
    # Where other documents of the practice tell paragraphs of this section again (the same wording, perhaps
    # condensed: `indexer.repeats`): those copies are left out of the record, so indexed and shown once, here,
    # but they stay sources of the text.
    also_in: list[Span] = Field(default_factory=list)
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
        if found and not lines and contacts and contacts[-1].email is None:
            # "Name / Role / (blank) / Correo: …": the e-mail of the person just closed by the blank line
            contacts[-1].email = found.group(0)
        elif found:
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
    # Where each document presents the practice: its region, title and offices as the document prints them. Cited
    # when someone asks who presented it and where; not searched (its words are the title's and the offices').
    headings: list[Section] = Field(default_factory=list)

    @property
    def has_expert_commentary(self) -> bool:
        return bool(self.experts)

    def all_sections(self) -> list[Section]:
        """Own sections followed by the expert commentary's sections."""
        return [*self.sections, *(s for e in self.experts for s in e.sections)]

    def contacts(self) -> list[Contact]:
        """The people of the record's contacts sections (the sections' text is kept as it is)."""
        return [c for s in self.sections if s.type == "contacts" for c in parse_contacts(s.text)]


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

    @classmethod
    def of(
        cls, record: Record, section: Section, text: str, lines: tuple[int, int], location: int | None, id: str = ""
    ) -> Passage:
        """A passage of `section` (its `location` is a page, or a slide for a deck)."""
        is_slide = section.slide is not None
        return cls(
            id=id,
            record_id=record.id,
            practice=record.title,
            kind=record.kind,
            region=record.region or "",
            offices=record.offices,
            section=section.type,
            heading=section.heading,
            document=section.document,
            lines=lines,
            text=text,
            expert=section.expert,
            document_title=section.document_title,
            page=None if is_slide else location,
            slide=location if is_slide else None,
        )

    def embedding_text(self) -> str:
        """The text that is embedded: prefixed with its record and section so it keeps its context."""
        where = ", ".join(self.offices) or self.region
        label = SECTION_LABELS.get(self.section, self.section)
        head = f"{self.practice} ({where})" if where else self.practice
        return f"{head}. {label}: {self.text}"
