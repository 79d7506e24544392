"""Checks of a generated sentence against the numbered passages it cites, as pure functions: valid citations [n],
the figures and proper names it states present in those passages, no talk about instructions, no prompt leaks.

Figures compare in a canonical form ("297 961" == "297,961" == "297.961"); names are acronyms (UGEL, DRE, IIEE) and
capitalised words (Nasca, Pasco, Mi Oportunidad Técnica), compared case- and accent-insensitively."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.language import fold_keeping_punctuation
from bot.sources import Source
from indexer.models import SECTION_LABELS


def _stem(word: str) -> str:
    """A light plural-insensitive key for a folded word ("practicas" == "practica")."""
    if len(word) > 4 and word.endswith("es") and word[-3] not in "aeiou":
        return word[:-2]
    if len(word) > 3 and word.endswith("s"):
        return word[:-1]
    return word


_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")


def _canonical_numbers(token: str) -> list[str]:
    """'297 961' / '297,961' / '297.961' -> ['297961']; '40,7' / '40.7' -> ['40.7']; '07' -> ['7']."""
    groups = re.split(r"[.,\u00a0\u202f ]", token)
    seps = re.findall(r"[.,\u00a0\u202f ]", token)
    if len(groups) == 1:
        return [str(int(groups[0]))]

    def integer(parts: list[str]) -> str:
        return str(int("".join(parts)))

    def thousands(parts: list[str]) -> bool:
        return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])

    last_sep = seps[-1]
    if last_sep in ".," and len(groups[-1]) != 3 and (len(groups) == 2 or thousands(groups[:-1])):
        whole, dec = integer(groups[:-1]), groups[-1].rstrip("0")
        return [f"{whole}.{dec}" if dec else whole]
    if thousands(groups):
        return [integer(groups)]
    return [str(int(g)) for g in groups]  # not one number: '2021 150', '3.14.15'


def numbers_in(text: str) -> list[str]:
    out: list[str] = []
    for m in _NUMBER.finditer(text):
        out.extend(_canonical_numbers(m.group(0).strip()))
    return out


_CITATION = re.compile(
    r"\[\s*(?:(?:pasajes?|fuentes?|sources?|passages?|ref\.?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|\by\b|\band\b)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_ANY_BRACKET_NUMBER = re.compile(r"\[[^\]\n]{0,40}\d[^\]\n]{0,40}\]")


def _parse_citation(body: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*(?:,|;|\by\b|\band\b)\s*", body):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            nums.extend(range(lo, hi + 1) if 0 <= hi - lo <= 20 else [lo, hi])
        else:
            nums.extend(int(b) for b in bounds if b.isdigit())
    return nums


_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

# Capitalised words that are not names when they start a sentence or clause (folded): function words, connectives,
# and their English counterparts. Not the search stop words of `bot.language`: this list is about capitals.
NOT_NAMES = frozenset(
    [
        "a",
        "al",
        "algunas",
        "algunos",
        "ambas",
        "ambos",
        "ante",
        "asi",
        "asimismo",
        "aunque",
        "cada",
        "como",
        "con",
        "cual",
        "cuales",
        "cuando",
        "de",
        "del",
        "desde",
        "donde",
        "durante",
        "e",
        "el",
        "ella",
        "ellas",
        "ellos",
        "en",
        "entre",
        "esa",
        "esas",
        "ese",
        "eso",
        "esos",
        "esta",
        "estas",
        "este",
        "esto",
        "estos",
        "hay",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "mas",
        "mediante",
        "mientras",
        "muchas",
        "muchos",
        "ni",
        "no",
        "nos",
        "o",
        "otra",
        "otras",
        "otro",
        "otros",
        "para",
        "pero",
        "por",
        "porque",
        "que",
        "quien",
        "segun",
        "se",
        "si",
        "sin",
        "sobre",
        "su",
        "sus",
        "tal",
        "tambien",
        "tanto",
        "toda",
        "todas",
        "todo",
        "todos",
        "tras",
        "u",
        "un",
        "una",
        "unas",
        "uno",
        "unos",
        "y",
        "ya",
        "ademas",
        "finalmente",
        "luego",
        "primero",
        "segundo",
        "tercero",
        "igualmente",
        "respecto",
        "ello",
        "esto",
        "dicha",
        "dichas",
        "dicho",
        "dichos",
        "tanto",
        "cabe",
        "destaca",
        "destacan",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "by",
        "as",
        "both",
        "each",
        "this",
        "these",
        "that",
        "those",
        "its",
        "their",
        "according",
        "also",
        "however",
        "while",
        "which",
        "who",
        "what",
        "when",
        "where",
        "there",
        "here",
        "it",
        "they",
        "we",
    ]
)


def _is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(word) >= 2 and sum(c.isupper() for c in letters) >= 2 and not any(c.islower() for c in letters)


def names_in(text: str, known: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Proper names of a sentence to look up in its passages, as the words that make them up.

    Acronyms anywhere; capitalised words that do not start the sentence (or a clause after ':' or
    ';'). A sentence-initial capitalised word (not a function word such as "La", "Según", "The")
    counts when a capitalised word follows it ("Lima Metropolitana") or when it is one of the
    `known` names (folded, stemmed: the names found in all the passages given, so "Pasco: …" is
    checked while "Implementa …" is not)."""
    words = list(_WORD.finditer(text))
    names: list[str] = []
    prev_end = 0
    for i, m in enumerate(words):
        word = m.group(0)
        gap = text[prev_end : m.start()]
        prev_end = m.end()
        initial = i == 0 or bool(re.search(r"[:;.!?¿¡]", gap))
        if word[0].isdigit() or len(word) < 2:
            continue
        if _is_acronym(word):
            names.append(word)
            continue
        if not word[0].isupper() or fold_keeping_punctuation(word) in NOT_NAMES:
            continue
        if initial and _stem(fold_keeping_punctuation(word)) not in known:
            nxt = words[i + 1].group(0) if i + 1 < len(words) else ""
            nxt_gap = text[m.end() : words[i + 1].start()] if nxt else ""
            if not (nxt and nxt[0].isupper() and not _is_acronym(nxt) and nxt_gap.strip() == ""):
                continue
        names.append(word)
    return names


def _source_fields(source: Source) -> list[str]:
    """What the prompt shows of a passage besides its text: practice, offices, region, expert, document and
    where in it (a lookup answer names them)."""
    expert = getattr(source, "expert", None) or ""
    document = source.document_title or source.document
    return [source.practice, " ".join(source.offices), source.region, expert, document, source.location()]


def _known_names(sources: Iterable[Source]) -> set[str]:
    """Folded, stemmed words that are names somewhere in the passages (text or metadata)."""
    known: set[str] = set()
    for s in sources:
        found = names_in(s.text) + names_in(s.practice)
        for field_ in (" ".join(s.offices), s.region, getattr(s, "expert", None) or ""):
            found += [w for w in _WORD.findall(field_) if fold_keeping_punctuation(w) not in NOT_NAMES]
        known.update(_stem(fold_keeping_punctuation(w)) for w in found if len(w) > 1 and not w.isdigit())
    return known


# Acronyms that stand for common phrases: either form in a passage stands for both (folded).
_ALIASES: dict[str, tuple[str, ...]] = {
    "instituciones educativas": ("iiee", "ie", "ii", "ee"),
    "institucion educativa": ("ie", "iiee"),
    "educacion basica regular": ("ebr",),
    "educacion basica alternativa": ("eba",),
    "educacion basica especial": ("ebe",),
    "educacion intercultural bilingue": ("eib",),
    "ministerio de educacion": ("minedu",),
    "direccion regional de educacion": ("dre",),
    "unidad de gestion educativa local": ("ugel",),
    "dre lima metropolitana": ("drelm",),
    "proyecto educativo institucional": ("pei",),
    "plan anual de trabajo": ("pat",),
    "plan operativo institucional": ("poi",),
    "buena practica de gestion educativa": ("bpge",),
    "buenas practicas de gestion educativa": ("bpge",),
}


@dataclass
class _Haystack:
    words: set[str]
    numbers: set[str]


def _haystack(source: Source) -> _Haystack:
    text = " ".join([source.text, *_source_fields(source), SECTION_LABELS.get(source.section, source.section)])
    words: set[str] = set()
    for m in _WORD.finditer(text):
        for part in [*re.split(r"[-'’]", m.group(0)), m.group(0)]:
            if part:
                words.add(_stem(fold_keeping_punctuation(part)))
    folded = " ".join(_WORD.findall(fold_keeping_punctuation(text)))
    for phrase, acronyms in _ALIASES.items():
        if f" {phrase} " in f" {folded} " or any(a in words for a in acronyms):
            words.update(acronyms)
            words.update(_stem(w) for w in phrase.split())
    numbers = set(numbers_in(text))
    numbers.update(str(int(d)) for d in re.findall(r"\d+", text))  # each digit run on its own too
    return _Haystack(words, numbers)


@dataclass
class SentenceCheck:
    """The verdict on one sentence of the model's reply."""

    text: str  # as shown: markdown removed, citations normalised to [n]
    citations: list[int]
    ok: bool
    reason: str = ""  # why dropped: no_citation, unknown_citation, too_short, instructions, figure …, name …
    counts: bool = True  # counts towards the kept ratio (headings and connectives do not)


_MARKDOWN = re.compile(r"\*\*|__|`|^#{1,6}\s*", re.MULTILINE)
_TRAILING = re.compile(
    r"^(?P<body>.*?)(?P<pre>(?:\s*\[\d+\])*)\s*(?P<punct>[.!?…]+[\"»”’)]*)?(?P<post>(?:\s*\[\d+\])*)\s*$", re.S
)


# Sentences that talk about instructions are never part of an answer: they echo an injected order
# ("ignora las instrucciones…") or reveal the prompt.
_INSTRUCTION_TALK = re.compile(
    r"\b(?:ignor|olvid|disregard|forget)\w*\W+(?:\w+\W+){0,4}?(?:instruc|indicac|regla|orden|rules)"
    r"|\b(?:system\s+)?prompt\b|\binstrucciones\s+(?:del\s+sistema|anteriores|previas|que\s+recib)"
    r"|\bmis\s+(?:instrucciones|reglas|indicaciones)\b|\bmy\s+(?:instructions|rules)\b",
)
MIN_WORDS = 3  # a kept sentence says something: at least this many words besides its citations
_SHINGLE = 6  # a run of this many words from the prompts (and not from the passages) is a leak


def _shingles(text: str, size: int = _SHINGLE) -> set[tuple[str, ...]]:
    words = [_stem(w) for w in _WORD.findall(fold_keeping_punctuation(text))]
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


class AnswerChecker:
    """Checks the sentences of a generated reply against the numbered passages it was given.

    `instructions` (the prompts' text) lets it drop sentences that repeat them."""

    def __init__(self, sources: Iterable[Source], instructions: Iterable[str] = ()):
        self.sources = {s.n: s for s in sources}
        self._hay = {n: _haystack(s) for n, s in self.sources.items()}
        quoted = set().union(*(_shingles(s.text) for s in self.sources.values()))
        self._leaks = set().union(*(_shingles(t) for t in instructions)) - quoted
        self._known = _known_names(self.sources.values())

    def check(self, sentence: str) -> SentenceCheck:
        raw = _MARKDOWN.sub("", sentence).strip()
        citations: list[int] = []

        def normalise(m: re.Match[str]) -> str:
            nums = _parse_citation(m.group(1))
            citations.extend(nums)
            return "".join(f"[{n}]" for n in nums)

        shown = _CITATION.sub(normalise, raw)
        bare = _CITATION.sub(" ", raw)
        shown = re.sub(r"\s+([.,;:!?…])", r"\1", re.sub(r"(\S)(\[\d+\])", r"\1 \2", shown))
        shown = re.sub(r"(\[\d+\]) (?=\[\d+\])", r"\1", shown)
        shown = re.sub(r"[ \t]+", " ", shown).strip()
        # As the extractive answer writes it: "texto [1]." -> "texto. [1]"
        m = _TRAILING.match(shown)
        if m and (m.group("pre") or m.group("post")):
            cites = re.sub(r"\s+", "", m.group("pre") + m.group("post"))
            shown = f"{m.group('body').rstrip()}{m.group('punct') or ''} {cites}"

        words = _WORD.findall(bare)
        # Headings and labels ("Comparación:", "Resultados") do not count towards the kept ratio.
        counts = bool(words) and not (not citations and not re.search(r"[.!?…][\"»”’)]*\s*$", bare))
        unique = list(dict.fromkeys(citations))
        result = SentenceCheck(shown, unique, ok=False, counts=counts)
        if not unique or _ANY_BRACKET_NUMBER.search(bare):
            result.reason = "unknown_citation" if _ANY_BRACKET_NUMBER.search(bare) else "no_citation"
            return result
        if any(n not in self.sources for n in unique):
            result.reason = "unknown_citation"
            return result
        if len(words) < MIN_WORDS:
            result.reason = "too_short"
            return result
        if _INSTRUCTION_TALK.search(fold_keeping_punctuation(bare)) or (self._leaks and _shingles(bare) & self._leaks):
            result.reason = "instructions"
            return result
        numbers = set().union(*(self._hay[n].numbers for n in unique))
        missing_numbers = [x for x in numbers_in(bare) if x not in numbers]
        if missing_numbers:
            result.reason = f"figure {missing_numbers[0]}"
            return result
        words_hay = set().union(*(self._hay[n].words for n in unique))
        for name in names_in(bare, self._known):
            parts = [p for p in re.split(r"[-'’]", name) if p]
            if _stem(fold_keeping_punctuation(name)) not in words_hay and not all(
                _stem(fold_keeping_punctuation(p)) in words_hay for p in parts
            ):
                result.reason = f"name {name}"
                return result
        result.ok = True
        return result
