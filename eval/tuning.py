"""Choosing the ranking knobs and the abstention thresholds by cross-validation, never question by question.

Each question's signals (dense cosines, BM25) are computed once; re-ranking them under another `RankingConfig`
and re-judging abstention under another `Calibration` is then cheap. `cross_validate` splits the questions into
folds, chooses the parameters on the other folds and scores the held-out one, so the reported figure is what the
procedure achieves on questions it did not see.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.answer import abstention_reason, topic_margin
from bot.normalize import NormalizedQuestion
from bot.query import Query, read_query
from bot.ranking import RankingConfig
from bot.retrieve import Retrieval, Retriever
from bot.topics import TopicMatch
from eval.score import Gold, same_practice
from indexer.calibration import Calibration

RANKING_GRID: dict[str, Sequence[object]] = {
    "rrf_k": (5.0, 10.0, 30.0, 60.0),
    "passages_per_record": (1, 2, 3),
    "named_weight": (1.0, 2.0, 3.0),
    "dense2": (0.5, 1.0),
    "bm25": (0.5, 1.0, 1.5),
    "core_weight": (0.0, 0.5, 1.0),
}
COVERAGE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5)
# Coverage below which a topic of the catalog counts as not covered by the corpus (e5's scale: the catalog's topics
# score 0.83–0.92 against the shipped corpus).
TOPIC_COVERAGES = (0.85, 0.855, 0.86, 0.865, 0.87, 0.875, 0.88)
# Weight of the question's words in the topic check (0: meaning alone), see `Calibration.topic_terms_weight`.
TOPIC_TERMS_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
FIGURE_COVERAGES = (0.0, 0.3, 0.4, 0.5, 0.6)
# Refusing a question the corpus answers costs more than answering one it does not (the user can judge a
# weak answer, not a missing one).
FALSE_ABSTENTION_COST = 2.0
CLOSE_PERCENTILE = 10


@dataclass
class Prepared:
    """One question with everything the ranking needs, computed once."""

    gold: Gold
    source: str  # the question file's name
    query: Query
    normalized: NormalizedQuestion
    signals: dict[str, dict[int, float]]
    topics: tuple[TopicMatch, ...]


def prepare(retriever: Retriever, gold: Iterable[tuple[str, Gold]]) -> list[Prepared]:
    out: list[Prepared] = []
    for source, g in gold:
        normalized = retriever.normalizer.normalize(g.question)
        query = read_query(g.question, retriever.catalog)
        vectors = retriever.encode(normalized.text)
        signals = retriever.signals(normalized.text, None, vectors)
        topics = retriever.nearest_topics(vectors, normalized.text, query)
        out.append(Prepared(g, source, query, normalized, signals, topics))
    return out


def ranking_configs(base: RankingConfig) -> list[RankingConfig]:
    keys = list(RANKING_GRID)
    configs = []
    for values in itertools.product(*(RANKING_GRID[k] for k in keys)):
        chosen = dict(zip(keys, values, strict=True))
        weights = {"dense": 1.0, "dense2": _number(chosen.pop("dense2")), "bm25": _number(chosen.pop("bm25"))}
        configs.append(replace(base, signal_weights=weights, **chosen))  # type: ignore[arg-type]
    return configs


def _number(value: object) -> float:
    if not isinstance(value, int | float):
        raise TypeError(f"grid value {value!r} is not a number")
    return float(value)


def rank_all(retriever: Retriever, items: Sequence[Prepared], config: RankingConfig) -> list[Retrieval]:
    retriever.config = config
    return [retriever.rank(p.query, p.normalized, p.signals, max_records=10, topics=p.topics) for p in items]


def mrr(retriever: Retriever, items: Sequence[Prepared], config: RankingConfig) -> float:
    """Mean reciprocal rank of the expected practice (records fused only: the fast path of the grid)."""
    retriever.config = config
    values = []
    for p in items:
        if p.gold.expect_abstain or not p.gold.expected_practices:
            continue
        scores = retriever.record_scores(p.query, p.signals)
        rank = None
        for position, index in enumerate(np.argsort(-scores), start=1):
            title = retriever.records[retriever.record_ids[index]].title
            if any(same_practice(e, title) for e in p.gold.expected_practices):
                rank = position
                break
        values.append(1.0 / rank if rank else 0.0)
    return float(np.mean(values)) if values else 0.0


def best_ranking(retriever: Retriever, items: Sequence[Prepared], base: RankingConfig) -> RankingConfig:
    """The grid point with the best MRR on `items` (ties: the earlier, simpler point)."""
    best, best_score = base, -1.0
    for config in ranking_configs(base):
        score = mrr(retriever, items, config)
        if score > best_score + 1e-9:
            best, best_score = config, score
    return best


def abstention_cost(calibration: Calibration, retrievals: Sequence[Retrieval], items: Sequence[Prepared]) -> float:
    cost = 0.0
    for retrieval, p in zip(retrievals, items, strict=True):
        abstained = abstention_reason(retrieval, calibration) is not None
        if p.gold.expect_abstain and not abstained:
            cost += 1.0
        elif not p.gold.expect_abstain and abstained:
            cost += FALSE_ABSTENTION_COST
    return cost


def best_calibration(retrievals: Sequence[Retrieval], items: Sequence[Prepared]) -> Calibration:
    """Thresholds with the lowest abstention cost on `items`; each threshold sits midway between two observed
    values, so it does not hug one question. The relevance thresholds and the topic check are chosen in turn
    (each with the other fixed), twice: the relevance cut chosen alone also refuses near misses the topic check
    recognises, at the price of real problems in unusual words."""
    best = _best_thresholds(retrievals, items, Calibration.model_fields["topic_coverage"].default, 0.0, 1.0)
    best = _best_topic_check(best, retrievals, items)
    best = _best_thresholds(retrievals, items, best.topic_coverage, best.topic_terms_weight, best.max_topic_margin)
    best = _best_topic_check(best, retrievals, items)
    answerable = sorted(
        r.top_cosine + best.coverage_weight * r.coverage
        for r, p in zip(retrievals, items, strict=True)
        if not p.gold.expect_abstain and p.gold.kind == "similar"
    )
    # "the closest practices" below the lowest tenth of the relevance of answerable problem descriptions: a
    # problem the corpus addresses in other words is answered as such, not as a near match
    close = float(np.percentile(answerable, CLOSE_PERCENTILE)) if answerable else best.min_relevance
    return best.model_copy(update={"close_relevance": max(close, best.min_relevance)})


def _best_thresholds(
    retrievals: Sequence[Retrieval],
    items: Sequence[Prepared],
    topic_coverage: float,
    topic_terms_weight: float,
    max_topic_margin: float,
) -> Calibration:
    """Relevance cut, coverage weight, figure coverage and English cut with the lowest cost, the topic check fixed."""
    english = sorted({r.top_cosine for r, p in zip(retrievals, items, strict=True) if p.query.english})
    english_cuts = _midpoints(english) or [0.0]
    best: Calibration | None = None
    best_cost = float("inf")
    for weight in COVERAGE_WEIGHTS:
        values = sorted({r.top_cosine + weight * r.coverage for r in retrievals})
        for cut in _midpoints(values):
            for figure in FIGURE_COVERAGES:
                for english_cut in english_cuts:
                    calibration = Calibration(
                        min_relevance=cut,
                        coverage_weight=weight,
                        close_relevance=cut,
                        min_figure_coverage=figure,
                        min_english_cosine=english_cut,
                        topic_coverage=topic_coverage,
                        topic_terms_weight=topic_terms_weight,
                        max_topic_margin=max_topic_margin,
                    )
                    cost = abstention_cost(calibration, retrievals, items)
                    if cost < best_cost - 1e-9:
                        best, best_cost = calibration, cost
    assert best is not None
    return best


def _best_topic_check(base: Calibration, retrievals: Sequence[Retrieval], items: Sequence[Prepared]) -> Calibration:
    """The topic check's bars (`uncovered_topic`) with the lowest cost, the other thresholds fixed; on ties the
    smaller terms weight, the larger margin and the lower coverage bar, i.e. the check that refuses less."""
    best, best_cost = base, abstention_cost(base, retrievals, items)
    for weight in TOPIC_TERMS_WEIGHTS:
        for bar in TOPIC_COVERAGES:
            trial = base.model_copy(update={"topic_coverage": bar, "topic_terms_weight": weight})
            margins = [
                next((topic_margin(m, r, trial) for m in r.topics if m.coverage < bar), None) for r in retrievals
            ]
            for margin in reversed(_midpoints([m for m in set(margins) if m is not None])):
                calibration = trial.model_copy(update={"max_topic_margin": margin})
                cost = abstention_cost(calibration, retrievals, items)
                if cost < best_cost - 1e-9:
                    best, best_cost = calibration, cost
    return best


def _midpoints(values: Sequence[float]) -> list[float]:
    values = sorted(values)
    return [round((a + b) / 2, 4) for a, b in itertools.pairwise(values)]


@dataclass
class FoldResult:
    fold: int
    config: RankingConfig
    calibration: Calibration
    items: list[Prepared]
    retrievals: list[Retrieval]


def folds(items: Sequence[Prepared], k: int, seed: int = 13) -> list[list[int]]:
    """k folds, stratified by question kind so each fold has abstain and answerable questions."""
    by_kind: dict[str, list[int]] = {}
    for i, p in enumerate(items):
        by_kind.setdefault("abstain" if p.gold.expect_abstain else p.gold.kind, []).append(i)
    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    slot = 0
    for kind in sorted(by_kind):
        indices = by_kind[kind][:]
        rng.shuffle(indices)
        for i in indices:
            out[slot % k].append(i)
            slot += 1
    return out


def cross_validate(
    retriever: Retriever, items: Sequence[Prepared], base: RankingConfig, k: int = 5
) -> list[FoldResult]:
    results = []
    for n, held_out in enumerate(folds(items, k)):
        held = set(held_out)
        train = [p for i, p in enumerate(items) if i not in held]
        test = [items[i] for i in held_out]
        config = best_ranking(retriever, train, base)
        calibration = best_calibration(rank_all(retriever, train, config), train)
        results.append(FoldResult(n, config, calibration, test, rank_all(retriever, test, config)))
    return results
