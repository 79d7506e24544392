"""Paragraphs that one practice's documents tell twice, told once.

A practice found in two documents (its sheet and the exchange's report) has, for each section type, the
same paragraphs in both: the report condenses the sheet's wording. Printed or indexed side by side they
are repeats, so each repeated paragraph (or list item) is kept once, in its longer wording, and the section
that keeps it names the copy's place in `Section.also_in`: indexed and shown once, cited to both documents.
Paragraphs that differ (a different wording past `SAME_PARAGRAPH`, or a figure the other copy lacks) stay.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer.models import ExpertCommentary, Record, Section, Span
from indexer.text import fold

SAME_PARAGRAPH = 0.5
"""Word-level difflib ratio (accents and case folded) at or above which two paragraphs of the same section
type, in two documents of one practice, are one paragraph told twice. On the shipped corpus the report's
copies of the Pasco and Junín sheets score 0.51-1.0 against their sheet paragraph, while the closest other
paragraph of the same section of the same practice scores at most 0.40; condensed copies reworded further
(0.36-0.47) stay, as different paragraphs. Only one practice's documents are compared: across practices,
short items on one topic reach 0.5."""

SHORT_LEAD_WORDS = 12
"""A lead-in to a list this short ('Fase de preparación y soporte:') says nothing without its items: when all
of them are repeats, it goes too."""

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class _Paragraph:
    """A paragraph or list item of one section: lines `first`..`last` (0-based) of its text."""

    section: int  # index in the list of sections being compared
    n: int  # position among its section's paragraphs
    document: str
    first: int
    last: int
    words: list[str]
    figures: frozenset[str]
    item: bool
    items: list[_Paragraph] = field(default_factory=list)  # the list items a lead-in introduces
    dropped: bool = False
    keeper: _Paragraph | None = None  # the copy that stays, for a dropped paragraph
    keeps: bool = False  # another document's copy of this paragraph was dropped


def _paragraphs(section: Section, index: int) -> list[_Paragraph]:
    """Runs of non-blank lines, each list item ('- …', with its continuation lines) on its own."""
    lines = section.text.split("\n")
    spans: list[tuple[int, int, bool]] = []
    start: int | None = None
    for i, line in enumerate([*lines, ""]):
        item = line.startswith("- ")
        if start is not None and (not line.strip() or item):
            spans.append((start, i - 1, lines[start].startswith("- ")))
            start = None
        if line.strip() and start is None:
            start = i
    out: list[_Paragraph] = []
    for n, (first, last, item) in enumerate(spans):
        text = " ".join(lines[first : last + 1])
        figures = frozenset(re.sub(r"[.,]", "", f) for f in _FIGURE.findall(text))
        out.append(_Paragraph(index, n, section.document, first, last, fold(text).split(), figures, item))
    for lead in out:
        if not lead.item:
            lead.items = list(_items_after(out, lead.n))
    return out


def _items_after(paragraphs: list[_Paragraph], lead: int) -> Iterator[_Paragraph]:
    """The list items right after a paragraph (none for a paragraph that introduces no list)."""
    for p in paragraphs[lead + 1 :]:
        if not p.item:
            return
        yield p


def similarity(a: list[str], b: list[str]) -> float:
    """How much of two word sequences is the same wording: difflib's ratio over words."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SAME_PARAGRAPH or matcher.quick_ratio() < SAME_PARAGRAPH:
        return 0.0  # an upper bound already below the threshold
    return matcher.ratio()


def _same(a: _Paragraph, b: _Paragraph) -> float:
    """The pair's similarity, or 0 when the shorter copy has a figure the longer one lacks."""
    short, long = sorted((a, b), key=lambda p: len(p.words))
    if not short.figures <= long.figures:
        return 0.0
    return similarity(a.words, b.words)


def _match(paragraphs: list[_Paragraph]) -> None:
    """Pair repeats across documents, most similar first; the shorter copy (the later one on a tie) goes."""
    plain = [p for p in paragraphs if not p.items]
    pairs = [
        (score, i, j)
        for i, a in enumerate(plain)
        for j, b in enumerate(plain[i + 1 :], start=i + 1)
        if a.document != b.document and (score := _same(a, b)) >= SAME_PARAGRAPH
    ]
    for _, i, j in sorted(pairs, key=lambda x: (-x[0], x[1], x[2])):
        a, b = plain[i], plain[j]
        if a.dropped or b.dropped:
            continue
        drop, keep = (b, a) if len(b.words) <= len(a.words) else (a, b)
        if drop.keeps:
            continue
        drop.dropped, drop.keeper, keep.keeps = True, keep, True
    for lead in paragraphs:
        if not lead.items or not all(p.dropped for p in lead.items):
            continue
        others = [p for p in paragraphs if p.document != lead.document]
        if len(lead.words) <= SHORT_LEAD_WORDS or any(_same(lead, p) >= SAME_PARAGRAPH for p in others):
            lead.dropped, lead.keeper = True, lead.items[0].keeper


def _line_number(section: Section, index: int) -> int:
    numbers = section._line_numbers
    return numbers[index] if index < len(numbers) else section.lines[0]


def _location(section: Section, index: int) -> int | None:
    locations = section._line_locations
    return locations[index] if index < len(locations) else (section.page or section.slide)


def _span(section: Section, first: int, last: int) -> Span:
    location = _location(section, first)
    return Span(
        document=section.document,
        document_title=section.document_title,
        lines=(_line_number(section, first), _line_number(section, last)),
        page=location if section.page is not None else None,
        slide=location if section.slide is not None else None,
    )


def _without(section: Section, dropped: set[int]) -> Section | None:
    """The section without the given lines of its text (blank separators tidied), or None if nothing is left."""
    lines = section.text.split("\n")
    kept: list[int] = []
    for i, line in enumerate(lines):
        if i in dropped or (not line.strip() and (not kept or not lines[kept[-1]].strip())):
            continue
        kept.append(i)
    while kept and not lines[kept[-1]].strip():
        kept.pop()
    if not kept:
        return None
    location = _location(section, kept[0])
    new = section.model_copy(
        update={
            "text": "\n".join(lines[i] for i in kept),
            "lines": (_line_number(section, kept[0]), _line_number(section, kept[-1])),
            "page": location if section.page is not None else None,
            "slide": location if section.slide is not None else None,
            "also_in": list(section.also_in),
        }
    )
    new._line_numbers = [_line_number(section, i) for i in kept]
    if section._line_locations:
        new._line_locations = [_location(section, i) for i in kept]
    return new


def _runs(dropped: list[_Paragraph]) -> Iterator[list[_Paragraph]]:
    """Adjacent dropped paragraphs whose copies stay in the same section: cited there as one place."""
    run: list[_Paragraph] = []
    for p in dropped:
        if run and (p.n != run[-1].n + 1 or _keeper_section(p) != _keeper_section(run[0])):
            yield run
            run = []
        run.append(p)
    if run:
        yield run


def _keeper_section(paragraph: _Paragraph) -> int | None:
    return paragraph.keeper.section if paragraph.keeper is not None else None


def drop_repeats(sections: list[Section]) -> list[Section | None]:
    """`sections` (in order) with the paragraphs another document already tells left out, None where nothing
    is left; a section keeping a repeated paragraph lists the places of its copies in `also_in`."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(sections):
        groups.setdefault((s.type, fold(s.expert or "")), []).append(i)
    paragraphs: list[list[_Paragraph]] = [[] for _ in sections]
    for indexes in groups.values():
        if len({sections[i].document for i in indexes}) < 2:
            continue
        for i in indexes:
            paragraphs[i] = _paragraphs(sections[i], i)
        _match([p for i in indexes for p in paragraphs[i]])
    out: list[Section | None] = list(sections)
    also_in: dict[int, list[Span]] = {}
    for i, section in enumerate(sections):
        dropped = [p for p in paragraphs[i] if p.dropped]
        if not dropped:
            continue
        for run in _runs(dropped):
            keeper = _keeper_section(run[0])
            if keeper is not None:
                also_in.setdefault(keeper, []).append(_span(section, run[0].first, run[-1].last))
        out[i] = _without(section, {n for p in dropped for n in range(p.first, p.last + 1)})
    for i, spans in also_in.items():
        keeping = out[i]
        assert keeping is not None, "a section keeping a paragraph keeps its text"
        out[i] = keeping.model_copy(
            update={"also_in": [*keeping.also_in, *(s for s in spans if s not in keeping.also_in)]}
        )
    return out


def drop_record_repeats(record: Record) -> None:
    """Tell each paragraph of a practice found in several documents once: own sections, then each expert's."""
    if len(record.documents) < 2:
        return
    record.sections = [s for s in drop_repeats(record.sections) if s is not None]
    commentary_sections = [(c, s) for c in record.experts for s in c.sections]
    kept = drop_repeats([s for _, s in commentary_sections])
    by_commentary: dict[int, list[Section]] = {}
    for (commentary, _), section in zip(commentary_sections, kept, strict=True):
        if section is not None:
            by_commentary.setdefault(id(commentary), []).append(section)
    experts: list[ExpertCommentary] = []
    for commentary in record.experts:
        built = by_commentary.get(id(commentary), [])
        if not built:
            continue  # everything this commentary said is in another document's copy of it
        commentary.key_aspects = [s for s in built if s.type == "expert_key_aspects"]
        commentary.opportunities = [s for s in built if s.type == "expert_opportunities"]
        commentary.recommendations = [s for s in built if s.type == "expert_recommendations"]
        experts.append(commentary)
    record.experts = experts
