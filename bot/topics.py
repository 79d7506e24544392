"""The topics of education management nearest to a question, each with how well the corpus covers it.

The catalog and each topic's coverage come from the build (`indexer.topics`); the abstention reads the matches
(`bot.answer.uncovered_topic`): a question far closer to a topic the corpus does not cover than to any practice is
refused, naming the topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.language import analyze
from indexer.topics import read_topic_vectors

# Nearest topics kept per question: enough to find the best uncovered one under any coverage bar the calibration
# may choose (a bar above every topic's coverage makes the nearest topic uncovered; most bars need a few).
TOPIC_MATCHES = 25


@dataclass(frozen=True)
class TopicMatch:
    label: str
    cosine: float  # the question's cosine with the topic's text (primary model)
    coverage: float  # the topic's best cosine with the corpus's passages
    terms: float = 0.0  # IDF-weighted share of the question's terms found in the topic's text


class TopicMap:
    """The catalog's passage-side vectors of the primary model, with each topic's label and coverage."""

    def __init__(
        self, labels: list[str], coverage: np.ndarray, vectors: np.ndarray, texts: list[str] | None = None
    ) -> None:
        self.labels = labels
        self.coverage = np.asarray(coverage, dtype=np.float32)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.terms = [frozenset(analyze(t)) for t in texts] if texts else [frozenset[str]() for _ in labels]

    @classmethod
    def from_build(cls, folder: Path) -> TopicMap | None:
        stored = read_topic_vectors(folder)
        if stored is None or not stored[0]:
            return None
        rows, vectors = stored
        labels = [str(r["label"]) for r in rows]
        coverage = np.array([float(r["coverage"]) for r in rows])
        return cls(labels, coverage, vectors.passage, [str(r.get("text", "")) for r in rows])

    def nearest(
        self,
        vector: np.ndarray,
        share: Callable[[frozenset[str]], float] = lambda terms: 0.0,
        limit: int = TOPIC_MATCHES,
    ) -> tuple[TopicMatch, ...]:
        """The `limit` topics closest to a (unit) question vector, closest first; `share` measures how much of the
        question's vocabulary a topic's text holds (the retriever's IDF-weighted coverage)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.vectors.shape[1]:
            return ()  # another model's vector (a build and a catalog that disagree): no topic reading
        cosines = self.vectors @ vector
        order = np.argsort(-cosines)[:limit]
        return tuple(
            TopicMatch(self.labels[i], float(cosines[i]), float(self.coverage[i]), share(self.terms[i])) for i in order
        )
