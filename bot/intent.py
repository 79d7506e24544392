"""What a question asks for (its intent), read from its words and what `bot.query` found in it.

The intent picks the answer's plan (`bot.plans`): a similar problem elsewhere, what a practice did, how it
started, what it achieved, what the experts said, whom to contact, two practices side by side, everything
about one practice, a figure, or where something was presented.
"""

from __future__ import annotations

from bot.query import Query
from bot.schemas import Intent

COMPARE = ("compar", "versus", " vs ", "diferencia entre", "diferencias entre", "en que se parecen")
EVERYTHING = (
    "todo sobre",
    "todo lo de",
    "todo acerca",
    "resumen de",
    "resumeme",
    "resume la",
    "ficha completa",
    "cuentame sobre",
    "cuentame de",
    "hablame de",
    "hablame sobre",
    "informacion completa",
)
# «la ficha de Pasco» asks for the whole sheet only when no section is asked («¿quién es el contacto en la ficha
# de Junín?» asks for the contacts).
SHEET = ("ficha de", "la ficha")
LOOKUP = (
    # who presented at the exchange: past forms and nouns only («los directores no presentan su plan» is a problem)
    "presento",
    "presentaron",
    "presentacion",
    "presentad",
    "expus",
    "expuso",
    "expositor",
    "ponente",
    "diapositiva",
    "en que documento",
    "que documento",
    "en que pagina",
    "donde dice",
    "donde se menciona",
    # the practice's own name, as its heading prints it («¿cómo se llama?» alone may ask for a person's name)
    "como se llama la practica",
    "como se llamaba la practica",
    "nombre de la practica",
    "nombre exacto",
    "titulo de la practica",
    "titulo exacto",
)
STARTED = (
    "como empez",
    "como comenz",
    "como inici",
    "como surg",
    "por que surg",
    "por que empez",
    "origen",
    "de donde surg",
    "que problema",
    "cual era el problema",
    "cual fue el problema",
)
DID = (
    "que hicieron",
    "que hizo",
    "como lo hicieron",
    "como lo hizo",
    "que acciones",
    "que estrategias",
    "como hicieron",
)
SIMILAR = (
    "tenemos",
    "tengo ",
    "nuestra",
    "nuestro",
    "nuestros",
    "nuestras",
    "nosotros",
    "teniamos",
    "en mi ",
    "similar",
    "parecid",
    "que practicas",
    "cuales practicas",
    "alguna practica",
    "hay practicas",
    "otras ugel",
    "otras dre",
    "otros han",
    "otras regiones",
)


# A question this long that tells its own situation is a problem description, not a request for one section.
LONG_DESCRIPTION_WORDS = 20


def _has(folded: str, cues: tuple[str, ...]) -> bool:
    padded = f" {folded} "
    return any(cue in padded if cue.startswith(" ") or cue.endswith(" ") else f" {cue}" in padded for cue in cues)


def read_intent(query: Query) -> Intent:
    """The intent of a question (see `bot.schemas.Intent`)."""
    folded = query.folded
    cues = query.section_cues
    if _has(folded, COMPARE):
        return "compare"
    if len(folded.split()) >= LONG_DESCRIPTION_WORDS and _has(folded, SIMILAR):
        return "similar"  # a problem told at length («tenemos…», «en mi UGEL…»): whatever words it contains
    if _has(folded, LOOKUP):
        return "lookup"
    if (
        _has(folded, EVERYTHING)
        or len(cues & {"problem", "strategies", "results", "expert"}) >= 3
        or (_has(folded, SHEET) and not cues and not query.wants_person)
    ):
        return "everything"
    if "expert" in cues:
        return "experts"
    if "contacts" in cues:
        return "contact"  # «¿quién…?» alone is answered from the text (who presented, who presides…)
    if query.wants_figure:
        return "fact"
    if "results" in cues:
        return "results"
    if _has(folded, STARTED) or ("problem" in cues and not _has(folded, SIMILAR)):
        return "how_it_started"
    if _has(folded, DID) or "strategies" in cues:
        return "what_they_did"
    if _has(folded, SIMILAR) or "problem" in cues:
        return "similar"
    if "event" in cues:
        return "other"  # the exchange itself (its visit, its fair, who attended): told from its own parts
    if not query.office_records and not query.regions and not query.english:
        return "similar"
    return "other"
