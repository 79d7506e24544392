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
    canonical_office,
    canonical_region,
    looks_like_office_line,
    offices_in,
    regions_in,
    split_offices,
)
from indexer.read import SourceDocument
from indexer.repeats import drop_record_repeats
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
    loc: int | None = None  # page (PDF) or slide (PPTX) of the line


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
    if heading:  # '1. Problemática', 'II. RESULTADOS': numbered headings name the same sections
        text = re.sub(r"^\s*(?:\d{1,2}|[IVX]{1,4})[.)]\s+(?=\D)", "", text)
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
        loc = doc.location_of(no)
        for piece in _split_inline_markers(raw):
            text, heading = _clean(piece)
            out.append(Line(no, text, heading, _is_toc_line(piece), loc) if text else None)
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
    return bool(_TOC_LINE.search(raw.rstrip())) or bool(re.fullmatch(r"\s*-{5,}[\s.…·_-]*", raw))


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
            title = fold(re.sub(r"[\s.…·_-]*\d{1,3}$", "", line.text) if line.toc else line.text)
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
    if previous is not None and re.fullmatch(r"[\d.,%+ ]{1,8}", previous.text):
        return False  # the caption of a figure ('912' / 'Red de gestores CoP…'), not a heading
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
            self.lines.append(Line(self.lines[-1].no, "", loc=self.lines[-1].loc))  # paragraph break
        self.lines.extend(block.lines)

    def build(self, document: str, location_kind: str | None = None) -> Section | None:
        lines = list(self.lines)
        while lines and (not lines[-1].text or re.fullmatch(r"\d{1,3}", lines[-1].text)):
            lines.pop()  # page numbers and blank tails
        while lines and not lines[0].text:
            lines.pop(0)
        text = "\n".join(ln.text for ln in lines)
        if not lines or len(re.sub(r"[\d\s]", "", text)) < 3:
            return None
        section = Section(
            type=self.type,  # type: ignore[arg-type]
            heading=self.heading,
            text=text,
            document=document,
            lines=(lines[0].no, lines[-1].no),
            expert=self.expert,
            page=lines[0].loc if location_kind == "page" else None,
            slide=lines[0].loc if location_kind == "slide" else None,
        )
        section._line_numbers = [ln.no for ln in lines]
        if location_kind:
            section._line_locations = [ln.loc for ln in lines]
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
    location_kind: str | None = None
    heading: SectionBuilder = field(default_factory=lambda: SectionBuilder("heading", ""))

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
                    self.expert.name, role = split_name_role(line.text)
                    self.expert.role = role
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
        sections = _merge_same_type([s for b in self.sections if (s := b.build(self.document, self.location_kind))])
        experts = []
        for expert, builders in self.experts:
            built = _merge_same_type([s for b in builders if (s := b.build(self.document, self.location_kind))])
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
        self.heading.heading = self.title
        heading = self.heading.build(self.document, self.location_kind)
        return Record(
            headings=[heading] if heading else [],
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
            if prev._line_locations or s._line_locations:
                last = prev._line_locations[-1] if prev._line_locations else None
                new._line_locations = [*prev._line_locations, last, *s._line_locations]
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
        return sum(len(line.text) for line in self.section.lines)


# ---------------------------------------------------------------- experts

_ROLE_WORD = re.compile(
    r"(?i)\b(?:consejer[oa]|especialista|secretar[ií]a|secretari[oa]|director(?:a)?|subdirector(?:a)?|docente"
    r"|jef[ea]|coordinador(?:a)?|investigador(?:a)?|profesor(?:a)?|asesor(?:a)?|consultor(?:a)?|miembro"
    r"|president[ea]|representante|gerente|ministr[oa]|viceministr[oa]|analista|funcionari[oa]|integrante"
    r"|responsable|fundador(?:a)?|decan[oa]|rector(?:a)?|magíster|doctor(?:a)?\s+en|licenciad[oa])\b"
)
_NAME_WORD = re.compile(r"^(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñü.'-]*|de|del|la|las|los|y|da|van|von)$")


def split_name_role(text: str) -> tuple[str, str]:
    """'Jorge Chávez Escobar Consejero del CNE' or 'Jorge Chávez Escobar – Consejero…' → (name, role).

    A reading that joins the name line and the role line (PDF, a Word paragraph) must not make the role
    part of the expert's name.
    """
    text = collapse_spaces(text).strip(" -–—,:;")
    m = _ROLE_WORD.search(text)
    if m and m.start() > 0:
        return text[: m.start()].strip(" -–—,:;(").strip(), text[m.start() :].strip()
    for sep in (" – ", " — ", " - ", ", ", ": ", " | "):
        if sep in text:
            head, tail = text.split(sep, 1)
            if 2 <= len(head.split()) <= 6:
                return head.strip(), tail.strip()
    words = text.split()
    if len(words) <= 6:
        return text, ""
    name: list[str] = []
    for w in words:
        if not _NAME_WORD.match(w) or len(name) >= 6:
            break
        name.append(w)
    while name and name[-1].lower() in {"de", "del", "la", "las", "los", "y"}:
        name.pop()
    if len(name) >= 2:
        return " ".join(name), " ".join(words[len(name) :])
    return text, ""


def _expert_start(block: Block) -> str | None:
    """'' for an 'Experto invitado' heading, the rest for 'Experto invitado: Nombre…', None otherwise."""
    folded = block.folded
    if folded in EXPERT_START:
        return ""
    for start in EXPERT_START:
        if folded.startswith(start + " ") and len(block.lines) == 1:
            rest = re.sub(r"(?i)^\W*exper[a-z]+\s+(?:invitad[oa]|comentarista)\W*", "", block.text)
            return rest.strip()
    return None


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
    for token in re.split(r"(\W+)", title):
        if not token or not token[0].isalnum():
            out.append(token)
            continue
        seen = forms.get(token.lower())
        word = token.lower()
        if (seen and not seen.get(word) and len(word) > 3) or (
            seen and seen.most_common(1)[0][0].isupper() and len(word) > 1
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
    records = _parse_records(doc, lines, blocks, drop)
    title = _document_title(doc, blocks, records, drop)
    for record in records:
        for section in [*record.all_sections(), *record.headings]:
            section.document_title = title
    return records


def _parse_records(doc: SourceDocument, lines: list[Line | None], blocks: list[Block], drop: set[str]) -> list[Record]:
    toc, toc_blocks = _toc_entries(blocks)
    headed = any(b.folded in PRACTICE_START for b in blocks)  # «BUENA PRÁCTICA DE GESTIÓN EDUCATIVA»
    has_practice_header = headed or any(_region_of_block(b) for b in blocks)
    markers = {_marker_of(b.text) for b in blocks} & PRACTICE_SECTIONS
    experts = sum(1 for b in blocks if _expert_start(b) is not None)
    looks_like_report = experts >= 1 or len(toc) >= 3  # a multi-practice report never goes to the deck parser
    if not has_practice_header and len(markers) >= 3 and not looks_like_report:
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

    cover_end = min(toc_blocks) if toc_blocks else 0  # before the table of contents: the cover
    for i, block in enumerate(blocks):
        if i in toc_blocks or block.folded in IGNORED_BLOCKS:
            continue
        if i < cover_end and not (block.folded in PRACTICE_START or _region_of_block(block)):
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        previous = blocks[i - 1] if i > 0 else None
        folded = block.folded
        region = _region_of_block(block)
        marker = _marker_of(block.text)

        if folded in PRACTICE_START:
            close_practice()
            part = None
            practice = PracticeBuilder(doc.path, event, location_kind=doc.location_kind)
            continue
        if region and not (practice and practice.in_header and practice.region is None):
            close_practice()
            part = None
            practice = PracticeBuilder(doc.path, event, location_kind=doc.location_kind, region=region)
            practice.heading.add(block)
            continue
        if practice is not None and practice.in_header:
            if region:
                practice.region = region
                practice.heading.add(block)
            elif marker:
                practice.open_section(marker, block.text)
            elif (rest := _expert_start(block)) is not None:
                practice.in_header = False
                practice.start_expert()
                if rest:
                    practice.add(Block([Line(block.start, rest, loc=block.lines[0].loc)]))
            elif looks_like_office_line(block.text) and practice.title:
                practice.offices += [
                    o for o in split_offices("\n".join(line.text for line in block.lines)) if o not in practice.offices
                ]
                practice.heading.add(block)
            elif not practice.title and len(block.text) < LONG_PARAGRAPH and " | " not in block.text:
                title, offices = _split_trailing_office(_clean_title(block.text))
                practice.title = title
                practice.offices += offices
                practice.heading.add(block)
            elif len(block.text) >= LONG_PARAGRAPH or block.text.startswith("-"):
                practice.add(block)
            continue
        if practice is not None:
            if _matches_toc(block, toc):
                close_practice()
            elif marker:
                practice.open_section(marker, block.text)
                continue
            elif (rest := _expert_start(block)) is not None:
                practice.start_expert()
                if rest:
                    practice.add(Block([Line(block.start, rest, loc=block.lines[0].loc)]))
                continue
            else:
                practice.add(block)
                continue
        # outside practices: the document's own parts
        caption = previous is not None and re.fullmatch(r"[\d.,%+ ]{1,8}", previous.text)
        if not caption and (_matches_toc(block, toc) or _is_heading(block, previous, following)):
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
    if not headed and not any(r.offices for r in records):
        # only a «Región: X» line made it look like a sheet, and no education office is named: another sector's
        # report or any other document (a health centre's good practice), read as a document, not as a practice
        return [_parse_generic(doc, blocks)]

    for p in parts:
        section = p.section.build(doc.path, doc.location_kind)
        if section is None or len(section.text) < 80:
            continue
        records.append(
            Record(id="", kind="event", title=p.title, documents=[doc.path], event=event, sections=[section])
        )
    return records


def _parse_slide_deck(doc: SourceDocument, lines: list[Line | None], blocks: list[Block]) -> list[Record]:
    counts = Counter(
        line.text
        for line in lines
        if line
        and 10 <= len(line.text) <= 150
        and not _marker_of(line.text)
        and " | " not in line.text  # never a table row
        and not line.text.startswith("-")
    )
    repeated = [t for t, n in counts.most_common() if n >= 2]
    first = next((b.text for b in blocks if b.lines[0].heading), None) or next((b.text for b in blocks), doc.path)
    given = doc.title if doc.title and not _marker_of(doc.title) and len(doc.title) >= 10 else None
    title = _clean_title(given or (repeated[0] if repeated else first))
    practice = PracticeBuilder(doc.path, None, title=title, in_header=False, location_kind=doc.location_kind)
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
    built = [s for b in sections if (s := b.build(doc.path, doc.location_kind))]
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


def _document_title(doc: SourceDocument, blocks: list[Block], records: list[Record], drop: set[str]) -> str:
    """The title a person would cite: a sheet's or deck's practice, a report's own title with its event."""
    practices = [r for r in records if r.kind == "practice"]
    if len(records) == 1:
        return records[0].title
    first = next(
        (
            _clean_title(b.text)
            for b in blocks
            if b.folded not in drop and len(b.text) <= 150 and b.folded not in PRACTICE_START and not b.lines[0].toc
        ),
        None,
    )
    title = doc.title or first or doc.path
    title = _clean_title(title)
    event = next((r.event for r in records if r.event), None)
    if len(practices) != 1 and event and fold(event) not in fold(title) and fold(title) not in fold(event):
        joiner = " del " if re.match(r"^(?:[IVX]{1,4}|\d+)\b", event) else " — "
        title = f"{title}{joiner}{event}"
    elif len(practices) == 1 and not event:
        title = practices[0].title
    return title


# ---------------------------------------------------------------- the whole corpus


def _similar_titles(a: str, b: str) -> bool:
    wa, wb = set(fold(a).split()), set(fold(b).split())
    if not wa or not wb:
        return False
    overlap = len(wa & wb)
    return overlap / min(len(wa), len(wb)) >= 0.85 and overlap / max(len(wa), len(wb)) >= 0.6


def _merge_practices(records: list[Record]) -> list[Record]:
    """The same practice in two documents (a sheet and a report) becomes one record with both as sources,
    each paragraph the two tell told once (`indexer.repeats`)."""
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
        twin.headings += record.headings
    for record in merged:
        drop_record_repeats(record)
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


@dataclass
class DuplicateDocument:
    """Files holding the same document (another format, a copy): indexed once, from `kept`."""

    kept: str
    copies: list[str]
    similarity: float


@dataclass
class CorpusReport:
    duplicates: list[DuplicateDocument] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): read but not parsed


SAME_DOCUMENT = 0.8  # shingle Jaccard above which two files are the same document
_FORMAT_RANK = {".txt": 3, ".md": 3, ".docx": 2, ".pptx": 1, ".pdf": 0}


def _shingles(text: str, k: int = 5) -> set[int]:
    words = fold(text).split()
    return {hash(tuple(words[i : i + k])) for i in range(max(1, len(words) - k + 1))}


def _jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _richness(doc: SourceDocument, records: list[Record]) -> tuple[int, int, int, int, int]:
    """Which reading of one document to keep: more practices, experts and sections; then the cleaner format."""
    suffix = "." + doc.path.rsplit(".", 1)[-1].lower() if "." in doc.path else ""
    return (
        sum(r.kind == "practice" for r in records),
        sum(len(r.experts) for r in records),
        _FORMAT_RANK.get(suffix, 0),
        sum(len(r.all_sections()) for r in records),
        -len(doc.path),
    )


def _same_document_groups(documents: list[SourceDocument]) -> list[list[int]]:
    """Indexes of documents grouped by content (shingle Jaccard ≥ SAME_DOCUMENT), in corpus order."""
    shingles = [_shingles(d.text) for d in documents]
    sizes = [len(s) for s in shingles]
    parent = list(range(len(documents)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(documents)):
        for j in range(i + 1, len(documents)):
            small, big = sorted((sizes[i], sizes[j]))
            if big and small / big < SAME_DOCUMENT:
                continue  # Jaccard cannot reach the threshold
            if root(i) != root(j) and _jaccard(shingles[i], shingles[j]) >= SAME_DOCUMENT:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(documents)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _document_warnings(doc: SourceDocument, records: list[Record]) -> list[str]:
    """What looks wrong in one document's parse, in Spanish, for the build summary."""
    warnings: list[str] = [f"{doc.path}: {note}" for note in doc.notes]
    folded_text = fold(doc.text)
    practices = [r for r in records if r.kind == "practice"]
    has_markers = any(start in folded_text for start in PRACTICE_START) or "experto invitado" in folded_text
    if has_markers and not practices:
        warnings.append(f"{doc.path}: tiene marcas de buena práctica pero no se reconoció ninguna práctica")
    lines = _clean_lines(doc)
    furniture = _running_headers(lines)
    for r in practices:
        for e in r.experts:
            if not e.expert or len(e.expert.split()) > 8 or re.search(r"\d", e.expert):
                warnings.append(f"{doc.path}: un comentario de experto de «{r.title}» no tiene un nombre reconocible")
        if len(records) > 1 and fold(r.title) in furniture:
            warnings.append(f"{doc.path}: el título «{r.title}» es igual a un encabezado de página")
        odd = [
            o
            for o in r.offices
            if canonical_office(o) != o
            or len(o.split()) > 5
            or re.search(r"(?i)correo|tel[eé]fono|celular|@|https?:|www\.|p[aá]gina", o)
        ]
        if odd:
            warnings.append(f"{doc.path}: oficinas poco plausibles en «{r.title}»: {', '.join(odd)}")
    return warnings


def parse_corpus_report(documents: list[SourceDocument]) -> tuple[list[Record], CorpusReport]:
    """Records of the whole corpus, and what the build should tell: duplicate files and suspicious parses.

    The same document present twice (two formats, or a copy) is indexed once, from its richest reading;
    its records list every file as a document.
    """
    report = CorpusReport()
    parsed: list[list[Record]] = []
    readable: list[SourceDocument] = []
    for doc in documents:
        try:
            parsed.append(parse_document(doc))
        except Exception as exc:  # one document the parser cannot handle must not stop the build
            report.failed.append((doc.path, f"no se pudo analizar ({exc.__class__.__name__}: {str(exc)[:100]})"))
            continue
        readable.append(doc)
    documents = readable
    records: list[Record] = []
    for group in _same_document_groups(documents):
        best = max(group, key=lambda i: _richness(documents[i], parsed[i]))
        copies = [documents[i].path for i in group if i != best]
        if copies:
            kept = documents[best]
            similarity = min(_jaccard(_shingles(kept.text), _shingles(documents[i].text)) for i in group if i != best)
            report.duplicates.append(DuplicateDocument(kept.path, copies, round(similarity, 3)))
            for record in parsed[best]:
                record.documents += [c for c in copies if c not in record.documents]
        report.warnings.extend(_document_warnings(documents[best], parsed[best]))
        records.extend(parsed[best])
    records = _attach_parts(_merge_practices(records))
    _assign_ids(records)
    return records, report


def parse_corpus(documents: list[SourceDocument]) -> list[Record]:
    """Records of the whole corpus: practices merged across documents, exchange parts, other documents."""
    return parse_corpus_report(documents)[0]
