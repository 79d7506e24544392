"""Shared fixtures: the shipped corpus indexed once per test session with the real embedder and a real Chroma."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import Assistant
from indexer.build import build_index
from tests.support import CORPUS, make_settings


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
