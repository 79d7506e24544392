"""A cited source is the retrieved chunk with its neighbours in the same section (small-to-big retrieval).

Chunks are cut small (`indexer.chunk`) so that each one is near the questions it answers; cut small, the sentence
that proves a point is often in the next chunk of the same section (the problem's figures, the results' second
half). Each source shows the chunk that was found and, while it fits in `SOURCE_WINDOW_CHARS`, the chunks that
follow it (then those before it), never crossing into another section. Chunks may overlap (`CHUNK_OVERLAP`): the
repeated text is shown once.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from indexer.models import Passage

# Characters of a source at most (about three chunks). Measured on the development questions (eval/README.md): the
# evidence is in the first five sources for 0.824 of them with chunks alone, 0.862 with 1,400-character windows,
# 0.878 with 2,000, 0.887 with 3,000.
SOURCE_WINDOW_CHARS = 2000


@dataclass(frozen=True)
class Window:
    passage: Passage  # the chunk's passage with the window's text and lines
    members: frozenset[str]  # ids of the chunks it holds


def _section_key(p: Passage) -> tuple[str, str, str, str, str]:
    return (p.record_id, p.document, p.section, p.heading, p.expert or "")


# Shorter shared ends are chance (a chunk ending in "de" and the next starting with it), not the splitter's overlap.
MIN_OVERLAP = 8


def join_chunks(first: str, second: str) -> str:
    """`first` then `second`, the text they share (the splitter's overlap) once."""
    for size in range(min(len(first), len(second)), MIN_OVERLAP - 1, -1):
        if first.endswith(second[:size]):
            return first + second[size:]
    return f"{first}\n{second}"


class SectionWindows:
    """The chunks of each section in reading order, to widen a retrieved chunk into its source."""

    def __init__(self, passages: list[Passage], limit: int = SOURCE_WINDOW_CHARS) -> None:
        self.limit = limit
        sections: dict[tuple[str, str, str, str, str], list[Passage]] = {}
        for p in passages:
            sections.setdefault(_section_key(p), []).append(p)
        self._order: dict[str, tuple[list[Passage], int]] = {}
        for chunks in sections.values():
            chunks.sort(key=lambda p: p.lines)
            for position, p in enumerate(chunks):
                self._order[p.id] = (chunks, position)

    def around(self, passage: Passage, shown: AbstractSet[str] = frozenset()) -> Window:
        """The passage widened with the following (then preceding) chunks of its section, within the limit,
        stopping at a chunk that another source already `shown` holds."""
        found = self._order.get(passage.id)
        if found is None:  # not a chunk of the index (a whole section quoted): as it is
            return Window(passage, frozenset({passage.id}))
        chunks, position = found
        first = last = position
        size = len(passage.text)
        while True:
            if self._fits(chunks, last + 1, size, shown):
                last += 1
                size += len(chunks[last].text)
            elif self._fits(chunks, first - 1, size, shown):
                first -= 1
                size += len(chunks[first].text)
            else:
                break
        if first == last:
            return Window(passage, frozenset({passage.id}))
        text = chunks[first].text
        for chunk in chunks[first + 1 : last + 1]:
            text = join_chunks(text, chunk.text)
        widened = passage.model_copy(
            update={
                "text": text,
                "lines": (chunks[first].lines[0], max(c.lines[1] for c in chunks[first : last + 1])),
                "page": chunks[first].page,
                "slide": chunks[first].slide,
            }
        )
        return Window(widened, frozenset(c.id for c in chunks[first : last + 1]))

    def _fits(self, chunks: list[Passage], position: int, size: int, shown: AbstractSet[str]) -> bool:
        return (
            0 <= position < len(chunks)
            and chunks[position].id not in shown
            and size + len(chunks[position].text) <= self.limit
        )
