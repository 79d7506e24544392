"""Find and read corpus files: .txt/.md as they are, .pdf with pypdf, .docx with python-docx."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = {".txt", ".md", ".pdf", ".docx"}


class UnreadableDocument(Exception):
    """A corpus file that cannot be used; the message says why, in Spanish, for the build report."""


@dataclass(frozen=True)
class SourceDocument:
    path: str  # relative to the corpus folder, with '/' separators: the citation's document
    text: str
    sha256: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def discover(corpus_dir: Path) -> list[Path]:
    """Supported files under `corpus_dir`, recursively, hidden files skipped, in a stable order."""
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise UnreadableDocument(f"PDF dañado o ilegible ({exc.__class__.__name__})") from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise UnreadableDocument("el PDF no tiene texto extraíble (¿es un escaneo?)")
    return text


def _docx_text(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise UnreadableDocument(f"DOCX dañado o ilegible ({exc.__class__.__name__})") from exc
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        text = paragraph.text.strip()
        if not text:
            continue
        if style.startswith("heading") or style.startswith("título") or style == "title":
            level = "".join(c for c in style if c.isdigit()) or "1"
            lines.append("#" * min(int(level), 6) + " " + text)
        elif "list" in style:
            lines.append("- " + text)
        else:
            lines.append(text)
        lines.append("")
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
        lines.append("")
    return "\n".join(lines)


def read_document(path: Path, corpus_dir: Path) -> SourceDocument:
    """Read one corpus file; raises UnreadableDocument when it is broken or empty."""
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"no se pudo leer ({exc.strerror})") from exc
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = _pdf_text(path)
    elif suffix == ".docx":
        text = _docx_text(path)
    else:
        text = _decode(data)
    if not text.strip():
        raise UnreadableDocument("archivo vacío")
    return SourceDocument(path=rel, text=text, sha256=hashlib.sha256(data).hexdigest())
