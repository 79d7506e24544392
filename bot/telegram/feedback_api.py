"""Kept for imports: the feedback API serves every channel now, in `bot.feedback_api`."""

from bot.feedback_api import feedback_router

__all__ = ["feedback_router"]
