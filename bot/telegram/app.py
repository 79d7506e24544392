"""The Telegram bot's lifecycle beside the web app: polling by default, or a webhook served by
the same FastAPI app; a wrong token or an unreachable Bot API never stops the web app."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, HTTPException, Request
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application

from bot.feedback import FeedbackStore
from bot.telegram.handlers import BotHandlers, parse_allowed_chats
from bot.telegram.processor import PerChatUpdateProcessor
from bot.telegram.redact import protect
from bot.telegram.texts import Texts, default_texts
from bot.views import public_base
from bpge.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_START_S = 60.0


def bot_api_urls(base: str | None) -> tuple[str, str] | None:
    """(base_url, base_file_url) for PTB from TELEGRAM_BASE_URL, e.g. http://localhost:8081
    (PTB appends the token to both); None for Telegram's own servers."""
    if not base:
        return None
    root = base.rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


class TelegramBot:
    """The bot over an Assistant. `await start()` in the web app's lifespan, `await stop()` at
    shutdown; in webhook mode include `telegram_webhook_router(...)` in the FastAPI app."""

    def __init__(
        self,
        settings: Settings,
        assistant: Any,
        *,
        texts: Texts | None = None,
        store: FeedbackStore | None = None,
        workers: int = 2,
        poll_timeout_s: int = 10,
        generator: Any = "from_settings",
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        token = settings.telegram_bot_token.get_secret_value().strip()
        protect(token)
        self.webhook_url = settings.telegram_webhook_url or None
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
        self.webhook_secret = secret or secrets.token_urlsafe(32)
        protect(self.webhook_secret)
        self.poll_timeout_s = poll_timeout_s
        self._own_store = store is None
        self.store = store or FeedbackStore.in_data_dir(settings.data_dir)
        self._own_generator = generator == "from_settings"
        if self._own_generator:
            from bot.generation.client import AnswerGenerator

            generator = AnswerGenerator.from_settings(settings)  # None without LLM_BASE_URL
        self.generator = generator
        self.handlers = BotHandlers(
            assistant,
            self.store,
            (texts or default_texts()).with_site(public_base(settings)),
            allowed_chats=parse_allowed_chats(settings.telegram_allowed_chats),
            rate_limit_per_minute=settings.telegram_rate_limit_per_minute,
            context_ttl_s=settings.telegram_context_ttl_s,
            workers=workers,
            generator=self.generator,
        )
        builder = Application.builder().token(token).concurrent_updates(PerChatUpdateProcessor(256))
        urls = bot_api_urls(settings.telegram_base_url)
        if urls:
            builder = builder.base_url(urls[0]).base_file_url(urls[1])
        if self.webhook_url:
            builder = builder.updater(None)
        self.application: Application = builder.build()
        self.handlers.register(self.application)
        self.running = False
        self._retry: asyncio.Task | None = None

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def api_host(self) -> str:
        return urlsplit(self.settings.telegram_base_url or "https://api.telegram.org").netloc

    async def start(self) -> bool:
        """Connect and start receiving updates. Returns False (after one clear log line) when the
        token is rejected; an unreachable Bot API is retried in the background."""
        try:
            await self.application.initialize()
        except InvalidToken:
            log.error(
                "Telegram bot not started: %s rejected TELEGRAM_BOT_TOKEN (Unauthorized); the web app keeps serving",
                self.api_host,
            )
            return False
        except (NetworkError, TimedOut) as e:
            log.error(
                "Telegram bot not started yet: cannot reach the Bot API at %s (%s); retrying every %d s",
                self.api_host,
                type(e).__name__,
                RETRY_START_S,
            )
            self._retry = asyncio.create_task(self._retry_start())
            return False
        await self._run()
        return True

    async def _retry_start(self) -> None:
        while True:
            await asyncio.sleep(RETRY_START_S)
            try:
                await self.application.initialize()
            except InvalidToken:
                log.error("Telegram bot not started: %s rejected TELEGRAM_BOT_TOKEN (Unauthorized)", self.api_host)
                return
            except (NetworkError, TimedOut):
                continue
            await self._run()
            return

    async def _run(self) -> None:
        app = self.application
        with contextlib.suppress(TelegramError):
            await app.bot.set_my_commands(self.handlers.bot_commands())
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(
                url=self.webhook_url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            if app.updater is None:  # built without one: only webhooks can feed it
                raise RuntimeError("Telegram application has no updater to poll with")
            await app.updater.start_polling(
                timeout=self.poll_timeout_s, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
        self.running = True
        log.info("Telegram bot @%s started (%s, Bot API at %s)", app.bot.username, self.mode, self.api_host)

    async def stop(self) -> None:
        if self._retry:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
            self._retry = None
        app = self.application
        try:
            if app.updater and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        finally:
            self.running = False
            self.handlers.close()
            if self._own_generator and self.generator is not None:
                with contextlib.suppress(Exception):
                    await self.generator.aclose()
            if self._own_store:
                self.store.close()

    async def feed(self, data: dict[str, Any]) -> None:
        """Queue an update received by the webhook."""
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))


async def start_telegram_bot(settings: Settings, assistant: Any, **kwargs: Any) -> TelegramBot | None:
    """For the web app's lifespan: the running bot, or None when TELEGRAM_BOT_TOKEN is unset or
    the token is rejected (logged). Never raises because of Telegram."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        return None
    try:
        bot = TelegramBot(settings, assistant, **kwargs)
    except Exception as e:
        log.error("Telegram bot not started: %s: %s", type(e).__name__, e)
        return None
    try:
        started = await bot.start()
    except Exception as e:
        log.error("Telegram bot not started: %s: %s", type(e).__name__, e)
        started = False
    if not started and bot._retry is None:
        with contextlib.suppress(Exception):
            await bot.stop()
        return None
    return bot


async def stop_telegram_bot(bot: TelegramBot | None) -> None:
    if bot is not None:
        try:
            await bot.stop()
        except Exception as e:
            log.warning("Telegram bot did not stop cleanly: %s: %s", type(e).__name__, e)


def telegram_webhook_router(get_bot: Callable[[], TelegramBot | None], path: str = WEBHOOK_PATH) -> APIRouter:
    """POST `path`: updates pushed by Telegram, accepted only with the secret-token header.
    `get_bot` returns the running bot (or None), looked up at each request."""
    router = APIRouter()

    @router.post(path, include_in_schema=False)
    async def telegram_webhook(
        request: Request, x_telegram_bot_api_secret_token: str | None = Header(default=None)
    ) -> dict[str, bool]:
        bot = get_bot()
        if bot is None or bot.mode != "webhook" or not bot.running:
            raise HTTPException(404, "Telegram webhook not enabled")
        given = (x_telegram_bot_api_secret_token or "").encode()
        if not hmac.compare_digest(given, bot.webhook_secret.encode()):
            raise HTTPException(403, "Bad secret token")
        try:
            data = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "Not JSON") from exc
        if not isinstance(data, dict) or "update_id" not in data:
            raise HTTPException(400, "Not a Telegram update")
        await bot.feed(data)
        return {"ok": True}

    return router
