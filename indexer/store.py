"""Where an index lives: build folders under the data folder, their files, and their Chroma collection.

Layout of the data folder:

    data/current.json              which build serves (replaced atomically: the switch)
    data/builds/<build-id>/        one complete index
        manifest.json              corpus hashes, model, counts, skipped files
        records.json               practice records, exchange parts, other documents
        passages.jsonl             the chunks, in embedding order
        embeddings.npy             their vectors (reused by incremental builds)
        chroma/                    the embedded Chroma database (absent in server mode)
    data/.build.lock               held by the one build allowed at a time

In server mode (CHROMA_HOST set) a build's vectors go to the collection `bpge-<build-id>` of that Chroma server.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from indexer.models import Passage, Record
from indexer.settings import Settings

COLLECTION_SPACE = {"hnsw:space": "cosine"}


class IndexMissing(Exception):
    """No build has been switched in yet."""


class StoreUnavailable(Exception):
    """The Chroma server cannot be reached."""


def chroma_client(settings: Settings, build_dir: Path) -> Any:
    """A client for a build: embedded in the build folder, or the configured Chroma server."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_server:
        host, port = settings.chroma_server
        try:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
            raise StoreUnavailable(f"no se pudo conectar con Chroma en {host}:{port} ({exc})") from exc
    return chromadb.PersistentClient(path=str(build_dir / "chroma"), settings=chroma_settings)


def collection_name(settings: Settings, build_id: str) -> str:
    return f"bpge-{build_id}" if settings.chroma_server else "passages"


def builds_dir(data_dir: Path) -> Path:
    return data_dir / "builds"


def current_build_id(data_dir: Path) -> str | None:
    pointer = data_dir / "current.json"
    try:
        return json.loads(pointer.read_text(encoding="utf-8"))["build"]
    except (OSError, ValueError, KeyError):
        return None


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

    def embeddings(self) -> np.ndarray:
        return np.load(self.path / "embeddings.npy")

    def write(
        self, manifest: dict[str, Any], records: list[Record], passages: list[Passage], vectors: np.ndarray
    ) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "records.json").write_text(
            json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        with (self.path / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(p.model_dump_json() + "\n")
        np.save(self.path / "embeddings.npy", vectors.astype(np.float32))
        self.manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def current_files(data_dir: Path) -> BuildFiles:
    build_id = current_build_id(data_dir)
    if not build_id:
        raise IndexMissing("no hay índice construido")
    files = BuildFiles(builds_dir(data_dir) / build_id)
    if not files.manifest_path.exists():
        raise IndexMissing(f"el índice {build_id} está incompleto")
    return files


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
    collection = client.create_collection(name, embedding_function=None, metadata=COLLECTION_SPACE)
    for start in range(0, len(passages), batch):
        part = passages[start : start + batch]
        collection.add(
            ids=[p.id for p in part],
            embeddings=vectors[start : start + batch],
            documents=[p.text for p in part],
            metadatas=[passage_metadata(p) for p in part],
        )
    return collection


def remove_build(settings: Settings, data_dir: Path, build_id: str) -> None:
    """Delete a build's folder and, in server mode, its collection. Never raises."""
    if settings.chroma_server:
        try:
            chroma_client(settings, data_dir).delete_collection(collection_name(settings, build_id))
        except Exception:  # already gone, or server down: nothing to clean then
            pass
    shutil.rmtree(builds_dir(data_dir) / build_id, ignore_errors=True)
