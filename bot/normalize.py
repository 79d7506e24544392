"""Reading a question as people write it on a phone: shorthand, everyday words and typos.

Gestores write «los profes no saben q hacer con los chicos»; the documents say «docentes», «que»,
«estudiantes». Before searching, each word is looked up in `prompts/vocabulary.toml` (a data file anyone can
extend): chat shorthand is replaced by the full word, everyday words by the documents' words (kept beside them
when the documents also use the everyday word). A word that is neither in the corpus nor in a Spanish
dictionary, and is one or two letters away from a corpus word, is corrected to that word.

A general thesaurus was measured here and only added noise: the mapping is the sector's own vocabulary.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extractOne

from bot.language import fold, stem

VOCABULARY_PATH = Path(__file__).resolve().parents[1] / "prompts" / "vocabulary.toml"
MAX_PHRASE_WORDS = 3
# Typo correction: only long words (short ones are too often other valid words), one edit up to
# TYPO_MIN_LENGTH_TWO_EDITS letters, two edits beyond.
TYPO_MIN_LENGTH = 8
TYPO_MIN_LENGTH_TWO_EDITS = 11

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Vocabulary:
    """The data file: shorthand and colloquial phrases (folded) → the documents' words."""

    shorthand: dict[str, str]
    colloquial: dict[str, str]

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH) -> Vocabulary:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return cls(
            shorthand={fold(k): fold(v) for k, v in data.get("shorthand", {}).items()},
            colloquial={fold(k): fold(v) for k, v in data.get("colloquial", {}).items()},
        )


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return Vocabulary.load()


def longest_phrase(
    folded: list[str], start: int, tables: tuple[dict[str, str], ...]
) -> tuple[int, int, str, str] | None:
    """The longest phrase (up to MAX_PHRASE_WORDS words) starting at `start` found in one of `tables`, the
    earlier table first at equal length: (length, index of the table, phrase, replacement)."""
    for length in range(min(MAX_PHRASE_WORDS, len(folded) - start), 0, -1):
        phrase = " ".join(folded[start : start + length])
        for index, table in enumerate(tables):
            if phrase in table:
                return length, index, phrase, table[phrase]
    return None


def expand_shorthand(folded: str, vocabulary: Vocabulary | None = None) -> str:
    """Folded text with chat shorthand written out («q hizo» → «que hizo»), for matching cue words; the search
    itself reads the whole normalised question (`QuestionNormalizer`)."""
    shorthand = (vocabulary or default_vocabulary()).shorthand
    words = folded.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        found = longest_phrase(words, i, (shorthand,))
        out.append(found[3] if found else words[i])
        i += found[0] if found else 1
    return " ".join(out)


@lru_cache(maxsize=1)
def spanish_stems() -> frozenset[str]:
    """Stems of pyspellchecker's Spanish dictionary: a word with one of these stems is a real word
    (an inflection the dictionary does not list, like «asustan»), never a typo."""
    from spellchecker import SpellChecker

    return frozenset(stem(fold(w)) for w in SpellChecker(language="es").word_frequency.dictionary)


@dataclass
class NormalizedQuestion:
    """The question in the documents' words, and what was changed (for logs and tests)."""

    original: str
    text: str
    changes: list[tuple[str, str]] = field(default_factory=list)


class QuestionNormalizer:
    """Rewrites a question into the corpus's vocabulary; built once per index from its words."""

    def __init__(self, corpus_words: Iterable[str], vocabulary: Vocabulary | None = None) -> None:
        self._vocabulary = vocabulary or default_vocabulary()
        self._corpus = frozenset(fold(w) for w in corpus_words if w)
        self._corpus_stems = frozenset(stem(w) for w in self._corpus)
        self._long_corpus_words = sorted(w for w in self._corpus if len(w) >= TYPO_MIN_LENGTH - 2 and w.isalpha())

    def normalize(self, question: str) -> NormalizedQuestion:
        words = _WORD.findall(question)
        folded = [fold(w) for w in words]
        out: list[str] = []
        changes: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            replaced = self._phrase_at(folded, i)
            if replaced is not None:
                length, target, keep = replaced
                source = " ".join(words[i : i + length])
                out.append(f"{source} {target}" if keep else target)
                changes.append((source, target))
                i += length
                continue
            word = words[i]
            corrected = self._correction(folded[i])
            if corrected:
                out.append(corrected)
                changes.append((word, corrected))
            else:
                out.append(word)
            i += 1
        text = " ".join(out)
        if question.rstrip().endswith("?"):
            text += "?"
        return NormalizedQuestion(original=question, text=text if changes else question, changes=changes)

    def _phrase_at(self, folded: list[str], start: int) -> tuple[int, str, bool] | None:
        """The longest vocabulary phrase starting at `start`: (length, replacement, keep the original too)."""
        found = longest_phrase(folded, start, (self._vocabulary.shorthand, self._vocabulary.colloquial))
        if found is None:
            return None
        length, table, phrase, replacement = found
        # an everyday word the documents use too is searched with both
        keep = table == 1 and length == 1 and phrase in self._corpus
        return length, replacement, keep

    def _correction(self, word: str) -> str | None:
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha() or word in self._corpus:
            return None
        word_stem = stem(word)
        if word_stem in self._corpus_stems or word_stem in spanish_stems():
            return None
        edits = 2 if len(word) >= TYPO_MIN_LENGTH_TWO_EDITS else 1
        candidates = [w for w in self._long_corpus_words if abs(len(w) - len(word)) <= edits]
        match = extractOne(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=edits)
        return match[0] if match else None
