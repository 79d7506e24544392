"""The Spanish names of sections, kinds of record, documents and places (`prompts/labels.toml`), read once.

Shared by the indexer (section names in the embedded text) and the bot (sheets, sources, answers), so each name
is written in one place, in the prompts folder with the other user-facing Spanish.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LABELS_PATH = Path(__file__).resolve().parents[1] / "prompts" / "labels.toml"


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    with LABELS_PATH.open("rb") as fh:
        return tomllib.load(fh)


def label(table: str, key: str, **values: object) -> str:
    """One label, its {placeholders} filled: `label("places", "page", page=27)` → "página 27"."""
    return labels()[table][key].format(**values)
