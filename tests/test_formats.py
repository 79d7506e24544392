"""Reading real formats: the originals (PDF, Word, PowerPoint) describe the same practices as the .txt corpus.

Uses /work/shared/corpus-originals (the repository's ../shared folder); those tests skip when it is absent.
Variant layouts (no Word styles, title block in a table, a deck of text boxes, a two-column PDF…) are
generated at test time so the readers are not tuned to one set of files.
"""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from indexer.build import read_corpus
from indexer.chunk import chunk_records
from indexer.models import Record, Section
from indexer.parse import parse_corpus_report, split_name_role
from indexer.read import read_document
from indexer.text import fold

ROOT = Path(__file__).resolve().parents[1]
ORIGINALS = ROOT.parent / "shared" / "corpus-originals"
needs_originals = pytest.mark.skipif(
    not ORIGINALS.is_dir(), reason=f"no originals folder at {ORIGINALS} (the shared corpus in other formats)"
)


def _corpus(tmp_path: Path, files: list[Path]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def _parse(folder: Path):
    documents, skipped = read_corpus(folder)
    records, report = parse_corpus_report(documents)
    return records, report, skipped


def _summary(records: list[Record]) -> dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]]:
    """Each practice by its folded title: region, offices, experts' names."""
    return {
        fold(r.title): (r.region, tuple(r.offices), tuple(sorted(e.expert for e in r.experts)))
        for r in records
        if r.kind == "practice"
    }


@pytest.fixture(scope="module")
def reference() -> dict:
    folder = ROOT / "corpus"
    records, _, _ = _parse(folder)
    return _summary(records)


def _originals(*patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in ORIGINALS.glob(pattern))


def _check_same_practices(records: list[Record], reference: dict) -> None:
    got = _summary(records)
    assert len(got) == 10 and sum(1 for v in got.values() if v[2]) == 8
    assert got == reference
    for office in ("DRE Pasco", "DRE Junín"):
        (practice,) = [r for r in records if r.kind == "practice" and office in r.offices]
        kinds = {fold(d).split()[0] for d in practice.documents}
        assert {"ficha", "reporte"} <= kinds, practice.documents


def _check_no_duplicate_passages(records: list[Record]) -> None:
    seen: dict[str, str] = {}
    for p in chunk_records(records):
        key = fold(p.text)
        assert seen.get(key, p.document) == p.document, f"passage twice: {p.text[:60]}"
        seen[key] = p.document


@needs_originals
def test_pdfs_only(tmp_path: Path, reference: dict):
    records, report, skipped = _parse(_corpus(tmp_path, _originals("pdf/*.pdf")))
    assert not skipped
    _check_same_practices(records, reference)
    _check_no_duplicate_passages(records)
    assert not any(
        "Página" in s.text or "Ministerio de Educación ·" in s.text for r in records for s in r.all_sections()
    )
    # both PDFs of the deck are one document
    assert any(len(d.copies) == 1 and "presentacion" in d.kept for d in report.duplicates)
    passages = chunk_records(records)
    assert all(p.page is not None and p.page >= 1 for p in passages)
    dispositivos = next(p for p in passages if "638 dispositivos" in p.text)
    import pdfplumber

    with pdfplumber.open(ORIGINALS / "pdf" / dispositivos.document) as pdf:
        pages = [i for i, page in enumerate(pdf.pages, start=1) if "638 dispositivos" in (page.extract_text() or "")]
    assert dispositivos.page in pages
    assert dispositivos.document_title.startswith("Reporte de sistematización del I Intercambio")
    # each document's heading of a practice (region, title, offices), on the page that prints it
    ayacucho = next(r for r in records if r.region == "Ayacucho")
    [heading] = ayacucho.headings
    assert "UGEL Vilcashuamán" in heading.text and fold("garantizar la continuidad") in fold(heading.text)
    with pdfplumber.open(ORIGINALS / "pdf" / heading.document) as pdf:
        printed = pdf.pages[heading.page - 1].extract_text() or "" if heading.page else ""
    assert "UGEL Vilcashuamán" in printed
    junin = next(r for r in records if r.region == "Junín")
    assert len({h.document for h in junin.headings}) == 2  # its sheet and the report
    deck = next(r for r in records if fold(r.title).startswith("mancomunidad educativa"))
    assert [s.type for s in deck.sections] == ["problem", "objectives", "strategies", "results", "lessons"]


@needs_originals
def test_word_and_powerpoint_only(tmp_path: Path, reference: dict):
    records, report, skipped = _parse(_corpus(tmp_path, _originals("*.docx", "*.pptx")))
    assert not skipped
    _check_same_practices(records, reference)
    _check_no_duplicate_passages(records)
    (dup,) = [d for d in report.duplicates if "presentacion" in d.kept]
    assert {dup.kept, *dup.copies} == {
        "presentacion-ugel07-mancomunidad-educativa.docx",
        "presentacion-ugel07-mancomunidad-educativa.pptx",
    }


@needs_originals
def test_pptx_alone_is_a_deck_with_slides(tmp_path: Path):
    records, _, _ = _parse(_corpus(tmp_path, _originals("*.pptx")))
    (deck,) = records
    assert deck.title == "Mancomunidad Educativa, Juntos Por Una Mejor Educación"
    assert deck.region == "Lima Metropolitana" and deck.offices == ["UGEL 07"]
    assert [s.type for s in deck.sections] == ["problem", "objectives", "strategies", "results", "lessons"]
    assert [s.slide for s in deck.sections] == [3, 4, 5, 6, 7]
    assert all(p.slide and not p.page for p in chunk_records(records))


@needs_originals
def test_everything_side_by_side(tmp_path: Path, reference: dict):
    files = [*sorted((ROOT / "corpus").glob("*.txt")), *_originals("*.docx", "*.pptx", "pdf/*.pdf")]
    records, report, skipped = _parse(_corpus(tmp_path, files))
    assert not skipped
    _check_same_practices(records, reference)
    _check_no_duplicate_passages(records)
    assert len(report.duplicates) == 5  # five documents, each in several files
    report_record = next(r for r in records if r.kind == "event")
    assert len(report_record.documents) == 3  # .txt, .docx, .pdf of the report


@needs_originals
def test_broken_docx_is_skipped_and_the_rest_indexes(tmp_path: Path, reference: dict):
    folder = _corpus(tmp_path, _originals("*.docx", "*.pptx"))
    broken = folder / "ficha-dre-pasco-gestion-educativa-con-impacto.docx"
    with zipfile.ZipFile(broken) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"][: len(parts["word/document.xml"]) // 2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    broken.write_bytes(buffer.getvalue())
    records, _, skipped = _parse(folder)
    (skip,) = skipped
    assert skip.path == broken.name and "DOCX" in skip.reason
    assert len([r for r in records if r.kind == "practice"]) == 10  # Pasco still comes from the report


# ---------------------------------------------------------------- generated variants


def test_docx_without_styles_title_in_a_table(tmp_path: Path):
    """Bold-capital headings without Word styles, the title block in a table, numbered items, a footer."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Dirección Regional de Educación Pasco"
    document.sections[0].footer.paragraphs[0].text = "Pág. 1"
    table = document.add_table(rows=4, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "BUENA PRÁCTICA DE GESTIÓN EDUCATIVA"
    table.cell(1, 0).text, table.cell(1, 1).text = "Título", "Escuelas que leen en familia"
    table.cell(2, 0).text, table.cell(2, 1).text = "Región", "Pasco"
    table.cell(3, 0).text, table.cell(3, 1).text = "Instancia", "UGEL Oxapampa"
    document.add_paragraph(
        "Las familias de Oxapampa no leían con sus hijos: menos del 10 % de los hogares tenía libros y las "
        "escuelas no tenían una estrategia para acercar la lectura a la casa de los estudiantes del nivel primario."
    )

    def bold(text: str) -> None:
        document.add_paragraph().add_run(text).bold = True

    bold("¿EN QUÉ CONSISTE?")
    document.add_paragraph("Cada semana las escuelas prestan maletas viajeras de libros a las familias.")
    for item in ("Formar un comité de lectura en cada escuela.", "Prestar maletas viajeras cada viernes."):
        p = document.add_paragraph(item)
        num = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", "0"), ("w:numId", "1")):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            num.append(el)
        p._p.get_or_add_pPr().append(num)
    document.add_paragraph("\uf0b7 Registrar los préstamos en un cuaderno de aula.")
    bold("¿QUÉ ESTÁ LOGRANDO?")
    document.add_paragraph("El 65 % de las familias lee con sus hijos al menos dos veces por semana.")
    document.save(str(tmp_path / "ficha.docx"))

    doc = read_document(tmp_path / "ficha.docx", tmp_path)
    assert "Pág. 1" not in doc.text and "Dirección Regional" not in doc.text
    assert "- Formar un comité de lectura" in doc.text and "- Registrar los préstamos" in doc.text
    records, _ = parse_corpus_report([doc])
    (practice,) = records
    assert practice.title == "Escuelas que leen en familia"
    assert practice.region == "Pasco" and practice.offices == ["UGEL Oxapampa"]
    assert [s.type for s in practice.sections] == ["problem", "strategies", "results"]
    assert "maletas viajeras cada viernes" in practice.sections[1].text


def test_pptx_4_3_with_text_boxes_and_a_table(tmp_path: Path):
    """Slides drawn with text boxes (no title placeholders), a table, two text boxes, slide numbers."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(10), Inches(7.5)
    blank = deck.slide_layouts[6]

    def box(slide, text: str, top: float, size: int = 18) -> None:
        frame = slide.shapes.add_textbox(Inches(0.5), Inches(top), Inches(9), Inches(0.8)).text_frame
        frame.text = text
        frame.paragraphs[0].runs[0].font.size = Pt(size)

    cover = deck.slides.add_slide(blank)
    box(cover, "Tutoría entre pares en secundaria", 2, 40)
    box(cover, "UGEL Huancayo – Región Junín", 4)
    for n, (title, body) in enumerate(
        [
            ("Problemática", "Los estudiantes de primero desaprobaban matemática en un 40 % de los casos."),
            ("Objetivos", "Reducir la desaprobación en matemática con tutoría de estudiantes de quinto."),
            ("Estrategias", "Parejas de tutoría dos veces por semana durante el recreo largo."),
            ("Logros", "La desaprobación bajó del 40 % al 18 % en un año escolar."),
        ],
        start=2,
    ):
        slide = deck.slides.add_slide(blank)
        box(slide, title, 0.3, 32)
        box(slide, body, 1.5)
        box(slide, f"{n}", 6.8, 10)  # a slide number drawn as a text box
        box(slide, "Tutoría entre pares en secundaria", 6.2, 10)  # the practice's name as furniture
        if title == "Logros":
            rows = slide.shapes.add_table(3, 2, Inches(0.5), Inches(3), Inches(6), Inches(1.5)).table
            for r, (a, b) in enumerate([("Año", "Desaprobados"), ("2023", "40 %"), ("2024", "18 %")]):
                rows.cell(r, 0).text, rows.cell(r, 1).text = a, b
    deck.save(str(tmp_path / "deck.pptx"))

    doc = read_document(tmp_path / "deck.pptx", tmp_path)
    assert doc.location_kind == "slide"
    records, _ = parse_corpus_report([doc])
    (practice,) = records
    assert practice.title == "Tutoría entre pares en secundaria"
    assert practice.region == "Junín" and practice.offices == ["UGEL Huancayo"]
    assert [s.type for s in practice.sections] == ["problem", "objectives", "strategies", "results"]
    results = practice.sections[-1]
    assert results.slide == 5 and "2024 | 18 %" in results.text


def _pdf(path: Path, pages: list[list[tuple[str, str]]], header: str, columns: bool = False) -> None:
    """A PDF with a running header and 'Pág. N' footer; each item is (style, text): h, p, b (bullet)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for n, content in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.set_xy(20, 8)
        pdf.cell(170, 5, header)
        pdf.set_xy(95, 285)
        pdf.cell(20, 5, f"Pág. {n}")
        x, width = 20.0, 170.0
        pdf.set_xy(x, 25)
        for style, text in content:
            if style == "col":  # start the right-hand column
                x, width = 110.0, 80.0
                pdf.set_xy(x, 25)
                continue
            if columns and x == 20.0:
                width = 80.0
            pdf.set_x(x)
            if style == "h":
                pdf.set_font("Helvetica", "B", 14)
                pdf.multi_cell(width, 7, text)
            elif style == "b":
                pdf.set_font("Helvetica", size=11)
                pdf.multi_cell(width, 5.5, "· " + text)
            else:
                pdf.set_font("Helvetica", size=11)
                pdf.multi_cell(width, 5.5, text)
            pdf.ln(4)
    pdf.output(str(path))


LONG = (
    "Las instituciones educativas de la provincia no contaban con un plan de gestión del riesgo y las brigadas "
    "no estaban conformadas, por lo que ante los sismos los estudiantes no sabían cómo evacuar las aulas."
)


def test_pdf_layout_headers_bullets_and_expert_box(tmp_path: Path):
    pages = [
        [
            ("p", "REGIÓN ICA"),
            ("h", "ESCUELAS SEGURAS FRENTE A SISMOS"),
            ("p", "UGEL Pisco"),
            ("h", "PROBLEMA"),
            ("p", LONG),
            ("h", "ESTRATEGIA"),
            ("b", "Conformación de brigadas en cada institución educativa focalizada de la provincia."),
            ("b", "Simulacros trimestrales con las familias y la municipalidad."),
        ],
        [
            ("h", "RESULTADOS"),
            ("b", "El 100 % de las instituciones educativas focalizadas tiene brigadas conformadas."),
            ("h", "Experto invitado"),
            ("p", "Rosa Elena Quispe Mamani\nEspecialista en gestión del riesgo - INDECI"),
            ("h", "Aspecto clave de la práctica"),
            ("p", LONG.replace("no contaban", "ahora cuentan")),
        ],
    ]
    _pdf(tmp_path / "reporte.pdf", pages, "Gobierno Regional de Ica · Reporte del intercambio")
    doc = read_document(tmp_path / "reporte.pdf", tmp_path)
    assert "Gobierno Regional de Ica" not in doc.text and "Pág." not in doc.text
    assert "- Simulacros trimestrales" in doc.text
    records, report = parse_corpus_report([doc])
    (practice,) = [r for r in records if r.kind == "practice"]
    assert practice.title.lower() == "escuelas seguras frente a sismos"
    assert practice.region == "Ica" and practice.offices == ["UGEL Pisco"]
    (expert,) = practice.experts
    assert expert.expert == "Rosa Elena Quispe Mamani" and "INDECI" in expert.role
    assert [s.page for s in practice.sections] == [1, 1, 2]
    assert expert.key_aspects[0].page == 2
    assert not report.warnings


def test_pdf_two_columns_read_column_by_column(tmp_path: Path):
    left = "La columna izquierda empieza aquí y explica el problema de la asistencia escolar en la zona rural."
    right = "La columna derecha continúa después y describe la estrategia de transporte escolar comunitario."
    _pdf(tmp_path / "dos.pdf", [[("p", left), ("p", left), ("col", ""), ("p", right), ("p", right)]], "Encabezado")
    text = read_document(tmp_path / "dos.pdf", tmp_path).text
    assert text.index("columna izquierda") < text.index("columna derecha")
    assert left in text and right in text


# ---------------------------------------------------------------- small units


@pytest.mark.parametrize(
    "line, name, role",
    [
        ("Jorge Chávez Escobar Consejero del Consejo Nacional de Educación - CNE", "Jorge Chávez Escobar", "Consejero"),
        ("Juana Sono Hernández", "Juana Sono Hernández", ""),
        ("Isela Patricia Borja Rueda – Especialista en educación", "Isela Patricia Borja Rueda", "Especialista"),
        ("Liliana Coaguila Manero, Centro de Innovación Educativa", "Liliana Coaguila Manero", "Centro"),
    ],
)
def test_split_name_role(line: str, name: str, role: str):
    got_name, got_role = split_name_role(line)
    assert got_name == name and got_role.startswith(role)


def test_invalid_utf8_is_replaced_and_reported(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes("Gestión educativa en la región".encode() + b"\xff\xfe" + b" fin")
    doc = read_document(tmp_path / "a.txt", tmp_path)
    assert "\ufffd" in doc.text and doc.notes and "UTF-8" in doc.notes[0]
    (tmp_path / "b.txt").write_bytes("Gestión educativa en la región de Junín".encode("cp1252"))
    doc = read_document(tmp_path / "b.txt", tmp_path)
    assert doc.text == "Gestión educativa en la región de Junín" and "1252" in doc.notes[0]


def test_unsupported_and_oversized_files_are_reported(tmp_path: Path):
    from indexer.build import unsupported_files
    from indexer.read import UnreadableDocument

    (tmp_path / "viejo.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "grande.txt").write_text("x" * 2000, encoding="utf-8")
    assert {u.path for u in unsupported_files(tmp_path)} == {"viejo.doc", "foto.jpg"}
    with pytest.raises(UnreadableDocument, match="demasiado grande"):
        read_document(tmp_path / "grande.txt", tmp_path, max_bytes=1000)


def test_chunking_a_huge_section_is_linear():
    lines = [f"Línea {i}: las brigadas de gestión del riesgo se reunieron en la institución {i}." for i in range(60000)]
    section = Section(type="other", heading="h", text="\n".join(lines), document="d.txt", lines=(1, len(lines)))
    section._line_numbers = list(range(1, len(lines) + 1))
    record = Record(id="r", kind="document", title="Documento grande", sections=[section])
    assert len(section.text) > 5_000_000
    started = time.perf_counter()
    passages = chunk_records([record])
    elapsed = time.perf_counter() - started
    assert passages and elapsed < 120  # quadratic line offsets took many minutes here
    for p in passages[:: max(1, len(passages) // 50)]:
        first = int(p.text.split(":")[0].split()[-1]) if p.text.startswith("Línea") else None
        if first is not None:
            assert p.lines[0] == first + 1


def test_pdf_line_joining_rejoins_hyphenation_and_keeps_short_lines():
    from indexer.readers.pdf_reader import PdfLine, join_lines

    def line(text: str, x1: float) -> PdfLine:
        return PdfLine(1, 0, 0, 70, x1, 11, False, text.split())

    lines = [
        line("Jorge Chávez Escobar", 180),
        line("La práctica fortalece la articu-", 520),
        line("lación entre la DRE y las UGEL.", 400),
    ]
    expected = "Jorge Chávez Escobar\nLa práctica fortalece la articulación entre la DRE y las UGEL."
    assert join_lines(lines, 524) == expected


def test_location_labels():
    from bot.sources import location_label

    assert location_label(27, None, (1136, 1147)) == "página 27"
    assert location_label(None, 5, (3, 9)) == "diapositiva 5"
    assert location_label(None, None, (10, 14)) == "líneas 10–14"


def test_docx_report_with_cover_dotted_toc_and_expert_box(tmp_path: Path):
    """A multi-practice report without Word styles: cover, dotted contents, bold headings, expert in a box."""
    import docx

    document = docx.Document()

    def para(text: str, bold: bool = False) -> None:
        document.add_paragraph().add_run(text).bold = bold

    para("REPORTE DEL II ENCUENTRO DE BUENAS PRÁCTICAS", True)
    para("Macrorregión sur")
    para("Arequipa, 10 de mayo")
    para("CONTENIDO", True)
    for entry, page in (("Presentación", 3), ("Buenas prácticas presentadas", 4), ("Conclusiones", 9)):
        para(f"{entry} {'.' * 40} {page}")
    para("PRESENTACIÓN", True)
    para(LONG.replace("Las instituciones", "El encuentro reunió a las instituciones"))
    for region, title, office, expert in (
        ("AREQUIPA", "BIBLIOTECAS ESCOLARES ITINERANTES", "UGEL Camaná", "María Luisa Torres Vega"),
        ("PUNO", "CONVIVENCIA ESCOLAR INTERCULTURAL", "UGEL Juli", "Pedro Pablo Condori Apaza"),
    ):
        para(f"REGIÓN {region}", True)
        para(title, True)
        para(office)
        para("PROBLEMA", True)
        para(LONG)
        para("RESULTADOS", True)
        document.add_paragraph("Se atendió a 1 200 estudiantes de 40 instituciones educativas.", style="List Bullet")
        box = document.add_table(rows=1, cols=1).cell(0, 0)
        box.paragraphs[0].add_run("Experto invitado").bold = True
        box.add_paragraph(f"{expert}, especialista de la Dirección de Educación Básica Regular")
        box.add_paragraph("Aspecto clave de la práctica")
        box.add_paragraph(LONG.replace("no contaban", "cuentan ahora"))
    para("CONCLUSIONES", True)
    para(LONG.replace("Las instituciones", "En conclusión, las instituciones"))
    document.save(str(tmp_path / "reporte.docx"))

    records, report = parse_corpus_report([read_document(tmp_path / "reporte.docx", tmp_path)])
    practices = [r for r in records if r.kind == "practice"]
    assert [(r.region, r.offices) for r in practices] == [("Arequipa", ["UGEL Camaná"]), ("Puno", ["UGEL Juli"])]
    assert [fold(r.title) for r in practices] == [
        "bibliotecas escolares itinerantes",
        "convivencia escolar intercultural",
    ]
    assert [[e.expert for e in r.experts] for r in practices] == [
        ["María Luisa Torres Vega"],
        ["Pedro Pablo Condori Apaza"],
    ]
    events = [fold(r.title) for r in records if r.kind == "event"]
    assert "presentacion" in events and "conclusiones" in events
    assert not any("reporte del ii" in t for t in events)  # the cover is not a part
    assert not report.warnings


def test_pdf_title_block_in_a_table(tmp_path: Path):
    """A sheet whose title block is a two-column table: labels are dropped, values kept, no '|' title."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(170, 8, "BUENA PRÁCTICA DE GESTIÓN EDUCATIVA", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for label, value in (("Título:", "Escuelas seguras frente a sismos"), ("Región:", "Ica"), ("UGEL:", "UGEL Pisco")):
        pdf.cell(50, 8, label, border=1)
        pdf.cell(120, 8, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(170, 5.5, LONG)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(170, 8, "¿En qué consiste?", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(170, 5.5, LONG.replace("no contaban", "ahora cuentan"))
    pdf.output(str(tmp_path / "ficha.pdf"))
    records, _ = parse_corpus_report([read_document(tmp_path / "ficha.pdf", tmp_path)])
    (practice,) = records
    assert practice.title == "Escuelas seguras frente a sismos"
    assert practice.region == "Ica" and practice.offices == ["UGEL Pisco"]
    assert [s.type for s in practice.sections] == ["problem", "strategies"]


def test_docx_text_box_is_read_in_place(tmp_path: Path):
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("Antes del cuadro.")
    anchor = document.add_paragraph("Ancla")
    anchor._p.append(
        parse_xml(
            '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent>'
            "<w:p><w:r><w:t>Texto dentro del cuadro de texto.</w:t></w:r></w:p>"
            "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
        )
    )
    document.add_paragraph("Después del cuadro.")
    document.save(str(tmp_path / "cuadro.docx"))
    text = read_document(tmp_path / "cuadro.docx", tmp_path).text
    assert text.index("Antes") < text.index("Texto dentro del cuadro") < text.index("Después")
    assert text.count("Texto dentro del cuadro") == 1


def test_warnings_for_suspicious_parses(tmp_path: Path):
    from indexer.read import SourceDocument

    no_practice = SourceDocument("rara.txt", "BUENA PRÁCTICA DE GESTIÓN EDUCATIVA\n", "x")
    _, report = parse_corpus_report([no_practice])
    assert any("rara.txt" in w and "ninguna práctica" in w for w in report.warnings)
    text = (
        "REGIÓN PASCO\n\nESCUELAS ABIERTAS\n\nDRE Pasco Correo\n\nPROBLEMA\n\n"
        + LONG
        + "\n\nExperto invitado\n\nAspecto clave de la práctica\n\n"
        + LONG
        + "\n"
    )
    _, report = parse_corpus_report([SourceDocument("ficha.txt", text, "y")])
    assert any("oficinas poco plausibles" in w for w in report.warnings) or any(
        "nombre" in w for w in report.warnings
    ), report.warnings
