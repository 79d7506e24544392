"""The view layer: what a practice sheet and a cited source show, built once from the records.

`PracticeSheet.of(record)` is rendered by the Jinja2 templates (bot/templates/), by the Telegram
formatter (bot/telegram/format.py) and summarised by the API; `SourceView.of(source)` names a
source the same way everywhere. Nothing here escapes: each renderer escapes for its own medium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bot.sources import Source, location_label, practice_label, sheet_href, where_label
from bpge.labels import label, labels
from bpge.settings import Settings
from indexer.models import SECTION_LABELS, ExpertCommentary, Record, Section, Span
from indexer.text import fold

KIND_LABELS = labels()["kinds"]
OWN_ORDER = ["problem", "objectives", "strategies", "results", "lessons"]
LAST_ORDER = ["contacts", "gallery"]
EXPERTS_KEY = "experts"
# The sections a busy reader opens one by one (Telegram buttons, the sheet's table of contents).
QUICK_SECTIONS = ["problem", "strategies", "results", EXPERTS_KEY, "contacts"]
QUICK_LABELS = {**SECTION_LABELS, EXPERTS_KEY: label("sheet", "experts")}
SUMMARY_CHARS = 260
LINE_SUMMARY_CHARS = 150
RECOMMENDATION_CHARS = 220

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BULLET = re.compile(r"^\s*[-•*▪●◦]\s+")
_PHONE = re.compile(r"^(tel[eé]fono|celular|cel\.|tel\.)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def public_base(settings: Settings) -> str:
    """The site's public address, without a trailing slash (BPGE_PUBLIC_URL, else the served address)."""
    if settings.public_url:
        return settings.public_url.strip().rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def ask_href(question: str) -> str:
    """A link that reopens a question on the page."""
    return "/?" + urlencode({"q": question})


def flat(text: str) -> str:
    """Corpus text on one line, without bullets or Markdown marks."""
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    return re.sub(r"\*\*|^#+\s*", "", " ".join(x for x in lines if x)).strip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a sentence when one ends late enough, else at a word."""
    text = flat(text)
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    ends = [m.start() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] > limit // 2:
        return head[: ends[-1]].rstrip()
    cut = head.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def short_document(title: str, document: str, practice: str = "") -> str:
    """A document's name short enough for a phone line: 'Ficha de la práctica', 'Reporte del I Intercambio'."""
    name = " ".join((title or "").split())
    if not name or (practice and fold(name)[:40] == fold(practice)[:40]):
        return label("documents", "presentation" if fold(document).startswith("presentacion") else "sheet")
    name = re.sub(r"\s+de (las )?Buenas Prácticas de Gestión Educativa\b.*$", "", name, flags=re.IGNORECASE)
    name = re.sub(r"\bde sistematización\s+", "", name, flags=re.IGNORECASE)
    return shorten(name, 48)


def short_place(page: int | None, slide: int | None) -> str:
    """'pág. 12' or 'diap. 5'; nothing for plain text (line numbers mean nothing to a reader)."""
    if page is not None:
        return label("places", "page_short", page=page)
    if slide is not None:
        return label("places", "slide_short", slide=slide)
    return ""


# ------------------------------------------------------------------ sources


@dataclass(frozen=True)
class SourceView:
    """A numbered source as shown: '[1] Ayacucho · Estrategias · Reporte del I Intercambio, pág. 12'."""

    n: int
    practice_id: str
    practice: str
    label: str
    where: str
    section_label: str
    document: str
    place: str
    href: str  # the sheet at the cited passage, relative to the site

    @classmethod
    def of(cls, source: Source) -> SourceView:
        where = source.region or (source.offices[0] if source.offices else "")
        document = short_document(source.document_title, source.document, source.practice)
        return cls(
            n=source.n,
            practice_id=source.practice_id,
            practice=source.practice,
            label=source.label,
            where=where,
            section_label=source.section_label,
            document=document,
            place=short_place(source.page, source.slide),
            href=source.href,
        )

    @property
    def citation(self) -> str:
        doc = f"{self.document}, {self.place}" if self.place else self.document
        return " · ".join(x for x in (self.where, self.section_label, doc) if x)


# ------------------------------------------------------------------ practice sheet


@dataclass
class Part:
    """One section's text on the sheet, with where it comes from."""

    heading: str  # shown only when it says more than the group's label
    text: str
    origin: str  # 'Reporte de sistematización …, página 12'
    document: str = ""
    cited: bool = False
    also: list[str] = field(default_factory=list)  # other documents telling some of this text: their origins


@dataclass
class Group:
    key: str
    anchor: str
    label: str
    parts: list[Part]

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.parts if p.text.strip())


@dataclass
class ExpertView:
    index: int
    name: str
    role: str
    origin: str
    groups: list[Group]


@dataclass
class ContactLine:
    text: str
    email: str = ""


@dataclass
class Contact:
    lines: list[ContactLine]

    @property
    def name(self) -> str:
        return self.lines[0].text if self.lines else ""

    @property
    def emails(self) -> list[str]:
        return [x.email for x in self.lines if x.email]

    @property
    def role(self) -> str:
        return next((x.text for x in self.lines[1:] if not x.email), "")


Cited = tuple[str, int, int]


@dataclass
class PracticeSheet:
    """Everything a practice sheet shows, in order."""

    id: str
    kind: str
    kind_label: str
    title: str
    label: str
    where: str
    region: str
    offices: list[str]
    event: str
    documents: list[str]
    href: str
    summary: str
    groups: list[Group]  # own sections, in reading order (contacts and gallery last)
    experts: list[ExpertView]
    contacts: list[Contact]
    recommendation: str = ""
    recommendation_by: str = ""
    search_text: str = ""
    has_cited: bool = False
    sections: list[str] = field(default_factory=list)  # QUICK_SECTIONS this sheet has

    @classmethod
    def of(cls, record: Record, cited: Cited | None = None) -> PracticeSheet:
        marker = _Marker(cited, record)
        by_type: dict[str, list[Section]] = {}
        for section in record.sections:
            by_type.setdefault(section.type, []).append(section)
        middle = [t for t in by_type if t not in OWN_ORDER and t not in LAST_ORDER and t != "contacts"]
        order = [t for t in OWN_ORDER if t in by_type] + middle + [t for t in ("gallery",) if t in by_type]
        groups = [_group(t, f"s-{t}", SECTION_LABELS.get(t, t), by_type[t], marker) for t in order]
        experts = [_expert(c, i, marker) for i, c in enumerate(record.experts, start=1)]
        contacts = [c for s in by_type.get("contacts", []) for c in parse_contacts(s.text)]
        recommendation, by = _recommendation(record)
        summary_source = by_type.get("problem") or by_type.get("objectives") or record.sections[:1]
        summary = shorten(summary_source[0].text, SUMMARY_CHARS) if summary_source else ""
        documents = list(
            dict.fromkeys(s.document_title or s.document for s in record.all_sections() if s.document)
        ) or list(record.documents)
        names = [e.name for e in experts] + [c.name for c in contacts]
        sections = [k for k in QUICK_SECTIONS if k in by_type or (k == EXPERTS_KEY and experts)]
        if "contacts" not in sections and record.kind == "practice":
            sections.append("contacts")  # the button says plainly that there are none
        return cls(
            id=record.id,
            kind=record.kind,
            kind_label=KIND_LABELS.get(record.kind, "Ficha"),
            title=record.title,
            label=practice_label(record.title, record.offices, record.region),
            where=where_label(record.offices, record.region),
            region=record.region or "",
            offices=list(record.offices),
            event=record.event or "",
            documents=documents,
            href=sheet_href(record.id),
            summary=summary,
            groups=groups,
            experts=experts,
            contacts=contacts,
            recommendation=recommendation,
            recommendation_by=by,
            search_text=fold(" ".join([record.title, record.region or "", *record.offices, summary, *names])),
            has_cited=marker.done,
            sections=sections,
        )

    @property
    def line_summary(self) -> str:
        return shorten(self.summary, LINE_SUMMARY_CHARS)

    def section_text(self, key: str) -> list[tuple[str, str]]:
        """(label, text) blocks of one quick section (experts: one block per expert and kind). A paragraph two
        documents tell (the sheet and the exchange's report) is in the record once (`indexer.repeats`)."""
        if key == EXPERTS_KEY:
            return [
                (e.name + (f" — {e.role}" if e.role else ""), "\n\n".join(f"**{g.label}**\n{g.text}" for g in e.groups))
                for e in self.experts
            ]
        return [(g.label, g.text) for g in self.groups if g.key == key]

    def section_origin(self, key: str) -> str:
        """Every document the section's text comes from, including those that repeat it."""
        parts = (
            [p for e in self.experts for g in e.groups for p in g.parts]
            if key == EXPERTS_KEY
            else [p for g in self.groups if g.key == key for p in g.parts]
        )
        return "; ".join(dict.fromkeys(origin for p in parts for origin in (p.origin, *p.also)))


class _Marker:
    """Marks the section that holds the cited lines: the one keeping the paragraph when they are a copy left
    out of the record (`Section.also_in`), else the one whose lines they are in."""

    def __init__(self, cited: Cited | None, record: Record) -> None:
        self.target: Section | None = None
        self.done = False
        if cited is not None:
            doc, a, b = cited

            def within(span: Span) -> bool:
                return span.document == doc and span.lines[0] <= a and b <= span.lines[1]

            def overlaps(where: Section | Span) -> bool:
                return where.document == doc and where.lines[0] <= b and a <= where.lines[1]

            sections = record.all_sections()
            self.target = (
                next((s for s in sections if any(within(span) for span in s.also_in)), None)
                or next((s for s in sections if overlaps(s)), None)
                or next((s for s in sections if any(overlaps(span) for span in s.also_in)), None)
            )

    def __call__(self, section: Section) -> bool:
        if self.done or section is not self.target:
            return False
        self.done = True
        return True


def _origin(where: Section | Span) -> str:
    return f"{where.document_title or where.document}, {location_label(where.page, where.slide, where.lines)}"


def _also(section: Section) -> list[str]:
    """One origin per other document that repeats the section's paragraphs: from its first to its last copy."""
    by_document: dict[str, list[Span]] = {}
    for span in section.also_in:
        by_document.setdefault(span.document, []).append(span)
    return [
        _origin(spans[0].model_copy(update={"lines": (min(s.lines[0] for s in spans), max(s.lines[1] for s in spans))}))
        for spans in by_document.values()
    ]


def _part(section: Section, label: str, marker: _Marker, drop: tuple[str, ...] = ()) -> Part:
    heading = section.heading.strip()
    hidden = {fold(label), fold(SECTION_LABELS.get(section.type, "")), "experto invitado", *(fold(d) for d in drop)}
    text = section.text
    if drop:  # the expert's name and role, repeated at the top of their first section
        lines = text.strip().splitlines()
        while lines and (not lines[0].strip() or fold(lines[0].strip()) in hidden):
            lines.pop(0)
        text = "\n".join(lines)
    return Part(
        heading=heading if heading and fold(heading) not in hidden else "",
        text=text.strip(),
        origin=_origin(section),
        document=section.document,
        cited=marker(section),
        also=_also(section),
    )


def _group(
    key: str, anchor: str, label: str, sections: list[Section], marker: _Marker, drop: tuple[str, ...] = ()
) -> Group:
    return Group(key, anchor, label, [_part(s, label, marker, drop) for s in sections])


def _expert(commentary: ExpertCommentary, index: int, marker: _Marker) -> ExpertView:
    drop = (commentary.expert, commentary.role)
    kinds = [
        ("aspectos", label("sheet", "expert_key_aspects"), commentary.key_aspects),
        ("oportunidades", label("sheet", "expert_opportunities"), commentary.opportunities),
        ("recomendaciones", label("sheet", "expert_recommendations"), commentary.recommendations),
    ]
    groups = [
        _group(f"expert_{slug}", f"experto-{index}-{slug}", label, secs, marker, drop)
        for slug, label, secs in kinds
        if secs
    ]
    return ExpertView(
        index=index,
        name=commentary.expert,
        role=commentary.role,
        origin=" · ".join(x for x in (commentary.event or "",) if x),
        groups=groups,
    )


def _recommendation(record: Record) -> tuple[str, str]:
    """The first expert recommendation (its first point), and who made it."""
    for commentary in record.experts:
        for section in commentary.recommendations or commentary.key_aspects:
            points = [_BULLET.sub("", x).strip() for x in section.text.splitlines() if _BULLET.match(x)]
            if points:
                return shorten(points[0], RECOMMENDATION_CHARS), commentary.expert
            return shorten(section.text, RECOMMENDATION_CHARS), commentary.expert
    return "", ""


def parse_contacts(text: str) -> list[Contact]:
    """Contacts: a name, a role, then 'Correo: x@y' / phone lines; a new contact starts after those."""
    out: list[Contact] = []
    current: list[ContactLine] = []
    for raw in text.splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        email = _EMAIL.search(line)
        detail = bool(email) or bool(_PHONE.match(line))
        if not detail and any(x.email or _PHONE.match(x.text) for x in current):
            out.append(Contact(current))
            current = []
        current.append(ContactLine(line, email.group(0) if email else ""))
    if current:
        out.append(Contact(current))
    return out
