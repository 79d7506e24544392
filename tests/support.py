"""Helpers shared by the tests (import as `tests.support`; `conftest` names clash across test folders)."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.service import Assistant
from bpge.settings import Settings
from indexer.build import build_index

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

# Chromium flags for headless runs in a container (the browser tests and docs/make_screenshot.py).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_settings(corpus_dir: Path, data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests, ignoring whatever BPGE_*/TELEGRAM_*/LLM_* variables the environment has."""
    return Settings.model_construct().model_copy(update={"corpus_dir": corpus_dir, "data_dir": data_dir, **overrides})


def build_assistant(corpus_dir: Path, data_dir: Path, **overrides: object) -> Assistant:
    """Index `corpus_dir` into `data_dir` and return an Assistant over it."""
    settings = make_settings(corpus_dir, data_dir, **overrides)
    build_index(settings)
    return Assistant.load(settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free local port, in a background thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script that is not in a package (bench/*.py) as module `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
