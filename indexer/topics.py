"""The map of education management the corpus is measured against: which topics it covers, which it does not.

A gestor asking about teachers' pay, school transport or a disciplinary procedure writes like one asking about the
corpus's practices, and the best practice's cosine is as high for both (e5 scores unrelated texts of the same field
~0.85). What separates them is a reference: `prompts/topics.toml` describes the topics of the field (written from
general knowledge of the Peruvian sector, not from the corpus or the questions). At index time each topic searches
the corpus as a question would; its best cosine is its *coverage*. At question time, a question much closer to a
topic the corpus does not cover than to any practice is about that topic (`bot.topics`). A new practice that covers
a topic raises its coverage at the next build: nothing is hard-wired to today's corpus.
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
TOPIC_VECTORS_FILE = "topics.npy"


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


def coverage(topic_queries: np.ndarray, passage_vectors: np.ndarray) -> np.ndarray:
    """Each topic's best cosine with the corpus's passages (unit vectors): how well the corpus answers it."""
    if not len(topic_queries) or not len(passage_vectors):
        return np.zeros(len(topic_queries), dtype=np.float32)
    return np.asarray((topic_queries @ passage_vectors.T).max(axis=1), dtype=np.float32)


def write_topics(folder: Path, topics: list[Topic], vectors: TopicVectors, covered: np.ndarray) -> None:
    """The build's copy: labels, texts and coverage (JSON), the passage-side and query-side vectors (npy)."""
    rows = [
        {"id": t.id, "label": t.label, "text": t.text, "coverage": round(float(c), 4)}
        for t, c in zip(topics, covered, strict=True)
    ]
    (folder / TOPICS_FILE).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    np.save(folder / TOPIC_VECTORS_FILE, _stacked(vectors))


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


def read_topic_vectors(folder: Path) -> tuple[list[dict[str, Any]], TopicVectors] | None:
    """A build's topics and vectors, or None when it has none (built before the catalog, or catalog empty)."""
    try:
        rows = json.loads((folder / TOPICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    vectors = read_vectors(folder / TOPIC_VECTORS_FILE, len(rows)) if isinstance(rows, list) else None
    return (rows, vectors) if vectors is not None else None
