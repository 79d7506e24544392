"""PDFs, layout-aware (pdfplumber): paragraphs from vertical gaps, headings from size and weight,
running headers/footers and page numbers removed, bullets as list items, hyphenation rejoined,
two-column pages read column by column. Every block knows its page.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from indexer.readers.blocks import TextBlock, strip_bullet
from indexer.readers.docx_reader import is_form_label
from indexer.text import fold

CELL = "\x1f"  # between two cells of a table row laid out on one line
CELL_GAP = 24.0  # points between words that only a table (or tab stop) leaves
BAND = 0.11  # top and bottom share of the page where running headers and footers live
_PAGE_NUMBER = re.compile(
    r"^(?:(?:p[aá]gina|p[aá]g\.?|p\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:de|/|of)\s*\d{1,4})?$", re.I
)
_SENTENCE_END = (".", ":", "!", "?", ")", ";", "»", "”", '"')


@dataclass
class PdfLine:
    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    bold: bool
    words: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The line's words; cells of a table row (words far apart) as 'a | b', a label's value alone."""
        cells = [c.strip() for c in " ".join(self.words).split(CELL) if c.strip()]
        if len(cells) == 2 and re.fullmatch(r"\d{1,3}", cells[1]):
            return f"{cells[0]}\t{cells[1]}"  # a contents entry without leader dots
        if len(cells) == 2 and is_form_label(cells[0]):
            label = fold(cells[0])
            return f"REGIÓN {cells[1]}" if label.startswith("region") else cells[1]
        return " | ".join(cells)


def _is_bold(fontname: str) -> bool:
    name = fontname.lower()
    return any(k in name for k in ("bold", "black", "heavy", "semibold", "demi"))


def _columns(words: list[dict], width: float, top: float, bottom: float) -> list[list[dict]]:
    """Words split at a vertical gutter when the page is laid out in two columns."""
    body = [w for w in words if top <= w["top"] <= bottom]
    if len(body) < 40:
        return [words]
    best = None
    for x in range(int(width * 0.3), int(width * 0.7), 2):
        if any(w["x0"] - 1 <= x <= w["x1"] + 1 for w in body):
            continue
        left = sum(w["x1"] < x for w in body)
        if left >= len(body) * 0.2 and len(body) - left >= len(body) * 0.2:
            best = x
            break
    if best is None:
        return [words]
    spanning = [w for w in words if not (top <= w["top"] <= bottom)]
    return [spanning + [w for w in body if w["x1"] < best], [w for w in body if w["x0"] > best]]


def _lines(words: list[dict], page: int) -> list[PdfLine]:
    out: list[PdfLine] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        line = out[-1] if out else None
        if line is not None and abs(w["top"] - line.top) <= 3 and w["x0"] >= line.x1 - 1:
            if w["x0"] - line.x1 > CELL_GAP and not _is_glyph(line.words[-1]):
                line.words.append(CELL)
            line.words.append(w["text"])
            line.x1 = max(line.x1, w["x1"])
            line.bottom = max(line.bottom, w["bottom"])
            if not _is_glyph(w["text"]):
                line.size = (
                    w["size"] if _is_glyph(line.words[0]) and len(line.words) == 2 else max(line.size, w["size"])
                )
            line.bold = (line.bold or (_is_glyph(line.words[0]) and len(line.words) == 2)) and _is_bold(w["fontname"])
            continue
        out.append(
            PdfLine(page, w["top"], w["bottom"], w["x0"], w["x1"], w["size"], _is_bold(w["fontname"]), [w["text"]])
        )
    for line in out:  # a bullet glyph in a symbol font says nothing about the line's weight
        if _is_glyph(line.words[0]) and len(line.words) == 1:
            line.bold = False
    return out


def _is_glyph(text: str) -> bool:
    return len(text) == 1 and strip_bullet(text + " x")[1]


def _furniture(pages: list[tuple[float, list[PdfLine]]]) -> set[str]:
    """Keys of lines repeated in the top or bottom band of several pages (running headers and footers)."""
    counts: Counter[str] = Counter()
    for height, lines in pages:
        keys = {_key(ln.text) for ln in lines if ln.top < height * BAND or ln.bottom > height * (1 - BAND)}
        counts.update(keys)
    needed = 2 if len(pages) <= 4 else max(2, len(pages) // 3)
    return {k for k, n in counts.items() if k and n >= needed}


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", fold(text))


def join_lines(lines: list[PdfLine], right: float) -> str:
    """Lines of a block as text: soft wraps joined (hyphenation undone), short lines kept as hard breaks."""
    text = ""
    for i, line in enumerate(lines):
        piece = line.text
        if i == 0:
            text = piece
            continue
        prev = lines[i - 1]
        if prev.x1 < right - max(60.0, (right - prev.x0) * 0.3):
            text += "\n" + piece
        elif re.search(r"[a-záéíóúñ]-$", text) and piece[:1].islower():
            text = text[:-1] + piece
        else:
            text += " " + piece
    return text


def read_pdf(path: Path) -> tuple[list[TextBlock], str | None]:
    import pdfplumber

    pages: list[tuple[float, list[PdfLine], float, float]] = []
    with pdfplumber.open(str(path)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            words = page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False, use_text_flow=False)
            height, width = float(page.height), float(page.width)
            cols = _columns(words, width, height * BAND, height * (1 - BAND))
            lines = [ln for col in cols for ln in _lines(col, number)]
            pages.append((height, lines, width, float(len(cols))))
    furniture = _furniture([(h, ls) for h, ls, _, _ in pages])
    all_lines = []
    for height, lines, _, _ in pages:
        for ln in lines:
            in_band = ln.top < height * BAND or ln.bottom > height * (1 - BAND)
            if in_band and (_key(ln.text) in furniture or _PAGE_NUMBER.match(ln.text.strip())):
                continue
            all_lines.append(ln)
    if not all_lines:
        return [], None
    sizes: Counter[float] = Counter()
    for ln in all_lines:
        sizes[round(ln.size)] += len(ln.text)
    body = sizes.most_common(1)[0][0]
    pitches = [
        b.top - a.top
        for a, b in itertools.pairwise(all_lines)
        if a.page == b.page and round(a.size) == body == round(b.size) and 0 < b.top - a.top < body * 2.5
    ]
    pitch = statistics.median(pitches) if pitches else body * 1.3

    def heading(line: PdfLine) -> bool:
        return line.size >= body + 1.5 or (line.bold and len(line.text) <= 150)

    groups: list[list[PdfLine]] = []
    kinds: list[str] = []
    for line in all_lines:
        text, bullet = strip_bullet(line.text)
        prev = groups[-1][-1] if groups else None
        new = prev is None or bullet or prev.page != line.page
        if prev is not None and not new:
            scale = max(line.size, prev.size) / body
            gap = line.top - prev.top
            new = (
                gap > pitch * 1.35 * scale
                or gap < -2  # a new column
                or heading(line) != heading(prev)
                or abs(line.size - prev.size) > 0.6
                or (kinds[-1] == "item" and line.x0 < groups[-1][0].x0 + 8 and not bullet and gap > pitch * 1.1)
                or (kinds[-1] == "item" and line.x0 <= groups[-1][0].x0 + 1)
            )
        if new:
            groups.append([line])
            kinds.append("item" if bullet else ("heading" if line.size >= body + 1.5 else "paragraph"))
        else:
            groups[-1].append(line)

    rights: dict[int, float] = {}
    for ln in all_lines:
        rights[ln.page] = max(rights.get(ln.page, 0.0), ln.x1)
    blocks: list[TextBlock] = []
    for group, kind in zip(groups, kinds, strict=True):
        text = join_lines(group, rights[group[0].page])
        if kind == "item":
            text = strip_bullet(text)[0]
        if kind == "heading" and len(text) > 200:
            kind = "paragraph"
        prev_block = blocks[-1] if blocks else None
        if (
            prev_block is not None
            and kind == "paragraph"
            and prev_block.location != group[0].page
            and prev_block.kind in {"paragraph", "item"}
            and not prev_block.text.rstrip().endswith(_SENTENCE_END)
            and text[:1].islower()
        ):
            prev_block.text += " " + text  # a paragraph running over a page break
            continue
        level = 1 if group[0].size >= body + 6 else (2 if group[0].size >= body + 1.5 else 3)
        blocks.append(TextBlock(kind, text, group[0].page, level=level))  # type: ignore[arg-type]
    first_page = [b for b in blocks if b.location == 1 and b.kind == "heading"]
    title = None
    if first_page:
        big = max(first_page, key=lambda b: -b.level)
        title = big.text.replace("\n", " ")
    return blocks, title
