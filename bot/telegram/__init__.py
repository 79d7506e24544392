"""The Telegram bot: python-telegram-bot v22 over the same Assistant as the web endpoint.

Wiring (see `app.py`): `start_telegram_bot(settings, assistant)` / `stop_telegram_bot(bot)` in the
web app's lifespan; `telegram_webhook_router(lambda: bot)` and `feedback_router(settings)` included
in the FastAPI app.
"""

from bot.telegram.app import TelegramBot, start_telegram_bot, stop_telegram_bot, telegram_webhook_router
from bot.telegram.feedback import FeedbackStore
from bot.telegram.feedback_api import feedback_router

__all__ = [
    "FeedbackStore",
    "TelegramBot",
    "feedback_router",
    "start_telegram_bot",
    "stop_telegram_bot",
    "telegram_webhook_router",
]
