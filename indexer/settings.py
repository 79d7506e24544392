"""Re-export of `bpge.settings` for code that still imports the settings from here; new code imports `bpge.settings`."""

from bpge.settings import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_SECONDARY_EMBEDDING_MODEL,
    IndexSettings,
    LLMSettings,
    Settings,
    TelegramSettings,
    WebSettings,
    default_model_cache,
)

_default_model_cache = default_model_cache

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_SECONDARY_EMBEDDING_MODEL",
    "IndexSettings",
    "LLMSettings",
    "Settings",
    "TelegramSettings",
    "WebSettings",
    "default_model_cache",
]
