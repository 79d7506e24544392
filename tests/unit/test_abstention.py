"""When the assistant refuses, shows the closest practices or answers: on hand-built retrievals (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer import abstention_reason, is_close_only, topic_check_applies, uncovered_topic, uncovered_topics
from bot.query import Query
from bot.retrieve import RecordHits, Retrieval
from bot.topics import TopicScores
from indexer.calibration import Calibration, load_calibrations
from indexer.models import ExpertCommentary, Record, Section

CALIBRATION = Calibration(
    min_relevance=0.85,
    coverage_weight=0.1,
    close_relevance=0.88,
    min_english_cosine=0.8,
    topic_coverage=0.86,
    max_topic_margin=0.03,
)
PAY = "el pago de remuneraciones a docentes contratados"
WELLBEING = "el bienestar socioemocional de los estudiantes"


def topics(*rows: tuple[str, float, float, float]) -> TopicScores:
    """(label, the question's cosine with the topic, the topic's coverage, share of the question's terms in it),
    read by the primary model alone."""
    return TopicScores(
        [r[0] for r in rows],
        np.array([[r[1]] for r in rows]),
        np.array([[r[2]] for r in rows]),
        np.array([r[3] for r in rows]),
    )


ABOUT_PAY = topics((PAY, 0.92, 0.84, 0.0))  # not covered
ABOUT_WELLBEING = (WELLBEING, 0.93, 0.90, 0.0)  # covered


def query(text: str = "pregunta", **kw: object) -> Query:
    values: dict[str, object] = {
        "regions": [],
        "office_records": set(),
        "section_cues": set(),
        "wants_figure": False,
        "wants_person": False,
        "english": False,
    }
    values.update(kw)
    return Query(text=text, folded=text, **values)  # type: ignore[arg-type]


def record(rid: str = "p1", experts: bool = False, contacts: bool = False) -> Record:
    sections = [Section(type="problem", heading="Problema", text="x", document="d.txt", lines=(1, 1))]
    if contacts:
        sections.append(Section(type="contacts", heading="Contactos", text="a@b.pe", document="d.txt", lines=(2, 2)))
    commentary = [ExpertCommentary(expert="Ana Pérez", document="d.txt")] if experts else []
    return Record(id=rid, kind="practice", title="Práctica", sections=sections, experts=commentary)


def retrieval(q: Query, cosine: float, coverage: float = 0.0, **kw: object) -> Retrieval:
    rec = kw.pop("rec", record())
    assert isinstance(rec, Record)
    # named as the retriever names them: by office (or title), else by region
    by_region = {rec.id} if rec.region and rec.region in q.regions else set()
    return Retrieval(
        query=q,
        records=[RecordHits(rec, 1.0, [])],
        named=frozenset(q.office_records or by_region),
        top_cosine=cosine,
        top_cosines=kw.pop("top_cosines", (cosine,)),  # type: ignore[arg-type]
        coverage=coverage,
        **kw,  # type: ignore[arg-type]
    )


def test_relevance_decides_for_unnamed_topics() -> None:
    assert abstention_reason(retrieval(query(), 0.80, 0.2), CALIBRATION) == "nothing"
    close = retrieval(query(), 0.86, 0.1)
    assert abstention_reason(close, CALIBRATION) is None
    assert is_close_only(close, CALIBRATION)
    clear = retrieval(query(), 0.90, 0.5)
    assert abstention_reason(clear, CALIBRATION) is None
    assert not is_close_only(clear, CALIBRATION)


def test_a_question_about_a_topic_the_corpus_does_not_cover_is_refused_naming_it() -> None:
    """«a los profes contratados les pagan con dos meses de atraso»: e5 finds a practice at 0.87, but the question is
    0.92 from the catalog's «pago de remuneraciones», a topic no practice comes near."""
    about_pay = retrieval(query(), 0.87, 0.3, topics=ABOUT_PAY)
    assert uncovered_topic(about_pay, CALIBRATION) == PAY
    assert abstention_reason(about_pay, CALIBRATION) == "topic"


def test_a_question_outside_education_management_is_told_so_naming_only_such_topics() -> None:
    """«¿a cuánto está el dólar hoy?»: nearest the catalog's topic outside the field (its area is
    `fuera_de_ambito`); the refusal names the outside topics near it, not the management topics also passed."""
    prices, sport = "la economía y las finanzas personales", "los deportes"
    scores = TopicScores(
        [PAY, prices, sport],
        np.array([[0.90], [0.95], [0.91]]),
        np.array([[0.84], [0.70], [0.72]]),
        np.zeros(3),
        outside=frozenset({1, 2}),
    )
    dollar = retrieval(query(), 0.86, 0.1, topics=scores)
    assert abstention_reason(dollar, CALIBRATION) == "outside"
    assert uncovered_topics(dollar, CALIBRATION) == [prices, sport]  # PAY (0.90) is passed too, but of the field
    # a figure no practice gives («¿cuánto cuesta…?»): still told it is outside the field, not that a practice lacks it
    price = retrieval(query(asks_figure=True), 0.86, 0.1, lacking_datum="money", topics=scores)
    assert abstention_reason(price, CALIBRATION) == "outside"
    assert abstention_reason(retrieval(query(asks_figure=True), 0.86, 0.1, lacking_datum="money"), CALIBRATION) == (
        "no_figure"
    )
    # nearest a topic of the field: a management refusal that names only the field's topics
    nearer_pay = TopicScores(
        [PAY, prices], np.array([[0.96], [0.93]]), np.array([[0.84], [0.70]]), np.zeros(2), outside=frozenset({1})
    )
    pay = retrieval(query(), 0.86, 0.1, topics=nearer_pay)
    assert abstention_reason(pay, CALIBRATION) == "topic"
    assert uncovered_topics(pay, CALIBRATION) == [PAY]


def test_a_topic_within_the_margin_of_the_best_practice_is_answered() -> None:
    near_a_practice = retrieval(query(), 0.90, 0.3, topics=ABOUT_PAY)  # 0.92 − 0.90 = 0.02 ≤ 0.03
    assert uncovered_topic(near_a_practice, CALIBRATION) is None
    assert abstention_reason(near_a_practice, CALIBRATION) is None


def test_the_questions_own_words_weigh_in_the_topic_check() -> None:
    """«la ejecución del gasto en el SIAF va lenta»: its words are in the topic's text, not in the best practice."""
    worded = CALIBRATION.model_copy(update={"topic_terms_weight": 0.3})
    pay = topics((PAY, 0.89, 0.84, 0.6))
    words_in_topic = retrieval(query(), 0.87, 0.2, topics=pay)
    assert abstention_reason(words_in_topic, CALIBRATION) is None  # meaning alone: 0.02, within the 0.03 margin
    assert abstention_reason(words_in_topic, worded) == "topic"  # 0.02 + 0.3 × (0.6 − 0.2) = 0.14
    words_in_practice = retrieval(query(), 0.87, 0.8, topics=pay)  # 0.02 + 0.3 × (0.6 − 0.8) = −0.04
    assert abstention_reason(words_in_practice, worded) is None


def test_covered_topics_are_passed_over_for_the_nearest_uncovered_one() -> None:
    """The nearest topic is one the corpus covers: the question is judged by the nearest uncovered one."""
    covered_first = retrieval(query(), 0.87, 0.3, topics=topics(ABOUT_WELLBEING, (PAY, 0.92, 0.84, 0.0)))
    assert uncovered_topic(covered_first, CALIBRATION) == PAY
    only_covered = retrieval(query(), 0.87, 0.3, topics=topics(ABOUT_WELLBEING))
    assert abstention_reason(only_covered, CALIBRATION) is None


def test_a_second_model_weighs_in_the_topic_check_on_the_primarys_scale() -> None:
    """e5 alone finds the question as near its best practice as the uncovered topic; USE puts it nearer the topic.
    With the second model's weight the mixed cosines decide, both on e5's scale."""
    both = TopicScores([PAY], np.array([[0.89, 0.95]]), np.array([[0.84, 0.84]]), np.array([0.0]))
    r = retrieval(query(), 0.87, 0.3, topics=both, top_cosines=(0.87, 0.85))
    assert abstention_reason(r, CALIBRATION) is None  # e5 alone: 0.02, within the 0.03 margin
    mixed = CALIBRATION.model_copy(update={"second_weight": 1.0})
    assert uncovered_topic(r, mixed) == PAY  # (0.89 + 0.95) / 2 − (0.87 + 0.85) / 2 = 0.06
    covered_by_second = TopicScores([PAY], np.array([[0.89, 0.95]]), np.array([[0.84, 0.90]]), np.array([0.0]))
    assert (
        uncovered_topic(retrieval(query(), 0.87, 0.3, topics=covered_by_second, top_cosines=(0.87, 0.85)), mixed)
        is None
    )
    # a retrieval read by fewer models than the catalog (another build): no topic reading
    assert uncovered_topic(retrieval(query(), 0.87, 0.3, topics=both), mixed) is None


def test_the_topic_check_never_refuses_a_named_practice_or_without_calibration() -> None:
    named = retrieval(query(office_records={"p1"}), 0.80, 0.3, topics=ABOUT_PAY)
    assert abstention_reason(named, CALIBRATION) is None
    old_build = Calibration.model_validate(
        {
            k: v
            for k, v in CALIBRATION.model_dump().items()
            if k not in {"topic_coverage", "topic_terms_weight", "max_topic_margin", "second_weight"}
        }
    )
    assert abstention_reason(retrieval(query(), 0.87, 0.3, topics=ABOUT_PAY), old_build) is None


def test_every_topic_word_in_one_practice_is_answered() -> None:
    """«¿En qué oficina trabaja Gladys Liliana Guerra Cabrera?»: a name found whole in a practice."""
    assert abstention_reason(retrieval(query(), 0.70, 1.0), CALIBRATION) is None
    assert abstention_reason(retrieval(query(), 0.70, 0.9), CALIBRATION) == "nothing"


def test_nothing_retrieved_abstains() -> None:
    assert abstention_reason(Retrieval(query(), []), CALIBRATION) == "nothing"


def test_region_without_practices() -> None:
    r = retrieval(query(regions=["Cusco"]), 0.95, 1.0, missing_regions=["Cusco"])
    assert abstention_reason(r, CALIBRATION) == "region"


def test_named_office_is_answered_even_in_unusual_words() -> None:
    r = retrieval(query(office_records={"p1"}), 0.70, 0.0)
    assert abstention_reason(r, CALIBRATION) is None


def test_experts_or_contacts_asked_of_a_practice_that_has_none() -> None:
    experts = retrieval(query(office_records={"p1"}, section_cues={"expert"}), 0.95, 1.0)
    assert abstention_reason(experts, CALIBRATION) == "no_experts"
    with_experts = retrieval(query(office_records={"p1"}, section_cues={"expert"}), 0.95, 1.0, rec=record(experts=True))
    assert abstention_reason(with_experts, CALIBRATION) is None
    contacts = retrieval(query(office_records={"p1"}, section_cues={"contacts"}), 0.95, 1.0)
    assert abstention_reason(contacts, CALIBRATION) == "no_contacts"
    with_contacts = retrieval(
        query(office_records={"p1"}, section_cues={"contacts"}), 0.95, 1.0, rec=record(contacts=True)
    )
    assert abstention_reason(with_contacts, CALIBRATION) is None


def test_contacts_asked_of_a_region_whose_practices_have_none() -> None:
    """«¿El correo del equipo de la práctica del Callao?»: a region with one practice names that practice."""
    asked = query(regions=["Callao"], section_cues={"contacts"})
    in_callao = record()
    in_callao.region = "Callao"
    without = retrieval(asked, 0.95, 1.0, rec=in_callao)
    assert abstention_reason(without, CALIBRATION) == "no_contacts"
    with_contacts_in_callao = record(contacts=True)
    with_contacts_in_callao.region = "Callao"
    with_contacts = retrieval(asked, 0.95, 1.0, rec=with_contacts_in_callao)
    assert abstention_reason(with_contacts, CALIBRATION) is None


def test_a_datum_the_best_practice_lacks() -> None:
    """`bot.datum` found the practice names what is counted and never counts it, gives no percentage beside what
    rose or fell, or has no amount or no link: refused however close the practice is."""
    asked = query(office_records={"p1"}, wants_figure=True, asks_figure=True)
    for kind in ("count", "share", "money"):
        assert abstention_reason(retrieval(asked, 0.95, 1.0, lacking_datum=kind), CALIBRATION) == "no_figure"
    no_link = retrieval(query(office_records={"p1"}), 0.95, 1.0, lacking_datum="link")
    assert abstention_reason(no_link, CALIBRATION) == "no_link"
    assert abstention_reason(retrieval(asked, 0.95, 1.0), CALIBRATION) is None
    # a problem told at length that mentions «cuántos» is not a request for a figure
    mentioned = retrieval(query(office_records={"p1"}, wants_figure=True), 0.95, 0.6, lacking_datum="count")
    assert abstention_reason(mentioned, CALIBRATION) is None


def test_english_questions_use_cosine_alone() -> None:
    assert abstention_reason(retrieval(query(english=True), 0.79), CALIBRATION) == "nothing"
    assert abstention_reason(retrieval(query(english=True), 0.81), CALIBRATION) is None


def test_an_english_question_about_a_topic_the_corpus_lacks_is_refused() -> None:
    """«How do I reset my email password?»: close enough to a passage by cosine, nearer still a topic no practice
    covers (the catalog is Spanish, the models multilingual)."""
    english = retrieval(query(english=True), 0.87, 0.0, topics=ABOUT_PAY)
    assert topic_check_applies(english, CALIBRATION)
    assert abstention_reason(english, CALIBRATION) == "topic"


def test_shipped_calibration_covers_the_default_model() -> None:
    from bpge.settings import DEFAULT_EMBEDDING_MODEL

    calibrations = load_calibrations()
    assert DEFAULT_EMBEDDING_MODEL in calibrations
    assert calibrations[DEFAULT_EMBEDDING_MODEL].min_relevance <= calibrations[DEFAULT_EMBEDDING_MODEL].close_relevance


@pytest.mark.parametrize(
    "field",
    [
        "min_relevance",
        "coverage_weight",
        "topic_coverage",
        "topic_terms_weight",
        "max_topic_margin",
    ],
)
def test_calibration_values_are_bounded(field: str) -> None:
    with pytest.raises(ValueError):
        Calibration.model_validate({**CALIBRATION.model_dump(), field: 99})
