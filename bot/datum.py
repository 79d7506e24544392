"""The kind of datum a question asks for, and whether a practice's text holds one.

«¿Cuántos psicólogos contrató Angaraes?» names the practice and its words are in it, so every measure of closeness
says yes; but the practice speaks of psychologists without ever counting them, and the answer would be a figure
about something else. A question that asks how many of something, how much money, or for a web link is answered
only by a practice whose text has that kind of datum: a number beside what is counted, an amount in a currency, an
address. This refuses; it never answers what the other checks refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Literal

from bot.language import fold_keeping_punctuation, is_stop_word, stem
from indexer.text import fold

# «¿cuántos X…?»: the words of X read (stop words and the joining «de» skipped; where, not what, is skipped too)
COUNTED_WORDS = 2
# a number counts X when it stands this many words before one of X's words («638 dispositivos de seguridad»)…
NUMBER_BEFORE = 3
NUMBER_AFTER = 2  # …or this many after («docentes capacitados: 645»)
_COUNT_OPENERS = frozenset({"cuantos", "cuantas", "how many"})
_JOINERS = frozenset({"de", "del", "los", "las", "el", "la"})
# «¿cuánto costó…?», «¿cuánta plata…?»: an amount of money (the vocabulary maps plata/dinero to «presupuesto»)
_MONEY_QUESTION = re.compile(
    r"\bcuant[oa]\b(?!\s+tiempo)(?:\s+\w+){0,3}?\s+"
    r"(?:plata|dinero|presupuesto|soles|dolares|costo|costaron|cuesta|cuestan|invirtio|invirtieron|inversion|gasto"
    r"|gastaron|financiamiento|monto|pagaron|pagan|pago|aporta|aportan|aporte)\b"
    r"|\bhow much (?:money|did it cost|does it cost)\b"
)
_MONEY_IN_TEXT = re.compile(r"\bs/|\bsoles\b|\bdolares\b|\busd\b|us\$|\$\s*\d|\beuros?\b")
# «me pasas el link de la plataforma»: a request for a web address (not «una página web sencilla» in a problem told,
# nor «espacio de enlace», a place in a school)
_LINK_QUESTION = re.compile(
    r"\b(?:pasas?|pasame|pasan|dame|den|da|compart\w*|tienen?|hay|cual es|envia\w*|manda\w*|necesito|existe)"
    r"(?:\s+\w+){0,2}?\s+(?:links?|url|enlace web|pagina web|sitio web|direccion web)\b"
)
# (a domain after «@» is an e-mail address, which the contacts give, not a link)
_LINK_IN_TEXT = re.compile(r"https?://|\bwww\.|(?<![@\w.-])[\w-]+(?:\.(?:gob|edu|com|org))?\.(?:pe|com|org|net)\b")
_NUMBER = re.compile(r"\d")


DatumKind = Literal["count", "money", "link"]


@dataclass(frozen=True)
class AskedDatum:
    kind: DatumKind
    counted: frozenset[str] = frozenset()  # stems of what a count question counts


def asked_datum(normalized_question: str, asks_figure: bool, names: Set[str] = frozenset()) -> AskedDatum | None:
    """The datum the (normalised) question asks for, or None; `names` are the folded words that name an office or
    region (they say where, not what is counted)."""
    folded = fold(normalized_question)
    if _LINK_QUESTION.search(folded):
        return AskedDatum("link")
    if not asks_figure:
        return None
    if _MONEY_QUESTION.search(folded):
        return AskedDatum("money")
    words = folded.split()
    for i, word in enumerate(words):
        opener = 1 if word in _COUNT_OPENERS else 2 if " ".join(words[i : i + 2]) in _COUNT_OPENERS else 0
        if opener:
            counted = _counted_words(words[i + opener :], names)
            return AskedDatum("count", frozenset(stem(w) for w in counted)) if counted else None
    return None


def _counted_words(words: list[str], names: Set[str]) -> list[str]:
    out: list[str] = []
    for word in words[: COUNTED_WORDS + 4]:
        if word in _JOINERS:
            continue
        if is_stop_word(word) or word in names:
            break
        out.append(word)
        if len(out) == COUNTED_WORDS:
            break
    return out


def lacks_datum(datum: AskedDatum, passage_texts: Iterable[str]) -> bool:
    """Whether a practice (its passages' texts) lacks the datum. A count is lacking only when the practice names
    what is counted and never beside a number: a practice that never names it may use another word for it
    («equipos» for «dispositivos»), and the other checks judge that."""
    texts = list(passage_texts)
    if datum.kind == "money":
        return not any(_MONEY_IN_TEXT.search(fold_keeping_punctuation(t)) for t in texts)
    if datum.kind == "link":
        return not any(_LINK_IN_TEXT.search(fold_keeping_punctuation(t)) for t in texts)
    named = False
    for text in texts:
        words = fold(text).split()
        for j, word in enumerate(words):
            if stem(word) not in datum.counted:
                continue
            named = True
            nearby = words[max(0, j - NUMBER_BEFORE) : j] + words[j + 1 : j + 1 + NUMBER_AFTER]
            if any(_NUMBER.search(w) for w in nearby):
                return False
    return named
