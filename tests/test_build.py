"""Index builds: incremental, atomic, one writer, bad files, DOCX, Chroma server mode."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bot.service import Assistant
from bpge.settings import TOPICS_FILE
from indexer.build import build_index
from indexer.store import IndexMissing, StoreUnavailable, builds_dir, current_build_id, current_files
from indexer.topics import BadCatalog, load_topics, read_stored_topics
from tests.support import CORPUS, ROOT, free_port, make_settings

CORPUS_FILE = CORPUS / "ficha-dre-pasco-gestion-educativa-con-impacto.txt"


def _build_cmd(corpus: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "indexer", "build", "--corpus", str(corpus), "--data", str(data), "--quiet"]


def test_incremental_build_embeds_only_the_changed_document(corpus_copy: Path, tmp_path: Path):
    settings = make_settings(corpus_copy, tmp_path / "data")
    first = build_index(settings)
    assert (first.documents, first.practices, first.expert_commentaries) == (5, 10, 8)
    assert first.embedded == first.chunks > 100

    again = build_index(settings)
    assert again.unchanged and again.embedded == 0 and again.build == first.build

    sheet = corpus_copy / "ficha-dre-junin-seguimiento-evaluacion-pat.txt"
    sheet.write_text(
        sheet.read_text(encoding="utf-8").replace(
            "Jaime Ortega Cárdenas", "Jaime Ortega Cárdenas (coordinador del PAT 2026)"
        ),
        encoding="utf-8",
    )
    changed = build_index(settings)
    assert not changed.unchanged and 0 < changed.embedded < 5
    assert any("coordinador del PAT" in p.text for p in current_files(settings.data_dir).passages())


def test_changed_passages_are_the_only_new_vectors(corpus_copy: Path, tmp_path: Path):
    settings = make_settings(corpus_copy, tmp_path / "data")
    first = build_index(settings)
    before = {p.id for p in current_files(settings.data_dir).passages()}
    deck = corpus_copy / "presentacion-ugel07-mancomunidad-educativa.txt"
    deck.write_text(
        deck.read_text(encoding="utf-8") + "\n\nLecciones aprendidas\n\n"
        "La articulación con las siete municipalidades se sostuvo con actas firmadas cada trimestre.\n",
        encoding="utf-8",
    )
    second = build_index(settings)
    after = current_files(settings.data_dir).passages()
    new = [p for p in after if p.id not in before]
    assert second.embedded == len(new) > 0
    assert {p.document for p in new} == {"presentacion-ugel07-mancomunidad-educativa.txt"}
    assert second.build != first.build


def test_removed_document_disappears(corpus_copy: Path, tmp_path: Path):
    settings = make_settings(corpus_copy, tmp_path / "data")
    build_index(settings)
    (corpus_copy / "presentacion-ugel07-mancomunidad-educativa.txt").unlink()
    summary = build_index(settings)
    assert summary.embedded == 0 and summary.practices == 9
    assistant = Assistant.load(settings)
    assert all(
        "presentacion-ugel07" not in s.document
        for s in assistant.search("Mancomunidad Educativa municipalidades", k=20)
    )


def test_failed_build_leaves_previous_index_serving(corpus_copy: Path, tmp_path: Path):
    settings = make_settings(corpus_copy, tmp_path / "data")
    build_index(settings)
    serving = current_build_id(settings.data_dir)
    assistant = Assistant.load(settings)
    (corpus_copy / "nuevo.md").write_text(
        "# Nueva práctica\n\nUn texto nuevo sobre tutoría entre pares en secundaria.\n", encoding="utf-8"
    )

    calls = []

    def failing_embedder(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        raise RuntimeError("el modelo se cayó a mitad de camino")

    with pytest.raises(RuntimeError):
        build_index(settings, embed_texts=failing_embedder)
    assert calls, "the build reached the embedding step"
    assert current_build_id(settings.data_dir) == serving
    assert [p.name for p in builds_dir(settings.data_dir).iterdir()] == [serving]
    answer = assistant.ask("¿Cuántos dispositivos de seguridad se distribuyeron en Ayacucho?")
    assert "638" in answer.answer


def test_failure_while_writing_leaves_previous_index(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = make_settings(corpus_copy, tmp_path / "data")
    build_index(settings)
    serving = current_build_id(settings.data_dir)
    (corpus_copy / "nuevo.md").write_text("# Otra\n\nTexto distinto sobre convivencia escolar.\n", encoding="utf-8")
    import indexer.build as build_module

    def broken_write(*args, **kwargs):
        raise OSError("disco lleno")

    monkeypatch.setattr(build_module.BuildFiles, "write", broken_write)
    with pytest.raises(OSError):
        build_index(settings)
    assert current_build_id(settings.data_dir) == serving
    assert [p.name for p in builds_dir(settings.data_dir).iterdir()] == [serving]
    assert Assistant.load(settings).ask("brigadas de gestión del riesgo").sources


def test_second_concurrent_build_is_refused(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from filelock import FileLock; lock=FileLock(sys.argv[1]); lock.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
            str(data / ".build.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        result = subprocess.run(
            _build_cmd(ROOT / "corpus", data),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3
    assert "Ya hay una indexación en curso" in result.stderr
    assert current_build_id(data) is None


def test_broken_and_empty_files_are_skipped_with_a_message(corpus_copy: Path, tmp_path: Path):
    (corpus_copy / "roto.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref")
    (corpus_copy / "vacio.txt").write_text("   \n\n", encoding="utf-8")
    (corpus_copy / "sub").mkdir()
    (corpus_copy / "sub" / "dañado.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = subprocess.run(
        _build_cmd(corpus_copy, tmp_path / "data"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Omitido: roto.pdf" in result.stderr
    assert "Omitido: vacio.txt — archivo vacío" in result.stderr
    assert "Omitido: sub/dañado.docx" in result.stderr
    assert "10 prácticas" in result.stdout
    status = subprocess.run(
        [sys.executable, "-m", "indexer", "status", "--data", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0 and "roto.pdf" in status.stdout


def test_docx_document_becomes_one_record(tmp_path: Path):
    import docx

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    document = docx.Document()
    document.add_heading("Guía de tutoría entre pares", level=1)
    document.add_paragraph("Los estudiantes de quinto grado acompañan a los de primero en lectura durante el recreo.")
    document.add_heading("Resultados", level=2)
    document.add_paragraph("La asistencia a la biblioteca escolar subió de 20 a 45 estudiantes por semana.")
    document.save(str(corpus / "guia.docx"))
    assistant_settings = make_settings(corpus, tmp_path / "data")
    summary = build_index(assistant_settings)
    assert summary.other_documents == 1 and summary.practices == 0
    record = current_files(assistant_settings.data_dir).records()[0]
    assert record.title == "Guía de tutoría entre pares" and record.kind == "document"
    assert [s.heading for s in record.sections] == ["Guía de tutoría entre pares", "Resultados"]


def test_cli_practices_and_missing_index(tmp_path: Path, shipped_data_dir: Path):
    listed = subprocess.run(
        [sys.executable, "-m", "indexer", "practices", "--json", "--data", str(shipped_data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0
    import json

    rows = json.loads(listed.stdout)
    assert len(rows) == 10 and sum(r["expert_commentary"] for r in rows) == 8
    missing = subprocess.run(
        [sys.executable, "-m", "indexer", "status", "--data", str(tmp_path / "nada")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 4 and "python -m indexer build" in missing.stderr
    with pytest.raises(IndexMissing):
        Assistant.load(make_settings(ROOT / "corpus", tmp_path / "nada"))


@dataclass
class ChromaServer:
    """A `chroma run` started for one test."""

    port: int
    process: subprocess.Popen[bytes]

    def crash(self) -> None:
        """Kill the server, as a crash would, and wait until its port is closed."""
        self.process.kill()
        self.process.wait(timeout=20)


@pytest.fixture()
def chroma_server(tmp_path: Path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "chroma-server"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("chroma run did not start")
    yield ChromaServer(port, process)
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=20)


def test_chroma_server_mode(chroma_server: ChromaServer, tmp_path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = make_settings(
        ROOT / "corpus", tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server.port
    )
    summary = build_index(settings)
    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_server.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(f"bpge-{summary.build}")
    assert collection.count() == summary.chunks
    assert not (builds_dir(settings.data_dir) / summary.build / "chroma").exists()
    assistant = Assistant.load(settings)
    answer = assistant.ask("¿Qué presentó la UGEL Angaraes en el intercambio?")
    assert answer.sources[0].practice.startswith("Facilitadores del bienestar emocional")
    chroma_server.crash()  # the server goes away while the assistant is serving
    with pytest.raises(StoreUnavailable, match="Chroma"):
        assistant.ask("¿Qué presentó la UGEL Angaraes en el intercambio?")


def test_chroma_server_down_is_a_clear_error(tmp_path: Path):
    settings = make_settings(ROOT / "corpus", tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreUnavailable):
        build_index(settings)
    assert current_build_id(settings.data_dir) is None


def test_build_from_originals_reports_what_happened(tmp_path: Path):
    """PDFs (two of the same deck), a broken .docx, a .doc and a bad .txt: one index, every file accounted for."""
    originals = ROOT.parent / "shared" / "corpus-originals"
    if not originals.is_dir():
        pytest.skip(f"no originals folder at {originals}")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for pdf in (originals / "pdf").glob("*.pdf"):
        shutil.copy(pdf, corpus / pdf.name)
    sheet = originals / "ficha-dre-pasco-gestion-educativa-con-impacto.docx"
    (corpus / "roto.docx").write_bytes(sheet.read_bytes()[:9000])
    (corpus / "antiguo.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    (corpus / "nota.txt").write_bytes("Nota sobre la gestión".encode() + b" \xff\xfe " + b"escolar en Huacho.")
    settings = make_settings(corpus, tmp_path / "data")
    summary = build_index(settings)
    assert (summary.practices, summary.expert_commentaries) == (10, 8)
    assert [s.path for s in summary.skipped] == ["roto.docx"] and "DOCX" in summary.skipped[0].reason
    assert [u.path for u in summary.unsupported] == ["antiguo.doc"]
    assert any(d["copies"] for d in summary.duplicates)
    assert any("nota.txt" in w and "UTF-8" in w for w in summary.warnings)
    passages = current_files(settings.data_dir).passages()
    assert len({p.text for p in passages}) == len(passages), "one document, one copy"
    assert all(p.page for p in passages if p.document.endswith(".pdf"))
    answer = Assistant.load(settings).search("dispositivos de seguridad distribuidos en Ayacucho", k=5)
    assert answer[0].page and answer[0].document.endswith(".pdf") and answer[0].document_title


def test_the_build_measures_each_topic_of_the_catalog_against_the_corpus(shipped_data_dir: Path):
    stored = read_stored_topics(current_files(shipped_data_dir).path)
    assert stored is not None
    assert list(stored.models) == ["dense", "dense2"]  # e5 and USE, the primary first
    for model in stored.models.values():
        assert len(stored.rows) == len(load_topics(TOPICS_FILE)) == len(model.vectors.passage) == len(model.coverage)
    # subjects of the corpus's practices are covered better than topics of the field it never mentions, by each model
    told = ("redes_educativas", "pat_planificacion", "plan_gestion_riesgo_ie")
    untold = ("cese_pensiones", "ejecucion_gasto_siaf", "transporte_escolar_urbano")
    for signal in stored.models:
        coverage = {r["id"]: r["coverage"][signal] for r in stored.rows}
        assert min(coverage[t] for t in told) > max(coverage[t] for t in untold), signal
    # USE's cosines put on e5's scale: USE scores unrelated texts far lower, so its line lifts and stretches them
    slope, offset = stored.models["dense2"].scale
    assert 0 < slope < 1 and 0.5 < offset < 1


def test_an_edited_topic_catalog_is_measured_at_the_next_build(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS_FILE, corpus)
    catalog = tmp_path / "topics.toml"
    entry = '[[topic]]\nid = "{id}"\nlabel = "{label}"\ntext = "{text}"\n\n'
    catalog.write_text(
        entry.format(id="pagos", label="el pago de remuneraciones", text="Retrasos en el pago de sueldos a docentes."),
        encoding="utf-8",
    )
    settings = make_settings(corpus, tmp_path / "data", topics_file=catalog)
    first = build_index(settings)
    with catalog.open("a", encoding="utf-8") as fh:
        fh.write(entry.format(id="lectura", label="la lectura", text="Estudiantes que no comprenden lo que leen."))
    second = build_index(settings)
    assert not second.unchanged and second.build != first.build and second.embedded == 0  # passages reused
    stored = read_stored_topics(current_files(tmp_path / "data").path)
    assert stored is not None and [r["id"] for r in stored.rows] == ["pagos", "lectura"]

    catalog.write_text("[[topic]\nid = 1\n", encoding="utf-8")  # a broken hand edit stops the build, says where
    with pytest.raises(BadCatalog, match=r"topics\.toml"):
        build_index(settings)
    assert current_build_id(tmp_path / "data") == second.build


def test_dense_search_returns_the_exact_nearest_passages(assistant: Assistant):
    """The HNSW search list is wide enough that Chroma's answer is the exact top of the cosine order (the default
    reordered the tail between two loads of one build, so the same question could rank differently)."""
    retriever = assistant.retriever
    lines = (ROOT / "eval" / "dev3.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    for signal in retriever.dense_signals:
        ids = [p.id for p in retriever.passages]
        stored = signal.collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
        matrix = np.array([by_id[i] for i in ids], dtype=np.float32)
        for question in questions:
            vector = retriever.encode(retriever.normalizer.normalize(question).text)[signal.name]
            found = retriever.dense_scores(signal, vector, None)
            exact = np.argsort(-(matrix @ vector))[: len(found)]
            assert set(found) == {int(i) for i in exact}, (signal.name, question)
