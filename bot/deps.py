"""The web app's one dependency: the shared `Assistant`, loaded on first use.

The app may start before an index exists (`python -m indexer build` runs later), so the Assistant lives in
`app.state.assistant` and is loaded when first needed — by a route through `AssistantDep`, or by the Telegram
bot through `LazyAssistant`. Loading failures (`IndexMissing`, `NotCalibrated`, `StoreUnavailable`) propagate
as they are; `bot.errors` translates them for people, once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from bot.service import Assistant

_loading = threading.Lock()  # one load at a time: a burst of first requests opens the index once


def load_assistant(app: FastAPI) -> Assistant:
    """The app's Assistant, loaded now if no index was there before (raises what `Assistant.load` raises)."""
    assistant: Assistant | None = app.state.assistant
    if assistant is not None:
        return assistant
    with _loading:
        if app.state.assistant is None:
            app.state.assistant = Assistant.load(app.state.settings)
        loaded: Assistant = app.state.assistant
        return loaded


async def get_assistant(request: Request) -> Assistant:
    """FastAPI dependency; a first load (which reads the index) runs in a thread, off the event loop."""
    assistant: Assistant | None = request.app.state.assistant
    return assistant if assistant is not None else await asyncio.to_thread(load_assistant, request.app)


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


class LazyAssistant:
    """The Telegram bot's view of the app's Assistant: the bot starts with the app, possibly before any index."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(load_assistant(self._app), name)
