"""Generated answers through an OpenAI-compatible chat-completions server, checked before anyone sees them.

The extractive answer (`Assistant.ask`) stays the default and the fallback. When `LLM_BASE_URL` is
set, `AnswerGenerator` asks the model to write an answer from the retrieved passages only
(the numbered `Answer.sources`), then checks every sentence before it is shown:

* every citation `[n]` must be the number of a passage that was given; a sentence citing any other
  number, or citing nothing, is dropped;
* a sentence of fewer than `MIN_WORDS` words, or one that talks about instructions or prompts
  (an echoed "ignora las instrucciones…") or repeats a run of the prompts' words, is dropped;
* the figures of a sentence (numbers, decimals, percentages; "297 961" == "297,961" == "297.961")
  and its proper names (acronyms such as UGEL, DRE, IIEE and capitalised words such as Nasca,
  Pasco, Mi Oportunidad Técnica; case- and accent-insensitive) must appear in the passage(s) it
  cites (text, practice, offices, region or section), otherwise it is dropped;
* if nothing survives, or less than `MIN_KEPT_RATIO` of the sentences survive, or the model errors
  or runs past `LLM_TIMEOUT_S` (the budget for the whole generation), the extractive answer is
  returned unchanged.

Public API::

    gen = AnswerGenerator.from_settings(settings)    # None when LLM_BASE_URL is unset
    answer = await gen.generate(question, extractive)  # Answer, mode "generated" or the extractive one
    async for event in gen.stream(question, extractive):
        if event.type == "delta":   # checked text to append to what is shown
            ...
        else:                       # event.type == "final": event.answer replaces what was shown
            ...

Streaming shows the answer as it is written, but sentence by sentence: a `delta` event carries one
complete sentence (with its separator: " ", "\\n- " or "\\n\\n") once it has been checked, so
nothing unchecked ever reaches a user. Citations are written as in the extractive answer:
"Sentence. [1][2]". `throttled()` coalesces the events for a display that may change at most once
a second (Telegram message edits); `GenerationEvent.sse()` serialises one for a web page. The last event is always `final`; its `answer` is the
checked generated `Answer` (whose `answer` text is exactly the concatenated deltas) or, on
fallback, the extractive `Answer`, which the caller shows instead of the deltas.

The prompts are files in the repository's `prompts/` folder (`system.md`, `answer_template.md`,
`passage.md`), read at start-up; `BPGE_PROMPTS_DIR` points elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from bot.schemas import Answer, Finding, Statement
from indexer.models import SECTION_LABELS, Source
from indexer.text import strip_accents

if TYPE_CHECKING:  # pragma: no cover
    from openai import AsyncOpenAI

    from indexer.settings import Settings

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
MIN_KEPT_RATIO = 0.4  # fewer surviving sentences than this (of those that count) -> extractive
MAX_TOKENS = 900
TEMPERATURE = 0.1

FallbackReason = Literal["abstained", "no_sources", "timeout", "error", "empty", "too_little"]


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


class GenerationEvent(BaseModel):
    """One event of `AnswerGenerator.stream`.

    * `type == "delta"`: `text` is checked text to append to what is already shown (it starts with
      its separator from the previous sentence: "", " ", "\\n- " or "\\n\\n").
    * `type == "final"`: always the last event. `answer` is the answer to show, replacing the deltas:
      `answer.mode == "generated"` (then `answer.answer` == the concatenated deltas) or the
      extractive answer unchanged, with `reason` saying why it fell back. `ttft_ms` is the time to
      the model's first token (None if none came), `total_ms` the whole generation;
      `kept`/`total` count the sentences that survived the check.
    """

    type: Literal["delta", "final"]
    text: str = ""
    answer: Answer | None = None
    reason: FallbackReason | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    kept: int = 0
    total: int = 0

    def sse(self) -> str:
        """The event as one Server-Sent Events message: `event: delta|final` and `data: <json>`."""
        return f"event: {self.type}\ndata: {self.model_dump_json(exclude_none=True)}\n\n"


async def throttled(
    events: AsyncIterator[GenerationEvent], min_interval_s: float = 1.0
) -> AsyncIterator[tuple[str, GenerationEvent | None]]:
    """Coalesce `AnswerGenerator.stream` for a display that may change at most once per interval
    (the Telegram bot editing its message): yields `(text so far, None)` when the shown text
    changed, at most once per `min_interval_s` (a pending change is flushed when the interval is
    up, without waiting for the next sentence), then `(final text, final event)` once at the end,
    where the final text is `final.answer.answer` (the generated answer, or the extractive one
    on fallback). The caller formats the final answer as it likes; the interval does not apply
    to it."""
    queue: asyncio.Queue[GenerationEvent | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    text = shown = ""
    last = float("-inf")
    try:
        while True:
            wait = None if text == shown else max(0.0, last + min_interval_s - time.monotonic())
            try:
                event = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                shown, last = text, time.monotonic()
                yield text, None
                continue
            if event is None:  # the stream ended without a final event: it raised
                await task
                return
            if event.type == "final":
                yield (event.answer.answer if event.answer else text), event
                return
            text += event.text
            if time.monotonic() - last >= min_interval_s:
                shown, last = text, time.monotonic()
                yield text, None
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace {{name}} placeholders in one pass (values are never re-parsed)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _neutralise(text: str) -> str:
    """Keep passage text from closing its <pasaje> block or faking another one."""
    return re.sub(r"<\s*(/?)\s*pasaje", r"‹\1pasaje", text, flags=re.IGNORECASE)


@dataclass(frozen=True)
class Prompts:
    system: str
    answer_template: str
    passage: str

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Prompts:
        folder = Path(folder or os.environ.get("BPGE_PROMPTS_DIR") or PROMPTS_DIR)

        def read(name: str) -> str:
            return (folder / name).read_text(encoding="utf-8").strip()

        return cls(read("system.md"), read("answer_template.md"), read("passage.md"))

    def passage_block(self, source: Source) -> str:
        block = _fill(
            self.passage,
            {
                "n": str(source.n),
                "practica": _neutralise(source.practice),
                "instancias": _neutralise(", ".join(source.offices)),
                "region": _neutralise(source.region),
                "seccion": SECTION_LABELS.get(source.section, source.section),
                "experto": _neutralise(getattr(source, "expert", None) or ""),
                "texto": _neutralise(source.text.strip()),
            },
        )
        # A metadata line left empty ("región: ") is left out.
        return re.sub(r"(?m)^(?:práctica|instancias|región|sección|experto):[ \t]*\n", "", block)

    def messages(self, question: str, sources: Sequence[Source]) -> list[dict[str, str]]:
        """The chat messages: the system prompt, then the passages and the question as user data."""
        passages = "\n\n".join(self.passage_block(s) for s in sources)
        user = _fill(self.answer_template, {"pasajes": passages, "pregunta": question.strip()})
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents ("Junín" -> "junin"), punctuation kept (unlike `indexer.text.fold`)."""
    return strip_accents(text).lower()


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

# Capitalised words that are not names when they start a sentence or clause (folded).
_STOPWORDS = frozenset(
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

_ABBREVIATIONS = frozenset(
    [
        "sr",
        "sra",
        "srta",
        "dr",
        "dra",
        "lic",
        "mg",
        "mag",
        "ing",
        "prof",
        "nro",
        "num",
        "art",
        "pag",
        "pp",
        "ej",
        "aprox",
        "av",
        "jr",
        "mr",
        "mrs",
        "ms",
        "vs",
        "cf",
        "fig",
        "esp",
        "coord",
        "dir",
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
        if not word[0].isupper() or fold(word) in _STOPWORDS:
            continue
        if initial and _stem(fold(word)) not in known:
            nxt = words[i + 1].group(0) if i + 1 < len(words) else ""
            nxt_gap = text[m.end() : words[i + 1].start()] if nxt else ""
            if not (nxt and nxt[0].isupper() and not _is_acronym(nxt) and nxt_gap.strip() == ""):
                continue
        names.append(word)
    return names


def _source_fields(source: Source) -> list[str]:
    """What the prompt shows of a passage besides its text: practice, offices, region, expert."""
    expert = getattr(source, "expert", None) or ""
    return [source.practice, " ".join(source.offices), source.region, expert]


def _known_names(sources: Iterable[Source]) -> set[str]:
    """Folded, stemmed words that are names somewhere in the passages (text or metadata)."""
    known: set[str] = set()
    for s in sources:
        found = names_in(s.text) + names_in(s.practice)
        for field_ in (" ".join(s.offices), s.region, getattr(s, "expert", None) or ""):
            found += [w for w in _WORD.findall(field_) if fold(w) not in _STOPWORDS]
        known.update(_stem(fold(w)) for w in found if len(w) > 1 and not w.isdigit())
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
        for part in re.split(r"[-'’]", m.group(0)) + [m.group(0)]:
            if part:
                words.add(_stem(fold(part)))
    folded = " ".join(_WORD.findall(fold(text)))
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
    words = [_stem(w) for w in _WORD.findall(fold(text))]
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
        if _INSTRUCTION_TALK.search(fold(bare)) or (self._leaks and _shingles(bare) & self._leaks):
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
            if _stem(fold(name)) not in words_hay and not all(_stem(fold(p)) in words_hay for p in parts):
                result.reason = f"name {name}"
                return result
        result.ok = True
        return result


# --------------------------------------------------------------------------------------------
# Splitting a (growing) reply into sentences
# --------------------------------------------------------------------------------------------

# A sentence ends at . ! ? … (plus closing quotes and any citations after it), followed by
# whitespace and then something that does not continue the sentence: not lower case, and not "["
# (an unfinished citation that still belongs to it).
_BOUNDARY = re.compile(r"(?P<end>[.!?…]+[\"»”’)]*(?:\s*\[[^\]\n]*\])*)(?P<ws>[ \t]+)(?=[^\s\[a-záéíóúüñ,;:])")
_BULLET = re.compile(r"^\s*(?:[-*•·–—]|\d{1,2}[.)])\s+")
_THINK = re.compile(r"<think>.*?</think>", re.S | re.IGNORECASE)


def _visible(raw: str) -> str:
    """The reply without reasoning blocks (<think>…</think>); an unfinished one hides the rest."""
    text = _THINK.sub("", raw)
    start = text.lower().find("<think>")
    return text if start < 0 else text[:start]


def _boundary(line: str) -> re.Match[str] | None:
    for m in _BOUNDARY.finditer(line):
        before = re.sub(r"(?:\s*\[[^\]\n]*\])+\s*$", "", line[: m.start("end")])
        last = re.search(r"([^\W_]+)\W*$", before)
        token = last.group(1) if last else ""
        if m.group("end").startswith(".") and (
            (len(token) == 1 and token.isalpha())  # an initial: "J. Pérez"
            or fold(token) in _ABBREVIATIONS  # "Sr.", "N.", "p. ej."
            or (token.isdigit() and len(token) <= 2)  # a list number inside a line: "1. Planificar"
        ):
            continue
        return m
    return None


@dataclass
class _Assembler:
    """Turns the growing reply into checked sentences and the text deltas to show."""

    checker: AnswerChecker
    consumed: int = 0  # characters of the visible reply already split off
    line_start: bool = True
    bullet: str = ""
    line_has_output: bool = False
    output: str = ""
    checks: list[SentenceCheck] = field(default_factory=list)

    def feed(self, visible: str, final: bool = False) -> list[str]:
        deltas: list[str] = []
        while True:
            pending = visible[self.consumed :]
            if self.line_start:
                stripped = pending.lstrip(" \t")
                if not final and len(stripped) < 4 and "\n" not in stripped:
                    break  # wait until a bullet marker can be recognised
                b = _BULLET.match(pending)
                if b and not final and "\n" not in pending and len(pending) <= b.end():
                    break  # "- " so far: wait for the item's text
                self.bullet = "- " if b else ""
                if b:
                    self.consumed += b.end()
                    pending = visible[self.consumed :]
                self.line_start = False
            nl = pending.find("\n")
            line = pending if nl < 0 else pending[:nl]
            m = _boundary(line)
            if m:
                unit, used, ends_line = line[: m.end("end")], m.end(), False
            elif nl >= 0:
                unit, used, ends_line = line, nl + 1, True
            elif final and pending.strip():
                unit, used, ends_line = pending, len(pending), True
            else:
                break
            self.consumed += used
            if unit.strip():
                delta = self._sentence(unit)
                if delta:
                    deltas.append(delta)
            if ends_line:
                self.line_start, self.line_has_output, self.bullet = True, False, ""
        return deltas

    def _sentence(self, unit: str) -> str | None:
        check = self.checker.check(unit)
        self.checks.append(check)
        if not check.ok:
            log.info("dropped generated sentence (%s): %s", check.reason, check.text)
            return None
        if not self.output:
            sep = self.bullet
        elif self.line_has_output:
            sep = " "
        else:
            sep = "\n" + self.bullet if self.bullet else "\n\n"
        self.line_has_output = True
        delta = sep + check.text
        self.output += delta
        return delta

    @property
    def kept(self) -> list[SentenceCheck]:
        return [c for c in self.checks if c.ok]

    @property
    def counted(self) -> int:
        return sum(1 for c in self.checks if c.counts or c.ok)

    def acceptable(self) -> bool:
        kept = len(self.kept)
        return kept >= 1 and kept >= MIN_KEPT_RATIO * max(self.counted, 1)


def check_reply(
    reply: str, sources: Sequence[Source], instructions: Iterable[str] = ()
) -> tuple[str, list[SentenceCheck], bool]:
    """Check a whole reply at once: (text that survives, every sentence's verdict, acceptable)."""
    assembler = _Assembler(AnswerChecker(sources, instructions))
    assembler.feed(_visible(reply), final=True)
    return assembler.output, assembler.checks, assembler.acceptable()


def _findings(checks: Sequence[SentenceCheck], extractive: Answer) -> list[Finding]:
    """The kept sentences grouped by the practice of their first citation."""
    by_n = {s.n: s for s in extractive.sources}
    labels = {f.practice_id: (f.title, f.label) for f in extractive.findings}
    findings: dict[str, Finding] = {}
    for check in checks:
        if not check.ok:
            continue
        source = by_n[check.citations[0]]
        pid = source.practice_id
        if pid not in findings:
            where = ", ".join(source.offices)
            if source.region and fold(source.region) not in fold(where):
                where = f"{where} ({source.region})" if where else source.region
            default = (source.practice, f"{source.practice} — {where}" if where else source.practice)
            title, label = labels.get(pid, default)
            findings[pid] = Finding(practice_id=pid, title=title, label=label, statements=[])
        text = re.sub(r"\s*\[\d+\]", "", check.text).strip()  # the extractive Statement.text form
        findings[pid].statements.append(Statement(text=text, sources=check.citations))
    return list(findings.values())


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class AnswerGenerator:
    """Writes checked answers with an OpenAI-compatible chat-completions server.

    One `AsyncOpenAI` client is kept per event loop (connections are reused); `aclose()` closes them.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        prompts: Prompts | None = None,
        max_tokens: int = MAX_TOKENS,
        temperature: float = TEMPERATURE,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key or "none"
        self.timeout_s = float(timeout_s)
        self.prompts = prompts or Prompts.load()
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._minimal_params = False  # set when the server refused temperature/max_tokens
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings: Settings, prompts: Prompts | None = None) -> AnswerGenerator | None:
        """None when LLM_BASE_URL is unset (extractive answers only)."""
        if not settings.llm_base_url:
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model or "default",
            api_key=key,
            timeout_s=settings.llm_timeout_s,
            prompts=prompts,
        )

    def __repr__(self) -> str:
        return f"AnswerGenerator(base_url={self.base_url!r}, model={self.model!r}, timeout_s={self.timeout_s})"

    def _client(self) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self.timeout_s,
                max_retries=0,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop (others are dropped with their loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover
            return
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.close()

    def messages(self, question: str, sources: Sequence[Source]) -> list[dict[str, str]]:
        return self.prompts.messages(question, sources)

    async def _produce(self, messages: list[dict[str, str]], queue: asyncio.Queue[tuple[str, Any]]) -> None:
        """Stream the model's reply into `queue`: ("delta", str)…, then ("done", None) or ("error", exc)."""
        from openai import BadRequestError

        try:
            client = self._client()
            params: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
            if not self._minimal_params:
                params.update(temperature=self.temperature, max_tokens=self.max_tokens)
            try:
                stream = await client.chat.completions.create(**params)
            except BadRequestError:
                if self._minimal_params:
                    raise
                # Some servers/models refuse temperature or max_tokens: retry once without them.
                self._minimal_params = True
                params.pop("temperature", None)
                params.pop("max_tokens", None)
                stream = await client.chat.completions.create(**params)
            async with stream:
                async for chunk in stream:
                    for choice in chunk.choices or []:
                        content = getattr(choice.delta, "content", None) if choice.delta else None
                        if content:
                            await queue.put(("delta", content))
            await queue.put(("done", None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await queue.put(("error", exc))

    async def stream(self, question: str, extractive: Answer) -> AsyncIterator[GenerationEvent]:
        """Yield checked sentences as `delta` events while the model writes, then one `final` event.

        Never raises for model problems: errors, timeouts (the whole generation is bounded by
        `timeout_s`) and replies that do not survive the check end in a `final` event carrying
        `extractive` unchanged. When `extractive` abstained or has no sources the model is not called.
        """
        started = time.perf_counter()

        def ms() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        if extractive.abstained or not extractive.sources:
            reason: FallbackReason = "abstained" if extractive.abstained else "no_sources"
            yield GenerationEvent(type="final", answer=extractive, reason=reason, total_ms=ms())
            return

        instructions = (self.prompts.system, self.prompts.answer_template)
        assembler = _Assembler(AnswerChecker(extractive.sources, instructions))
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        producer = asyncio.create_task(self._produce(self.messages(question, extractive.sources), queue))
        deadline = time.monotonic() + self.timeout_s
        raw = ""
        ttft: float | None = None
        failure: FallbackReason | None = None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = "timeout"
                    break
                try:
                    kind, payload = await asyncio.wait_for(queue.get(), timeout=remaining)
                except TimeoutError:
                    failure = "timeout"
                    break
                if kind == "error":
                    log.warning("generation failed, answering extractively: %r", payload)
                    failure = "timeout" if "timeout" in type(payload).__name__.lower() else "error"
                    break
                if kind == "done":
                    for delta in assembler.feed(_visible(raw), final=True):
                        yield GenerationEvent(type="delta", text=delta)
                    break
                if ttft is None:
                    ttft = ms()
                raw += payload
                for delta in assembler.feed(_visible(raw)):
                    yield GenerationEvent(type="delta", text=delta)
        finally:
            if not producer.done():
                producer.cancel()
                try:
                    await producer
                except (asyncio.CancelledError, Exception):
                    pass

        kept, counted = len(assembler.kept), assembler.counted
        if failure is None and not raw.strip():
            failure = "empty"
        if failure is None and not assembler.acceptable():
            failure = "too_little"
        if failure is not None:
            if failure == "timeout":
                log.warning("generation ran past %.1f s, answering extractively", self.timeout_s)
            elif failure == "too_little":
                log.info("generated answer kept %d of %d sentences, answering extractively", kept, counted)
            yield GenerationEvent(
                type="final", answer=extractive, reason=failure, ttft_ms=ttft, total_ms=ms(), kept=kept, total=counted
            )
            return
        generated = extractive.model_copy(
            update={
                "answer": assembler.output,
                "mode": "generated",
                "abstained": False,
                "findings": _findings(assembler.checks, extractive),
                "intro": "",
                "outro": "",
            }
        )
        yield GenerationEvent(type="final", answer=generated, ttft_ms=ttft, total_ms=ms(), kept=kept, total=counted)

    async def generate_event(self, question: str, extractive: Answer) -> GenerationEvent:
        """The `final` event of `stream` (the answer plus timings and the fallback reason)."""
        final: GenerationEvent | None = None
        async for event in self.stream(question, extractive):
            if event.type == "final":
                final = event
        assert final is not None
        return final

    async def generate(self, question: str, extractive: Answer) -> Answer:
        """The checked generated answer, or `extractive` unchanged (abstained, error, timeout, too little)."""
        event = await self.generate_event(question, extractive)
        assert event.answer is not None
        return event.answer

    def generate_sync(self, question: str, extractive: Answer) -> Answer:
        """`generate` for code without an event loop (CLI, scripts). Not for use inside a running loop."""

        async def run() -> Answer:
            try:
                return await self.generate(question, extractive)
            finally:
                await self.aclose()

        return asyncio.run(run())
