"""Choosing the ranking knobs and the abstention thresholds by cross-validation, never question by question.

Each question's signals (dense cosines, BM25) are computed once; re-ranking them under another `RankingConfig`
and re-judging abstention under another `Calibration` is then cheap. `cross_validate` splits the questions into
folds, chooses the parameters on the other folds and scores the held-out one, so the reported figure is what the
procedure achieves on questions it did not see.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.answer import abstention_reason, relevance, topic_check_applies, topic_margin
from bot.normalize import NormalizedQuestion
from bot.query import Query, read_query
from bot.ranking import RankingConfig
from bot.retrieve import Retrieval, Retriever
from bot.topics import TopicScores, mix
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
# Coverage below which a topic of the catalog counts as not covered by the corpus, as a percentile of the catalog's
# coverages (the share of the field's topics taken as absent from the corpus): scale-free, so the same grid serves
# every model and every mix of models.
TOPIC_COVERAGE_PERCENTILES = (10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80)
# Weight of the second dense model in the abstention's cosines (0: the primary alone), see
# `Calibration.second_weight`. Chosen by an outer cross-validation (eval/README: 0, 1, 2, 3 each fixed, the other
# knobs chosen per fold; 2 cost least); left free inside each fold it followed the training folds and did worse than
# any fixed value.
SECOND_WEIGHT = 2.0
# Weight of the question's words in the topic check (0: meaning alone), see `Calibration.topic_terms_weight`.
TOPIC_TERMS_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
# Refusing a question the corpus answers costs more than answering one it does not (the user can judge a
# weak answer, not a missing one). Lower costs were measured by an outer cross-validation (eval/README: at 1.5 more
# near misses are refused for few more false abstentions there) but raise the relevance cut enough to refuse
# gestores' own complaints in other words («el PAT se hace x cumplir…»), the assistant's main job: kept at 2.
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
    topics: TopicScores | None


def prepare(retriever: Retriever, gold: Iterable[tuple[str, Gold]]) -> list[Prepared]:
    out: list[Prepared] = []
    for source, g in gold:
        normalized = retriever.normalizer.normalize(g.question)
        query = read_query(g.question, retriever.catalog)
        vectors = retriever.encode(normalized.text)
        signals = retriever.signals(normalized.text, None, vectors)
        topics = retriever.topic_scores(vectors, normalized.text, query)
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
    abstained = np.array([abstention_reason(r, calibration) is not None for r in retrievals], dtype=bool)
    return float(_cost(np.array([p.gold.expect_abstain for p in items], dtype=bool), abstained))


def _cost(expected: np.ndarray, abstained: np.ndarray) -> np.ndarray:
    """Near misses answered plus `FALSE_ABSTENTION_COST` × answerable questions refused, over the last axis (the
    questions; earlier axes are settings scored at once)."""
    return np.sum(expected & ~abstained, axis=-1) + FALSE_ABSTENTION_COST * np.sum(~expected & abstained, axis=-1)


def best_calibration(
    retrievals: Sequence[Retrieval], items: Sequence[Prepared], second_weight: float = SECOND_WEIGHT
) -> Calibration:
    """Thresholds with the lowest abstention cost on `items`; each threshold sits midway between two observed
    values, so it does not hug one question. The relevance thresholds and the topic check are chosen in turn
    (each with the other fixed), twice: the relevance cut chosen alone also refuses near misses the topic check
    recognises, at the price of real problems in unusual words."""
    no_topic_check = {"topic_coverage": 0.0, "topic_terms_weight": 0.0, "max_topic_margin": 1.0}
    best = _best_thresholds(retrievals, items, {**no_topic_check, "second_weight": second_weight})
    best = _best_topic_check(best, retrievals, items)
    best = _best_thresholds(retrievals, items, best.model_dump(include={*no_topic_check, "second_weight"}))
    best = _best_topic_check(best, retrievals, items)
    answerable = sorted(
        relevance(r, best)
        for r, p in zip(retrievals, items, strict=True)
        if not p.gold.expect_abstain and p.gold.kind == "similar"
    )
    # "the closest practices" below the lowest tenth of the relevance of answerable problem descriptions: a
    # problem the corpus addresses in other words is answered as such, not as a near match
    close = float(np.percentile(answerable, CLOSE_PERCENTILE)) if answerable else best.min_relevance
    return best.model_copy(update={"close_relevance": max(close, best.min_relevance)})


def _best_thresholds(
    retrievals: Sequence[Retrieval], items: Sequence[Prepared], fixed: Mapping[str, float]
) -> Calibration:
    """Relevance cut, coverage weight and English cut with the lowest cost, the topic check and the models' mix
    (`fixed`) as they are; on ties the first in the order (weight, cut, English cut).

    The relevance cut only decides the questions that reach it, so every cut is scored at once: refused = refused
    with no cut, or the question reaches the cut (refused with an infinite one) and its relevance is below it."""
    english = sorted({r.top_cosine for r, p in zip(retrievals, items, strict=True) if p.query.english})
    english_cuts = _midpoints(english) or [0.0]
    expected = np.array([p.gold.expect_abstain for p in items])
    best: Calibration | None = None
    best_cost = float("inf")
    template = Calibration(min_relevance=0, coverage_weight=0, close_relevance=0, min_english_cosine=0).model_copy(
        update=dict(fixed)
    )
    for weight in COVERAGE_WEIGHTS:
        weighted = template.model_copy(update={"coverage_weight": weight})
        relevances = np.array([relevance(r, weighted) for r in retrievals])
        cuts = np.array(_midpoints(sorted(set(relevances.tolist()))))
        if not len(cuts):
            continue
        costs = np.empty((len(cuts), len(english_cuts)))
        for e, english_cut in enumerate(english_cuts):
            never = weighted.model_copy(update={"min_english_cosine": english_cut, "min_relevance": -np.inf})
            always = weighted.model_copy(update={"min_english_cosine": english_cut, "min_relevance": np.inf})
            refused = np.array([abstention_reason(r, never) is not None for r in retrievals])
            reaches = np.array([abstention_reason(r, always) is not None for r in retrievals])  # or refused
            abstained = refused | (reaches & (relevances[None, :] < cuts[:, None]))
            costs[:, e] = _cost(expected, abstained)
        c, e = (int(i) for i in np.unravel_index(int(np.argmin(costs)), costs.shape))
        if costs[c, e] < best_cost - 1e-9:
            best_cost = float(costs[c, e])
            best = weighted.model_copy(
                update={
                    "min_relevance": float(cuts[c]),
                    "close_relevance": float(cuts[c]),
                    "min_english_cosine": english_cuts[e],
                }
            )
    assert best is not None
    return best


def _best_topic_check(base: Calibration, retrievals: Sequence[Retrieval], items: Sequence[Prepared]) -> Calibration:
    """The topic check's knobs (`uncovered_topic`) with the lowest cost, the other thresholds fixed; on ties the
    smaller terms weight, the larger margin and the lower coverage bar, i.e. the check that refuses less.

    The check only adds refusals to what the other thresholds decide, so each margin is scored at once over all
    questions: refused = refused without the check, or the check applies and the margin is passed."""
    best, best_cost = base, abstention_cost(base, retrievals, items)
    without = base.model_copy(update={"topic_coverage": 0.0})  # no topic is uncovered: the check never refuses
    refused = np.array([abstention_reason(r, without) is not None for r in retrievals])
    applies = np.array([topic_check_applies(r, base) for r in retrievals])
    expected = np.array([p.gold.expect_abstain for p in items])
    catalog = next((r.topics.coverage for r in retrievals if r.topics is not None), None)
    if catalog is None:
        return best
    bars = sorted(
        {round(float(np.percentile(mix(catalog, base.second_weight), q)), 4) for q in TOPIC_COVERAGE_PERCENTILES}
    )
    for weight in TOPIC_TERMS_WEIGHTS:
        for bar in bars:
            trial = base.model_copy(update={"topic_coverage": bar, "topic_terms_weight": weight})
            found = [topic_margin(r, trial) for r in retrievals]
            margins = np.array([np.nan if m is None else m for m in found])
            for margin in reversed(_midpoints([m for m in set(found) if m is not None])):
                abstained = refused | (applies & (margins > margin))  # nan > x is False
                cost = float(_cost(expected, abstained))
                if cost < best_cost - 1e-9:
                    best = trial.model_copy(update={"max_topic_margin": margin})
                    best_cost = cost
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
