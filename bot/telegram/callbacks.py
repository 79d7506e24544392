"""Inline-button callback data, always within Telegram's 64 bytes.

`kind:value` when it fits; otherwise `KIND:<hash>` (kind upper-cased), which the handler
resolves by hashing the candidates (practice ids, region names). An answer's buttons ("more",
votes) carry a random token bound to the chat and the answer (`FeedbackStore.issue_token`), never
the sequential answer id. Tokens are kept in SQLite, so buttons keep working after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

MAX_CALLBACK_BYTES = 64

SHEET = "f"  # f:<practice id>        "Ver ficha"
MORE = "m"  # m:<token>               "Más resultados"
VOTE = "v"  # v:<token>:<u|d>         👍 / 👎
EXAMPLE = "q"  # q:<index>             an example question from /start
REGION = "r"  # r:<region>            the practices of a region
SECTION = "s"  # s:<code>:<practice id> one section of a practice sheet

SECTION_CODES = {"problem": "p", "strategies": "e", "results": "r", "experts": "x", "contacts": "c"}


def digest(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()[:20]


def pack(kind: str, value: str) -> str:
    data = f"{kind}:{value}"
    if len(data.encode()) <= MAX_CALLBACK_BYTES:
        return data
    return f"{kind.upper()}:{digest(value)}"


def unpack(data: str) -> tuple[str, str, bool]:
    """(kind, value, hashed)."""
    kind, _, value = data.partition(":")
    return kind.lower(), value, kind.isupper()


def resolve(value: str, hashed: bool, candidates: Iterable[str]) -> str | None:
    if not hashed:
        return value
    return next((c for c in candidates if digest(c) == value), None)
