"""The common output of every reader: blocks with their page or slide, rendered as normalised text.

The parser works on plain text with blank lines between blocks, headings as markdown headings and list
items as '- item'. Every reader produces that text plus the page/slide of each line, so the parser never
depends on one file format's layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["paragraph", "heading", "item", "row"]

BULLET_GLYPHS = "\uf0b7\uf0a7\uf076\uf0d8\uf0fc•●▪■◦○·–—➢►✓✔"
_BULLET = re.compile(rf"^\s*[{re.escape(BULLET_GLYPHS)}]\s*")


@dataclass
class TextBlock:
    kind: BlockKind
    text: str  # a hard line break inside a block is '\n'
    location: int | None = None  # 1-based page (PDF) or slide (PPTX)
    level: int = 2  # headings only


def strip_bullet(text: str) -> tuple[str, bool]:
    """'\uf0b7 Texto' → ('Texto', True): Word's Symbol-font bullets and the usual glyphs mark list items."""
    m = _BULLET.match(text)
    if m and text[m.end() :].strip():
        return text[m.end() :], True
    return text, False


def render(blocks: list[TextBlock]) -> tuple[str, list[int | None]]:
    """Normalised text and the location of each of its lines (blank lines included)."""
    lines: list[str] = []
    locs: list[int | None] = []

    def put(text: str, loc: int | None) -> None:
        lines.append(text)
        locs.append(loc)

    previous: BlockKind | None = None
    for block in blocks:
        parts = [p.strip() for p in block.text.replace("\r", "\n").split("\n") if p.strip()]
        if not parts:
            continue
        together = previous is not None and block.kind == previous and block.kind in {"item", "row"}
        if lines and not together:
            put("", block.location)
        if block.kind == "heading":
            put("#" * max(1, min(block.level, 6)) + " " + " ".join(parts), block.location)
        elif block.kind == "item":
            put("- " + " ".join(parts), block.location)
        else:
            for part in parts:
                put(part, block.location)
        previous = block.kind
    return "\n".join(lines) + "\n", locs
