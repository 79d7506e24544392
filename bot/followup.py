"""Is a message a follow-up about the practice just discussed, and about which section?

"¿y qué resultados tuvo?", "¿quién es el contacto?", "¿qué recomendaron los expertos?" right after
an answer refer to that answer's practice; "¿qué prácticas hay en Junín?" or "resultados en
comprensión lectora" do not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Section type (or the `expert` group) by the words that ask for it.
SECTION_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "contacts",
        (
            "contacto",
            "contactos",
            "contactar",
            "contactarlos",
            "contactarla",
            "quien es",
            "quienes son",
            "responsable",
            "responsables",
            "correo",
            "telefono",
            "celular",
        ),
    ),
    ("results", ("resultado", "resultados", "logro", "logros", "lograron", "logro", "impacto", "impactos")),
    (
        "expert",
        (
            "experto",
            "expertos",
            "experta",
            "expertas",
            "recomienda",
            "recomiendan",
            "recomendaron",
            "recomendacion",
            "recomendaciones",
            "mejorar la practica",
        ),
    ),
    ("problem", ("problema", "problemas", "problematica", "diagnostico", "surgio")),
    ("objectives", ("objetivo", "objetivos", "proposito", "finalidad")),
    (
        "strategies",
        (
            "estrategia",
            "estrategias",
            "como lo hicieron",
            "como lo hizo",
            "como se hizo",
            "como se implemento",
            "como funciona",
            "en que consiste",
            "acciones",
            "fases",
            "pasos",
        ),
    ),
    ("lessons", ("leccion", "lecciones", "aprendieron", "dificultades")),
]

# Words that point back at what was just said.
_BACK = re.compile(
    r"\b(esa|esta|dicha|aquella|misma) (practica|experiencia|estrategia|iniciativa)\b"
    r"|\bla (practica|experiencia)\b(?! de)"
    r"|\b(ellos|ellas|ella)\b"
    # a pronoun standing for the practice before its verb: «¿quién la presentó?», «¿cómo lo lograron?»
    r"|^(quien|quienes|como|cuando|donde|por que|para que)( la| lo)? (la|lo) [a-z]+(o|aron|ieron|an|en)\b"
)
_LEADING = re.compile(r"^(y|e|tambien|ademas|entonces|y de|y sobre|y en cuanto a)\b")

STOPWORDS = frozenset(
    [
        "a",
        "al",
        "algo",
        "alguna",
        "alguno",
        "algunos",
        "ante",
        "cada",
        "cual",
        "cuales",
        "cuando",
        "cuanto",
        "cuantos",
        "como",
        "con",
        "contra",
        "de",
        "del",
        "desde",
        "donde",
        "dime",
        "dan",
        "da",
        "decir",
        "e",
        "el",
        "ella",
        "ellas",
        "ellos",
        "en",
        "entonces",
        "era",
        "eran",
        "es",
        "esa",
        "ese",
        "eso",
        "esta",
        "este",
        "esto",
        "estos",
        "estas",
        "fue",
        "fueron",
        "ha",
        "han",
        "hay",
        "hizo",
        "hicieron",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "mas",
        "me",
        "mi",
        "muy",
        "nos",
        "o",
        "para",
        "pero",
        "podrias",
        "puedes",
        "por",
        "porque",
        "que",
        "quien",
        "quienes",
        "se",
        "segun",
        "ser",
        "si",
        "sobre",
        "son",
        "su",
        "sus",
        "tambien",
        "te",
        "tenia",
        "tiene",
        "tienen",
        "tuvo",
        "tuvieron",
        "u",
        "un",
        "una",
        "uno",
        "unos",
        "unas",
        "y",
        "ya",
        "cuentame",
        "quiero",
        "saber",
        "conocer",
        "explicame",
        "ademas",
        "practica",
        "experiencia",
        "iniciativa",
        "misma",
        "mismo",
        "dicha",
        "dicho",
        "aquella",
        "aquel",
        "tal",
        "obtuvo",
        "obtuvieron",
        "alcanzo",
        "alcanzaron",
    ]
)
SECTION_TERMS = frozenset(w for _, words in SECTION_WORDS for phrase in words for w in phrase.split())
MAX_WORDS = 16


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def asked_section(text: str) -> str | None:
    """The section type (or `expert`) the message asks about, if any."""
    norm = f" {normalize(text)} "
    for section, words in SECTION_WORDS:
        if any(f" {w} " in norm for w in words):
            return section
    return None


def topic_words(text: str) -> list[str]:
    """Words left once question words, pronouns and section words are removed: what the
    message is about besides 'that practice'."""
    return [w for w in normalize(text).split() if w not in STOPWORDS and w not in SECTION_TERMS and not w.isdigit()]


def is_followup(text: str, names_other_practice: Callable[[str], bool]) -> bool:
    """True when `text` is about the practice in context.

    It is if it points back at it ("¿y...?", "esa práctica", "ellos") or asks about one of its
    sections without a topic of its own ("¿qué resultados tuvo?"), and does not name another
    practice, office or region (`names_other_practice` is asked only when there are topic words).
    """
    norm = normalize(text)
    words = norm.split()
    if not words or len(words) > MAX_WORDS:
        return False
    topic = topic_words(text)
    if topic and names_other_practice(text):
        return False
    if _BACK.search(norm):
        return True
    if _LEADING.match(norm):
        return len(topic) <= 3
    return asked_section(text) is not None and len(topic) <= 1
