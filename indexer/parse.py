"""Parse corpus documents into records: practices (with expert commentary), exchange parts, other documents.

The parser recognises the shapes found in BPGE material by their markers, never by file name:

- a practice sheet: "BUENA PRÁCTICA DE GESTIÓN EDUCATIVA", title, "REGIÓN X", offices, a context paragraph
  (the problem), "¿En qué consiste?", "¿Qué está logrando?", "Contactos", "Galería";
- a report of an exchange holding several practices ("REGIÓN X", title, offices, PROBLEMA, ESTRATEGIA,
  RESULTADOS), each followed by an invited expert's commentary ("Experto invitado", name, role, "Aspecto clave
  de la práctica", "Oportunidades de mejora", "Recomendaciones…"), plus the event's own parts, found through
  the report's table of contents and its stand-alone headings;
- a slide deck: section markers (Problemática, Objetivos, Estrategias/acciones, Logros, Lecciones aprendidas)
  without a practice header: one practice, titled by its repeated slide title;
- anything else: one record, titled by its first heading or line, with sections from its headings.

Every section keeps the 1-based line range of its text in the source file, for citations.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from indexer.models import ExpertCommentary, Record, Section
from indexer.peru import (
    canonical_region,
    looks_like_office_line,
    offices_in,
    regions_in,
    split_offices,
)
from indexer.read import SourceDocument
from indexer.text import collapse_spaces, fold, is_upper_text, slugify

SECTION_MARKERS: dict[str, str] = {
    "problema": "problem",
    "problematica": "problem",
    "el problema": "problem",
    "situacion problematica": "problem",
    "objetivo": "objectives",
    "objetivos": "objectives",
    "objetivo general": "objectives",
    "objetivos especificos": "objectives",
    "en que consiste": "strategies",
    "estrategia": "strategies",
    "estrategias": "strategies",
    "estrategias acciones": "strategies",
    "estrategias y acciones": "strategies",
    "acciones": "strategies",
    "que esta logrando": "results",
    "que logro": "results",
    "resultados": "results",
    "logros": "results",
    "lecciones aprendidas": "lessons",
    "contacto": "contacts",
    "contactos": "contacts",
    "galeria": "gallery",
    "galeria fotografica": "gallery",
    "aspecto clave": "expert_key_aspects",
    "aspectos clave": "expert_key_aspects",
    "aspecto clave de la practica": "expert_key_aspects",
    "aspectos clave de la practica": "expert_key_aspects",
    "oportunidades de mejora": "expert_opportunities",
    "recomendaciones": "expert_recommendations",
    "recomendaciones para la sostenibilidad y replica": "expert_recommendations",
}
PRACTICE_SECTIONS = {"problem", "objectives", "strategies", "results", "lessons"}
EXPERT_START = {"experto invitado", "experta invitada", "experto comentarista", "experta comentarista"}
PRACTICE_START = {"buena practica de gestion educativa", "buenas practicas de gestion educativa"}
IGNORED_BLOCKS = {
    "informacion relevante del experto comentarista",
    "conoce mas sobre esta buena practica",
    "indice",
    "contenido",
}
LONG_PARAGRAPH = 150
_TOC_LINE = re.compile(r"(\t|\.{4,}|\s{3,})\s*\d{1,3}\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\((?:mailto:)?[^)]*\)")
_REGION_BLOCK = re.compile(r"(?i)^\s*regi[oó]n\b\s*(.*)$")
_TRAILING_OFFICE = re.compile(r"\s+((?:DRE|GRE|UGEL)\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+(?:\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)*)\s*$")


@dataclass
class Line:
    no: int  # 1-based line number in the source file
    text: str  # cleaned of markdown decoration
    heading: bool = False  # a markdown heading (#) in the source
    toc: bool = False  # a table-of-contents entry ('Presentación<TAB>8')


@dataclass
class Block:
    """A run of non-blank lines."""

    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def start(self) -> int:
        return self.lines[0].no

    @property
    def end(self) -> int:
        return self.lines[-1].no


# ---------------------------------------------------------------- cleaning and blocks


def _clean(raw: str) -> tuple[str, bool]:
    text = raw.replace("\u00a0", " ")
    heading = bool(re.match(r"^\s*#{1,6}\s", text))
    text = re.sub(r"^\s*#{1,6}\s*", "", text)
    text = _LINK.sub(r"\1", text)
    text = text.replace("\\_", "_").replace("\\-", "-").replace("*", "")
    text = re.sub(r"^\s*[•●▪]\s*", "- ", text)
    text = "".join(c for c in text if not (0xE000 <= ord(c) <= 0xF8FF or 0x1F000 <= ord(c) <= 0x1FAFF))
    text = re.sub(r"^(\s*-\s*)[✓✔]\s*", r"\1", text)
    text = text.replace("✓", "").replace("✔", "")
    return collapse_spaces(text), heading


def _split_inline_markers(raw: str) -> list[str]:
    """PDF-to-text joins like '…METROPOLITANA***Contactos****Marcos…' become separate lines."""
    parts = [p for p in re.split(r"\*{3,}", raw) if p.strip()]
    return parts or [raw]


def _clean_lines(doc: SourceDocument) -> list[Line | None]:
    """One entry per cleaned line (None for a blank one); split pieces share their source line number."""
    out: list[Line | None] = []
    for no, raw in enumerate(doc.lines, start=1):
        for piece in _split_inline_markers(raw):
            text, heading = _clean(piece)
            out.append(Line(no, text, heading, _is_toc_line(piece)) if text else None)
    return out


def _running_headers(lines: list[Line | None]) -> set[str]:
    """Repeated short lines (page headers, slide titles) that are noise inside sections."""
    counts = Counter(fold(line.text) for line in lines if line and len(line.text) <= 150)
    noise = set()
    for key, n in counts.items():
        if not key or key in SECTION_MARKERS or key in EXPERT_START or key in PRACTICE_START:
            continue
        if n >= 3 or (n >= 2 and len(key) >= 40):
            noise.add(key)
    return noise


def _blocks(lines: list[Line | None], drop: set[str]) -> list[Block]:
    blocks: list[Block] = []
    current: list[Line] = []
    for line in lines:
        if line is None or (fold(line.text) in drop and not line.text.startswith("-") and "|" not in line.text):
            if current:
                blocks.append(Block(current))
            current = []
            continue
        if current and (_marker_of(line.text) or line.heading):
            blocks.append(Block(current))
            current = []
        current.append(line)
        if _marker_of(line.text) and len(current) == 1:
            blocks.append(Block(current))
            current = []
    if current:
        blocks.append(Block(current))
    return blocks


def _marker_of(text: str) -> str | None:
    key = fold(text)
    return SECTION_MARKERS.get(key) if len(key) <= 60 else None


def _is_toc_line(raw: str) -> bool:
    return bool(_TOC_LINE.search(raw.rstrip())) or bool(re.fullmatch(r"\s*-{5,}\s*-*\s*", raw))


# ---------------------------------------------------------------- table of contents and headings


def _toc_entries(blocks: list[Block]) -> tuple[list[str], set[int]]:
    """Entries of a table of contents ('Presentación<TAB>8'), and the indexes of its blocks."""
    toc_idx = [i for i, b in enumerate(blocks) if any(line.toc for line in b.lines)]
    if not toc_idx:
        return [], set()
    first, last = toc_idx[0], toc_idx[-1]
    span = set(range(first, last + 1))
    entries: list[str] = []
    for i in span:
        for line in blocks[i].lines:
            title = fold(re.sub(r"\s\d{1,3}$", "", line.text) if line.toc else line.text)
            if not title or re.match(r"^\d+\s", title) or "region" in title.split():
                continue  # practice entries ('1. Región Ayacucho') are found by their own markers
            entries.append(title)
    if first > 0 and blocks[first - 1].folded in IGNORED_BLOCKS:
        span.add(first - 1)
    return entries, span


def _matches_toc(block: Block, toc: list[str]) -> bool:
    """The block is a heading listed in the table of contents (allowing a fuller wording in the body)."""
    if len(block.text) > 160 or not toc:
        return False
    words = block.folded.split()
    for entry in toc:
        entry_words = entry.split()
        if block.folded == entry:
            return True
        if (
            len(block.lines) == 1
            and len(entry_words) >= 2
            and words[:2] == entry_words[:2]
            and set(entry_words) <= set(words)
            and len(words) - len(entry_words) <= 8
        ):
            return True
    return False


def _is_heading(block: Block, previous: Block | None, following: Block | None) -> bool:
    """A stand-alone heading: one short line, not a sentence, between the end of a paragraph and a real one."""
    if len(block.lines) != 1 or following is None:
        return False
    if previous is not None and not (
        previous.text.endswith((".", ":", "!", "?", ")")) or len(previous.text) >= LONG_PARAGRAPH
    ):
        return False
    text = block.text
    if len(text) > 120 or text.startswith("-") or text.endswith((".", ",", ";")) or "|" in text:
        return False
    if block.lines[0].heading:
        return True
    nxt = following.lines[0].text
    return len(following.text) >= LONG_PARAGRAPH and not nxt.startswith("-") and len(following.lines[0].text) >= 80


# ---------------------------------------------------------------- builders


@dataclass
class SectionBuilder:
    type: str
    heading: str
    lines: list[Line] = field(default_factory=list)
    expert: str | None = None

    def add(self, block: Block) -> None:
        if self.lines:
            self.lines.append(Line(self.lines[-1].no, ""))  # paragraph break
        self.lines.extend(block.lines)

    def build(self, document: str) -> Section | None:
        lines = list(self.lines)
        while lines and (not lines[-1].text or re.fullmatch(r"\d{1,3}", lines[-1].text)):
            lines.pop()  # page numbers and blank tails
        while lines and not lines[0].text:
            lines.pop(0)
        text = "\n".join(l.text for l in lines)
        if not lines or len(re.sub(r"[\d\s]", "", text)) < 3:
            return None
        section = Section(
            type=self.type,  # type: ignore[arg-type]
            heading=self.heading,
            text=text,
            document=document,
            lines=(lines[0].no, lines[-1].no),
            expert=self.expert,
        )
        section._line_numbers = [l.no for l in lines]
        return section


@dataclass
class ExpertBuilder:
    name: str = ""
    role: str = ""


@dataclass
class PracticeBuilder:
    document: str
    event: str | None
    title: str = ""
    region: str | None = None
    offices: list[str] = field(default_factory=list)
    in_header: bool = True
    sections: list[SectionBuilder] = field(default_factory=list)
    experts: list[tuple[ExpertBuilder, list[SectionBuilder]]] = field(default_factory=list)
    current: SectionBuilder | None = None
    expert: ExpertBuilder | None = None

    def open_section(self, type_: str, heading: str) -> None:
        if self.current and self.current.type == type_ and type_ not in {"expert_key_aspects"}:
            return  # a sub-heading of the same kind ('OBJETIVO GENERAL' inside 'Objetivos')
        self.in_header = False
        if type_.startswith("expert_") and self.expert is None:
            self.start_expert()
        if not type_.startswith("expert_"):
            self.expert = None
        builder = SectionBuilder(type_, heading, expert=self.expert.name if self.expert else None)
        if self.expert is not None:
            self.experts[-1][1].append(builder)
        else:
            self.sections.append(builder)
        self.current = builder

    def start_expert(self) -> None:
        self.expert = ExpertBuilder()
        self.experts.append((self.expert, []))
        self.current = None

    def add(self, block: Block) -> None:
        if self.expert is not None and self.current is None:
            # name and role lines right after "Experto invitado"
            for line in block.lines:
                if not self.expert.name:
                    self.expert.name = line.text
                elif len(self.expert.role) < 200:
                    self.expert.role = f"{self.expert.role} {line.text}".strip()
            builder = SectionBuilder("expert_key_aspects", "Experto invitado", expert=self.expert.name)
            builder.add(block)
            self.experts[-1][1].append(builder)
            self.current = builder
            return
        if self.current is None:
            self.open_section("problem", "Contexto")
        assert self.current is not None
        if (
            self.expert is not None
            and self.current.type == "expert_key_aspects"
            and self.current.heading == "Experto invitado"
            and not self.expert.role
        ):
            self.expert.role = block.text[:200]
        self.current.add(block)

    def build(self) -> Record | None:
        sections = _merge_same_type([s for b in self.sections if (s := b.build(self.document))])
        experts = []
        for expert, builders in self.experts:
            built = _merge_same_type([s for b in builders if (s := b.build(self.document))])
            if not built:
                continue
            for s in built:
                s.expert = expert.name
            experts.append(
                ExpertCommentary(
                    expert=expert.name,
                    role=expert.role,
                    document=self.document,
                    event=self.event,
                    key_aspects=[s for s in built if s.type == "expert_key_aspects"],
                    opportunities=[s for s in built if s.type == "expert_opportunities"],
                    recommendations=[s for s in built if s.type == "expert_recommendations"],
                )
            )
        if not self.title or not (sections or experts):
            return None
        return Record(
            id="",
            kind="practice",
            title=self.title,
            region=self.region,
            offices=self.offices,
            documents=[self.document],
            event=self.event,
            sections=sections,
            experts=experts,
        )


def _merge_same_type(sections: list[Section]) -> list[Section]:
    merged: list[Section] = []
    for s in sections:
        if merged and merged[-1].type == s.type and merged[-1].expert == s.expert:
            prev = merged[-1]
            numbers = [*prev._line_numbers, prev.lines[1], *s._line_numbers]
            new = prev.model_copy(update={"text": prev.text + "\n\n" + s.text, "lines": (prev.lines[0], s.lines[1])})
            new._line_numbers = numbers
            merged[-1] = new
        else:
            merged.append(s)
    return merged


@dataclass
class PartBuilder:
    """A part of a document that is not a practice: an exchange's presentation, its visit, testimonials…"""

    title: str
    section: SectionBuilder

    def content_chars(self) -> int:
        return sum(len(l.text) for l in self.section.lines)


# ---------------------------------------------------------------- titles


def _word_forms(doc: SourceDocument) -> dict[str, Counter[str]]:
    forms: dict[str, Counter[str]] = {}
    for line in doc.lines:
        if is_upper_text(line):
            continue
        words = re.findall(r"[\wÁÉÍÓÚÑáéíóúñü]+", line)
        for i, w in enumerate(words):
            if i == 0:
                continue  # sentence-initial capitals say nothing
            forms.setdefault(w.lower(), Counter())[w] += 1
    return forms


def _truecase(title: str, forms: dict[str, Counter[str]]) -> str:
    """An all-capitals title in the casing its words have elsewhere in the document."""
    if not is_upper_text(title):
        return title
    out = []
    for i, token in enumerate(re.split(r"(\W+)", title)):
        if not token or not token[0].isalnum():
            out.append(token)
            continue
        seen = forms.get(token.lower())
        word = token.lower()
        if (
            (seen
            and not seen.get(word)
            and len(word) > 3)
            or (seen and seen.most_common(1)[0][0].isupper() and len(word) > 1)
        ):
            word = seen.most_common(1)[0][0]  # proper nouns and acronyms keep their capitals
        out.append(word)
    text = "".join(out).strip()
    return text[:1].upper() + text[1:]


def _clean_title(text: str) -> str:
    text = collapse_spaces(text).strip(" \"“”'‘’*_#")
    return text.rstrip(" .:")


def _split_trailing_office(title: str) -> tuple[str, list[str]]:
    m = _TRAILING_OFFICE.search(title)
    if m and is_upper_text(title[: m.start()]):
        return title[: m.start()].strip(), split_offices(m.group(1))
    return title, []


# ---------------------------------------------------------------- the parser


def _event_name(blocks: list[Block]) -> str | None:
    for i, block in enumerate(blocks[:15]):
        folded = block.folded
        if len(block.text) <= 120 and ("intercambio" in folded.split() or "encuentro" in folded.split()):
            name = block.text
            if i + 1 < len(blocks) and blocks[i + 1].folded.startswith("macrorregion"):
                name = f"{name} – {blocks[i + 1].text}"
            return _clean_title(name)
    return None


def _region_of_block(block: Block) -> str | None:
    m = _REGION_BLOCK.match(block.text)
    if not m or len(block.text) > 60:
        return None
    return canonical_region(m.group(1)) if m.group(1).strip() else None


def parse_document(doc: SourceDocument) -> list[Record]:
    """All records in one document (practices not yet merged with other documents)."""
    lines = _clean_lines(doc)
    drop = _running_headers(lines)
    blocks = _blocks(lines, drop)
    toc, toc_blocks = _toc_entries(blocks)
    has_practice_header = any(b.folded in PRACTICE_START or _region_of_block(b) for b in blocks)
    markers = {_marker_of(b.text) for b in blocks} & PRACTICE_SECTIONS
    if not has_practice_header and len(markers) >= 3:
        return _parse_slide_deck(doc, lines, blocks)
    if not has_practice_header:
        return [_parse_generic(doc, blocks)]

    event = _event_name(blocks)
    forms = _word_forms(doc)
    records: list[Record] = []
    practice: PracticeBuilder | None = None
    part: PartBuilder | None = None
    parts: list[PartBuilder] = []

    def close_practice() -> None:
        nonlocal practice
        if practice is not None:
            record = practice.build()
            if record:
                record.title = _truecase(record.title, forms)
                records.append(record)
        practice = None

    for i, block in enumerate(blocks):
        if i in toc_blocks or block.folded in IGNORED_BLOCKS:
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        previous = blocks[i - 1] if i > 0 else None
        folded = block.folded
        region = _region_of_block(block)
        marker = _marker_of(block.text)

        if folded in PRACTICE_START:
            close_practice()
            part = None
            practice = PracticeBuilder(doc.path, event)
            continue
        if region and not (practice and practice.in_header and practice.region is None):
            close_practice()
            part = None
            practice = PracticeBuilder(doc.path, event, region=region)
            continue
        if practice is not None and practice.in_header:
            if region:
                practice.region = region
            elif marker:
                practice.open_section(marker, block.text)
            elif folded in EXPERT_START:
                practice.in_header = False
                practice.start_expert()
            elif looks_like_office_line(block.text) and practice.title:
                practice.offices += [
                    o for o in split_offices("\n".join(l.text for l in block.lines)) if o not in practice.offices
                ]
            elif not practice.title and len(block.text) < LONG_PARAGRAPH:
                title, offices = _split_trailing_office(_clean_title(block.text))
                practice.title = title
                practice.offices += offices
            elif len(block.text) >= LONG_PARAGRAPH or block.text.startswith("-"):
                practice.add(block)
            continue
        if practice is not None:
            if _matches_toc(block, toc):
                close_practice()
            elif marker:
                practice.open_section(marker, block.text)
                continue
            elif folded in EXPERT_START:
                practice.start_expert()
                continue
            else:
                practice.add(block)
                continue
        # outside practices: the document's own parts
        if _matches_toc(block, toc) or _is_heading(block, previous, following):
            title = _clean_title(block.text)
            if part is not None and part.content_chars() < 120:
                part.title = f"{part.title} — {title}"  # 'Día 2' + '24 de abril' + the real heading
                part.section.heading = part.title
            else:
                part = PartBuilder(title, SectionBuilder("event", title))
                parts.append(part)
            continue
        if part is not None:
            part.section.add(block)
    close_practice()

    for p in parts:
        section = p.section.build(doc.path)
        if section is None or len(section.text) < 80:
            continue
        records.append(
            Record(id="", kind="event", title=p.title, documents=[doc.path], event=event, sections=[section])
        )
    return records


def _parse_slide_deck(doc: SourceDocument, lines: list[Line | None], blocks: list[Block]) -> list[Record]:
    counts = Counter(line.text for line in lines if line and 10 <= len(line.text) <= 150 and not _marker_of(line.text))
    repeated = [t for t, n in counts.most_common() if n >= 2]
    first = next((b.text for b in blocks), doc.path)
    title = _clean_title(repeated[0] if repeated else first)
    practice = PracticeBuilder(doc.path, None, title=title, in_header=False)
    text = doc.text
    practice.region = next(
        iter(regions_in(" ".join(re.findall(r"(?i)regi[oó]n\s+\w+(?:\s+\w+)?", text)))), None
    ) or next(iter(regions_in(text)), None)
    practice.offices = offices_in(text)[:1]
    for block in blocks:
        marker = _marker_of(block.text)
        if marker:
            practice.open_section(marker, block.text)
        elif practice.current is not None and fold(block.text) != fold(title):
            practice.add(block)
    record = practice.build()
    return [record] if record else [_parse_generic(doc, blocks)]


def _parse_generic(doc: SourceDocument, blocks: list[Block]) -> Record:
    title = next((b.text for b in blocks if b.lines[0].heading), None) or (blocks[0].text if blocks else doc.path)
    title = _clean_title(title)[:150]
    sections: list[SectionBuilder] = []
    current = SectionBuilder("other", title)
    sections.append(current)
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        previous = blocks[i - 1] if i > 0 else None
        if block.lines[0].heading or _is_heading(block, previous, following):
            heading = _clean_title(block.text)
            if heading == title and not current.lines:
                continue
            current = SectionBuilder("other", heading)
            sections.append(current)
            continue
        current.add(block)
    built = [s for b in sections if (s := b.build(doc.path))]
    text = doc.text
    return Record(
        id="",
        kind="document",
        title=title,
        region=next(iter(regions_in(text[:3000])), None),
        offices=offices_in(text)[:3],
        documents=[doc.path],
        sections=built,
    )


# ---------------------------------------------------------------- the whole corpus


def _similar_titles(a: str, b: str) -> bool:
    wa, wb = set(fold(a).split()), set(fold(b).split())
    if not wa or not wb:
        return False
    overlap = len(wa & wb)
    return overlap / min(len(wa), len(wb)) >= 0.85 and overlap / max(len(wa), len(wb)) >= 0.6


def _merge_practices(records: list[Record]) -> list[Record]:
    """The same practice in two documents (a sheet and a report) becomes one record with both as sources."""
    merged: list[Record] = []
    for record in records:
        twin = next(
            (
                m
                for m in merged
                if m.kind == "practice"
                and record.kind == "practice"
                and (m.region == record.region or not m.region or not record.region)
                and (not (m.offices and record.offices) or set(m.offices) & set(record.offices))
                and _similar_titles(m.title, record.title)
            ),
            None,
        )
        if twin is None:
            merged.append(record)
            continue
        if is_upper_text(twin.title) and not is_upper_text(record.title):
            twin.title = record.title
        twin.region = twin.region or record.region
        twin.offices += [o for o in record.offices if o not in twin.offices]
        twin.documents += [d for d in record.documents if d not in twin.documents]
        twin.event = twin.event or record.event
        twin.sections += record.sections
        twin.experts += record.experts
    return merged


def _attach_parts(records: list[Record]) -> list[Record]:
    """An exchange part about exactly one practice (its visit, say) becomes a section of that practice."""
    practices = [r for r in records if r.kind == "practice"]
    kept: list[Record] = []
    for record in records:
        if record.kind != "event":
            kept.append(record)
            continue
        text = fold(" ".join(s.text for s in record.sections))
        title = fold(record.title)
        named = [
            p
            for p in practices
            if len(fold(p.title).split()) >= 4
            and fold(p.title) in text
            and any(fold(o) in title for o in p.offices + ([p.region] if p.region else []))
        ]
        if len(named) == 1:
            for s in record.sections:
                s.heading = record.title
            named[0].sections += record.sections
        else:
            kept.append(record)
    return kept


def _assign_ids(records: list[Record]) -> None:
    used: set[str] = set()
    for record in records:
        base = slugify(record.title, max_words=7)
        if record.kind == "event":
            base = f"evento-{base}"
        candidate = base
        if candidate in used and record.region:
            candidate = f"{base}-{slugify(record.region)}"
        n = 2
        while candidate in used:
            candidate = f"{base}-{n}"
            n += 1
        used.add(candidate)
        record.id = candidate


def parse_corpus(documents: list[SourceDocument]) -> list[Record]:
    """Records of the whole corpus: practices merged across documents, exchange parts, other documents."""
    records: list[Record] = []
    for doc in documents:
        records.extend(parse_document(doc))
    records = _attach_parts(_merge_practices(records))
    _assign_ids(records)
    return records
