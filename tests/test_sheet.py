"""The practice sheet of a practice told by two documents (Pasco: its sheet and the exchange's report), over the
real shipped corpus as the app stores it: each paragraph shown once, both documents cited for a merged one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.pages import render_practice
from bot.telegram.format import render_sheet_section
from bot.telegram.texts import default_texts
from bot.views import PracticeSheet
from indexer.models import Record
from indexer.parse import parse_corpus
from indexer.read import discover, read_document
from indexer.repeats import SAME_PARAGRAPH, similarity
from indexer.text import fold

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
PASCO = "gestion-educativa-con-impacto-para-la-mejora"
SHEET = "ficha-dre-pasco-gestion-educativa-con-impacto.txt"
REPORT = "reporte-sistematizacion-i-intercambio-bpge-macrorregion-centro.txt"


@pytest.fixture(scope="module")
def pasco() -> Record:
    """The Pasco record as the app reads it back from records.json (no parse-time private fields)."""
    records = parse_corpus([read_document(p, CORPUS) for p in discover(CORPUS)])
    record = next(r for r in records if r.id == PASCO)
    return Record.model_validate(record.model_dump(mode="json"))


def test_each_paragraph_is_shown_once(pasco: Record) -> None:
    sheet = PracticeSheet.of(pasco)
    for group in sheet.groups:
        paragraphs = [
            fold(x)
            for p in group.parts
            for block in p.text.split("\n\n")
            for x in re.split(r"\n(?=- )", block)
            if len(fold(x).split()) >= 8  # headings ('Fase 1:') stay in each document that lists items under them
        ]
        for i, a in enumerate(paragraphs):
            for b in paragraphs[i + 1 :]:
                assert similarity(a.split(), b.split()) < SAME_PARAGRAPH, (group.key, a[:60], b[:60])


def test_a_merged_section_cites_both_documents(pasco: Record) -> None:
    sheet = PracticeSheet.of(pasco)
    (problem,) = next(g for g in sheet.groups if g.key == "problem").parts
    assert problem.document == SHEET and problem.origin.endswith("línea 13")
    assert problem.also == [
        "Reporte de sistematización del I Intercambio de Buenas Prácticas de Gestión Educativa, línea 463"
    ]
    strategies = [p for g in sheet.groups if g.key == "strategies" for p in g.parts]
    assert [p.document for p in strategies] == [SHEET, REPORT]  # the sheet's list, then the report's own items
    assert strategies[0].also and not strategies[1].also
    origin = sheet.section_origin("problem")
    assert "Gestión educativa con impacto" in origin and "Reporte de sistematización" in origin

    html = render_practice(pasco)
    assert html.count("también en:") == sum(bool(p.also) for g in sheet.groups for p in g.parts) == 3
    telegram = render_sheet_section(sheet, "problem", default_texts())
    assert telegram.count("Durante los años 2021") + telegram.count("durante 2021 y 2022") == 1
    assert "Reporte de sistematización" in telegram and "Gestión educativa con impacto" in telegram


@pytest.mark.parametrize(
    "lines, marked",
    [
        ((463, 463), (SHEET, "problem")),  # the report's copy, left out: the sheet's paragraph is marked
        ((471, 471), (SHEET, "strategies")),
        ((470, 475), (REPORT, "strategies")),  # a passage of the report's own items
        ((13, 13), None),  # another document's lines
    ],
)
def test_a_citation_of_either_copy_opens_the_paragraph(
    pasco: Record, lines: tuple[int, int], marked: tuple[str, str] | None
) -> None:
    sheet = PracticeSheet.of(pasco, (REPORT, *lines))
    cited = [(p.document, g.key) for g in sheet.groups for p in g.parts if p.cited]
    assert cited == ([marked] if marked else [])
    assert sheet.has_cited == bool(marked)
