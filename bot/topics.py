"""How near a question is to each topic of education management, and how well the corpus covers each topic.

The catalog and each topic's coverage come from the build (`indexer.topics`); the abstention reads the scores
(`bot.answer.uncovered_topic`): a question far closer to a topic the corpus does not cover than to any practice is
refused, naming the topic. Every dense model reads the question (e5 and USE err on different questions); their
cosines are put on the primary's scale by the build and mixed with the calibrated weight (`mix`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.language import analyze
from indexer.topics import OUTSIDE_AREA, ModelTopics, read_stored_topics


@dataclass(frozen=True)
class TopicScores:
    """A question against every topic of the catalog, one column per dense model (the primary first), every cosine on
    the primary model's scale."""

    labels: Sequence[str]
    cosine: np.ndarray  # (topics, models): the question's cosine with each topic's text
    coverage: np.ndarray  # (topics, models): each topic's best cosine with the corpus's passages
    terms: np.ndarray  # (topics,): IDF-weighted share of the question's terms found in each topic's text
    outside: frozenset[int] = frozenset()  # the topics outside education management (`indexer.topics.OUTSIDE_AREA`)


def mix(cosines: np.ndarray, second_weight: float) -> np.ndarray:
    """Several models' cosines (last axis, the primary first, all on the primary's scale) as one: the primary weighs
    1 and each other model `second_weight`."""
    count = cosines.shape[-1]
    weights = np.array([1.0] + [second_weight] * (count - 1))
    return np.asarray(cosines @ weights / weights.sum())


class TopicMap:
    """Each dense model's passage-side vectors of the catalog, with the topics' labels and coverage and the line that
    puts the model's cosines on the primary's scale."""

    def __init__(
        self,
        labels: list[str],
        models: dict[str, ModelTopics],
        texts: list[str] | None = None,
        areas: list[str] | None = None,
    ) -> None:
        self.labels = labels
        self.outside = frozenset(n for n, area in enumerate(areas or []) if area == OUTSIDE_AREA)
        self.models = models  # dense signal → its reading, the primary first
        self.signals = list(models)
        self.coverage = np.stack(
            [_onto_primary(m.scale, np.asarray(m.coverage, dtype=np.float32)) for m in models.values()], axis=1
        )
        self.terms = [frozenset(analyze(t)) for t in texts] if texts else [frozenset[str]() for _ in labels]

    @classmethod
    def from_build(cls, folder: Path) -> TopicMap | None:
        stored = read_stored_topics(folder)
        if stored is None or not stored.rows:
            return None
        labels = [str(r["label"]) for r in stored.rows]
        texts = [str(r.get("text", "")) for r in stored.rows]
        return cls(labels, stored.models, texts, [str(r.get("area", "")) for r in stored.rows])

    def onto_primary(self, signal: str, cosine: float) -> float:
        """A cosine of the dense signal `signal` on the primary model's scale."""
        return float(_onto_primary(self.models[signal].scale, np.array(cosine)))

    def scores(
        self, vectors: Mapping[str, np.ndarray], share: Callable[[frozenset[str]], float] = lambda terms: 0.0
    ) -> TopicScores | None:
        """The (unit) question vectors of each dense signal against every topic; `share` measures how much of the
        question's vocabulary a topic's text holds (the retriever's IDF-weighted coverage). None when a model's
        vector is missing or of another size (a build and a catalog that disagree): no topic reading."""
        columns = []
        for signal, model in self.models.items():
            vector = vectors.get(signal)
            if vector is None:
                return None
            vector = np.asarray(vector, dtype=np.float32).reshape(-1)
            if vector.shape[0] != model.vectors.passage.shape[1]:
                return None
            columns.append(_onto_primary(model.scale, model.vectors.passage @ vector))
        return TopicScores(
            self.labels,
            np.stack(columns, axis=1),
            self.coverage,
            np.array([share(t) for t in self.terms]),
            self.outside,
        )


def _onto_primary(scale: tuple[float, float], cosines: np.ndarray) -> np.ndarray:
    return np.asarray(scale[0] * cosines + scale[1], dtype=np.float32)
