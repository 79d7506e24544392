"""The fusion of signals per practice, on hand-built ranks (no model, milliseconds)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.ranking import RankingConfig, fuse, passage_scores

# passages 0,1 → record 0; passages 2,3 → record 1; passage 4 → record 2
PASSAGE_RECORD = np.array([0, 0, 1, 1, 2])


def test_a_record_first_in_every_signal_wins() -> None:
    signals = {"dense": {2: 0.9, 0: 0.5}, "bm25": {3: 12.0, 1: 3.0}}
    scores = fuse(signals, PASSAGE_RECORD, 3, RankingConfig())
    assert int(np.argmax(scores)) == 1
    assert scores[2] == 0.0  # never retrieved


def test_ranks_not_raw_scores_are_fused() -> None:
    """BM25's large raw values must not drown the cosine: only the order within a signal counts."""
    big = {"dense": {0: 0.9, 2: 0.1}, "bm25": {2: 1000.0, 0: 999.0}}
    scores = fuse(big, PASSAGE_RECORD, 3, RankingConfig(signal_weights={"dense": 1.0, "bm25": 1.0}))
    assert scores[0] == pytest.approx(scores[1])


def test_further_passages_of_a_record_count_less() -> None:
    config = RankingConfig(rrf_k=5, passages_per_record=2, passage_decay=0.5, signal_weights={"dense": 1.0})
    scores = fuse({"dense": {0: 0.9, 1: 0.8, 2: 0.85}}, PASSAGE_RECORD, 3, config)
    assert scores[0] == pytest.approx(1 / 6 + 0.5 / 8)
    assert scores[1] == pytest.approx(1 / 7)
    only_best = fuse({"dense": {0: 0.9, 1: 0.8}}, PASSAGE_RECORD, 3, RankingConfig(passages_per_record=1))
    assert only_best[0] == pytest.approx(1 / (RankingConfig().rrf_k + 1))


def test_named_record_is_lifted_and_non_practices_yield() -> None:
    signals = {"dense": {0: 0.9, 2: 0.8, 4: 0.7}}
    config = RankingConfig(signal_weights={"dense": 1.0}, named_weight=2.0, non_practice_prior=0.5)
    scores = fuse(signals, PASSAGE_RECORD, 3, config, named_records=frozenset({2}))
    assert int(np.argmax(scores)) == 2
    prior = fuse(signals, PASSAGE_RECORD, 3, config, non_practice=np.array([True, False, False]))
    assert prior[0] < prior[1]


def test_other_documents_never_move_the_practices() -> None:
    """Record 2 is another document (a memo in the corpus folder): its passage, first by cosine, is ranked apart, so
    the practices score as if it were not there, and it yields by `document_prior`."""
    config = RankingConfig(rrf_k=5, passages_per_record=1, signal_weights={"dense": 1.0}, document_prior=0.5)
    documents = np.array([False, False, True])
    without = fuse({"dense": {0: 0.8, 2: 0.7}}, PASSAGE_RECORD, 3, config)
    with_document = fuse({"dense": {4: 0.95, 0: 0.8, 2: 0.7}}, PASSAGE_RECORD, 3, config, documents=documents)
    assert with_document[:2] == pytest.approx(without[:2])
    assert with_document[2] == pytest.approx(0.5 / 6)  # first of its own pool, halved
    mixed = fuse({"dense": {4: 0.95, 0: 0.8, 2: 0.7}}, PASSAGE_RECORD, 3, config)  # not told: it pushes them down
    assert mixed[0] < without[0]


def test_core_sections_rank_again() -> None:
    """Record 0 leads by its expert passage (0), record 1 follows by its strategies passage (2): ranking the core
    passages again puts 2 first and record 0's core passage (1) last, so record 1 overtakes."""
    core = np.array([False, True, True, True, True])
    signals = {"dense": {0: 0.9, 2: 0.8, 4: 0.7, 1: 0.1}}
    config = RankingConfig(rrf_k=5, passages_per_record=1, signal_weights={"dense": 1.0})
    off = fuse(signals, PASSAGE_RECORD, 3, config, core=core)
    assert int(np.argmax(off)) == 0  # core_weight 0: no second ranking
    on = fuse(signals, PASSAGE_RECORD, 3, replace(config, core_weight=1.0), core=core)
    assert on[0] == pytest.approx(1 / 6 + 1 / 8)
    assert on[1] == pytest.approx(1 / 7 + 1 / 6)
    assert int(np.argmax(on)) == 1
    asked_for_experts = fuse(signals, PASSAGE_RECORD, 3, replace(config, core_weight=1.0), core=None)
    assert int(np.argmax(asked_for_experts)) == 0


def test_unknown_or_zero_weight_signals_are_ignored() -> None:
    scores = fuse({"other": {0: 1.0}}, PASSAGE_RECORD, 3, RankingConfig())
    assert not scores.any()


def test_out_of_bounds_knobs_are_refused() -> None:
    with pytest.raises(ValueError, match="rrf_k"):
        RankingConfig(rrf_k=0)
    with pytest.raises(ValueError, match="core_weight"):
        RankingConfig(core_weight=4.0)
    with pytest.raises(ValueError, match="signal_weights"):
        RankingConfig(signal_weights={"dense": 9.0})


def test_passage_order_applies_boosts() -> None:
    signals = {"dense": {0: 0.9, 1: 0.8}}
    plain = passage_scores(signals, RankingConfig())
    assert plain[0] > plain[1]
    boosted = passage_scores(signals, RankingConfig(), boosts={1: 2.0})
    assert boosted[1] > boosted[0]


def test_passage_order_counts_the_core_sections_ranking_like_the_fusion() -> None:
    # passage 0: an expert's comment, nearest for every signal; passages 1 and 2: the practice's own problem
    signals = {"dense": {0: 0.9, 1: 0.85, 2: 0.8}, "bm25": {0: 5.0, 2: 4.0, 1: 3.0}}
    core = np.array([False, True, True])
    config = RankingConfig(signal_weights={"dense": 1.0, "bm25": 1.0}, rrf_k=1.0, core_weight=1.0)
    plain = passage_scores(signals, config)
    assert max(plain, key=lambda p: plain[p]) == 0
    with_core = passage_scores(signals, config, core=core)
    assert max(with_core, key=lambda p: with_core[p]) in {1, 2}
    assert with_core[0] == pytest.approx(plain[0])  # an expert passage gains nothing
    off = passage_scores(signals, replace(config, core_weight=0.0), core=core)
    assert off == pytest.approx(plain)
