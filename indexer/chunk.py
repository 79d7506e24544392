"""Section-aware chunks: a chunk never mixes two records or two sections, and knows its source lines."""

from __future__ import annotations

import bisect
import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from indexer.models import Passage, Record, Section

CHUNK_SIZE = 700
CHUNK_OVERLAP = 100

_splitter = RecursiveCharacterTextSplitter(
    chunk_size=CHUNK_SIZE,
    chunk_overlap=CHUNK_OVERLAP,
    separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    keep_separator="end",
    add_start_index=True,
    strip_whitespace=True,
)


def line_offsets(text: str) -> list[int]:
    """Character offset where each line of `text` starts (computed once per section: linear)."""
    offsets = [0]
    pos = text.find("\n")
    while pos != -1:
        offsets.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return offsets


def _line_span(section: Section, offsets: list[int], start: int, length: int) -> tuple[int, int]:
    """Indexes of the first and last text lines covered by text[start:start+length]."""
    first = bisect.bisect_right(offsets, start) - 1
    last = bisect.bisect_right(offsets, max(start, start + length - 1)) - 1
    return max(first, 0), max(first, min(last, len(offsets) - 1))


def _line_range(section: Section, offsets: list[int], start: int, length: int) -> tuple[tuple[int, int], int | None]:
    """Source lines covered by text[start:start+length], and the page/slide where it starts."""
    numbers = section._line_numbers
    if not numbers:
        return section.lines, section.page or section.slide
    first, last = _line_span(section, offsets, start, length)
    first, last = min(first, len(numbers) - 1), min(last, len(numbers) - 1)
    locations = section._line_locations
    location = locations[first] if first < len(locations) else (section.page or section.slide)
    return (numbers[first], max(numbers[first], numbers[last])), location


def _passage_id(record: Record, section: Section, text: str, lines: tuple[int, int]) -> str:
    key = "\x1f".join(
        [record.id, record.title, ",".join(record.offices), section.type, section.document, f"{lines}", text]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def chunk_record(record: Record) -> list[Passage]:
    passages: list[Passage] = []
    for section in record.all_sections():
        offsets = line_offsets(section.text)
        for piece in _splitter.create_documents([section.text]):
            text = piece.page_content.strip()
            if len(text) < 3:
                continue
            start = int(piece.metadata.get("start_index", 0))
            lines, location = _line_range(section, offsets, start, len(piece.page_content))
            passages.append(
                Passage.of(record, section, text, lines, location, id=_passage_id(record, section, text, lines))
            )
    return passages


def chunk_records(records: list[Record]) -> list[Passage]:
    return [p for r in records for p in chunk_record(r)]
