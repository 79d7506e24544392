"""Follow-up detection now lives in `bot.followup` (shared by the web and Telegram through `bot.service`)."""

from bot.followup import SECTION_TERMS, SECTION_WORDS, STOPWORDS, asked_section, is_followup, normalize, topic_words

__all__ = ["SECTION_TERMS", "SECTION_WORDS", "STOPWORDS", "asked_section", "is_followup", "normalize", "topic_words"]
