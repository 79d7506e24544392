"""Small text helpers shared by the parser, the chunker and the lexical search."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lowercase, accents removed, punctuation collapsed to single spaces: for comparisons."""
    return _NON_ALNUM.sub(" ", strip_accents(text).lower()).strip()


def slugify(text: str, max_words: int = 9, max_chars: int = 72) -> str:
    words = fold(text).split()[:max_words]
    slug = "-".join(words)
    while len(slug) > max_chars and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return slug or "documento"


def is_upper_text(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.8


def collapse_spaces(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()
