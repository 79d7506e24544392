"""Helpers shared by the tests (importable as `support`; `conftest` names clash across test folders)."""

from __future__ import annotations

from pathlib import Path

from bot.service import Assistant
from indexer.build import build_index
from indexer.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def make_settings(corpus_dir: Path, data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests, ignoring whatever BPGE_*/TELEGRAM_*/LLM_* variables the environment has."""
    return Settings.model_construct().model_copy(update={"corpus_dir": corpus_dir, "data_dir": data_dir, **overrides})


def build_assistant(corpus_dir: Path, data_dir: Path, **overrides: object) -> Assistant:
    """Index `corpus_dir` into `data_dir` and return an Assistant over it."""
    settings = make_settings(corpus_dir, data_dir, **overrides)
    build_index(settings)
    return Assistant.load(settings)
