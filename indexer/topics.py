"""The map of education management the corpus is measured against: which topics it covers, which it does not.

A gestor asking about teachers' pay, school transport or a disciplinary procedure writes like one asking about the
corpus's practices, and the best practice's cosine is as high for both (e5 scores unrelated texts of the same field
~0.85). What separates them is a reference: `prompts/topics.toml` describes the topics of the field (written from
general knowledge of the Peruvian sector, not from the corpus or the questions). At index time each topic searches
the corpus as a question would, by each dense model; its best cosine is its *coverage*. At question time, a question
much closer to a topic the corpus does not cover than to any practice is about that topic (`bot.topics`). A new
practice that covers a topic raises its coverage at the next build: nothing is hard-wired to today's corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

TOPICS_FILE = "topics.json"
# The area of the catalog's topics outside education management (prices, sport, the weather…): a question nearest one
# of them is told what the assistant is for, not which management topics the corpus lacks.
OUTSIDE_AREA = "fuera_de_ambito"


class BadCatalog(Exception):
    """The topic catalog cannot be read (a typo in a hand edit): the build stops with where it is."""


class Topic(BaseModel):
    id: str = Field(min_length=1, max_length=80)
    area: str = ""
    label: str = Field(min_length=1, max_length=120)  # reads after «Su consulta parece tratar de …»
    text: str = Field(min_length=1, max_length=1000)  # the topic in a gestor's words: what gets embedded


def load_topics(path: Path) -> list[Topic]:
    """The catalog's topics; an absent file is an empty catalog (the topic check is then off)."""
    if not path.is_file():
        return []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        topics = [Topic.model_validate(t) for t in data.get("topic", [])]
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise BadCatalog(f"El catálogo de temas {path} no se puede leer: {str(exc).splitlines()[0]}") from exc
    repeated = sorted({t.id for t in topics if sum(u.id == t.id for u in topics) > 1})
    if repeated:
        raise BadCatalog(f"El catálogo de temas {path} repite los id {', '.join(repeated)}")
    return topics


def catalog_digest(topics: list[Topic]) -> str:
    """Changes when a topic's text or label does: the build then re-embeds the catalog."""
    digest = hashlib.sha256()
    for t in topics:
        digest.update(f"{t.id}\x1f{t.label}\x1f{t.text}\x1e".encode())
    return digest.hexdigest()[:16]


@dataclass
class TopicVectors:
    """One model's vectors of the catalog: as passages (what questions are compared with) and as queries
    (how each topic searches the corpus for its coverage)."""

    passage: np.ndarray
    query: np.ndarray


def embed_topics(
    topics: list[Topic],
    encode_passages: Callable[[list[str]], np.ndarray],
    encode_queries: Callable[[list[str]], np.ndarray],
) -> TopicVectors:
    texts = [t.text for t in topics]
    if not texts:
        empty = np.zeros((0, 0), dtype=np.float32)
        return TopicVectors(passage=empty, query=empty)
    return TopicVectors(
        passage=np.asarray(encode_passages(texts), dtype=np.float32),
        query=np.asarray(encode_queries(texts), dtype=np.float32),
    )


@dataclass
class ModelTopics:
    """One dense model's reading of the catalog: its vectors, each topic's coverage (on the model's own scale) and
    the line that puts the model's cosines on the primary model's scale (`cosine_scale`)."""

    vectors: TopicVectors
    coverage: np.ndarray
    scale: tuple[float, float] = (1.0, 0.0)  # primary-scale cosine = slope × cosine + offset


def cosine_scale(primary: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """The line that maps a model's cosines onto the primary's: the same cosines (the catalog's topics against the
    corpus's passages, by each model) given the same mean and spread. Models disagree on scale (e5 scores unrelated
    texts of the field ~0.8, USE ~0.1) but their cosines can be mixed once on one scale."""
    spread = float(other.std())
    if not primary.size or not other.size or spread <= 0:
        return (1.0, 0.0)
    slope = float(primary.std()) / spread
    return (round(slope, 6), round(float(primary.mean()) - slope * float(other.mean()), 6))


def measure_catalog(vectors: dict[str, TopicVectors], passages: dict[str, np.ndarray]) -> dict[str, ModelTopics]:
    """Each dense model's coverage of every topic (its best cosine with the corpus's passages: how well the corpus
    answers it) and its scale against the primary model (the first signal)."""
    cosines = {
        signal: v.query @ passages[signal].T if len(v.query) and len(passages[signal]) else np.zeros((len(v.query), 0))
        for signal, v in vectors.items()
    }
    primary = next(iter(cosines.values()), np.zeros((0, 0)))
    return {
        signal: ModelTopics(
            vectors[signal],
            np.asarray(c.max(axis=1) if c.size else np.zeros(len(c)), dtype=np.float32),
            cosine_scale(primary, c) if n else (1.0, 0.0),
        )
        for n, (signal, c) in enumerate(cosines.items())
    }


def write_topics(folder: Path, topics: list[Topic], models: dict[str, ModelTopics]) -> None:
    """The build's copy: labels, texts, each model's coverage and scale (JSON), each model's passage-side and
    query-side vectors (one npy per dense signal). `models` is keyed by dense signal, the primary first."""
    rows = [
        {
            "id": t.id,
            "area": t.area,
            "label": t.label,
            "text": t.text,
            "coverage": {signal: round(float(m.coverage[n]), 4) for signal, m in models.items()},
        }
        for n, t in enumerate(topics)
    ]
    scales = {signal: list(m.scale) for signal, m in models.items()}
    payload = {"scales": scales, "topics": rows}
    (folder / TOPICS_FILE).write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    for signal, m in models.items():
        np.save(folder / _vectors_file(signal), _stacked(m.vectors))


def _vectors_file(signal: str) -> str:
    return f"topics-{re.sub(r'[^A-Za-z0-9_]+', '_', signal)}.npy"


def cached_vectors_name(model: str, topics: list[Topic]) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)
    return f"{safe}-{catalog_digest(topics)}.npy"


def _stacked(vectors: TopicVectors) -> np.ndarray:
    return np.stack([vectors.passage, vectors.query]).astype(np.float32)


def read_vectors(path: Path, count: int) -> TopicVectors | None:
    """A vectors file (the cache's or a build's) holding `count` topics, or None."""
    try:
        stacked = np.load(path)
    except (OSError, ValueError):
        return None
    if stacked.ndim != 3 or stacked.shape[0] != 2 or stacked.shape[1] != count:
        return None
    return TopicVectors(passage=stacked[0], query=stacked[1])


def write_cached_vectors(path: Path, vectors: TopicVectors) -> None:
    """Written beside and renamed, so a reader never sees half a file; a read-only cache is not an error."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.save(fh, _stacked(vectors))
        os.replace(tmp, path)


@dataclass
class StoredTopics:
    """A build's catalog: its rows (id, label, text, coverage per signal) and each dense signal's reading."""

    rows: list[dict[str, Any]]
    models: dict[str, ModelTopics]


def read_stored_topics(folder: Path) -> StoredTopics | None:
    """A build's topics and vectors, or None when it has none (built before the catalog, or catalog empty)."""
    try:
        payload = json.loads((folder / TOPICS_FILE).read_text(encoding="utf-8"))
        rows = payload["topics"]
        models: dict[str, ModelTopics] = {}
        for signal, scale in payload["scales"].items():
            vectors = read_vectors(folder / _vectors_file(signal), len(rows))
            if vectors is None:
                return None
            coverage = np.array([float(r["coverage"][signal]) for r in rows], dtype=np.float32)
            models[signal] = ModelTopics(vectors, coverage, (float(scale[0]), float(scale[1])))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return StoredTopics(rows, models) if models else None
