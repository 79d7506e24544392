"""Fixtures for the Telegram bot's end-to-end tests: the real PTB Application polling the fake
Bot API server (tests/fakes/telegram_api.py) over 127.0.0.1, over the real `assistant` (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.app import TelegramBot
from tests.fakes.telegram_api import FakeBotAPI, Harness, bot_settings


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def make_bot(api: FakeBotAPI, assistant: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    """`await make_bot(**settings_overrides)`: a started bot polling `api`, stopped at teardown."""
    bots: list[TelegramBot] = []

    async def make(assistant_override: Any = None, **overrides: Any) -> Harness:
        settings = bot_settings(api, tmp_path, **overrides)
        bot = TelegramBot(settings, assistant_override or assistant, poll_timeout_s=5)
        bots.append(bot)
        assert await bot.start(), "the bot did not start"
        return Harness(api, bot)

    yield make
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def harness(make_bot: Callable[..., Awaitable[Harness]]) -> Harness:
    return await make_bot()
