"""Where an index lives: build folders under the data folder, their files, and their Chroma collection.

Layout of the data folder:

    data/current.json              which build serves (replaced atomically: the switch)
    data/builds/<build-id>/        one complete index
        manifest.json              corpus hashes, model, counts, skipped files
        records.json               practice records, exchange parts, other documents
        passages.jsonl             the chunks, in embedding order
        embeddings.npy             their vectors of the primary model (reused by incremental builds)
        embeddings-dense2.npy      …of the secondary model, when one is configured
        chroma/                    the embedded Chroma database (absent in server mode): a collection per model
    data/.build.lock               held by the one build allowed at a time

In server mode (CHROMA_HOST set) a build's vectors go to the collections `bpge-<build-id>` (primary model) and
`bpge-<build-id>-dense2` (secondary) of that Chroma server.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from bpge.settings import IndexSettings
from indexer.models import Passage, Record

# Cosine space; a search list (ef_search) wider than the passages asked for, so the first ranks are those of an
# exact search and the same question gets the same passages in every process (Chroma's default, 100, for 80
# results, reordered the tail between loads of the same build).
COLLECTION_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 400}}


class IndexMissing(Exception):
    """No build has been switched in yet."""


class StoreUnavailable(Exception):
    """The Chroma server cannot be reached."""


def chroma_client(settings: IndexSettings, build_dir: Path) -> Any:
    """A client for a build: embedded in the build folder, or the configured Chroma server."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_server:
        host, port = settings.chroma_server
        try:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
            raise StoreUnavailable(f"no se pudo conectar con Chroma en {host}:{port} ({exc})") from exc
    return chromadb.PersistentClient(path=str(build_dir / "chroma"), settings=chroma_settings)


PRIMARY_SIGNAL = "dense"


def collection_name(settings: IndexSettings, build_id: str, signal: str = PRIMARY_SIGNAL) -> str:
    """The Chroma collection of one dense signal of a build."""
    suffix = "" if signal == PRIMARY_SIGNAL else f"-{signal}"
    return f"bpge-{build_id}{suffix}" if settings.chroma_server else f"passages{suffix}"


def embeddings_file(signal: str) -> str:
    return "embeddings.npy" if signal == PRIMARY_SIGNAL else f"embeddings-{signal}.npy"


def builds_dir(data_dir: Path) -> Path:
    return data_dir / "builds"


_BUILD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class BadPointer(Exception):
    """`current.json` is unreadable, or does not name a complete build (the message says why)."""


def pointer_path(data_dir: Path) -> Path:
    return data_dir / "current.json"


def is_complete(data_dir: Path, build_id: str) -> bool:
    """A build folder whose manifest (written last) names it, with its records and passages."""
    if not _BUILD_ID.fullmatch(build_id):
        return False
    folder = builds_dir(data_dir) / build_id
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("build") == build_id
        and (folder / "records.json").is_file()
        and (folder / "passages.jsonl").is_file()
    )


def read_pointer(data_dir: Path, verify: bool = True) -> str | None:
    """The build `current.json` names: None when there is no pointer (no index yet); raises
    BadPointer when it exists but is not valid JSON `{"build": "<id>"}` naming a complete build."""
    pointer = pointer_path(data_dir)
    try:
        raw = pointer.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BadPointer(f"no se puede leer {pointer} ({exc})") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadPointer(f"{pointer} no es JSON válido (¿truncado?)") from None
    build = data.get("build") if isinstance(data, dict) else None
    if not isinstance(build, str) or not _BUILD_ID.fullmatch(build):
        raise BadPointer(f'{pointer} no tiene la forma {{"build": "<id>"}}')
    if verify and not is_complete(data_dir, build):
        raise BadPointer(f"{pointer} apunta al índice {build}, que no existe o está incompleto")
    return build


def current_build_id(data_dir: Path) -> str | None:
    """The serving build, or None when there is none or the pointer is bad (see `read_pointer`)."""
    try:
        return read_pointer(data_dir)
    except BadPointer:
        return None


def complete_builds(data_dir: Path) -> list[str]:
    """Complete builds, oldest first (build ids are UTC timestamps)."""
    folder = builds_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and is_complete(data_dir, p.name))


def newest_complete_build(data_dir: Path, exclude: set[str] | None = None) -> str | None:
    builds = [b for b in complete_builds(data_dir) if b not in (exclude or set())]
    return builds[-1] if builds else None


def switch_current(data_dir: Path, build_id: str) -> None:
    """Atomically make `build_id` the serving build."""
    tmp = data_dir / f".current.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"build": build_id}), encoding="utf-8")
    os.replace(tmp, data_dir / "current.json")


@dataclass
class BuildFiles:
    """The files of one build folder (not the Chroma part)."""

    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def records(self) -> list[Record]:
        data = json.loads((self.path / "records.json").read_text(encoding="utf-8"))
        return [Record.model_validate(r) for r in data]

    def passages(self) -> list[Passage]:
        with (self.path / "passages.jsonl").open(encoding="utf-8") as fh:
            return [Passage.model_validate_json(line) for line in fh if line.strip()]

    def embeddings(self, signal: str = PRIMARY_SIGNAL) -> np.ndarray:
        return np.load(self.path / embeddings_file(signal))

    def write(
        self,
        manifest: dict[str, Any],
        records: list[Record],
        passages: list[Passage],
        vectors: dict[str, np.ndarray],
    ) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "records.json").write_text(
            json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        with (self.path / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(p.model_dump_json() + "\n")
        for signal, signal_vectors in vectors.items():
            np.save(self.path / embeddings_file(signal), signal_vectors.astype(np.float32))
        self.manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def current_files(data_dir: Path) -> BuildFiles:
    build_id = current_build_id(data_dir)
    if not build_id:
        raise IndexMissing("no hay índice construido")
    return build_files(data_dir, build_id)


def build_files(data_dir: Path, build_id: str) -> BuildFiles:
    if not is_complete(data_dir, build_id):
        raise IndexMissing(f"el índice {build_id} no existe o está incompleto")
    return BuildFiles(builds_dir(data_dir) / build_id)


def passage_metadata(p: Passage) -> dict[str, str | int]:
    metadata: dict[str, str | int] = {
        "record_id": p.record_id,
        "kind": p.kind,
        "region": p.region,
        "section": p.section,
        "document": p.document,
        "start_line": p.lines[0],
        "end_line": p.lines[1],
    }
    if p.page is not None:  # Chroma metadata cannot hold None
        metadata["page"] = p.page
    if p.slide is not None:
        metadata["slide"] = p.slide
    return metadata


def write_collection(client: Any, name: str, passages: list[Passage], vectors: np.ndarray, batch: int = 2000) -> Any:
    collection = client.create_collection(name, embedding_function=None, configuration=COLLECTION_CONFIGURATION)
    for start in range(0, len(passages), batch):
        part = passages[start : start + batch]
        collection.add(
            ids=[p.id for p in part],
            embeddings=vectors[start : start + batch],
            documents=[p.text for p in part],
            metadatas=[passage_metadata(p) for p in part],
        )
    return collection


def remove_build(settings: IndexSettings, data_dir: Path, build_id: str) -> None:
    """Delete a build's folder and, in server mode, its collection. Never raises."""
    if settings.chroma_server:
        for signal in settings.dense_models():
            with contextlib.suppress(Exception):  # already gone, or server down: nothing to clean then
                chroma_client(settings, data_dir).delete_collection(collection_name(settings, build_id, signal))
    shutil.rmtree(builds_dir(data_dir) / build_id, ignore_errors=True)
