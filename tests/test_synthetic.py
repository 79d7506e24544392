"""The synthetic corpus generator (bench/synthetic.py): deterministic, sheet-shaped, real text only."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import load_script

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


def _load_generator() -> ModuleType:
    return load_script(REPO / "bench" / "synthetic.py", "bench_synthetic")


synthetic = _load_generator()

N = 40
EXPERT_MARKERS = [
    "Experto invitado",
    "Aspecto clave de la práctica",
    "Oportunidades de mejora",
    "Recomendaciones para la sostenibilidad y réplica",
]
HEADINGS = ["## ¿En qué consiste?", "## ¿Qué está logrando?", "## Contactos", "## Galería"]

_PLACES_RE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(synthetic.ALL_PLACE_NAMES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Comparable form: markup, checkmarks and numbers out, place names as <P>, spaces collapsed."""
    text = text.replace("*", "").replace("✓", "")
    text = _PLACES_RE.sub("<P>", text)
    text = re.sub(r"\d+(?:[ ,.]\d+)*", "#", text)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    practices = synthetic.generate(N, out / "a", seed=7, corpus_dir=CORPUS)
    return out, practices


@pytest.fixture(scope="module")
def corpus_text() -> str:
    return normalise("\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))))


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


def test_deterministic_for_a_seed(generated, tmp_path):
    out, _ = generated
    first = _files(out / "a")
    synthetic.generate(N, tmp_path / "b", seed=7, corpus_dir=CORPUS)
    assert _files(tmp_path / "b") == first
    synthetic.generate(N, tmp_path / "c", seed=8, corpus_dir=CORPUS)
    assert _files(tmp_path / "c") != first


def test_regenerating_replaces_earlier_files(tmp_path):
    synthetic.generate(12, tmp_path, seed=1, corpus_dir=CORPUS)
    synthetic.generate(5, tmp_path, seed=1, corpus_dir=CORPUS)
    assert len(list(tmp_path.glob("*.txt"))) == 5


def test_files_have_the_sheet_shape(generated):
    out, practices = generated
    files = _files(out / "a")
    assert len(files) == N
    assert len({p.title for p in practices}) == N, "titles are unique"
    with_expert = 0
    for name, text in files.items():
        assert name.startswith("ficha-syn-")
        size = len(text.encode("utf-8"))
        assert synthetic.MIN_BYTES <= size <= synthetic.MAX_BYTES, (name, size)
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines[0] == "## BUENA PRÁCTICA DE GESTIÓN EDUCATIVA"
        assert lines[1].startswith("# ") and 10 < len(lines[1]) <= synthetic.MAX_TITLE_CHARS + 4
        region = lines[2].removeprefix("REGIÓN ")
        assert lines[2].startswith("REGIÓN ") and region in {r.upper() for r in synthetic.REGIONS}
        assert re.match(r"^(DRE|GRE|UGEL) ", lines[3], re.IGNORECASE), lines[3]
        positions = [lines.index(h) for h in HEADINGS]
        assert positions == sorted(positions), name
        assert lines.index(HEADINGS[0]) > 4, "problem paragraphs before the strategies"
        if "Experto invitado" in lines:
            with_expert += 1
            marks = [lines.index(m) for m in EXPERT_MARKERS]
            assert marks == sorted(marks)
            assert lines.index(HEADINGS[1]) < marks[0] < lines.index(HEADINGS[2]), "commentary after the results"
            assert marks[1] == marks[0] + 3, "name and role between 'Experto invitado' and the key aspect"
        else:
            assert not any(m in lines for m in EXPERT_MARKERS[1:])
        assert sum(1 for line in lines if line.startswith("Correo:")) >= 1
    assert 0.25 * N <= with_expert <= 0.75 * N


def test_running_text_comes_from_the_real_corpus(generated, corpus_text):
    """Every bullet and paragraph of the body is a real passage, modulo numbers and place names."""
    out, _ = generated
    checked = 0
    for name, text in _files(out / "a").items():
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        body = lines[4 : lines.index("## Contactos")] + lines[lines.index("## Galería") + 1 :]
        skip = set(HEADINGS) | set(EXPERT_MARKERS) | {"Información relevante del experto comentarista"}
        if "Experto invitado" in body:
            i = body.index("Experto invitado")
            skip |= {body[i + 1], body[i + 2]}  # synthetic name, role
        for line in body:
            if line in skip or line.startswith("### "):
                continue
            passage = normalise(re.sub(r"^- ", "", line))
            assert passage in corpus_text, f"{name}: not from the corpus: {line[:120]}"
            checked += 1
    assert checked > N * 10


def test_numbers_are_perturbed_but_not_all(generated):
    out, _ = generated
    text = "\n".join(_files(out / "a").values())
    # e.g. the Angaraes result "De 14,352 estudiantes matriculados" or the Callao "162,303 estudiantes"
    numbers = set(re.findall(r"\d{1,3}(?:,\d{3})+", text))
    corpus_numbers = set(re.findall(r"\d{1,3}(?:,\d{3})+", "\n".join(p.read_text() for p in CORPUS.glob("*.txt"))))
    assert numbers - corpus_numbers, "some numbers are changed"
    assert numbers & corpus_numbers, "some are kept"
