"""Spanish lexical search: BM25 (bm25s) over the tokens of `bot.language.analyze`."""

from __future__ import annotations

import bm25s
import numpy as np


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
