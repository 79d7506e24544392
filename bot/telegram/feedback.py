"""Kept for imports: the feedback store is channel-neutral now, in `bot.feedback`."""

from bot.feedback import BUTTON_TTL_S, FEEDBACK_FILE, FeedbackStore

__all__ = ["BUTTON_TTL_S", "FEEDBACK_FILE", "FeedbackStore"]
