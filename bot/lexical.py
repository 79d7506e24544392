"""Spanish lexical search: accent folding, stop words, Snowball stemming, BM25 (bm25s)."""

from __future__ import annotations

import re
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_SPANISH

from indexer.text import fold

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


class LexicalIndex:
    """BM25 over passages, given as their analysed tokens (see `analyze`)."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        self._bm25 = bm25s.BM25()
        corpus = [tokens or ["∅"] for tokens in corpus_tokens]
        self._bm25.index(corpus, show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)
        self._df = self._document_frequencies(corpus)
        self._n = len(corpus)

    @staticmethod
    def _document_frequencies(corpus: list[list[str]]) -> dict[str, int]:
        df: dict[str, int] = {}
        for tokens in corpus:
            for t in set(tokens):
                df[t] = df.get(t, 0) + 1
        return df

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the (already analysed) query tokens."""
        known = [t for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Inverse document frequency; unseen tokens get the highest value."""
        df = self._df.get(token, 0)
        return float(np.log((self._n + 1) / (df + 0.5)))
