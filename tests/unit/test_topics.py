"""The catalog of topics of the field: the shipped file, its reading, coverage and the nearest topics (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.topics import TopicMap
from bpge.settings import TOPICS_FILE
from indexer.topics import (
    BadCatalog,
    TopicVectors,
    cached_vectors_name,
    catalog_digest,
    coverage,
    load_topics,
    read_topic_vectors,
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
    got = coverage(topics, passages)
    assert got[0] == pytest.approx(float(topics[0] @ passages[0]))
    assert got[1] == pytest.approx(0.0, abs=1e-6)  # nothing in the corpus near the second topic
    assert coverage(np.zeros((0, 3), dtype=np.float32), passages).shape == (0,)


def test_nearest_topics_come_closest_first_with_their_coverage() -> None:
    topic_map = TopicMap(
        ["la lectura", "los pagos", "el transporte"],
        np.array([0.9, 0.8, 0.82]),
        unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    )
    got = topic_map.nearest(unit([[0.2, 1, 0.5]])[0], limit=2)
    assert [m.label for m in got] == ["los pagos", "el transporte"]
    assert got[0].coverage == pytest.approx(0.8)
    assert got[0].cosine > got[1].cosine
    assert topic_map.nearest(np.ones(5, dtype=np.float32)) == ()  # another model's vector: no reading


def test_each_match_carries_the_share_of_the_questions_words_in_its_text() -> None:
    topic_map = TopicMap(
        ["los pagos", "la lectura"],
        np.array([0.8, 0.9]),
        unit([[1, 0], [0, 1]]),
        ["Retrasos en el pago de remuneraciones a docentes contratados.", "Estudiantes que no comprenden lo que leen."],
    )
    question_terms = {"pag", "docent"}  # stems, as bot.language.analyze writes them
    got = topic_map.nearest(unit([[1, 0.2]])[0], lambda terms: len(question_terms & terms) / len(question_terms))
    assert [(m.label, m.terms) for m in got] == [("los pagos", 1.0), ("la lectura", 0.0)]


def test_vectors_round_trip_through_the_cache_and_the_build(tmp_path: Path) -> None:
    vectors = TopicVectors(passage=unit([[1, 0], [0, 1]]), query=unit([[1, 1], [1, -1]]))
    path = tmp_path / "cache" / "model-x.npy"
    write_cached_vectors(path, vectors)
    again = read_vectors(path, 2)
    assert again is not None and np.allclose(again.query, vectors.query)
    assert read_vectors(path, 3) is None  # another catalog's vectors are not used
    assert read_vectors(tmp_path / "missing.npy", 2) is None

    topics = load_topics(TOPICS_FILE)[:2]
    write_topics(tmp_path, topics, vectors, np.array([0.9, 0.8]))
    stored = read_topic_vectors(tmp_path)
    assert stored is not None
    rows, read_back = stored
    assert [r["label"] for r in rows] == [t.label for t in topics]
    assert np.allclose(read_back.passage, vectors.passage)
    assert "/" not in cached_vectors_name("intfloat/multilingual-e5-small", topics)
