"""The bot's user-facing texts, loaded from `prompts/telegram/texts.toml`.

Templates are Telegram HTML; every value put into a `{placeholder}` is HTML-escaped here,
so a caller can never forget to escape user or corpus text inserted into a message.
"""

from __future__ import annotations

import html
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

TEXTS_PATH = Path(__file__).resolve().parents[2] / "prompts" / "telegram" / "texts.toml"


class Texts:
    def __init__(self, data: dict[str, Any], site: str = "") -> None:
        self._data = data
        self.site = site  # the web app's public address, for links (BPGE_PUBLIC_URL)

    def with_site(self, site: str) -> Texts:
        """These texts, linking to the web app at `site`."""
        return Texts(self._data, site.rstrip("/"))

    def url(self, path: str) -> str:
        """An absolute link to a page of the web app (`path` starts with '/')."""
        return f"{self.site}{path}" if self.site else path

    @classmethod
    def load(cls, path: Path = TEXTS_PATH) -> Texts:
        with path.open("rb") as f:
            return cls(tomllib.load(f))

    def _raw(self, key: str) -> str:
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(f"text {key!r} is not a string")
        return node.strip()

    def html(self, key: str, **values: object) -> str:
        """The template `key` as Telegram HTML, with every value escaped."""
        escaped = {k: html.escape(str(v), quote=False) for k, v in values.items()}
        return self._raw(key).format(**escaped)

    def plain(self, key: str, **values: object) -> str:
        """The template `key` as plain text (button labels, callback answers): nothing escaped."""
        return self._raw(key).format(**values)

    @property
    def examples(self) -> list[str]:
        return list(self._data["examples"]["questions"])


@lru_cache(maxsize=1)
def default_texts() -> Texts:
    return Texts.load()
