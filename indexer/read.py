"""Find and read corpus files: one reader per format, all producing parser-ready text with locations.

.txt/.md are read as they are; .pdf, .docx and .pptx go through their readers (indexer/readers/), which
emit blocks rendered as normalised text (blank lines between blocks, '#' headings, '- ' items) plus the
page or slide of every line, so citations can say "página 27" instead of a line number of extracted text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from indexer.readers.blocks import TextBlock, render

SUPPORTED_SUFFIXES = {".txt", ".md", ".pdf", ".docx", ".pptx"}
# Formats people do keep in a corpus folder that cannot be read: reported, never silently skipped.
UNSUPPORTED_SUFFIXES = {
    ".doc": "Word 97-2003 (.doc): guárdelo como .docx",
    ".ppt": "PowerPoint 97-2003 (.ppt): guárdelo como .pptx",
    ".odt": "OpenDocument (.odt): guárdelo como .docx o .pdf",
    ".odp": "OpenDocument (.odp): guárdelo como .pptx o .pdf",
    ".rtf": "RTF: guárdelo como .docx",
    ".xls": "hoja de cálculo",
    ".xlsx": "hoja de cálculo",
    ".jpg": "imagen (sin texto)",
    ".jpeg": "imagen (sin texto)",
    ".png": "imagen (sin texto)",
    ".gif": "imagen (sin texto)",
    ".tif": "imagen (sin texto)",
    ".tiff": "imagen (sin texto)",
    ".html": "página web",
    ".htm": "página web",
}
MAX_BYTES = 50 * 1024 * 1024
LOCATION_KIND = {".pdf": "page", ".pptx": "slide"}


class UnreadableDocument(Exception):
    """A corpus file that cannot be used; the message says why, in Spanish, for the build report."""


@dataclass(frozen=True)
class SourceDocument:
    path: str  # relative to the corpus folder, with '/' separators: the citation's document
    text: str
    sha256: str
    # page (PDF) or slide (PPTX) of each line of `text`; empty for plain text
    locations: tuple[int | None, ...] = ()
    location_kind: str | None = None  # "page" | "slide" | None
    title: str | None = None  # the title the file's own structure gives (Word 'Title', first slide…)
    notes: tuple[str, ...] = field(default_factory=tuple)  # what the reader had to repair, for the report

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def location_of(self, line_no: int) -> int | None:
        """Page or slide of a 1-based line number, or None for plain text."""
        if not self.locations:
            return None
        index = min(max(line_no - 1, 0), len(self.locations) - 1)
        return self.locations[index]


def discover(corpus_dir: Path) -> list[Path]:
    """Supported files under `corpus_dir`, recursively, hidden files skipped, in a stable order."""
    return [p for p in _visible_files(corpus_dir) if p.suffix.lower() in SUPPORTED_SUFFIXES]


def discover_unsupported(corpus_dir: Path) -> list[tuple[Path, str]]:
    """Files of a known but unreadable format, with what to do about them."""
    return [
        (p, UNSUPPORTED_SUFFIXES[p.suffix.lower()])
        for p in _visible_files(corpus_dir)
        if p.suffix.lower() in UNSUPPORTED_SUFFIXES
    ]


def _visible_files(corpus_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _decode(data: bytes) -> tuple[str, list[str]]:
    """UTF-8 (BOM allowed); a Windows-1252 file when its bytes say so; otherwise UTF-8 with replacements, reported."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    bad = sum(1 for b in data if b >= 0x80)
    try:
        text = data.decode("cp1252")
        # cp1252 only when the result looks like Spanish text (accented letters), not mojibake of binary
        accented = sum(text.count(c) for c in "áéíóúñÁÉÍÓÚÑüÜ¿¡")
        if bad and accented >= bad * 0.6:
            return text, ["codificación Windows-1252 (no UTF-8): convertida"]
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    return text, [f"UTF-8 inválido: {text.count(chr(0xFFFD))} caracteres reemplazados por «\ufffd»"]


def _read_blocks(path: Path, suffix: str) -> tuple[list[TextBlock], str | None]:
    if suffix == ".pdf":
        from indexer.readers.pdf_reader import read_pdf

        return read_pdf(path)
    if suffix == ".docx":
        from indexer.readers.docx_reader import read_docx

        return read_docx(path)
    from indexer.readers.pptx_reader import read_pptx

    return read_pptx(path)


_FORMAT_NAMES = {".pdf": "PDF", ".docx": "DOCX", ".pptx": "PPTX"}


def read_document(path: Path, corpus_dir: Path, max_bytes: int = MAX_BYTES) -> SourceDocument:
    """Read one corpus file; raises UnreadableDocument (with the reason) for any problem with that file."""
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableDocument(f"no se pudo leer ({exc.strerror})") from exc
    if size > max_bytes:
        raise UnreadableDocument(
            f"demasiado grande ({size / 1024 / 1024:.0f} MB; el límite es {max_bytes / 1024 / 1024:.0f} MB): no se leyó"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"no se pudo leer ({exc.strerror})") from exc
    suffix = path.suffix.lower()
    sha = hashlib.sha256(data).hexdigest()
    if suffix in _FORMAT_NAMES:
        try:
            blocks, title = _read_blocks(path, suffix)
        except Exception as exc:  # any failure of one reader on one file skips that file, never the build
            detail = str(exc).splitlines()[0][:120] if str(exc) else ""
            name = _FORMAT_NAMES[suffix]
            raise UnreadableDocument(
                f"{name} dañado o ilegible ({exc.__class__.__name__}{': ' + detail if detail else ''})"
            ) from exc
        text, locations = render(blocks)
        if not text.strip():
            if suffix == ".pdf":
                raise UnreadableDocument("el PDF no tiene texto extraíble (¿es un escaneo?)")
            raise UnreadableDocument("archivo vacío")
        kind = LOCATION_KIND.get(suffix)
        return SourceDocument(
            path=rel,
            text=text,
            sha256=sha,
            locations=tuple(locations) if kind else (),
            location_kind=kind,
            title=title,
        )
    text, notes = _decode(data)
    if not text.strip():
        raise UnreadableDocument("archivo vacío")
    return SourceDocument(path=rel, text=text, sha256=sha, notes=tuple(notes))
