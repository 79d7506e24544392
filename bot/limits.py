"""Limits on everything a user sends, and the cleaning every text gets before anything sees it.

A careless or hostile user must not be able to slow the assistant for everyone else: every field
has a size, numbers are short ASCII digit strings, and questions are clean Unicode (no lone
surrogates or control characters, NFC) so no later step can fail on them.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FIELD_CHARS = 200  # filter values, ids, region names
MAX_BODY_BYTES = 64 * 1024  # request bodies
MAX_DIGITS = 9  # numbers in URLs and button data
MAX_K = 20  # passages per answer

_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_SPACE_CONTROLS = {"\t", "\n", "\r", "\x0b", "\x0c"}


def clean_text(value: str) -> str:
    """`value` without lone surrogates, control or format characters (tabs and newlines become
    spaces), in NFC. Idempotent."""
    out = []
    for ch in value:
        category = unicodedata.category(ch)
        if ch in _SPACE_CONTROLS:
            out.append(" ")
        elif category in ("Cs", "Cc", "Co", "Cn") or (category == "Cf" and ch not in "\u200d"):
            continue
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def bounded_int(value: str | None, max_digits: int = MAX_DIGITS) -> int | None:
    """The number in `value` if it is 1..`max_digits` ASCII digits, else None (never raises:
    `int()` accepts '²'-like digits in other scripts and fails on thousands of digits)."""
    if value is None or len(value) > max_digits or not _DIGITS.fullmatch(value):
        return None
    return int(value)
