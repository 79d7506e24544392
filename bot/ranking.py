"""Ranking practices by fusing several retrieval signals, per practice (pure functions, no model).

Each signal (multilingual-e5 cosine "dense", USE cosine "dense2", Spanish BM25 "bm25") ranks the passages on
its own. Scores of different signals are not comparable, their ranks are: a passage at rank r of a signal gives
its record `weight / (rrf_k + r + 1)` (reciprocal-rank fusion), the record's best passage fully, its next ones with a
decaying share (a practice that answers with several passages beats one lucky sentence). Each signal then ranks
again only the passages of a practice's core sections (problem, objectives, strategies, results, lessons) and that
ranking counts too, so a practice is found by what it faced and did rather than by the experts' general advice or a
photo caption, which read alike across practices and are near many questions. A record that the question names
(by its office or region) is ranked as if a further signal put it first. Parts of the event yield to practices
unless the question asks about the event. Other documents in the corpus folder (a memo, another sector's report) are
ranked in a pool of their own and yield by `document_prior`: adding them moves no practice's ranks.

All knobs are in `RankingConfig`, with their bounds; `python -m eval --cross-validate` chooses them by
cross-validation over the development questions, never question by question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RankingConfig:
    """The ranking knobs (defaults chosen by 5-fold cross-validation, see eval/README.md)."""

    # Reciprocal-rank constant: small values trust the first ranks more. Bounds 1–100.
    rrf_k: float = 10.0
    # Passages of one record that count per signal (1 = only its best passage). Bounds 1–5.
    passages_per_record: int = 3
    # Share of a record's n-th passage relative to its (n-1)-th, per signal. Bounds 0–1.
    passage_decay: float = 0.5
    # Weight of each signal in the fusion: "dense" the primary embedding model (multilingual-e5), "dense2" the
    # secondary one (USE), "bm25" the Spanish lexical search; a signal absent from the index is skipped. Bounds 0–3.
    signal_weights: Mapping[str, float] = field(default_factory=lambda: {"dense": 1.0, "dense2": 0.5, "bm25": 1.0})
    # Weight of the second ranking of each signal over the core sections' passages only, relative to the signal's
    # own (0: off). Skipped when the question asks for a section outside the core (experts, contacts, event).
    # Bounds 0–3.
    core_weight: float = 0.5
    # A record named by office, title or region counts as ranked first by this many extra signals. Bounds 0–5.
    named_weight: float = 2.0
    # Multiplier of the exchange's parts (agenda, visits…) when the question does not ask about the event. Bounds 0–1.
    non_practice_prior: float = 0.8
    # Multiplier of other documents in the corpus folder (neither a practice nor a part of the exchange: a memo, a
    # report of another sector). Their passages are also ranked apart from the practices', so adding documents never
    # moves a practice's ranks (the distractor test in eval/README.md). Bounds 0–1.
    document_prior: float = 0.5
    # Only this many passages of each signal take part (deeper ranks add noise and time). Bounds 10–200.
    depth: int = 60

    def __post_init__(self) -> None:
        checks = {
            "rrf_k": 1 <= self.rrf_k <= 100,
            "passages_per_record": 1 <= self.passages_per_record <= 5,
            "passage_decay": 0 <= self.passage_decay <= 1,
            "named_weight": 0 <= self.named_weight <= 5,
            "core_weight": 0 <= self.core_weight <= 3,
            "non_practice_prior": 0 <= self.non_practice_prior <= 1,
            "document_prior": 0 <= self.document_prior <= 1,
            "depth": 10 <= self.depth <= 200,
            "signal_weights": all(0 <= w <= 3 for w in self.signal_weights.values()),
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise ValueError(f"ranking parameters out of bounds: {', '.join(wrong)}")


def fuse(
    signals: Mapping[str, Mapping[int, float]],
    passage_record: np.ndarray,
    n_records: int,
    config: RankingConfig,
    named_records: frozenset[int] = frozenset(),
    non_practice: np.ndarray | None = None,
    core: np.ndarray | None = None,
    documents: np.ndarray | None = None,
) -> np.ndarray:
    """Fused score of every record.

    `signals` maps a signal name to {passage index: score} (higher is better; a missing passage was not
    retrieved by that signal); `passage_record[i]` is the record index of passage i; `non_practice` marks the
    exchange's parts (None: no prior applies); `core` marks the passages of core sections (None: no second ranking);
    `documents` marks the records that are other documents (None: there are none), ranked apart.
    """
    scores = np.zeros(n_records, dtype=np.float64)
    apart = None if documents is None else documents[passage_record]
    for name, passage_scores in signals.items():
        weight = config.signal_weights.get(name, 0.0)
        if weight <= 0 or not passage_scores:
            continue
        for ranked, share in _rankings(passage_scores, weight, config, core, apart):
            _add_ranks(scores, ranked, passage_record, share, config)
    if named_records:
        bonus = config.named_weight / (config.rrf_k + 1)
        for record in named_records:
            scores[record] += bonus
    if non_practice is not None:
        scores = np.where(non_practice, scores * config.non_practice_prior, scores)
    if documents is not None:
        scores = np.where(documents, scores * config.document_prior, scores)
    return scores


def _rankings(
    values: Mapping[int, float],
    weight: float,
    config: RankingConfig,
    core: np.ndarray | None,
    apart: np.ndarray | None = None,
) -> list[tuple[list[int], float]]:
    """One signal's ranking of its first `depth` passages with its weight and, when `core` is given, its second
    ranking over the core sections' passages with `core_weight` of it. Passages marked `apart` (other documents')
    are ranked on their own, so they never push a practice's passage down."""
    ordered = [p for p, _ in sorted(values.items(), key=lambda item: -item[1])]
    pools = [ordered] if apart is None else [[p for p in ordered if not apart[p]], [p for p in ordered if apart[p]]]
    rankings: list[tuple[list[int], float]] = []
    for pool in pools:
        ranked = pool[: config.depth]
        rankings.append((ranked, weight))
        if core is not None and config.core_weight > 0:
            rankings.append(([p for p in ranked if core[p]], weight * config.core_weight))
    return rankings


def _add_ranks(
    scores: np.ndarray, ranked: list[int], passage_record: np.ndarray, weight: float, config: RankingConfig
) -> None:
    """Add one ranking's reciprocal ranks to its records, each record's first passages only, decaying."""
    taken = np.zeros(len(scores), dtype=np.int64)
    for rank, passage in enumerate(ranked):
        record = int(passage_record[passage])
        if taken[record] >= config.passages_per_record:
            continue
        scores[record] += weight * config.passage_decay ** taken[record] / (config.rrf_k + rank + 1)
        taken[record] += 1


def passage_scores(
    signals: Mapping[str, Mapping[int, float]],
    config: RankingConfig,
    boosts: Mapping[int, float] | None = None,
    core: np.ndarray | None = None,
    apart: np.ndarray | None = None,
) -> dict[int, float]:
    """Fused score of each retrieved passage (the same reciprocal ranks, the core sections' second ranking and the
    other documents' own ranking included as in `fuse`), times its boost (section asked for…): orders the passages
    shown inside a record."""
    out: dict[int, float] = {}
    for name, values in signals.items():
        weight = config.signal_weights.get(name, 0.0)
        if weight <= 0:
            continue
        for ranked, share in _rankings(values, weight, config, core, apart):
            for rank, passage in enumerate(ranked):
                out[passage] = out.get(passage, 0.0) + share / (config.rrf_k + rank + 1)
    if boosts:
        out = {p: s * boosts.get(p, 1.0) for p, s in out.items()}
    return out
