"""Build the index: read → parse → chunk → embed (only what changed) → store, then switch atomically.

A build always writes a new build folder (and, in server mode, a new collection) and switches
`current.json` only when everything is written, so a build that fails half way leaves the previous
index serving, untouched. Incremental builds reuse the vectors of passages whose content did not change.
Only one build runs at a time (a file lock); a second one is refused with a clear message.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from bpge.settings import IndexSettings
from indexer.calibration import calibration_for
from indexer.chunk import chunk_records
from indexer.models import Passage
from indexer.parse import CorpusReport, parse_corpus_report
from indexer.read import SourceDocument, UnreadableDocument, discover, discover_unsupported, read_document
from indexer.store import (
    BadPointer,
    BuildFiles,
    builds_dir,
    chroma_client,
    collection_name,
    complete_builds,
    current_build_id,
    is_complete,
    newest_complete_build,
    read_pointer,
    remove_build,
    switch_current,
    write_collection,
)
from indexer.topics import (
    Topic,
    TopicVectors,
    cached_vectors_name,
    catalog_digest,
    embed_topics,
    load_topics,
    measure_catalog,
    read_vectors,
    write_cached_vectors,
    write_topics,
)

if TYPE_CHECKING:
    from indexer.embed import EmbeddingKind

log = logging.getLogger(__name__)

EMBED_BATCH = 64
KEEP_BUILDS = 2  # the serving build and the one before it (a server may still have it open)


class BuildInProgress(Exception):
    """Another build holds the lock."""


class NothingToIndex(Exception):
    """The corpus folder has no readable document."""


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class BuildSummary:
    build: str
    documents: int
    practices: int
    expert_commentaries: int
    event_parts: int
    other_documents: int
    chunks: int
    embedded: int
    seconds: float
    unchanged: bool = False
    skipped: list[SkippedFile] = field(default_factory=list)
    # files of a format that cannot be read (.doc, .ppt, images…), with what to do
    unsupported: list[SkippedFile] = field(default_factory=list)
    # the same document in several files, indexed once: {"kept": path, "copies": [paths], "similarity": x}
    duplicates: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # suspicious parses, repaired encodings

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _code_version() -> str:
    """Parsing and chunking code changes invalidate an index even when the corpus did not change."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), *(here / "readers").glob("*.py")]):
        if path.name not in {"build.py", "__main__.py", "store.py", "embed.py", "settings.py"}:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_corpus(corpus_dir: Path) -> tuple[list[SourceDocument], list[SkippedFile]]:
    """Readable documents, and the files skipped with the reason (never raises for one bad file)."""
    documents: list[SourceDocument] = []
    skipped: list[SkippedFile] = []
    for path in discover(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            documents.append(read_document(path, corpus_dir))
        except UnreadableDocument as exc:
            log.warning("omitido %s: %s", rel, exc)
            skipped.append(SkippedFile(rel, str(exc)))
        except Exception as exc:  # a reader bug on one file skips that file, never the build
            log.exception("omitido %s", rel)
            skipped.append(SkippedFile(rel, f"error al leer ({exc.__class__.__name__}: {str(exc)[:100]})"))
    return documents, skipped


def unsupported_files(corpus_dir: Path) -> list[SkippedFile]:
    """Files whose format cannot be indexed, reported so nobody wonders why they are missing."""
    return [
        SkippedFile(p.relative_to(corpus_dir).as_posix(), f"formato no soportado: {why}")
        for p, why in discover_unsupported(corpus_dir)
    ]


def _previous_vectors(files: BuildFiles | None, signal: str, model: str) -> dict[str, np.ndarray]:
    """The previous build's vectors of this signal by passage id, when it used the same model."""
    if files is None:
        return {}
    try:
        if _dense_models(files.manifest()).get(signal) != model:
            return {}
        passages = files.passages()
        vectors = files.embeddings(signal)
    except (OSError, ValueError):
        return {}
    return {p.id: vectors[i] for i, p in enumerate(passages) if i < len(vectors)}


def _summary(
    build_id: str,
    manifest: dict[str, object],
    seconds: float,
    embedded: int,
    unchanged: bool,
    skipped: list[SkippedFile],
    unsupported: list[SkippedFile],
) -> BuildSummary:
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    duplicates = list(manifest.get("duplicates", []))  # type: ignore[call-overload]
    warnings = list(manifest.get("warnings", []))  # type: ignore[call-overload]
    return BuildSummary(
        build=build_id,
        documents=counts["documents"],
        practices=counts["practices"],
        expert_commentaries=counts["expert_commentaries"],
        event_parts=counts["event_parts"],
        other_documents=counts["other_documents"],
        chunks=counts["chunks"],
        embedded=embedded,
        seconds=round(seconds, 2),
        unchanged=unchanged,
        skipped=skipped,
        unsupported=unsupported,
        duplicates=duplicates,
        warnings=warnings,
    )


def build_index(
    settings: IndexSettings,
    rebuild: bool = False,
    progress: bool = False,
    embed_texts: Callable[[list[str]], np.ndarray] | None = None,
) -> BuildSummary:
    """Index `settings.corpus_dir` into `settings.data_dir` and switch to it.

    `embed_texts` replaces the configured embedders (tests use it to make a build fail half way).
    Raises BuildInProgress, NothingToIndex, StoreUnavailable; on any failure the serving index is untouched.
    """
    started = time.perf_counter()
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(data_dir / ".build.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise BuildInProgress(
            f"Ya hay una indexación en curso sobre {data_dir}; "
            "espere a que termine (solo un proceso puede escribir el índice)."
        ) from exc
    try:
        return _build_locked(settings, rebuild, progress, embed_texts, started)
    finally:
        lock.release()


def _build_locked(
    settings: IndexSettings,
    rebuild: bool,
    progress: bool,
    embed_texts: Callable[[list[str]], np.ndarray] | None,
    started: float,
) -> BuildSummary:
    data_dir = settings.data_dir
    documents, skipped = read_corpus(settings.corpus_dir)
    unsupported = unsupported_files(settings.corpus_dir)
    if not documents:
        raise NothingToIndex(f"No hay documentos legibles en {settings.corpus_dir}.")
    hashes = {d.path: d.sha256 for d in documents}
    models = settings.dense_models()
    topics = load_topics(settings.topics_file)
    previous_id = current_build_id(data_dir)
    remove_orphans(settings, keep={previous_id or "", _raw_pointer(data_dir) or ""})
    # with a bad pointer, reuse the vectors of the newest complete build (never delete it here)
    source_id = previous_id or newest_complete_build(data_dir)
    previous = BuildFiles(builds_dir(data_dir) / source_id) if source_id else None

    if previous is not None and previous_id and not rebuild:
        manifest = previous.manifest()
        if (
            manifest.get("documents") == hashes
            and _dense_models(manifest) == models
            and manifest.get("calibration") == calibration_for(models["dense"])  # recalibrated: rewrite
            and manifest.get("code_version") == _code_version()
            and manifest.get("chroma") == _chroma_label(settings)
            and manifest.get("topics", {}).get("digest") == catalog_digest(topics)
        ):
            problem = build_problem(settings, previous_id)
            if problem is None:
                return _summary(previous_id, manifest, time.perf_counter() - started, 0, True, skipped, unsupported)
            log.warning("el índice %s no se puede abrir (%s): se reconstruye", previous_id, problem)

    records, report = parse_corpus_report(documents)
    skipped = skipped + [SkippedFile(path, reason) for path, reason in report.failed]
    passages = chunk_records(records)
    vectors: dict[str, np.ndarray] = {}
    embedded = 0
    for signal, model_name in models.items():
        reuse = {} if rebuild else _previous_vectors(previous, signal, model_name)
        todo = [i for i, p in enumerate(passages) if p.id not in reuse]
        encode = embed_texts or _configured_encoder(settings, model_name)
        vectors[signal] = _embed_all(passages, todo, reuse, encode, progress, model_name)
        embedded = max(embedded, len(todo))
    # a topic is covered when a practice addresses it: a memo or another sector's report in the corpus folder, or
    # the exchange's agenda, covers nothing (the whole corpus when it has no practice)
    practices = np.array([p.kind == "practice" for p in passages], dtype=bool)
    measured = {signal: v[practices] for signal, v in vectors.items()} if practices.any() else vectors
    catalog = measure_catalog(
        {signal: _topic_vectors(settings, topics, model_name, embed_texts) for signal, model_name in models.items()},
        measured,
    )

    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = builds_dir(data_dir) / build_id
    manifest = {
        "build": build_id,
        "created": datetime.now(UTC).isoformat(),
        "corpus": str(settings.corpus_dir),
        "documents": hashes,
        "skipped": [asdict(s) for s in skipped],
        "unsupported": [asdict(u) for u in unsupported],
        "duplicates": _duplicates(report),
        "warnings": report.warnings,
        "embedding_model": models["dense"],
        "dense": {
            signal: {
                "model": model_name,
                "collection": collection_name(settings, build_id, signal),
                "dimension": int(vectors[signal].shape[1]) if len(vectors[signal]) else 0,
            }
            for signal, model_name in models.items()
        },
        "calibration": calibration_for(models["dense"]),
        "code_version": _code_version(),
        "chroma": _chroma_label(settings),
        "topics": {"digest": catalog_digest(topics), "count": len(topics)},
        "collection": collection_name(settings, build_id),
        "counts": {
            "documents": len(documents),
            "practices": sum(r.kind == "practice" for r in records),
            "expert_commentaries": sum(len(r.experts) for r in records),
            "event_parts": sum(r.kind == "event" for r in records),
            "other_documents": sum(r.kind == "document" for r in records),
            "chunks": len(passages),
        },
    }
    try:
        client = chroma_client(settings, target)
        for signal, signal_vectors in vectors.items():
            write_collection(client, collection_name(settings, build_id, signal), passages, signal_vectors)
        BuildFiles(target).write(manifest, records, passages, vectors)
        write_topics(target, topics, catalog)
        switch_current(data_dir, build_id)
    except BaseException:
        remove_build(settings, data_dir, build_id)
        raise
    _prune(settings, keep={build_id, source_id or ""})
    return _summary(build_id, manifest, time.perf_counter() - started, embedded, False, skipped, unsupported)


def _duplicates(report: CorpusReport) -> list[dict[str, object]]:
    return [{"kept": d.kept, "copies": d.copies, "similarity": d.similarity} for d in report.duplicates]


def _chroma_label(settings: IndexSettings) -> str:
    return f"server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_server else "embedded"


def _dense_models(manifest: dict[str, object]) -> dict[str, str]:
    """Signal → model of a build's manifest (builds before the second model had only `embedding_model`)."""
    dense = manifest.get("dense")
    if isinstance(dense, dict):
        return {signal: str(info.get("model")) for signal, info in dense.items() if isinstance(info, dict)}
    return {"dense": str(manifest.get("embedding_model"))}


def _configured_encoder(
    settings: IndexSettings, model_name: str, kind: EmbeddingKind = "passage"
) -> Callable[[list[str]], np.ndarray]:
    from indexer.embed import embed, load_embedder  # torch is slow to import: only when something changed

    embedder = load_embedder(model_name, settings.embedding_device, settings.model_cache_dir)
    return lambda texts: embed(embedder, texts, kind)


def _topic_vectors(
    settings: IndexSettings,
    topics: list[Topic],
    model_name: str,
    embed_texts: Callable[[list[str]], np.ndarray] | None,
) -> TopicVectors:
    """The catalog's vectors of one dense model; they depend on neither the corpus nor the build, so they are kept
    in the model cache and embedded once per catalog and model."""
    if embed_texts is not None:  # a stand-in encoder (tests): never cached
        return embed_topics(topics, embed_texts, embed_texts)
    cache = settings.model_cache_dir / "topics" / cached_vectors_name(model_name, topics)
    cached = read_vectors(cache, len(topics))
    if cached is not None:
        return cached
    vectors = embed_topics(
        topics,
        _configured_encoder(settings, model_name, "passage"),
        _configured_encoder(settings, model_name, "query"),
    )
    write_cached_vectors(cache, vectors)
    return vectors


def _embed_all(
    passages: list[Passage],
    todo: list[int],
    reuse: dict[str, np.ndarray],
    encode: Callable[[list[str]], np.ndarray],
    progress: bool,
    model_name: str = "",
) -> np.ndarray:
    fresh: dict[int, np.ndarray] = {}
    desc = f"Embeddings {model_name}".strip()
    with tqdm(total=len(todo), desc=desc, unit="fragmento", disable=not progress) as bar:
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            out = np.asarray(encode([passages[i].embedding_text() for i in batch]), dtype=np.float32)
            for i, row in zip(batch, out, strict=False):
                fresh[i] = row
            bar.update(len(batch))
    if not passages:
        return np.zeros((0, 0), dtype=np.float32)
    rows = [fresh[i] if i in fresh else reuse[p.id] for i, p in enumerate(passages)]
    return np.vstack(rows).astype(np.float32)


def _prune(settings: IndexSettings, keep: set[str]) -> None:
    folder = builds_dir(settings.data_dir)
    for old in sorted(p.name for p in folder.iterdir() if p.is_dir()):
        if old not in keep:
            remove_build(settings, settings.data_dir, old)


def _raw_pointer(data_dir: Path) -> str | None:
    """The id `current.json` names, even when that build is incomplete (it is not an orphan then)."""
    try:
        return read_pointer(data_dir, verify=False)
    except BadPointer:
        return None


def build_problem(settings: IndexSettings, build_id: str) -> str | None:
    """Why `build_id` cannot serve (its Chroma collection or records do not open), or None."""
    files = BuildFiles(builds_dir(settings.data_dir) / build_id)
    try:
        manifest = files.manifest()
        if not settings.chroma_server and not (files.path / "chroma" / "chroma.sqlite3").is_file():
            return "falta su base Chroma"
        collection = chroma_client(settings, files.path).get_collection(manifest["collection"])
        expected = manifest.get("counts", {}).get("chunks")
        if expected is not None and collection.count() != expected:
            return f"la colección tiene {collection.count()} fragmentos, se esperaban {expected}"
        files.records()
    except Exception as exc:  # any failure to open means: rebuild
        return f"{type(exc).__name__}: {exc}"
    return None


def remove_orphans(settings: IndexSettings, keep: set[str]) -> list[str]:
    """Delete build folders left incomplete by a killed build (never a complete or kept one).
    Call with the build lock held, so no build is being written."""
    folder = builds_dir(settings.data_dir)
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.name not in keep and not is_complete(settings.data_dir, path.name):
            log.warning("se borra la carpeta huérfana de una indexación interrumpida: %s", path.name)
            remove_build(settings, settings.data_dir, path.name)
            removed.append(path.name)
    return removed


def repair(settings: IndexSettings, progress: bool = False) -> tuple[str, BuildSummary | None]:
    """Point `current.json` at the newest complete build that opens; build one if none does.
    Returns (build id, the build's summary when one was needed)."""
    lock = FileLock(str(settings.data_dir / ".build.lock"))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise BuildInProgress(
            f"Ya hay una indexación en curso sobre {settings.data_dir}; espere a que termine."
        ) from exc
    try:
        for build_id in reversed(complete_builds(settings.data_dir)):
            if build_problem(settings, build_id) is None:
                switch_current(settings.data_dir, build_id)
                return build_id, None
    finally:
        lock.release()
    summary = build_index(settings, rebuild=False, progress=progress)
    return summary.build, summary
