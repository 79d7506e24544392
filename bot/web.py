"""The web app factory: JSON API, the page, and (when configured) the Telegram bot in the same process.

`create_app` only builds the app's state, installs the middleware and the error handlers, and includes the
routers (`bot.api`, `bot.pages`, feedback, Telegram webhook); routes get the Assistant from `bot.deps`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot import api, pages
from bot.deps import LazyAssistant, load_assistant
from bot.errors import AnswerPool, BodyLimit, install_error_handlers
from bot.feedback import FeedbackStore
from bot.feedback_api import feedback_router
from bot.generation.client import AnswerGenerator
from bot.limits import MAX_BODY_BYTES
from bot.service import Assistant, IndexMissing, StoreUnavailable
from bot.telegram.app import start_telegram_bot, stop_telegram_bot, telegram_webhook_router
from bpge.settings import Settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load and warm the Assistant if an index is there (else the first request that needs it loads it),
    start the Telegram bot when configured, and close what the app opened."""
    settings: Settings = app.state.settings
    try:
        assistant = await asyncio.to_thread(load_assistant, app)
    except (IndexMissing, StoreUnavailable) as exc:
        log.warning("no index loaded yet: %s", exc)
    else:
        await asyncio.to_thread(assistant.warm_up)
    if app.state.start_telegram and settings.telegram_bot_token is not None:
        app.state.telegram = await start_telegram_bot(settings, LazyAssistant(app), generator=app.state.generator)
    try:
        yield
    finally:
        if app.state.telegram is not None:
            await stop_telegram_bot(app.state.telegram)
        if app.state.generator is not None:
            await app.state.generator.aclose()
        app.state.pool.close()


def create_app(settings: Settings, assistant: Assistant | None = None, start_telegram: bool = True) -> FastAPI:
    """The FastAPI app. Without `assistant`, the index is loaded at start (503 until one exists)."""
    app = FastAPI(title="Asistente BPGE", version="0.1.0", lifespan=_lifespan)
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.start_telegram = start_telegram
    app.state.telegram = None
    app.state.feedback = None
    app.state.pool = AnswerPool()
    app.state.generator = AnswerGenerator.from_settings(settings)  # None without LLM_BASE_URL
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    install_error_handlers(app)

    def feedback_store() -> FeedbackStore:
        if app.state.feedback is None:
            app.state.feedback = FeedbackStore.in_data_dir(settings.data_dir)
        store: FeedbackStore = app.state.feedback
        return store

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(feedback_router(settings, feedback_store))
    app.include_router(telegram_webhook_router(lambda: app.state.telegram))
    return app
