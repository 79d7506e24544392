"""Word documents: the body in document order (paragraphs, tables and text boxes interleaved).

Page headers and footers are never read (they hold the institution and page numbers, not content).
Headings are found by style or by look (a short bold or ALL-CAPS paragraph), so documents written without
Word styles read the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from lxml import etree

from indexer.readers.blocks import TextBlock, strip_bullet
from indexer.text import collapse_spaces, fold, is_upper_text

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": W, "mc": MC}
_LABEL_TO_DROP = {"titulo", "nombre de la practica", "practica", "buena practica", "nombre", "denominacion"}
_OFFICE_LABELS = {"dre", "gre", "ugel", "instancia", "instancias", "oficina", "oficinas", "iged", "dre ugel"}


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{_NS[prefix]}}}{name}"


def _heading_level(style: str) -> int | None:
    name = style.lower()
    if name in {"title", "título", "titulo"}:
        return 1
    m = re.match(r"^(heading|título|titulo|encabezado)\s*(\d)?", name)
    if m:
        return int(m.group(2) or 1)
    return None


def _all_bold(paragraph) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    if not runs:
        return False

    def bold(run) -> bool:
        if run.bold is not None:
            return bool(run.bold)
        style = paragraph.style
        while style is not None:
            if style.font.bold is not None:
                return bool(style.font.bold)
            style = style.base_style
        return False

    return all(bold(r) for r in runs)


def _looks_like_heading(text: str, paragraph) -> bool:
    """A short bold ALL-CAPS line that is not a sentence: a heading even without a heading style.

    A bold-only or capitals-only short paragraph stays a paragraph of its own (a block): the parser judges
    it by its place (before a long paragraph, in the table of contents), as bold captions are common.
    """
    if len(text) > 150 or "\n" in text.strip() or text.rstrip().endswith((".", ",", ";")):
        return False
    if len(re.findall(r"[A-Za-zÁÉÍÓÚÑáéíóúñ]", text)) < 3:
        return False
    return _all_bold(paragraph) and is_upper_text(text)


def _paragraph_blocks(paragraph, table_cell: bool = False) -> list[TextBlock]:
    from docx.text.paragraph import Paragraph

    assert isinstance(paragraph, Paragraph)
    out: list[TextBlock] = []
    text = paragraph.text.replace("\xa0", " ")
    text = "\n".join(collapse_spaces(t) if "\t" not in t else t.strip() for t in text.split("\n")).strip()
    style = paragraph.style.name if paragraph.style is not None else ""
    if text:
        level = _heading_level(style or "")
        p_pr = paragraph._p.pPr
        numbered = p_pr is not None and p_pr.numPr is not None
        body, bulleted = strip_bullet(text)
        if level is not None:
            out.append(TextBlock("heading", text, level=level))
        elif bulleted or "list" in (style or "").lower() or "lista" in (style or "").lower() or numbered:
            out.append(TextBlock("item", body.strip()))
        elif _looks_like_heading(text, paragraph):
            out.append(TextBlock("heading", text, level=3))
        else:
            out.append(TextBlock("paragraph", text))
    # text boxes anchored in this paragraph (the Fallback copy of the same box is skipped)
    boxes = cast(
        list[etree._Element],
        etree._Element.xpath(paragraph._p, ".//w:txbxContent[not(ancestor::mc:Fallback)]", namespaces=_NS),
    )
    for box in boxes:
        for p in box.iterchildren(_q("w:p")):
            out.extend(_paragraph_blocks(Paragraph(cast(Any, p), paragraph._parent)))
    return out


def is_form_label(text: str) -> bool:
    """'Región', 'Título:', 'UGEL': the label cell of a form-like table row, whose value is the content."""
    key = fold(text)
    return bool(key) and (
        key in _LABEL_TO_DROP
        or key in _OFFICE_LABELS
        or key.startswith("region")
        or (text.strip().endswith(":") and len(key.split()) <= 4)
    )


def _cell_blocks(cell) -> list[TextBlock]:
    out: list[TextBlock] = []
    for child in _body_blocks(cell._tc, cell):
        out.append(child)
    return out


def _table_blocks(tbl, parent) -> list[TextBlock]:
    """A layout table (title block, one column, label–value form) reads as paragraphs; a data table as rows."""
    from docx.table import Table

    table = Table(tbl, parent)
    rows: list[list] = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen or not cell.text.strip():
                continue
            seen.add(id(cell._tc))
            cells.append(cell)
        if cells:
            rows.append(cells)
    out: list[TextBlock] = []
    data_rows = [r for r in rows if len(r) >= 2]
    labels = [r for r in data_rows if len(r) == 2 and is_form_label(r[0].text)]
    is_form = bool(data_rows) and len(labels) * 2 >= len(data_rows)  # 'Región | Pasco', 'Título: | …'
    is_data = not is_form and len(data_rows) >= 3 and all(len(c.text) <= 80 for r in data_rows for c in r)
    for cells in rows:
        texts = [collapse_spaces(c.text.replace("\n", " ")) for c in cells]
        if len(cells) == 1:
            out.extend(_cell_blocks(cells[0]))
        elif is_data:
            out.append(TextBlock("row", " | ".join(texts)))
        elif len(cells) == 2 and len(texts[0]) <= 40:
            label = fold(texts[0])
            if label in _LABEL_TO_DROP or label in _OFFICE_LABELS:
                out.extend(_cell_blocks(cells[1]))
            elif label.startswith("region"):
                out.append(TextBlock("paragraph", f"REGIÓN {texts[1]}"))
            else:
                out.append(TextBlock("paragraph", f"{texts[0].rstrip(':')}: {texts[1]}"))
        else:
            for cell in cells:
                out.extend(_cell_blocks(cell))
    return out


def _body_blocks(element, parent) -> list[TextBlock]:
    from docx.text.paragraph import Paragraph

    out: list[TextBlock] = []
    for child in element.iterchildren():
        if child.tag == _q("w:p"):
            out.extend(_paragraph_blocks(Paragraph(child, parent)))
        elif child.tag == _q("w:tbl"):
            out.extend(_table_blocks(child, parent))
        elif child.tag == _q("w:sdt"):
            content = child.find(_q("w:sdtContent"))
            if content is not None:
                out.extend(_body_blocks(content, parent))
    return out


def read_docx(path: Path) -> tuple[list[TextBlock], str | None]:
    """Blocks of the body, and the document's title when a 'Title'/first heading gives it."""
    import docx

    document = docx.Document(str(path))
    blocks = _body_blocks(document.element.body, document._body)
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return blocks, collapse_spaces(title) if title else None
