"""User-facing Spanish texts of the answer pipeline and the web API, loaded from `prompts/answers.toml`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

TEXTS_PATH = Path(__file__).resolve().parents[1] / "prompts" / "answers.toml"


@lru_cache(maxsize=1)
def all_texts() -> dict[str, str]:
    """Every text, by key (read once)."""
    with TEXTS_PATH.open("rb") as fh:
        return tomllib.load(fh)


def text(key: str, **values: object) -> str:
    return all_texts()[key].strip().format(**values)
