"""The catalog of topics of the field: the shipped file, its reading, coverage and the nearest topics (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.topics import TopicMap, mix
from bpge.settings import TOPICS_FILE
from indexer.topics import (
    OUTSIDE_AREA,
    BadCatalog,
    ModelTopics,
    TopicVectors,
    cached_vectors_name,
    catalog_digest,
    cosine_scale,
    load_topics,
    measure_catalog,
    read_stored_topics,
    read_vectors,
    write_cached_vectors,
    write_topics,
)

ARTICLES = ("el ", "la ", "los ", "las ", "lo ")


def unit(rows: list[list[float]]) -> np.ndarray:
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_the_shipped_catalog_reads_well_after_its_message() -> None:
    topics = load_topics(TOPICS_FILE)
    assert len(topics) >= 150
    assert 10 <= sum(t.area == OUTSIDE_AREA for t in topics) < len(topics) / 4  # mostly the field's own topics
    assert len({t.id for t in topics}) == len(topics)
    for t in topics:
        assert t.label.startswith(ARTICLES), t.id  # «Su consulta parece tratar de {label}»
        assert not t.label.endswith("."), t.id
        assert len(t.text.split()) >= 15, t.id


def test_a_missing_catalog_is_empty_and_a_broken_one_says_where(tmp_path: Path) -> None:
    assert load_topics(tmp_path / "none.toml") == []
    broken = tmp_path / "topics.toml"
    broken.write_text('[[topic]]\nid = "a"\nlabel = "el tema\n', encoding="utf-8")
    with pytest.raises(BadCatalog, match=r"topics\.toml"):
        load_topics(broken)
    twice = tmp_path / "twice.toml"
    entry = '[[topic]]\nid = "pagos"\nlabel = "los pagos"\ntext = "Pagos atrasados."\n'
    twice.write_text(entry + entry, encoding="utf-8")
    with pytest.raises(BadCatalog, match="pagos"):
        load_topics(twice)


def test_the_digest_follows_the_texts(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[topic]]\nid = "a"\nlabel = "el tema a"\ntext = "Texto del tema a."\n', encoding="utf-8")
    before = catalog_digest(load_topics(path))
    path.write_text('[[topic]]\nid = "a"\nlabel = "el tema a"\ntext = "Otro texto del tema a."\n', encoding="utf-8")
    assert catalog_digest(load_topics(path)) != before


def test_coverage_is_each_topics_best_cosine_with_the_corpus() -> None:
    passages = unit([[1, 0, 0], [0, 1, 0]])
    topics = unit([[1, 0.1, 0], [0, 0, 1]])
    got = measure_catalog({"dense": TopicVectors(topics, topics)}, {"dense": passages})["dense"]
    assert got.coverage[0] == pytest.approx(float(topics[0] @ passages[0]))
    assert got.coverage[1] == pytest.approx(0.0, abs=1e-6)  # nothing in the corpus near the second topic
    assert got.scale == (1.0, 0.0)  # the primary is its own scale
    empty = np.zeros((0, 3), dtype=np.float32)
    assert measure_catalog({"dense": TopicVectors(empty, empty)}, {"dense": passages})["dense"].coverage.shape == (0,)


def test_a_second_models_cosines_are_put_on_the_primarys_scale() -> None:
    """Same topics, same passages: the second model's cosines map onto the primary's by their mean and spread."""
    rng = np.random.default_rng(3)
    primary_topics, primary_passages = unit(rng.normal(size=(6, 4)).tolist()), unit(rng.normal(size=(9, 4)).tolist())
    second_topics, second_passages = unit(rng.normal(size=(6, 5)).tolist()), unit(rng.normal(size=(9, 5)).tolist())
    models = measure_catalog(
        {"dense": TopicVectors(primary_topics, primary_topics), "dense2": TopicVectors(second_topics, second_topics)},
        {"dense": primary_passages, "dense2": second_passages},
    )
    slope, offset = models["dense2"].scale
    primary, second = primary_topics @ primary_passages.T, second_topics @ second_passages.T
    mapped = slope * second + offset
    assert mapped.mean() == pytest.approx(primary.mean(), abs=1e-4)
    assert mapped.std() == pytest.approx(primary.std(), abs=1e-4)
    assert cosine_scale(primary, np.full((2, 2), 0.5)) == (1.0, 0.0)  # no spread: left as it is


def two_model_map(texts: list[str] | None = None) -> TopicMap:
    """Three topics read by two models; the second's cosines are halved and shifted to reach the primary's scale."""
    primary = unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    second = unit([[0, 1], [1, 0], [1, 1]])
    return TopicMap(
        ["la lectura", "los pagos", "el transporte"],
        {
            "dense": ModelTopics(TopicVectors(primary, primary), np.array([0.9, 0.8, 0.82])),
            "dense2": ModelTopics(TopicVectors(second, second), np.array([0.4, 0.2, 0.3]), scale=(0.5, 0.6)),
        },
        texts,
    )


def test_a_question_is_scored_against_every_topic_by_each_model_on_one_scale() -> None:
    topic_map = two_model_map()
    question = {"dense": unit([[0.2, 1, 0.5]])[0], "dense2": unit([[1, 0]])[0]}
    got = topic_map.scores(question)
    assert got is not None and list(got.labels) == ["la lectura", "los pagos", "el transporte"]
    assert got.cosine[:, 0] == pytest.approx(topic_map.models["dense"].vectors.passage @ question["dense"])
    assert got.cosine[1, 1] == pytest.approx(0.5 * 1.0 + 0.6)  # the second model, on the primary's scale
    assert got.coverage[:, 1] == pytest.approx([0.8, 0.7, 0.75])
    assert topic_map.onto_primary("dense2", 0.2) == pytest.approx(0.7)
    assert mix(got.cosine, 0.0) == pytest.approx(got.cosine[:, 0])
    assert mix(got.cosine, 1.0) == pytest.approx(got.cosine.mean(axis=1))
    assert topic_map.scores({"dense": np.ones(5, dtype=np.float32), "dense2": question["dense2"]}) is None
    assert topic_map.scores({"dense": question["dense"]}) is None  # a model missing: no reading


def test_each_topic_carries_the_share_of_the_questions_words_in_its_text() -> None:
    topic_map = two_model_map(
        [
            "Estudiantes que no comprenden lo que leen.",
            "Retrasos en el pago de remuneraciones a docentes contratados.",
            "Rutas de transporte escolar.",
        ]
    )
    question_terms = {"pag", "docent"}  # stems, as bot.language.analyze writes them
    question = {"dense": unit([[0, 1, 0.2]])[0], "dense2": unit([[1, 0]])[0]}
    got = topic_map.scores(question, lambda terms: len(question_terms & terms) / len(question_terms))
    assert got is not None and list(got.terms) == [0.0, 1.0, 0.0]


def test_vectors_round_trip_through_the_cache_and_the_build(tmp_path: Path) -> None:
    vectors = TopicVectors(passage=unit([[1, 0], [0, 1]]), query=unit([[1, 1], [1, -1]]))
    path = tmp_path / "cache" / "model-x.npy"
    write_cached_vectors(path, vectors)
    again = read_vectors(path, 2)
    assert again is not None and np.allclose(again.query, vectors.query)
    assert read_vectors(path, 3) is None  # another catalog's vectors are not used
    assert read_vectors(tmp_path / "missing.npy", 2) is None

    topics = load_topics(TOPICS_FILE)[:2]
    second = TopicVectors(passage=unit([[1, 0, 0], [0, 1, 0]]), query=unit([[1, 0, 0], [0, 1, 0]]))
    models = {
        "dense": ModelTopics(vectors, np.array([0.9, 0.8])),
        "dense2": ModelTopics(second, np.array([0.3, 0.2]), scale=(0.2, 0.8)),
    }
    write_topics(tmp_path, topics, models)
    stored = read_stored_topics(tmp_path)
    assert stored is not None
    assert [r["label"] for r in stored.rows] == [t.label for t in topics]
    assert list(stored.models) == ["dense", "dense2"]  # the primary first
    assert np.allclose(stored.models["dense"].vectors.passage, vectors.passage)
    assert np.allclose(stored.models["dense2"].vectors.query, second.query)
    assert stored.models["dense2"].scale == (0.2, 0.8)
    assert stored.models["dense2"].coverage == pytest.approx([0.3, 0.2])
    assert "/" not in cached_vectors_name("intfloat/multilingual-e5-small", topics)
    outside = topics[1].model_copy(update={"area": OUTSIDE_AREA})
    write_topics(tmp_path, [topics[0], outside], models)
    read = TopicMap.from_build(tmp_path)
    assert read is not None and read.outside == frozenset({1})  # the area travels with the build
    scores = read.scores({"dense": vectors.passage[0], "dense2": second.passage[0]})
    assert scores is not None and scores.outside == frozenset({1})
    (tmp_path / "topics-dense2.npy").unlink()
    assert read_stored_topics(tmp_path) is None  # a model's vectors missing: no catalog rather than half of one
