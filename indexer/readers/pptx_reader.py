"""PowerPoint decks: one run of blocks per slide (title, text boxes, tables, notes), located by slide number.

Slide numbers, dates and footers are ignored; a text box repeated on most slides (the practice's name as
furniture) is kept once, on the first slide, so the deck's title is still known.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from indexer.readers.blocks import TextBlock, strip_bullet
from indexer.text import collapse_spaces, fold


def _shapes(shapes) -> list:
    """Shapes in reading order (top to bottom, left to right), groups opened."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out = []
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            out.extend(_shapes(shape.shapes))
        else:
            out.append(shape)
    return sorted(out, key=lambda s: ((s.top or 0) // 100000, s.left or 0))


def _is_furniture(shape) -> bool:
    from pptx.enum.shapes import PP_PLACEHOLDER

    if not shape.is_placeholder:
        return False
    return shape.placeholder_format.type in {
        PP_PLACEHOLDER.SLIDE_NUMBER,
        PP_PLACEHOLDER.FOOTER,
        PP_PLACEHOLDER.DATE,
        PP_PLACEHOLDER.HEADER,
    }


def _is_title(shape) -> bool:
    from pptx.enum.shapes import PP_PLACEHOLDER

    return shape.is_placeholder and shape.placeholder_format.type in {
        PP_PLACEHOLDER.TITLE,
        PP_PLACEHOLDER.CENTER_TITLE,
        PP_PLACEHOLDER.VERTICAL_TITLE,
    }


def _font_size(shape) -> float:
    """The largest explicit font size in a text shape (points); title placeholders inherit theirs."""
    sizes = [r.font.size.pt for p in shape.text_frame.paragraphs for r in p.runs if r.font.size is not None]
    return max(sizes, default=18.0)


def _frame_text(shape) -> list[tuple[str, int]]:
    out = []
    for paragraph in shape.text_frame.paragraphs:
        text = collapse_spaces("".join(r.text for r in paragraph.runs) or paragraph.text or "")
        if text:
            out.append((text, paragraph.level))
    return out


def _slide_texts(slide: Any) -> list[tuple[Any, str]]:
    return [(s, collapse_spaces(s.text_frame.text)) for s in _shapes(slide.shapes) if s.has_text_frame]


def read_pptx(path: Path) -> tuple[list[TextBlock], str | None]:
    from pptx import Presentation

    deck = Presentation(str(path))
    slides = list(deck.slides)
    # text repeated on most slides is furniture (a footer, the practice's name, the institution)
    counts: Counter[str] = Counter()
    for slide in slides:
        counts.update({fold(t) for s, t in _slide_texts(slide) if t and not _is_title(s) and len(t) <= 150})
    furniture = {k for k, n in counts.items() if k and len(slides) >= 3 and n >= max(3, len(slides) // 2)}

    blocks: list[TextBlock] = []
    deck_title: str | None = None
    kept_furniture: set[str] = set()
    for number, slide in enumerate(slides, start=1):
        shapes = [s for s in _shapes(slide.shapes) if not _is_furniture(s)]
        titles = [s for s in shapes if _is_title(s) and s.has_text_frame and s.text_frame.text.strip()]
        shapes = [s for s in shapes if not (s.has_text_frame and re.fullmatch(r"\s*\d{1,3}\s*", s.text_frame.text))]
        if not titles:  # a deck drawn with text boxes: the biggest short text is the slide's title
            candidates = [
                s
                for s in shapes
                if s.has_text_frame
                and 0 < len(s.text_frame.text.strip()) <= 100
                and (number == 1 or fold(s.text_frame.text) not in furniture)
            ]
            titles = sorted(candidates, key=lambda s: (-_font_size(s), s.top or 0))[:1]
        for shape in titles:
            text = collapse_spaces(shape.text_frame.text.replace("\n", " ").replace("\x0b", " "))
            blocks.append(TextBlock("heading", text, number, level=1 if number == 1 else 2))
            if deck_title is None:
                deck_title = text
        for shape in shapes:
            if shape in titles:
                continue
            if shape.has_table:
                for row in shape.table.rows:
                    cells = [collapse_spaces(c.text.replace("\n", " ")) for c in row.cells]
                    if any(cells):
                        blocks.append(TextBlock("row", " | ".join(c for c in cells if c), number))
                continue
            if not shape.has_text_frame:
                continue
            key = fold(shape.text_frame.text)
            if not key:
                continue
            if key in furniture:
                if key in kept_furniture:
                    continue
                kept_furniture.add(key)
            paragraphs = _frame_text(shape)
            for text, level in paragraphs:
                body, bulleted = strip_bullet(text)
                if bulleted or level > 0:
                    blocks.append(TextBlock("item", body, number))
                else:
                    blocks.append(TextBlock("paragraph", text, number))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                for paragraph in notes.text.split("\n"):
                    if paragraph.strip():
                        blocks.append(TextBlock("paragraph", paragraph.strip(), number))
    return blocks, deck_title
