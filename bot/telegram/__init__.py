"""The Telegram bot: python-telegram-bot v22 over the same Assistant as the web endpoint.

Wiring (see `app.py`): `start_telegram_bot(settings, assistant)` / `stop_telegram_bot(bot)` in the
web app's lifespan; `telegram_webhook_router(lambda: bot)` included in the FastAPI app
(feedback, shared with the web, is `bot.feedback` and `bot.feedback_api`).
"""

from bot.telegram.app import TelegramBot, start_telegram_bot, stop_telegram_bot, telegram_webhook_router

__all__ = [
    "TelegramBot",
    "start_telegram_bot",
    "stop_telegram_bot",
    "telegram_webhook_router",
]
