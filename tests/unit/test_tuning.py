"""The calibration's choice of the topic check (`eval.tuning`), on hand-built retrievals (no model)."""

from __future__ import annotations

import numpy as np

import eval.tuning as tuning
from bot.answer import abstention_reason, relevance
from bot.normalize import NormalizedQuestion
from bot.query import Query
from bot.retrieve import RecordHits, Retrieval
from bot.topics import TopicScores
from eval.score import Gold
from eval.tuning import Prepared, abstention_cost
from indexer.calibration import Calibration
from indexer.models import Record, Section

BASE = Calibration(min_relevance=0.80, coverage_weight=0.0, close_relevance=0.82, min_english_cosine=0.8)
LABELS = ["el pago de remuneraciones", "el bienestar socioemocional"]  # the first uncovered, the second covered


def case(
    n: int,
    near_miss: bool,
    topic: tuple[float, float],
    practice: tuple[float, float],
    coverage: float = 0.3,
    figure: bool = False,
    english: bool = False,
) -> tuple[Retrieval, Prepared]:
    """A question read by two models: its cosines (e5, USE on e5's scale) with the pay topic and its best practice."""
    q = Query(
        "pregunta",
        "pregunta",
        [],
        set(),
        set(),
        wants_figure=figure,
        wants_person=False,
        asks_figure=figure,
        english=english,
    )
    section = Section(type="problem", heading="Problema", text="x", document="d.txt", lines=(1, 1))
    scores = TopicScores(
        LABELS,
        np.array([topic, [0.80, 0.80]]),
        np.array([[0.84, 0.84], [0.92, 0.90]]),
        np.zeros(2),
    )
    retrieval = Retrieval(
        q,
        [RecordHits(Record(id="p1", kind="practice", title="Práctica", sections=[section]), 1.0, [])],
        top_cosine=practice[0],
        coverage=coverage,
        lacking_datum="count" if figure and coverage < 0.5 else None,
        topics=scores,
        top_cosines=practice,
    )
    gold = Gold(str(n), "abstain" if near_miss else "similar", "pregunta", [], [], [], near_miss)
    return retrieval, Prepared(gold, "t.jsonl", q, NormalizedQuestion("pregunta", "pregunta"), {}, scores)


def test_the_topic_check_separates_with_the_second_model_where_e5_alone_cannot() -> None:
    """By e5 alone the answerable questions are nearer the uncovered topic than the near misses (no margin separates
    them); USE puts the near misses nearer it. With USE's weight the check must refuse every near miss and no
    answerable question, and its vectorised scoring must agree with `abstention_reason` question by question."""
    cases = [case(n, True, (0.88 + n / 1000, 0.95), (0.87, 0.85)) for n in range(4)]
    cases += [case(n, False, (0.89 + n / 1000, 0.84), (0.87, 0.86)) for n in range(4, 10)]
    retrievals, items = [c[0] for c in cases], [c[1] for c in cases]
    assert abstention_cost(BASE, retrievals, items) == 4  # without the check every near miss is answered

    mixed = tuning._best_topic_check(BASE.model_copy(update={"second_weight": 1.0}), retrievals, items)
    assert abstention_cost(mixed, retrievals, items) == 0
    assert [abstention_reason(r, mixed) for r in retrievals] == ["topic"] * 4 + [None] * 6
    e5_alone = tuning._best_topic_check(BASE, retrievals, items)
    assert abstention_cost(e5_alone, retrievals, items) > 0


def test_the_relevance_cut_is_chosen_on_the_mixed_cosine() -> None:
    """An off-topic question e5 puts as near a practice as a real one, and USE far from any: only the mix
    separates them, and the calibration keeps the weight it was given."""
    cases = [case(n, True, (0.70, 0.70), (0.83, 0.70)) for n in range(3)]
    cases += [case(n, False, (0.70, 0.70), (0.82 + n / 1000, 0.86)) for n in range(3, 8)]
    retrievals, items = [c[0] for c in cases], [c[1] for c in cases]
    chosen = tuning.best_calibration(retrievals, items, second_weight=2.0)
    assert chosen.second_weight == 2.0
    assert abstention_cost(chosen, retrievals, items) == 0
    assert abstention_cost(tuning.best_calibration(retrievals, items, second_weight=0.0), retrievals, items) > 0


def test_the_thresholds_scored_at_once_are_the_cheapest_of_the_grid() -> None:
    """The vectorised search of the relevance cut, coverage weight, figure coverage and English cut finds a
    calibration as cheap as trying every point of the grid with `abstention_cost` (figure and English questions
    included, settled before the cut)."""
    rng = np.random.default_rng(7)
    cases = []
    for n in range(40):
        near_miss = n % 3 == 0
        practice = float(rng.uniform(0.78, 0.86) - (0.02 if near_miss else 0.0))
        cases.append(
            case(
                n,
                near_miss,
                (0.70, 0.70),
                (practice, float(rng.uniform(0.78, 0.88))),
                coverage=float(rng.uniform(0.0, 0.9)),
                figure=n % 7 == 0,
                english=n % 11 == 0,
            )
        )
    retrievals, items = [c[0] for c in cases], [c[1] for c in cases]
    fixed = {"topic_coverage": 0.0, "topic_terms_weight": 0.0, "max_topic_margin": 1.0, "second_weight": 1.0}
    chosen = tuning._best_thresholds(retrievals, items, fixed)
    template = BASE.model_copy(update=fixed)
    english = sorted({r.top_cosine for r, p in zip(retrievals, items, strict=True) if p.query.english})
    brute = float("inf")
    for weight in tuning.COVERAGE_WEIGHTS:
        weighted = template.model_copy(update={"coverage_weight": weight})
        for cut in tuning._midpoints(sorted({relevance(r, weighted) for r in retrievals})):
            for english_cut in tuning._midpoints(english):
                trial = weighted.model_copy(update={"min_relevance": cut, "min_english_cosine": english_cut})
                brute = min(brute, abstention_cost(trial, retrievals, items))
    assert abstention_cost(chosen, retrievals, items) == brute
    assert 0 < brute < abstention_cost(template.model_copy(update={"min_relevance": 0.0}), retrievals, items)
