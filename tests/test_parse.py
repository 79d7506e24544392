"""The parser on the real corpus: practices, expert commentary, exchange parts, merges, line ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.chunk import chunk_records
from indexer.models import Record
from indexer.parse import parse_corpus
from indexer.read import discover, read_document
from indexer.text import fold

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def documents():
    return {d.path: d for d in (read_document(p, CORPUS) for p in discover(CORPUS))}


@pytest.fixture(scope="module")
def records(documents) -> list[Record]:
    return parse_corpus(list(documents.values()))


def practice(records: list[Record], office: str) -> Record:
    matches = [r for r in records if r.kind == "practice" and any(fold(office) == fold(o) for o in r.offices)]
    assert len(matches) == 1, f"{office}: {[m.title for m in matches]}"
    return matches[0]


def test_ten_practices_eight_with_expert_commentary(records):
    practices = [r for r in records if r.kind == "practice"]
    assert len(practices) == 10
    assert sum(1 for r in practices if r.experts) == 8
    assert len({r.id for r in records}) == len(records), "ids are unique"


@pytest.mark.parametrize(
    "office, region, title_start",
    [
        ("UGEL Huaura", "Lima Provincias", "puentes para la inclusion"),
        ("DRE Ayacucho", "Ayacucho", "fortalecemos la gestion del riesgo"),
        ("DRE Pasco", "Pasco", "gestion educativa con impacto"),
        ("UGEL Ventanilla", "Callao", "estrategia inclusion total"),
        ("UGEL Angaraes", "Huancavelica", "facilitadores del bienestar emocional"),
        ("DRE Junín", "Junín", "estrategia de seguimiento y evaluacion"),
        ("UGEL Nasca", "Ica", "compartimos nuestro amor por la lectura"),
    ],
)
def test_regions_offices_and_titles(records, office, region, title_start):
    r = practice(records, office)
    assert r.region == region
    assert fold(r.title).startswith(title_start)


def test_lima_metropolitana_offices(records):
    redes = next(r for r in records if fold(r.title).startswith("redes educativas"))
    assert redes.offices == ["DRE Lima Metropolitana"] + [f"UGEL 0{i}" for i in range(1, 8)]
    evaluando = next(r for r in records if fold(r.title).startswith("evaluando aprendizajes"))
    assert evaluando.offices == ["DRE Lima Metropolitana"] and evaluando.experts


def test_ayacucho_offices_listed_one_by_one(records):
    r = practice(records, "UGEL Vilcashuamán")
    assert len(r.offices) == 11 and r.offices[0] == "DRE Ayacucho"


@pytest.mark.parametrize("office", ["DRE Pasco", "DRE Junín"])
def test_sheet_and_report_merge_into_one_practice(records, office):
    r = practice(records, office)
    assert len(r.documents) == 2
    assert any(d.startswith("ficha-") for d in r.documents) and any(d.startswith("reporte-") for d in r.documents)
    assert {s.document for s in r.sections} == set(r.documents)
    assert r.event and "intercambio" in fold(r.event)


def test_sheet_sections(records):
    r = practice(records, "DRE Pasco")
    sheet = [s for s in r.sections if s.document.startswith("ficha-")]
    assert [s.type for s in sheet] == ["problem", "strategies", "results", "contacts", "gallery"]
    contacts = next(s for s in sheet if s.type == "contacts")
    assert "Ada Liz Valentín León" in contacts.text and "ingles@drepassco.gob.pe" in contacts.text


def test_expert_commentary(records):
    r = practice(records, "UGEL Nasca")
    (expert,) = r.experts
    assert expert.expert == "Liliana Coaguila Manero"
    assert "Centro de Innovación Educativa" in expert.role
    assert expert.key_aspects and expert.opportunities and expert.recommendations
    assert "dependencia de liderazgos clave" in expert.opportunities[0].text
    assert all(s.expert == expert.expert for s in expert.sections)


def test_slide_deck_sections(records):
    r = next(r for r in records if fold(r.title).startswith("mancomunidad educativa"))
    assert r.region == "Lima Metropolitana" and r.offices == ["UGEL 07"]
    assert [s.type for s in r.sections] == ["problem", "objectives", "strategies", "results", "lessons"]
    assert "12.4%" in r.sections[0].text


def test_event_parts_are_records(records):
    events = {fold(r.title) for r in records if r.kind == "event"}
    assert any(t.startswith("presentacion") for t in events)
    assert any(t.startswith("resumen ejecutivo") for t in events)
    assert any("comunidad de practica" in t for t in events)
    assert any("testimonios" in t for t in events)


def test_visit_is_attached_to_its_practice(records):
    r = practice(records, "UGEL Huaura")
    visit = [s for s in r.sections if s.type == "event"]
    assert visit and "islas formativas" in fold(visit[0].text) and "pasantia" in fold(visit[0].heading)


def test_section_line_ranges_point_at_their_text(records, documents):
    for r in records:
        for s in r.all_sections():
            lines = documents[s.document].lines[s.lines[0] - 1 : s.lines[1]]
            source = fold(" ".join(lines))
            text_lines = [fold(line) for line in s.text.split("\n") if fold(line)]
            assert text_lines[0] in source and text_lines[-1] in source, (r.id, s.type, s.lines)


def test_chunks_carry_metadata_and_exact_lines(records, documents):
    passages = chunk_records(records)
    assert len(passages) > 100
    by_record = {r.id: r for r in records}
    for p in passages:
        record = by_record[p.record_id]
        assert p.practice == record.title and p.region == (record.region or "") and p.offices == record.offices
        section_texts = [s.text for s in record.all_sections() if s.type == p.section and s.document == p.document]
        assert any(p.text in t for t in section_texts), "a chunk never mixes two sections or two records"
        source = fold(" ".join(documents[p.document].lines[p.lines[0] - 1 : p.lines[1]]))
        words = fold(p.text).split()
        assert " ".join(words[:3]) in source and " ".join(words[-3:]) in source, (p.document, p.lines, p.text[:60])
        assert p.embedding_text().startswith(record.title)


def test_specific_chunk_lines(records):
    passages = chunk_records(records)
    dispositivos = next(p for p in passages if "638 dispositivos" in p.text)
    assert dispositivos.lines[0] <= 402 <= dispositivos.lines[1]
    assert dispositivos.document.startswith("reporte-") and dispositivos.section == "results"
