"""The assistant: one object that the web app, the Telegram bot and `python -m eval` share.

It loads the serving build (records, passages, Chroma collection, embedder), answers questions, and
reloads by itself when a new build is switched in by `python -m indexer build`.

The answer pipeline is here, whole: read the question (`read_turn`: intent, named practices, follow-up
context of the conversation) → retrieve → plan and compose the extractive answer (`bot.plans`) →
optionally generate and check (`stream` with an `AnswerGenerator`) → the final `Answer`, which carries
its `intent`, `answer_id` and `conversation_id`. Front ends only translate requests and render events.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.answer import AnswerComposer
from bot.conversation import Conversation, ConversationStore
from bot.followup import asked_section, is_followup
from bot.intent import read_intent
from bot.plans import Planner, practice_ids
from bot.query import Query, read_query
from bot.retrieve import DenseSignal, Retrieval, Retriever
from bot.schemas import Answer, Filters, Intent
from bot.sources import Source
from bot.texts import text
from bot.topics import TopicMap
from bot.windows import SectionWindows
from bpge.labels import label
from bpge.settings import Settings
from indexer.calibration import Calibration, NotCalibrated
from indexer.embed import EmbeddingKind
from indexer.models import Record
from indexer.store import (
    BadPointer,
    IndexMissing,
    StoreUnavailable,
    build_files,
    chroma_client,
    is_complete,
    newest_complete_build,
    read_pointer,
)
from indexer.text import fold

if TYPE_CHECKING:  # pragma: no cover
    from bot.generation.client import AnswerGenerator
    from bot.generation.events import GenerationEvent

log = logging.getLogger(__name__)
REPAIR = "python -m indexer build --repair"

__all__ = ["Assistant", "IndexMissing", "NotCalibrated", "StoreUnavailable", "Turn"]

# A follow-up's section (bot.followup.asked_section) → the intent it asks for.
FOLLOWUP_INTENTS: dict[str, Intent] = {
    "results": "results",
    "strategies": "what_they_did",
    "problem": "how_it_started",
    "expert": "experts",
    "contacts": "contact",
}


@dataclass
class Turn:
    """A question as read in its conversation: what it asks and which practices it is about."""

    question: str
    query: Query
    intent: Intent
    targets: list[Record] = field(default_factory=list)  # named practices, or the conversation's
    followup: bool = False  # about the conversation's practice
    section: str | None = None  # the section (type, or `expert`) a follow-up asks about


def _dense_info(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Signal → {model, collection} of a build (builds before the second model had one collection)."""
    dense = manifest.get("dense")
    if isinstance(dense, dict) and dense:
        return dense
    return {"dense": {"model": manifest.get("embedding_model"), "collection": manifest.get("collection")}}


def _position(folded: str, record: Record) -> int:
    """Where a question first names a record (its offices or region); the end when it does not."""
    names = [fold(o) for o in record.offices] + ([fold(record.region)] if record.region else [])
    found = [folded.find(n) for n in names if n and n in folded]
    return min(found, default=len(folded))


@dataclass
class _Loaded:
    build: str
    manifest: dict[str, Any]
    records: list[Record]
    retriever: Retriever
    composer: AnswerComposer
    planner: Planner


def _one_at_a_time(encode: Callable[[list[str]], np.ndarray]) -> Callable[[str], np.ndarray]:
    """A query encoder from a batch encoder: one text in, its vector out."""

    def encode_query(text: str) -> np.ndarray:
        return encode([text])[0]

    return encode_query


class Assistant:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._warned: str | None = None
        self.conversations = ConversationStore(ttl_s=float(getattr(settings, "conversation_ttl_s", 1800.0)))

    @classmethod
    def load(cls, settings: Settings) -> Assistant:
        """An assistant over the serving build; raises IndexMissing when there is none."""
        assistant = cls(settings)
        assistant._ensure_current()
        return assistant

    # ------------------------------------------------------------ loading

    def _encoder(self, model: str, kind: EmbeddingKind) -> Callable[[list[str]], np.ndarray]:
        """Encodes with `model`, loaded on first use (torch is slow to import)."""

        def encode(texts: list[str]) -> np.ndarray:
            from indexer.embed import embed, load_embedder

            embedder = load_embedder(model, self.settings.embedding_device, self.settings.model_cache_dir)
            return embed(embedder, texts, kind)

        return encode

    def _dense_signals(self, manifest: dict[str, Any], files_path: Path) -> list[DenseSignal]:
        signals: list[DenseSignal] = []
        client = chroma_client(self.settings, files_path)
        for signal, info in _dense_info(manifest).items():
            collection = client.get_collection(info["collection"])
            encode = self._encoder(info["model"], "query")
            signals.append(DenseSignal(signal, collection, _one_at_a_time(encode)))
        return signals

    def _target(self) -> str:
        """The build to serve: the pointer's; while serving, the loaded one when the pointer is
        unreadable or gone (the index in memory is still good); at start, the newest complete build."""
        data_dir = self.settings.data_dir
        loaded = self._loaded
        bad: str | None = None  # why the pointer cannot be used
        try:
            build = read_pointer(data_dir, verify=False)
            if build is not None and (loaded is None or build != loaded.build) and not is_complete(data_dir, build):
                raise BadPointer(f"current.json apunta al índice {build}, que no existe o está incompleto")
        except BadPointer as exc:
            bad = str(exc)
        if bad is not None:
            return self._fallback(
                bad, f" (repare con {REPAIR})", f"{bad}; no hay ningún índice completo. Ejecute: {REPAIR}"
            )
        if build is None:
            return self._fallback("falta current.json", "", "no hay índice construido")
        self._warned = None
        return build

    def _fallback(self, problem: str, hint: str, missing: str) -> str:
        """The build to serve when the pointer is unusable (`problem`): the loaded one, else the newest complete one
        (both said once, with `hint`); raises IndexMissing(`missing`) when there is neither."""
        if self._loaded is not None:
            self._warn_once(f"{problem}; se sigue sirviendo el índice {self._loaded.build}{hint}")
            return self._loaded.build
        fallback = newest_complete_build(self.settings.data_dir)
        if fallback is None:
            raise IndexMissing(missing)
        self._warn_once(f"{problem}; se sirve el índice completo más reciente, {fallback}{hint}")
        return fallback

    def _warn_once(self, message: str) -> None:
        if self._warned != message:
            self._warned = message
            log.warning("%s", message)

    def _ensure_current(self) -> _Loaded:
        build = self._target()
        loaded = self._loaded
        if loaded is not None and loaded.build == build:
            return loaded
        with self._lock:
            if self._loaded is not None and self._loaded.build == build:
                return self._loaded
            try:
                self._loaded = self._open(build)
            except (IndexMissing, OSError, ValueError) as exc:
                if self._loaded is None:
                    if isinstance(exc, IndexMissing):
                        raise
                    raise IndexMissing(str(exc)) from exc
                self._warn_once(f"el índice {build} no se pudo abrir ({exc}); se sigue sirviendo {self._loaded.build}")
            return self._loaded

    def _open(self, build: str) -> _Loaded:
        files = build_files(self.settings.data_dir, build)
        manifest = files.manifest()
        if manifest.get("embedding_model") != self.settings.embedding_model:
            log.warning(
                "the index was built with %s but %s is configured; using the index's models",
                manifest.get("embedding_model"),
                self.settings.embedding_model,
            )
        if not manifest.get("calibration"):
            raise NotCalibrated(text("not_calibrated", model=manifest.get("embedding_model")))
        calibration = Calibration.model_validate(manifest["calibration"])
        if not self.settings.chroma_server and not (files.path / "chroma" / "chroma.sqlite3").is_file():
            raise IndexMissing(f"falta la base Chroma del índice {build}. Ejecute: {REPAIR}")
        try:
            dense = self._dense_signals(manifest, files.path)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if self.settings.chroma_server:
                raise StoreUnavailable(str(exc)) from exc
            raise IndexMissing(f"la colección del índice no se pudo abrir ({exc})") from exc
        records = files.records()
        passages = files.passages()
        retriever = Retriever(records, passages, dense, topics=TopicMap.from_build(files.path))
        # sentences of an answer are compared with the question by the fast model (USE: ~10× e5's speed on a CPU)
        dense_models = _dense_info(manifest)
        sentence_model = dense_models.get("dense2", dense_models["dense"])["model"]
        sentence_encoder = self._encoder(sentence_model, "query")
        composer = AnswerComposer(
            sentence_encoder, lambda: self._covered(records, manifest), calibration, SectionWindows(passages)
        )
        log.info("serving index %s (%d records, %d passages)", manifest["build"], len(records), len(passages))
        return _Loaded(manifest["build"], manifest, records, retriever, composer, Planner(composer))

    @staticmethod
    def _covered(records: list[Record], manifest: dict[str, Any]) -> str:
        practices = [r for r in records if r.kind == "practice"]
        regions = sorted({r.region for r in practices if r.region})
        listed = ", ".join(regions[:-1]) + (f" y {regions[-1]}" if len(regions) > 1 else "".join(regions))
        event = next((r.event for r in practices if r.event and "intercambio" in fold(r.event)), None)
        if event:
            return text("covered", practices=len(practices), regions=listed, event=event)
        return text("covered_no_event", practices=len(practices), regions=listed)

    @property
    def retriever(self) -> Retriever:
        """The serving build's retriever (eval re-ranks its cached signals)."""
        return self._ensure_current().retriever

    @property
    def planner(self) -> Planner:
        """The serving build's planner (composes an answer from a retrieval)."""
        return self._ensure_current().planner

    def manifest(self) -> dict[str, Any]:
        return self._ensure_current().manifest

    def warm_up(self) -> None:
        """Load the embedder and touch the index so the first real question is not slow."""
        self.ask("gestión del riesgo de desastres")

    # ------------------------------------------------------------ answering

    def ask(
        self, question: str, filters: Filters | None = None, k: int = 5, conversation_id: str | None = None
    ) -> Answer:
        """The extractive answer to `question`, read in its conversation (a new one when the id is absent,
        unknown or expired); the answer carries the conversation's id."""
        conversation = self.conversations.open(conversation_id)
        turn = self.read_turn(question, conversation)
        answer = self.compose(turn, filters, k)
        return self.remember(conversation, turn, answer)

    def read_turn(self, question: str, conversation: Conversation | None = None) -> Turn:
        """Intent, named practices and follow-up context of a question."""
        loaded = self._ensure_current()
        query = read_query(question, loaded.retriever.catalog)
        intent = read_intent(query)
        named = self._named(query)
        last = conversation.practice_id if conversation else None
        if last and last in loaded.retriever.records:
            names_other = any(rid != last for rid in named)
            if intent == "compare" and named and last not in named:
                return Turn(question, query, intent, [loaded.retriever.records[last], *named])
            if not names_other and is_followup(question, lambda _text: names_other):
                section = asked_section(question)
                if intent in {"similar", "other"}:
                    intent = FOLLOWUP_INTENTS.get(section or "", "other")
                return Turn(question, query, intent, [loaded.retriever.records[last]], followup=True, section=section)
        return Turn(question, query, intent, named)

    def _named(self, query: Query) -> list[Record]:
        """The practices a question names, in the order it names them (offices, then regions)."""
        loaded = self._ensure_current()
        records = loaded.retriever.records
        ids = sorted(query.office_records, key=lambda rid: _position(query.folded, records[rid]))
        for region in query.regions:
            in_region = loaded.retriever.catalog.regions.get(region, set())
            if len(in_region) == 1:
                ids += sorted(in_region)
        ids = sorted(dict.fromkeys(ids), key=lambda rid: _position(query.folded, records[rid]))
        return [records[rid] for rid in ids if rid in records and records[rid].kind == "practice"]

    def compose(self, turn: Turn, filters: Filters | None = None, k: int = 5) -> Answer:
        """Retrieve and compose the extractive answer of a turn."""
        loaded = self._ensure_current()
        # a section filter asks for passages of that section only: the plans would quote others
        plan: Intent = "other" if filters is not None and filters.section else turn.intent
        if turn.followup and turn.targets and (filters is None or filters.is_empty()):
            # the practice's passages of the section asked (the plans still quote the practice's own sections)
            filters = Filters(region=None, office=None, section=turn.section, practice_id=turn.targets[0].id)
        retrieval = loaded.retriever.search(turn.question, filters, max_records=max(5, k))
        return self.answer(turn, retrieval, plan, k)

    def answer(
        self, turn: Turn, retrieval: Retrieval, plan: Intent | None = None, k: int = 5, may_abstain: bool = True
    ) -> Answer:
        """The answer of a turn to its retrieval. Eval passes each fold's retrieval with `may_abstain=False`: it
        decides the abstention under the fold's own calibration and scores the sources users would get."""
        loaded = self._ensure_current()
        targets = turn.targets if (turn.followup or turn.intent == "compare" or len(turn.targets) == 1) else []
        answer = loaded.planner.compose(
            turn.question,
            retrieval,
            plan or turn.intent,
            targets,
            k=k,
            followup=turn.followup,
            section=turn.section,
            may_abstain=may_abstain,
        )
        answer.intent = turn.intent
        answer.answer_id = uuid.uuid4().hex
        return answer

    def remember(self, conversation: Conversation, turn: Turn, answer: Answer) -> Answer:
        """Store the answer's practices in the conversation; the answer gets the conversation's id."""
        ids = practice_ids(answer) if not answer.abstained else [t.id for t in turn.targets[:1]]
        self.conversations.remember(conversation, practice_ids=ids, question=turn.question, intent=turn.intent)
        answer.conversation_id = conversation.id
        return answer

    def discuss(self, practice_id: str, conversation_id: str | None = None) -> str:
        """Make `practice_id` the practice the conversation's follow-ups refer to (a front end showed its sheet,
        or search results led by it); returns the conversation's id (a new one when absent, unknown or expired)."""
        conversation = self.conversations.open(conversation_id)
        self.conversations.remember(conversation, practice_ids=[practice_id], question="", intent="other")
        return conversation.id

    async def stream(
        self,
        question: str,
        filters: Filters | None = None,
        k: int = 5,
        conversation_id: str | None = None,
        generator: AnswerGenerator | None = None,
        run: Callable[[Callable[[], Answer]], Awaitable[Answer]] | None = None,
    ) -> AsyncIterator[GenerationEvent]:
        """The whole pipeline as events: checked `delta`s while a generated answer is written (with a
        generator), then one `final` event whose `answer` is the answer to show (generated or extractive);
        `bot.generation.events.final_answer` waits for that answer."""
        import asyncio

        from bot.generation.events import GenerationEvent

        def extract() -> Answer:
            return self.ask(question, filters, k, conversation_id)

        extractive = await (run or asyncio.to_thread)(extract)
        if generator is None or extractive.abstained or not extractive.sources:
            yield GenerationEvent(type="final", answer=extractive)
            return
        async for event in generator.stream(question, extractive):
            if event.type == "final" and event.answer is not None:
                event.answer.intent = extractive.intent
                event.answer.conversation_id = extractive.conversation_id
                event.answer.answer_id = extractive.answer_id
                event.answer.comparison = extractive.comparison if event.answer.mode != "generated" else None
            yield event

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Source]:
        loaded = self._ensure_current()
        retrieval = loaded.retriever.search(query, filters, max_records=max(5, k))
        hits = [h for r in retrieval.records for h in r.hits]
        hits.sort(key=lambda h: -h.score)
        return [Source.from_passage(n, h.passage, h.score) for n, h in enumerate(hits[:k], start=1)]

    # ------------------------------------------------------------ records

    def records(self) -> list[Record]:
        return self._ensure_current().records

    def practices(self, region: str | None = None) -> list[Record]:
        practices = [r for r in self.records() if r.kind == "practice"]
        if region:
            practices = [r for r in practices if r.region and fold(region) == fold(r.region)]
        return practices

    def record(self, record_id: str) -> Record | None:
        return next((r for r in self.records() if r.id == record_id), None)

    def regions(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = {}
        for r in self.practices():
            out.setdefault(r.region or label("sheet", "no_region"), []).append(r)
        return dict(sorted(out.items()))

    def find_practice(self, name: str) -> Record | None:
        """The practice named by title words, office ('UGEL Angaraes') or region ('Ayacucho')."""
        if not name.strip():
            return None
        loaded = self._ensure_current()
        practices = [r for r in loaded.records if r.kind == "practice"]
        exact = next((r for r in practices if r.id == name.strip()), None)
        if exact:
            return exact
        query = read_query(name, loaded.retriever.catalog)
        if len(query.office_records) == 1:
            return self.record(next(iter(query.office_records)))
        in_region = [r for r in practices if r.region in query.regions]
        if len(in_region) == 1:
            return in_region[0]
        words = set(fold(name).split())
        scored = [
            (len(words & set(fold(f"{r.title} {' '.join(r.offices)} {r.region or ''}").split())), r) for r in practices
        ]
        scored = [s for s in scored if s[0] > 0]
        if scored:
            scored.sort(key=lambda s: -s[0])
            if len(scored) == 1 or scored[0][0] > scored[1][0]:
                return scored[0][1]
        if in_region:
            return in_region[0]
        if query.office_records:
            return self.record(min(query.office_records))
        return None

    def health(self) -> dict[str, Any]:
        loaded = self._ensure_current()
        counts = dict(loaded.manifest.get("counts", {}))
        return {
            "status": "ok",
            "index": loaded.build,
            "embedding_model": loaded.manifest.get("embedding_model"),
            "chroma": loaded.manifest.get("chroma"),
            **counts,
        }
