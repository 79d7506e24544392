"""Reading a question: which region or office it names, which kind of section it asks about, what it wants."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.models import Record
from indexer.peru import regions_in
from indexer.text import fold

# Words that point at a kind of section (folded; matched as word prefixes).
SECTION_CUES: dict[str, tuple[str, ...]] = {
    "expert": (
        "expert",
        "recomend",
        "recomiend",
        "oportunidades de mejora",
        "oportunidad de mejora",
        "sugier",
        "sugerenc",
        "comento",
        "comentarista",
        "comentaron",
        "destaco",
        "destacaron",
        "aspecto clave",
        "aspectos clave",
        "retroaliment",
        "mejorar la practica",
    ),
    "contacts": ("contact", "correo", "email", "e mail", "escribir a", "comunicarme", "telefono"),
    "results": (
        "resultado",
        "logro",
        "logra",
        "impacto",
        "cuantos",
        "cuantas",
        "cuanto",
        "porcentaje",
        "aumento",
        "incremento",
        "results",
        "achiev",
    ),
    "problem": ("problema", "problematica", "diagnostico", "situacion inicial", "antes de la practica"),
    "strategies": ("estrategia", "que hicieron", "como lo hicieron", "acciones", "como implement", "en que consiste"),
    "lessons": ("leccion", "aprendizajes de la experiencia"),
    "event": ("pasantia", "intercambio", "comunidad de practica", " cop", "evento", "testimonio", "feria"),
}
SECTIONS_OF_CUE: dict[str, frozenset[str]] = {
    "expert": frozenset({"expert_key_aspects", "expert_opportunities", "expert_recommendations"}),
    "contacts": frozenset({"contacts"}),
    "results": frozenset({"results"}),
    "problem": frozenset({"problem"}),
    "strategies": frozenset({"strategies"}),
    "lessons": frozenset({"lessons"}),
    "event": frozenset({"event"}),
}
FACT_CUES = (
    "cuantos",
    "cuantas",
    "cuanto",
    "cuanta",
    "porcentaje",
    "numero de",
    "cifra",
    "how many",
    "how much",
    "percentage",
)
WHO_CUES = ("quien", "quienes", "who", "nombre del", "nombre de la")


@dataclass
class Catalog:
    """Regions and offices that have records, for recognising them in questions."""

    offices: dict[str, set[str]] = field(default_factory=dict)  # folded office name → record ids
    regions: dict[str, set[str]] = field(default_factory=dict)  # region → record ids

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
        return catalog


@dataclass
class Query:
    text: str
    folded: str
    regions: list[str]  # named regions (with or without practices)
    office_records: set[str]  # practices whose office the question names
    section_cues: set[str]
    wants_figure: bool
    wants_person: bool
    english: bool = False

    def cued_sections(self) -> frozenset[str]:
        out: set[str] = set()
        for cue in self.section_cues:
            out |= SECTIONS_OF_CUE[cue]
        return frozenset(out)


def _has_cue(folded: str, cues: tuple[str, ...]) -> bool:
    padded = f" {folded}"
    return any(f" {c.strip()}" in padded for c in cues)


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
    cues = {name for name, words in SECTION_CUES.items() if _has_cue(folded, words)}
    return Query(
        text=question,
        folded=folded,
        regions=regions,
        office_records=office_records,
        section_cues=cues,
        wants_figure=_has_cue(folded, FACT_CUES),
        wants_person=_has_cue(folded, WHO_CUES),
        english=is_english(folded),
    )


_ENGLISH = {
    "the",
    "which",
    "what",
    "who",
    "how",
    "is",
    "are",
    "of",
    "in",
    "to",
    "and",
    "for",
    "with",
    "does",
    "did",
    "schools",
    "practices",
    "address",
}
_SPANISH = {"el", "la", "los", "las", "que", "de", "en", "y", "para", "con", "por", "del", "se", "una", "un", "como"}


def is_english(folded: str) -> bool:
    words = folded.split()
    return sum(w in _ENGLISH for w in words) > sum(w in _SPANISH for w in words)
