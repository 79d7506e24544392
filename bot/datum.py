"""The kind of datum a question asks for, and whether a practice's text holds one.

«¿Cuántos psicólogos contrató Angaraes?» names the practice and its words are in it, so every measure of closeness
says yes; but the practice speaks of psychologists without ever counting them, and the answer would be a figure
about something else. A question that asks how many of something, how much money, or for a web link is answered
only by a practice whose text has that kind of datum: a number beside what is counted, an amount in a currency, an
address. A count is taken as the one asked for only in a sentence that also holds something else the question says
(«¿cuántos estudiantes quedaron inscritos en la bolsa de trabajo?» is not answered by «118 estudiantes incorporados
en la estrategia»), and a question about how much something rose or fell («¿en cuánto subieron…?», «¿qué
porcentaje…?») needs a percentage or a «from … to …» there. This refuses; it never answers what the other checks
refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Literal

from bot.language import fold_keeping_punctuation, is_section_word, is_stop_word, stem
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
# «¿en cuánto subieron…?», «¿cuánto mejoraron…?», «¿qué porcentaje…?»: a change or a share
_CHANGE = r"(?:sub|baj|mejor|aument|reduj|reduc|disminu|increment|crec|cay|avanz|cambi)\w*"
# (Spanish only: an English question is never refused for a figure, see `bot.answer._settled`)
_SHARE_QUESTION = re.compile(rf"\bporcentajes?\b|\bpor ciento\b|%|\bcuant[oa]\b(?:\s+\w+){{0,2}}?\s+{_CHANGE}")
_CHANGE_WORD = re.compile(_CHANGE)
_SHARE_IN_TEXT = re.compile(r"\d\s*%|\bpor ciento\b|\bporcentual|\bde \d[\d.,]*\s+a \d|\bpercent")
# a question's word and a sentence's are the same when one's stem, this long or longer, opens the other's
SAME_WORD_PREFIX = 5
# a percentage answers «¿en cuánto subieron…?» in a sentence with this share of the question's other words, each
# weighed by its rarity in the corpus («la ECE» weighs more than «los colegios»)
SHARE_ABOUT = 0.5
# words of a figure question that say how it is asked, not what about
_FIGURE_WORDS = frozenset(
    {"numero", "cifra", "exacto", "exacta", "exactamente", "aproximado", "aproximadamente", "total", "cantidad"}
    | {"porcentaje", "porcentajes", "ciento", "mas", "menos", "dato", "datos", "pls", "porfa"}
)
_SENTENCE = re.compile(r"\n+|(?<=[.;!?])\s+")
_NUMBER = re.compile(r"\d")


DatumKind = Literal["count", "money", "link", "share"]


@dataclass(frozen=True)
class AskedDatum:
    kind: DatumKind
    counted: frozenset[str] = frozenset()  # stems of what a count question counts
    about: frozenset[str] = frozenset()  # stems of the question's other words (`_about`)


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
    if _SHARE_QUESTION.search(folded):
        about = _about(words, names, frozenset())
        return AskedDatum("share", about=about) if about else None
    for i, word in enumerate(words):
        opener = 1 if word in _COUNT_OPENERS else 2 if " ".join(words[i : i + 2]) in _COUNT_OPENERS else 0
        if opener:
            counted = frozenset(stem(w) for w in _counted_words(words[i + opener :], names))
            return AskedDatum("count", counted, _about(words, names, counted)) if counted else None
    return None


def _about(words: list[str], names: Set[str], counted: frozenset[str]) -> frozenset[str]:
    """The stems of what the question says of the figure: its words less stop words, names, section cues («los
    resultados»), the words of asking for a figure or a change («subieron»), and what is counted."""
    kept = (
        w
        for w in words
        if not is_stop_word(w)
        and w not in names
        and w not in _FIGURE_WORDS
        and not is_section_word(w)
        and not _CHANGE_WORD.fullmatch(w)
    )
    return frozenset(stem(w) for w in kept) - counted


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


def lacks_datum(
    datum: AskedDatum, passage_texts: Iterable[str], weight: Callable[[str], float] = lambda stem: 1.0
) -> bool:
    """Whether a practice (its passages' texts) lacks the datum; `weight` is a stem's rarity in the corpus (IDF).
    A count is lacking only when the practice names what is counted and never beside a number in a sentence that
    holds another of the question's words: a practice that never names it may use another word for it («equipos»
    for «dispositivos»), and the other checks judge that."""
    texts = list(passage_texts)
    if datum.kind == "share":
        total = sum(weight(s) for s in datum.about) or 1.0
        return not any(
            _SHARE_IN_TEXT.search(s) and _shared(s, datum.about, weight) >= SHARE_ABOUT * total
            for s in _sentences(texts)
        )
    if datum.kind == "money":
        return not any(_MONEY_IN_TEXT.search(fold_keeping_punctuation(t)) for t in texts)
    if datum.kind == "link":
        return not any(_LINK_IN_TEXT.search(fold_keeping_punctuation(t)) for t in texts)
    named = False
    for sentence in _sentences(texts):
        words = fold(sentence).split()
        for j, word in enumerate(words):
            if stem(word) not in datum.counted:
                continue
            named = True
            nearby = words[max(0, j - NUMBER_BEFORE) : j] + words[j + 1 : j + 1 + NUMBER_AFTER]
            if any(_NUMBER.search(w) for w in nearby) and (
                not datum.about or _shared(sentence, datum.about | datum.counted) >= 2
            ):
                return False
    return named


def _sentences(texts: Iterable[str]) -> Iterable[str]:
    for text in texts:
        yield from (s for s in _SENTENCE.split(fold_keeping_punctuation(text)) if s.strip())


def _shared(sentence: str, stems: frozenset[str], weight: Callable[[str], float] = lambda stem: 1.0) -> float:
    """How much of the question's `stems` a sentence holds (each stem counting its `weight`); stems of
    `SAME_WORD_PREFIX` letters or more match when one opens the other («capacit»: «capacitaron», «capac»:
    «capacidades»; not «formal» and «formacion»)."""
    held = {stem(w) for w in fold(sentence).split()}
    return sum(weight(s) for s in stems if s in held or any(_same(s, h) for h in held))


def _same(a: str, b: str) -> bool:
    return min(len(a), len(b)) >= SAME_WORD_PREFIX and (a.startswith(b) or b.startswith(a))
