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


def _line_range(section: Section, start: int, length: int) -> tuple[int, int]:
    """Source lines covered by text[start:start+length], using the section's per-line map."""
    numbers = section._line_numbers
    if not numbers:
        return section.lines
    offsets: list[int] = []  # character offset where each text line starts
    pos = 0
    for line in section.text.split("\n"):
        offsets.append(pos)
        pos += len(line) + 1
    first = bisect.bisect_right(offsets, start) - 1
    last = bisect.bisect_right(offsets, max(start, start + length - 1)) - 1
    first, last = max(first, 0), min(last, len(numbers) - 1)
    return numbers[first], max(numbers[first], numbers[last])


def _passage_id(record: Record, section: Section, text: str, lines: tuple[int, int]) -> str:
    key = "\x1f".join(
        [record.id, record.title, ",".join(record.offices), section.type, section.document, f"{lines}", text]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def chunk_record(record: Record) -> list[Passage]:
    passages: list[Passage] = []
    for section in record.all_sections():
        for piece in _splitter.create_documents([section.text]):
            text = piece.page_content.strip()
            if len(text) < 3:
                continue
            start = int(piece.metadata.get("start_index", 0))
            lines = _line_range(section, start, len(piece.page_content))
            passages.append(
                Passage(
                    id=_passage_id(record, section, text, lines),
                    record_id=record.id,
                    practice=record.title,
                    kind=record.kind,
                    region=record.region or "",
                    offices=record.offices,
                    section=section.type,
                    heading=section.heading,
                    document=section.document,
                    lines=lines,
                    text=text,
                    expert=section.expert,
                )
            )
    return passages


def chunk_records(records: list[Record]) -> list[Passage]:
    return [p for r in records for p in chunk_record(r)]
