"""Hybrid retrieval: the question in the documents' words, searched by every signal, fused per practice.

1. The question is normalised (`bot.normalize`: shorthand, everyday words, typos) and read (`bot.query`: the
   offices, regions and kind of section it names).
2. Each dense signal (one Chroma collection per embedding model: multilingual-e5, USE) and Spanish BM25 rank the
   passages; filters restrict all of them.
3. `bot.ranking.fuse` turns those ranks into one score per record; inside a record, passages are ordered by
   their own fused rank, raised when they are of the section the question asks for.
4. Relevance for abstention is measured apart, on absolute values: the primary dense model's best cosine in the
   best record, how much of the question's vocabulary that record (and its best passage) contains, and the topics of
   the field's catalog nearest to the question (`bot.topics`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from bot.datum import DatumKind, asked_datum, lacks_datum
from bot.language import analyze
from bot.lexical import LexicalIndex
from bot.normalize import NormalizedQuestion, QuestionNormalizer
from bot.query import Catalog, Query, read_query
from bot.ranking import RankingConfig, fuse, passage_scores
from bot.schemas import Filters
from bot.topics import TopicMap, TopicScores
from indexer.models import EXPERT_SECTIONS, Passage, Record
from indexer.store import StoreUnavailable
from indexer.text import fold

CANDIDATES = 80  # passages asked of each dense signal
PASSAGES_PER_RECORD = 4  # passages kept per record for the answer
# Inside a record, passages of the section the question asks for come first (a multiplier of their score).
SECTION_BOOST = 1.5
FIGURE_BOOST = 1.2  # …passages with figures, when a figure is asked for
PERSON_BOOST = 1.2  # …contacts and expert passages, when a person is asked for
# What a practice faced and did: each signal ranks these passages again (`RankingConfig.core_weight`)
CORE_SECTIONS = frozenset({"problem", "objectives", "strategies", "results", "lessons"})


@dataclass
class DenseSignal:
    """One embedding model's view of the passages: its Chroma collection and its query encoder."""

    name: str
    collection: Any
    encode_query: Callable[[str], np.ndarray]


@dataclass
class Hit:
    passage: Passage
    score: float
    dense: float  # cosine similarity with the question (primary dense model)
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
    top_cosine: float = 0.0  # primary dense model's best cosine within the best record
    coverage: float = 0.0  # IDF-weighted share of the question's topic terms found in the best record
    missing_regions: list[str] = field(default_factory=list)  # named regions without any practice
    named: frozenset[str] = frozenset()  # records the question names (`Retriever.named_records`)
    topics: TopicScores | None = None  # the question against the field's catalog of topics (`bot.topics`)
    # the best record's best cosine by each model of the topic map, on the primary's scale (primary first)
    top_cosines: tuple[float, ...] = ()
    filtered: bool = False  # the user restricted the search to a region, office or practice
    # the kind of datum the question asks for (`bot.datum`: a count, money, a link) when the best record lacks it
    lacking_datum: DatumKind | None = None
    normalized: NormalizedQuestion | None = None
    # the topic check's reading per setting of its knobs (`bot.answer`): computed once, since calibration asks it
    # of the same retrieval under thousands of relevance thresholds
    topic_memo: dict[tuple[float, ...], object] = field(default_factory=dict, repr=False, compare=False)

    def hits(self, limit: int, per_record: int = 3) -> list[Hit]:
        """Passages in relevance order: the best record's passages first, then the others' best, record by record."""
        if not self.records:
            return []
        first = self.records[0].hits[:per_record]
        rest = [h for r in self.records[1:] for h in r.hits[:2]]
        return (first + rest)[:limit]


def _both(where: dict[str, Any] | None, condition: dict[str, Any]) -> dict[str, Any]:
    return condition if where is None else {"$and": [where, condition]}


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
        dense: list[DenseSignal],
        config: RankingConfig | None = None,
        topics: TopicMap | None = None,
    ) -> None:
        self.records = {r.id: r for r in records}
        self.topics = topics
        self.passages = passages
        self.config = config or RankingConfig()
        self._dense_signals = dense
        self._index_of = {p.id: i for i, p in enumerate(passages)}
        self._record_ids = [r.id for r in records]
        self._record_index = {rid: i for i, rid in enumerate(self._record_ids)}
        self._passage_record = np.array([self._record_index.get(p.record_id, 0) for p in passages], dtype=np.int64)
        self._non_practice = np.array([r.kind == "event" for r in records], dtype=bool)
        # other documents (neither practices nor the exchange's parts) are searched and ranked apart from the
        # practices, when the corpus has both (`RankingConfig.document_prior`)
        documents = np.array([r.kind == "document" for r in records], dtype=bool)
        self._documents = documents if documents.any() and not documents.all() else None
        self._apart = None if self._documents is None else self._documents[self._passage_record]
        self._core = np.array([p.section in CORE_SECTIONS for p in passages], dtype=bool)
        self.catalog = Catalog.from_records(records)
        # the text searched is the embedded text: prefixed with the record's title, offices and section
        texts = [p.embedding_text() for p in passages]
        tokens = [analyze(text) for text in texts]
        # BM25, and the IDF that weighs a question's words, come from the practices and the exchange: other
        # documents get an index of their own, so adding them changes neither
        rows = [np.arange(len(passages))]
        if self._apart is not None:
            rows = [np.flatnonzero(~self._apart), np.flatnonzero(self._apart)]
        self._lexical_pools = [(r, LexicalIndex([tokens[i] for i in r])) for r in rows]
        self.lexical = self._lexical_pools[0][1]
        self._record_tokens: dict[str, set[str]] = {}
        self._record_passages: dict[str, list[Passage]] = {}
        for p, passage_tokens in zip(passages, tokens, strict=True):
            self._record_tokens.setdefault(p.record_id, set()).update(passage_tokens)
            self._record_passages.setdefault(p.record_id, []).append(p)
        # …and so does the vocabulary that questions are normalised against (typos, everyday words)
        own = texts if self._apart is None else [t for t, apart in zip(texts, self._apart, strict=True) if not apart]
        words = {w for text in own for w in fold(text).split()}
        self.normalizer = QuestionNormalizer(words)

    # ------------------------------------------------------------ filters

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(len(self.passages), dtype=bool)
        for i, p in enumerate(self.passages):
            if (
                (filters.region and not _matches(p.region, filters.region))
                or (filters.office and not any(_matches(o, filters.office) for o in p.offices))
                or (filters.section and not section_allowed(p.section, filters.section))
                or (filters.practice_id and p.record_id != filters.practice_id)
            ):
                mask[i] = False
        return mask

    # ------------------------------------------------------------ signals

    def dense_scores(self, signal: DenseSignal, vector: np.ndarray, allowed: np.ndarray | None) -> dict[int, float]:
        """Cosine of the best passages for one dense signal: {passage index: cosine}."""
        if signal.collection is None or not self.passages:
            return {}
        where: dict[str, Any] | None = None
        if allowed is not None:
            ids = sorted({self.passages[i].record_id for i in np.flatnonzero(allowed)})
            if not ids:
                return {}
            where = {"record_id": {"$in": ids}}
        # other documents are asked apart, so they never take the practices' places among the candidates
        pools: list[dict[str, Any] | None] = [where]
        if self._apart is not None:
            pools = [_both(where, {"kind": {"$ne": "document"}}), _both(where, {"kind": "document"})]
        out: dict[int, float] = {}
        for pool in pools:
            try:
                result = signal.collection.query(
                    query_embeddings=[vector.tolist()],
                    n_results=min(CANDIDATES, len(self.passages)),
                    where=pool,
                    include=["distances"],
                )
            except (httpx.TransportError, ConnectionError) as exc:  # a Chroma server that stopped after the load
                raise StoreUnavailable(f"Chroma dejó de responder ({exc})") from exc
            for pid, distance in zip(result["ids"][0], result["distances"][0], strict=True):
                i = self._index_of.get(pid)
                if i is not None and (allowed is None or allowed[i]):
                    out[i] = 1.0 - float(distance)
        return out

    def lexical_scores(self, tokens: list[str], allowed: np.ndarray | None) -> dict[int, float]:
        values = np.zeros(len(self.passages), dtype=np.float32)
        for rows, index in self._lexical_pools:
            values[rows] = index.scores(tokens)
        if allowed is not None:
            values = np.where(allowed, values, 0.0)
        order = np.argsort(-values)
        pools = [order] if self._apart is None else [order[~self._apart[order]], order[self._apart[order]]]
        return {int(i): float(values[i]) for pool in pools for i in pool[:CANDIDATES] if values[i] > 0}

    def encode(self, text: str) -> dict[str, np.ndarray]:
        """The (normalised) question's vector for each dense signal."""
        return {s.name: np.asarray(s.encode_query(text), dtype=np.float32).reshape(-1) for s in self._dense_signals}

    def signals(
        self, text: str, allowed: np.ndarray | None, vectors: Mapping[str, np.ndarray] | None = None
    ) -> dict[str, dict[int, float]]:
        """Every signal's scores for the (normalised) question (`vectors`: its encodings, when already made)."""
        vectors = vectors if vectors is not None else self.encode(text)
        out = {signal.name: self.dense_scores(signal, vectors[signal.name], allowed) for signal in self._dense_signals}
        out["bm25"] = self.lexical_scores(analyze(text), allowed)
        return out

    def topic_scores(self, vectors: Mapping[str, np.ndarray], text: str, query: Query) -> TopicScores | None:
        """The (normalised) question against the catalog's topics, by every dense model, with the share of the
        question's terms each topic's text holds; None without a catalog."""
        if self.topics is None:
            return None
        tokens = self._topic_tokens(text, self._names(query, self.named_records(query)))
        return self.topics.scores(vectors, lambda terms: self._coverage(tokens, terms))

    # ------------------------------------------------------------ search

    def search(self, question: str, filters: Filters | None = None, max_records: int = 5) -> Retrieval:
        normalized = self.normalizer.normalize(question)
        query = read_query(question, self.catalog)
        allowed = self._allowed(filters)
        vectors = self.encode(normalized.text)
        signals = self.signals(normalized.text, allowed, vectors)
        topics = self.topic_scores(vectors, normalized.text, query)
        return self.rank(query, normalized, signals, filters, max_records, topics)

    def named_records(self, query: Query) -> frozenset[str]:
        """Records the question names: by office or title, else by region."""
        if query.office_records:
            return frozenset(query.office_records)
        return frozenset(rid for region in query.regions for rid in self.catalog.regions.get(region, set()))

    def rank(
        self,
        query: Query,
        normalized: NormalizedQuestion,
        signals: Mapping[str, Mapping[int, float]],
        filters: Filters | None = None,
        max_records: int = 5,
        topics: TopicScores | None = None,
    ) -> Retrieval:
        """Fuse the signals into records (separate from `search` so eval can re-rank cached signals)."""
        missing = [r for r in query.regions if r not in self.catalog.regions]
        candidates = {i for values in signals.values() for i in values}
        filtered = filters is not None and bool(filters.region or filters.office or filters.practice_id)
        if not candidates:
            return Retrieval(
                query, [], missing_regions=missing, filtered=filtered, normalized=normalized, topics=topics
            )
        named = self.named_records(query)
        record_index = self._record_index
        scores = self.record_scores(query, signals)
        order = self._passage_order(query, signals)
        primary = self._primary_dense(signals)
        lexical = signals.get("bm25", {})
        grouped: dict[str, list[Hit]] = {}
        for i, score in order:
            p = self.passages[i]
            group = grouped.setdefault(p.record_id, [])
            if len(group) < PASSAGES_PER_RECORD:
                group.append(Hit(p, score, primary.get(i, 0.0), lexical.get(i, 0.0)))
        ranked = sorted((rid for rid in grouped if rid in self.records), key=lambda rid: -scores[record_index[rid]])
        if ranked and self.records[ranked[0]].kind != "document":
            # other documents are offered only when one comes before every practice: beside a practice that answers,
            # a memo or another sector's report is no source a gestor asked for
            ranked = [rid for rid in ranked if self.records[rid].kind != "document"]
        ranked = ranked[:max_records]
        records = [RecordHits(self.records[rid], float(scores[record_index[rid]]), grouped[rid]) for rid in ranked]
        names = self._names(query, named)
        tokens = self._topic_tokens(normalized.text, names)
        for r in records:
            r.coverage = self._coverage(tokens, self._record_tokens.get(r.record.id, set()))
        # what the abstention weighs: the best practice or part of the exchange (another document, however near, is
        # not a practice that addresses the question)
        best = next((r for r in records if r.record.kind != "document"), records[0])
        best_passages = [i for i in candidates if self.passages[i].record_id == best.record.id]
        # a practice's title the question holds whole says which practice, like its office («¿cuántos SAEI
        # implementó la Estrategia Inclusión Total…?» asks nothing of inclusion)
        question_words = set(fold(normalized.text).split())
        titles = [r.record.title for r in records if set(fold(r.record.title).split()) <= question_words]
        datum = asked_datum(normalized.text, query.asks_figure, set(fold(" ".join(names + titles)).split()))
        best_texts = (p.text for p in self._record_passages.get(best.record.id, []))
        lacking = datum.kind if datum is not None and lacks_datum(datum, best_texts, self.lexical.idf) else None
        return Retrieval(
            query=query,
            records=records,
            filtered=filtered,
            top_cosine=max((primary.get(i, 0.0) for i in best_passages), default=0.0),
            top_cosines=self._top_cosines(signals, best_passages),
            coverage=best.coverage,
            missing_regions=missing,
            named=named,
            normalized=normalized,
            topics=topics,
            lacking_datum=lacking,
        )

    def _top_cosines(self, signals: Mapping[str, Mapping[int, float]], passages: list[int]) -> tuple[float, ...]:
        """The best cosine among `passages` by each model of the topic map, on the primary's scale. A model that
        found none of them (each lists only its nearest `CANDIDATES`) repeats the primary's: it adds no evidence."""
        if self.topics is None:
            return ()
        values: list[float] = []
        for signal in self.topics.signals:
            found = [signals[signal][i] for i in passages if i in signals.get(signal, {})]
            values.append(self.topics.onto_primary(signal, max(found)) if found else values[0] if values else 0.0)
        return tuple(values)

    def record_scores(self, query: Query, signals: Mapping[str, Mapping[int, float]]) -> np.ndarray:
        """Fused score of every record, in the order of `record_ids`."""
        record_index = self._record_index
        return fuse(
            signals,
            self._passage_record,
            len(self._record_ids),
            self.config,
            named_records=frozenset(record_index[r] for r in self.named_records(query) if r in record_index),
            non_practice=None if "event" in query.section_cues else self._non_practice,
            core=self._core_passages(query),
            documents=self._documents,
        )

    def _core_passages(self, query: Query) -> np.ndarray | None:
        """The core sections' passages, for the second ranking; None when the question asks for a section outside
        them (experts, contacts, the event)."""
        return None if query.cued_sections() - CORE_SECTIONS else self._core

    @property
    def dense_signals(self) -> list[DenseSignal]:
        return self._dense_signals

    @property
    def record_ids(self) -> list[str]:
        return self._record_ids

    def _primary_dense(self, signals: Mapping[str, Mapping[int, float]]) -> Mapping[int, float]:
        if self._dense_signals:
            return signals.get(self._dense_signals[0].name, {})
        return {}

    def _passage_order(self, query: Query, signals: Mapping[str, Mapping[int, float]]) -> list[tuple[int, float]]:
        """Passages by fused rank, those of the section (or kind of content) asked for raised."""
        cued = query.cued_sections()
        boosts: dict[int, float] = {}
        for i in {i for values in signals.values() for i in values}:
            p = self.passages[i]
            boost = SECTION_BOOST if p.section in cued else 1.0
            if query.wants_figure and any(c.isdigit() for c in p.text):
                boost *= FIGURE_BOOST
            if query.wants_person and p.section in {"contacts", "expert_key_aspects"}:
                boost *= PERSON_BOOST
            boosts[i] = boost
        # a person is named in the contacts and the experts' commentary, outside the core sections
        core = None if query.wants_person else self._core_passages(query)
        fused = passage_scores(signals, self.config, boosts, core, self._apart)
        return sorted(fused.items(), key=lambda item: -item[1])

    def _names(self, query: Query, named: frozenset[str]) -> list[str]:
        """The names of the offices and regions the question names (those say where, not what)."""
        names = list(query.regions)
        for rid in named:
            record = self.records.get(rid)
            if record:
                names += [*record.offices, record.region or ""]
        return names

    def _topic_tokens(self, text: str, names: list[str]) -> list[str]:
        """The question's terms less the names of the offices and regions it names (`_names`)."""
        name_tokens = set(analyze(" ".join(names)))
        return [t for t in analyze(text) if t not in name_tokens]

    def _coverage(self, tokens: list[str], vocabulary: AbstractSet[str]) -> float:
        if not tokens:
            return 0.0
        weights = {t: self.lexical.idf(t) for t in set(tokens)}
        total = sum(weights.values()) or 1.0
        return sum(w for t, w in weights.items() if t in vocabulary) / total
