"""Reading a question: which region or office it names, which kind of section it asks about, what it wants."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from bot.language import FACT_CUES, SECTION_CUES, SECTIONS_OF_CUE, WHO_CUES, has_cue, is_english
from bot.normalize import expand_shorthand
from indexer.models import Record
from indexer.peru import regions_in
from indexer.text import fold

# «¿Cuántos…?» asks for a figure when it opens the question, or one of its clauses when the question names a
# practice («de los chicos de Huaura, ¿cuántos consiguieron trabajo?»); in a problem told at length it is a mention
FIGURE_OPENING_WORDS = 4
_CLAUSE_BREAK = re.compile(r"[,;:.?!¿¡()\n]+")
_ACRONYM_IN_PARENTHESES = re.compile(r"\(([A-ZÁÉÍÓÚÑ]{3,})\)")
MIN_TITLE_WORDS = 3  # a practice's title written in the question names it (shorter titles are ordinary words)


@dataclass
class Catalog:
    """Regions and offices that have records, for recognising them in questions."""

    offices: dict[str, set[str]] = field(default_factory=dict)  # folded office name → record ids
    regions: dict[str, set[str]] = field(default_factory=dict)  # region → record ids
    titles: dict[str, str] = field(default_factory=dict)  # folded title of a practice → its record id
    # an invited expert, by two consecutive words of their name («Sofía Meza», «Meza Durán») → the practices they
    # commented on; their organisation's acronym in their role («(ODENAGED)») → the same
    expert_names: dict[str, set[str]] = field(default_factory=dict)
    expert_bodies: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: list[Record]) -> Catalog:
        catalog = cls()
        for r in records:
            if r.kind != "practice":
                continue
            for office in r.offices:
                catalog.offices.setdefault(fold(office), set()).add(r.id)
            if r.region:
                catalog.regions.setdefault(r.region, set()).add(r.id)
            title = fold(r.title)
            if len(title.split()) >= MIN_TITLE_WORDS:
                catalog.titles[title] = r.id
            for commentary in r.experts:
                words = fold(commentary.expert).split()
                for pair in itertools.pairwise(words):
                    catalog.expert_names.setdefault(" ".join(pair), set()).add(r.id)
                for acronym in _ACRONYM_IN_PARENTHESES.findall(commentary.role):
                    catalog.expert_bodies.setdefault(fold(acronym), set()).add(r.id)
        return catalog


@dataclass
class Query:
    text: str
    folded: str  # accents, case and punctuation removed, chat shorthand written out: what cue words are matched on
    regions: list[str]  # named regions (with or without practices)
    office_records: set[str]  # practices whose office (or whole title) the question names
    section_cues: set[str]
    wants_figure: bool
    wants_person: bool
    asks_figure: bool = False  # the question opens by asking for a figure («¿Cuántos…?»), not just mentions one
    english: bool = False

    def cued_sections(self) -> frozenset[str]:
        out: set[str] = set()
        for cue in self.section_cues:
            out |= SECTIONS_OF_CUE[cue]
        return frozenset(out)


def read_query(question: str, catalog: Catalog) -> Query:
    folded = fold(question)
    regions = regions_in(question)
    office_records: set[str] = set()
    padded = f" {folded} "
    for office, ids in catalog.offices.items():
        kind, _, name = office.partition(" ")
        name_key = name.lstrip("0") or name
        named = f" {office} " in padded or (kind == "ugel" and name.isdigit() and f" ugel {name_key} " in padded)
        # a distinctive office name alone ('Angaraes', 'Nasca') also counts
        if not named and not name.isdigit() and len(name) >= 5 and fold(name) not in {fold(r) for r in catalog.regions}:
            named = f" {name} " in padded
        if named:
            office_records |= ids
    folded = expand_shorthand(folded)  # «q hizo…» asks what «que hizo…» asks
    # a practice named by its title is named like its office, and its title's words («Estrategia…», «…resultados»)
    # say which practice, not which section is asked for
    cue_text = f" {folded} "
    for title, rid in catalog.titles.items():
        if f" {title} " in cue_text:
            office_records.add(rid)
            cue_text = cue_text.replace(f" {title} ", " ")
    cues = {name for name, words in SECTION_CUES.items() if has_cue(cue_text.strip(), words)}
    # an expert named («según Sofía Meza…», «la especialista de ODENAGED») asks what the experts said; by name, about
    # the practice they commented on
    named_experts = [ids for name, ids in catalog.expert_names.items() if f" {name} " in cue_text]
    if named_experts or any(f" {body} " in cue_text for body in catalog.expert_bodies):
        cues.add("expert")
    for ids in named_experts:
        office_records |= ids
    openings = [" ".join(folded.split()[:FIGURE_OPENING_WORDS])]
    if office_records:
        clauses = (expand_shorthand(fold(c)) for c in _CLAUSE_BREAK.split(question))
        openings += [" ".join(c.split()[:FIGURE_OPENING_WORDS]) for c in clauses]
    return Query(
        text=question,
        folded=folded,
        regions=regions,
        office_records=office_records,
        section_cues=cues,
        wants_figure=has_cue(folded, FACT_CUES),
        asks_figure=any(has_cue(opening, FACT_CUES) for opening in openings if opening),
        wants_person=has_cue(folded, WHO_CUES),
        english=is_english(folded),
    )
