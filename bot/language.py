"""The Spanish of the questions, in one place: folding, stop words, stems, tokens for search, and the cue words
that say what a question asks for (a kind of section, a figure, a person) or that it is in English.

The colloquial vocabulary (profes → docentes…) is data, in `prompts/vocabulary.toml`, read by `bot.normalize`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_SPANISH

from indexer.text import fold, strip_accents

__all__ = ["fold", "fold_keeping_punctuation"]


def fold_keeping_punctuation(text: str) -> str:
    """Lower case without accents ("Junín" -> "junin"), punctuation and spacing kept (unlike `fold`, which turns
    them into single spaces): "socio-emocional" stays one word, "Sr." keeps its dot."""
    return strip_accents(text).lower()


# Question words and fillers that say nothing about the topic, on top of the usual Spanish stop words.
EXTRA_STOPWORDS = {
    "cual",
    "cuales",
    "cuantos",
    "cuantas",
    "cuanto",
    "cuanta",
    "quien",
    "quienes",
    "que",
    "como",
    "donde",
    "hay",
    "alguna",
    "alguno",
    "algun",
    "tenemos",
    "tengo",
    "dame",
    "dime",
    "quiero",
    "puedo",
    "sobre",
    "hoy",
    "favor",
    "practica",
    "practicas",
    "experiencia",
    "experiencias",
    "ejemplo",
    "ejemplos",
    "buena",
    "buenas",
    "gestion",
    "educativa",
    "the",
    "of",
    "and",
    "in",
    "to",
    "for",
    "what",
    "which",
}
_STOP = {fold(w) for w in STOPWORDS_SPANISH} | EXTRA_STOPWORDS
_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("spanish")


def analyze(text: str) -> list[str]:
    """Folded, stop-word-free, stemmed tokens; numbers are kept whole ('297,961' → '297961')."""
    folded = fold(re.sub(r"(?<=\d)[.,\s](?=\d{3}\b)", "", text))
    words = [w for w in _TOKEN.findall(folded) if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(words)


def stem(word: str) -> str:
    """Snowball stem of one folded word."""
    return _stemmer().stemWord(word)


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
        # «¿qué comentó el experto?», never the opener «te comento…» (let me tell you)
        "que comento",
        "comento el",
        "comento la",
        "comento sobre",
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
# Further words that ask for a section only in a short follow-up about the practice just discussed ("¿quién es el
# responsable?", "¿y sus objetivos?", "¿cómo funciona?"): too loose to steer a search on their own.
FOLLOWUP_CUES: dict[str, tuple[str, ...]] = {
    "contacts": ("quien es", "quienes son", "responsable", "celular"),
    "objectives": ("objetivo", "proposito", "finalidad"),
    "problem": ("surgio",),
    "strategies": ("como lo hizo", "como se hizo", "como funciona", "fases", "pasos"),
    "lessons": ("aprendieron", "dificultades"),
}
# The order a follow-up's section is looked for in: "¿quién es el experto?" asks for a person first.
FOLLOWUP_SECTION_ORDER = ("contacts", "results", "expert", "problem", "objectives", "strategies", "lessons")
# Words of a follow-up that add no topic of its own ("¿y qué lograron con esa iniciativa?"), beyond the stop words.
FOLLOWUP_FILLERS = frozenset(
    {
        "ademas",
        "alcanzaron",
        "alcanzo",
        "aquel",
        "aquella",
        "cada",
        "conocer",
        "cuentame",
        "da",
        "dan",
        "decir",
        "dicha",
        "dicho",
        "entonces",
        "explicame",
        "hicieron",
        "hizo",
        "iniciativa",
        "misma",
        "mismo",
        "obtuvieron",
        "obtuvo",
        "podrias",
        "puedes",
        "saber",
        "segun",
        "ser",
        "tal",
        "tuvo",
        "tuvieron",
        "u",
        "unas",
    }
)


def is_stop_word(folded_word: str) -> bool:
    """A folded word that says nothing about a topic (Spanish stop words and question fillers)."""
    return folded_word in _STOP


def followup_section(folded: str) -> str | None:
    """The section (or `expert`) a short follow-up asks for: the search cues first, then the follow-up ones."""
    for section in FOLLOWUP_SECTION_ORDER:
        if has_cue(folded, SECTION_CUES.get(section, ()) + FOLLOWUP_CUES.get(section, ())):
            return section
    return None


def _followup_cues() -> list[str]:
    return [
        c.strip()
        for section in FOLLOWUP_SECTION_ORDER
        for c in SECTION_CUES.get(section, ()) + FOLLOWUP_CUES.get(section, ())
    ]


# The follow-up cues split once: one-word cues match as prefixes ("resultado" → "resultados"), the words of
# phrases ("como lo hizo") as they are.
_CUE_PREFIXES = tuple(c for c in _followup_cues() if " " not in c)
_CUE_PHRASE_WORDS = frozenset(w for c in _followup_cues() if " " in c for w in c.split())


def is_section_word(folded_word: str) -> bool:
    """A word that belongs to a section cue ("resultados", "contacto", "recomendaron")."""
    return folded_word.startswith(_CUE_PREFIXES) or folded_word in _CUE_PHRASE_WORDS


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


def has_cue(folded: str, cues: tuple[str, ...]) -> bool:
    padded = f" {folded}"
    return any(f" {c.strip()}" in padded for c in cues)


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
