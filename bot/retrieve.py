"""Hybrid retrieval: dense search in Chroma + Spanish BM25, fused, read against the question, grouped by record.

Scores: each candidate passage gets `DENSE_WEIGHT * cosine/max_cosine + (1 - DENSE_WEIGHT) * bm25/max_bm25`
(both relative to the best candidate of this query), then multiplied or raised by what the question asks for
(a section kind, a named office or region, a figure, a person). A record's score is its best passage's score
plus a little for each further relevant passage. Relevance for abstention is judged separately, on absolute
measures: the best passage's cosine and how much of the question's vocabulary the best record covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.lexical import LexicalIndex, analyze
from bot.query import Catalog, Query, read_query
from bot.schemas import Filters
from indexer.models import EXPERT_SECTIONS, Passage, Record
from indexer.text import fold

DENSE_WEIGHT = 0.45
CANDIDATES = 80
SECTION_BOOST = 1.3
OFFICE_BONUS = 0.8
REGION_BONUS = 0.6
ENGLISH_DENSE_WEIGHT = 0.85
KIND_PRIOR = {"practice": 1.0, "event": 0.92, "document": 0.85}
EVENT_CUE_BOOST = 1.35


@dataclass
class Hit:
    passage: Passage
    score: float
    dense: float  # cosine similarity with the question
    lexical: float  # raw BM25


@dataclass
class RecordHits:
    record: Record
    score: float
    hits: list[Hit]
    coverage: float = 0.0  # IDF-weighted share of the question's terms found in this record


@dataclass
class Retrieval:
    query: Query
    records: list[RecordHits]
    top_cosine: float = 0.0
    coverage: float = 0.0  # IDF-weighted share of the question's terms found in the best record
    missing_regions: list[str] = field(default_factory=list)  # named regions without any practice
    filtered: bool = False  # the user restricted the search to a region, office or practice

    def hits(self, limit: int, per_record: int = 3) -> list[Hit]:
        """Passages in relevance order: the best record's passages first, then the others' best, record by record."""
        if not self.records:
            return []
        first = self.records[0].hits[:per_record]
        rest = [h for r in self.records[1:] for h in r.hits[:2]]
        return (first + rest)[:limit]


def _matches(value: str | None, wanted: str) -> bool:
    """`wanted` names `value` as whole words, accents and case ignored ('ica' is not 'Huancavelica')."""
    return bool(value) and f" {fold(wanted)} " in f" {fold(value or '')} "


def section_allowed(section: str, wanted: str) -> bool:
    wanted = fold(wanted).replace(" ", "_")
    if wanted in {"expert", "experto", "expertos", "expert_commentary"}:
        return section in EXPERT_SECTIONS
    return section == wanted


class Retriever:
    def __init__(
        self,
        records: list[Record],
        passages: list[Passage],
        collection: Any,
        encode_query: Callable[[str], np.ndarray],
    ) -> None:
        self.records = {r.id: r for r in records}
        self.passages = passages
        self._index_of = {p.id: i for i, p in enumerate(passages)}
        self._collection = collection
        self._encode = encode_query
        self.catalog = Catalog.from_records(records)
        # the text searched is the embedded text: prefixed with the record's title, offices and section
        tokens = [analyze(p.embedding_text()) for p in passages]
        self.lexical = LexicalIndex(tokens)
        self._record_tokens: dict[str, set[str]] = {}
        for p, passage_tokens in zip(passages, tokens):
            self._record_tokens.setdefault(p.record_id, set()).update(passage_tokens)

    # ------------------------------------------------------------ filters

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(len(self.passages), dtype=bool)
        for i, p in enumerate(self.passages):
            if (filters.region and not _matches(p.region, filters.region)) or (filters.office and not any(_matches(o, filters.office) for o in p.offices)) or (filters.section and not section_allowed(p.section, filters.section)) or (filters.practice_id and p.record_id != filters.practice_id):
                mask[i] = False
        return mask

    # ------------------------------------------------------------ search

    def _dense(self, question: str, allowed: np.ndarray | None) -> dict[int, float]:
        if self._collection is None or not self.passages:
            return {}
        vector = np.asarray(self._encode(question), dtype=np.float32).reshape(-1)
        where = None
        if allowed is not None:
            ids = sorted({self.passages[i].record_id for i in np.flatnonzero(allowed)})
            if not ids:
                return {}
            where = {"record_id": {"$in": ids}}
        result = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(CANDIDATES, len(self.passages)),
            where=where,
            include=["distances"],
        )
        out: dict[int, float] = {}
        for pid, distance in zip(result["ids"][0], result["distances"][0]):
            i = self._index_of.get(pid)
            if i is not None and (allowed is None or allowed[i]):
                out[i] = 1.0 - float(distance)
        return out

    def search(self, question: str, filters: Filters | None = None, max_records: int = 5) -> Retrieval:
        query = read_query(question, self.catalog)
        allowed = self._allowed(filters)
        tokens = analyze(question)
        lexical = self.lexical.scores(tokens)
        if allowed is not None:
            lexical = np.where(allowed, lexical, 0.0)
        dense = self._dense(question, allowed)
        lexical_top = [int(i) for i in np.argsort(-lexical)[:CANDIDATES] if lexical[i] > 0]
        candidates = set(dense) | set(lexical_top)
        missing = [r for r in query.regions if r not in self.catalog.regions]
        if not candidates:
            return Retrieval(query, [], missing_regions=missing)

        max_dense = max(dense.values(), default=0.0) or 1.0
        dense_weight = ENGLISH_DENSE_WEIGHT if query.english else DENSE_WEIGHT
        max_lex = float(lexical.max()) or 1.0
        cued = query.cued_sections()
        region_records = {rid for region in query.regions for rid in self.catalog.regions.get(region, set())}
        hits: list[Hit] = []
        for i in candidates:
            p = self.passages[i]
            cosine = dense.get(i, 0.0)
            score = dense_weight * max(cosine, 0.0) / max_dense + (1 - dense_weight) * float(lexical[i]) / max_lex
            score *= KIND_PRIOR.get(p.kind, 1.0)
            if p.section in cued:
                score *= EVENT_CUE_BOOST if p.section == "event" else SECTION_BOOST
            if query.wants_figure and any(c.isdigit() for c in p.text):
                score *= 1.1
            if query.wants_person and p.section in {"contacts", "expert_key_aspects"}:
                score *= 1.1
            if p.record_id in query.office_records:
                score += OFFICE_BONUS
            elif p.record_id in region_records:
                score += REGION_BONUS
            hits.append(Hit(p, score, cosine, float(lexical[i])))

        grouped: dict[str, list[Hit]] = {}
        for hit in sorted(hits, key=lambda h: -h.score):
            grouped.setdefault(hit.passage.record_id, []).append(hit)
        records = [
            RecordHits(self.records[rid], group[0].score + 0.03 * sum(h.score for h in group[1:4]), group[:4])
            for rid, group in grouped.items()
            if rid in self.records
        ]
        records.sort(key=lambda r: -r.score)
        records = records[:max_records]
        for r in records:
            r.coverage = self._coverage(tokens, r.record.id)
        best = records[0]
        return Retrieval(
            query=query,
            records=records,
            filtered=filters is not None and bool(filters.region or filters.office or filters.practice_id),
            top_cosine=max(dense.values(), default=0.0),
            coverage=best.coverage,
            missing_regions=missing,
        )

    def _coverage(self, tokens: list[str], record_id: str) -> float:
        if not tokens:
            return 0.0
        vocabulary = self._record_tokens.get(record_id, set())
        weights = {t: self.lexical.idf(t) for t in set(tokens)}
        total = sum(weights.values()) or 1.0
        return sum(w for t, w in weights.items() if t in vocabulary) / total
