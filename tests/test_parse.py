"""The parser on the real corpus: practices, expert commentary, exchange parts, merges, line ranges."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.chunk import chunk_records
from indexer.models import Record, Section
from indexer.parse import parse_corpus
from indexer.read import discover, read_document
from indexer.repeats import SAME_PARAGRAPH, drop_repeats, similarity
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


def _paragraphs(text: str) -> list[str]:
    """Paragraphs and list items of a section's text, folded; headings ('Fase de preparación y soporte:') left
    out: one stays in each document when it introduces items that differ."""
    out: list[str] = []
    for block in text.split("\n\n"):
        out += [fold(x) for x in re.split(r"\n(?=- )", block) if len(fold(x).split()) >= 8]
    return out


@pytest.mark.parametrize("office", ["DRE Pasco", "DRE Junín"])
def test_a_practice_in_two_documents_tells_each_paragraph_once(records, documents, office):
    """The report repeats the sheet's paragraphs (condensed): each is kept once, in its longer wording, and the
    section keeping it names where the report tells it."""
    r = practice(records, office)
    report = next(d for d in r.documents if d.startswith("reporte-"))
    for kind in ("problem", "strategies", "results"):
        sections = [s for s in r.sections if s.type == kind]
        sheet, told = ([p for s in sections if s.document == d for p in _paragraphs(s.text)] for d in r.documents)
        for a in sheet:
            for b in told:
                same_figures = set(re.findall(r"\d+", a)) == set(re.findall(r"\d+", b))
                assert similarity(a.split(), b.split()) < SAME_PARAGRAPH or not same_figures, (kind, a[:60], b[:60])
        keeping = [s for s in sections if s.also_in]
        assert keeping and all(s.document.startswith("ficha-") for s in keeping), kind
        kept_in_report = " ".join(fold(s.text) for s in sections if s.document == report)
        for span in (x for s in keeping for x in s.also_in):
            assert span.document == report and span.document_title.startswith("Reporte de sistematización")
            cited = [fold(line) for line in documents[report].lines[span.lines[0] - 1 : span.lines[1]]]
            assert cited[0] and cited[0] not in kept_in_report, "the copy cited is the one left out"
    problem = next(s for s in r.sections if s.type == "problem" and s.document.startswith("ficha-"))
    assert [x.document for x in problem.also_in] == [report], "the kept problem paragraph names both documents"


def test_the_pasco_report_repeats_are_gone_and_its_own_items_stay(records, documents):
    r = practice(records, "DRE Pasco")
    report = [s for s in r.sections if s.document.startswith("reporte-")]
    assert [s.type for s in report] == ["strategies", "results"]  # its problem paragraph is the sheet's
    text = "\n".join(s.text for s in report)
    assert "Sistematizar y difundir la información para mejorar la toma de decisiones." in text  # a different item
    assert "Elaborar e implementar una planificación" not in text  # told (longer) by the sheet
    sheet_problem = next(s for s in r.sections if s.type == "problem")
    (span,) = sheet_problem.also_in
    assert documents[span.document].lines[span.lines[0] - 1].startswith("Durante los años 2021 y 2022")
    results = next(s for s in r.sections if s.type == "results" and s.document.startswith("ficha-"))
    assert "de 45% a 72%" in results.text and results.also_in[0].lines[0] == 479


def test_repeats_keep_the_longer_copy_and_what_differs():
    def section(document: str, lines: list[str], first: int) -> Section:
        s = Section(type="results", heading="", text="\n".join(lines), document=document, lines=(first, first))
        s._line_numbers = list(range(first, first + len(lines)))
        s.lines = (s._line_numbers[0], s._line_numbers[-1])
        return s

    sheet = section(
        "ficha.txt",
        [
            "Logros:",
            "- Se capacitó a 120 docentes de 40 escuelas rurales en gestión del riesgo.",  # 11
            "- Se redujo la deserción escolar de 12% a 5% en dos años.",  # 12
            "- Se formaron comités de gestión del riesgo en todas las escuelas de la provincia.",  # 13
            "- Se elaboraron planes de contingencia con participación de las familias y autoridades.",  # 14
        ],
        10,
    )
    report = section(
        "reporte.txt",
        [
            "Primera fase:",
            "- Se capacitó a 120 docentes de 40 escuelas rurales en gestión del riesgo de desastres.",  # 51: longer
            "- Se formaron comités de gestión del riesgo en las escuelas.",  # 52: a copy of 13
            "",
            "Segunda fase:",
            "- Se redujo la deserción escolar de 12% a 4% en dos años.",  # 55: another figure
            "- Se elaboraron planes de contingencia con las familias.",  # 56: a copy of 14
            "",
            "Tercera fase:",  # 58: a lead-in whose only item is a copy: goes with it
            "- Se formaron comités de gestión del riesgo en todas las escuelas.",  # 59: a copy of 13
        ],
        50,
    )
    kept_sheet, kept_report = drop_repeats([sheet, report])
    assert kept_sheet is not None and kept_report is not None
    assert kept_sheet.text.splitlines() == [sheet.text.splitlines()[i] for i in (0, 2, 3, 4)]
    assert kept_report.text.split("\n") == [report.text.split("\n")[i] for i in (0, 1, 3, 4, 5)]
    assert [(x.document, x.lines) for x in kept_sheet.also_in] == [("reporte.txt", (52, 52)), ("reporte.txt", (56, 59))]
    assert [(x.document, x.lines) for x in kept_report.also_in] == [("ficha.txt", (11, 11))]
    assert kept_sheet._line_numbers == [10, 12, 13, 14] and kept_report.lines == (50, 55)


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


OTHER_SECTOR = """BUENA PRÁCTICA EN GESTIÓN PÚBLICA – REGISTROS CIVILES E IDENTIDAD

Título: "Ningún vecino sin nombre": campañas itinerantes de identificación en comunidades nativas
Entidad: Oficina de Registro del Estado Civil de la Municipalidad Distrital de Nueva Esperanza
Región: Amazonas
Socios: Oficina regional de identificación, centro de salud, gobernación distrital

1. CONTEXTO Y PROBLEMA

El distrito comprende 19 comunidades nativas y 22 caseríos, muchos accesibles solo por vía fluvial. Un censo comunal
identificó que 1 140 personas no contaban con Documento Nacional de Identidad.

2. ESTRATEGIAS IMPLEMENTADAS

Se organizaron 14 campañas fluviales y terrestres con el registrador civil y el personal de salud.

3. RESULTADOS

Personas que obtuvieron su DNI: 892.
"""


def test_another_sectors_good_practice_is_a_document_not_a_practice(tmp_path: Path):
    """A «Región: X» line and practice-like headings but no DRE/GRE/UGEL: not one of the corpus's practices (it would
    be listed and answered as one, titled by whatever line followed the region); its text is still indexed."""
    import docx

    document = docx.Document()  # one paragraph per line, as a word processor writes it
    for line in OTHER_SECTOR.splitlines():
        if line.strip():
            document.add_paragraph(line)
    document.save(str(tmp_path / "registro-civil.docx"))
    records = parse_corpus([read_document(p, tmp_path) for p in discover(tmp_path)])
    assert [r.kind for r in records] == ["document"]
    text = " ".join(s.text for s in records[0].sections)
    assert "1 140 personas" in text and "892" in text
