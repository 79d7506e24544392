"""Shared fixtures: the shipped corpus indexed once per test session with the real embedder and a real Chroma."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def shipped_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the index of the shipped corpus (built once)."""
    data = tmp_path_factory.mktemp("data")
    build_index(make_settings(CORPUS, data))
    return data


@pytest.fixture(scope="session")
def assistant(shipped_data_dir: Path) -> Assistant:
    """A real Assistant over the shipped corpus."""
    return Assistant.load(make_settings(CORPUS, shipped_data_dir))


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    yield target
