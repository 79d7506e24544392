"""Conversations: what was last discussed under a conversation id, so follow-ups resolve on the web as on Telegram.

A conversation remembers the practices of its last answer (the first is "the practice" a follow-up refers to),
the last question and its intent. Conversations expire `ttl_s` seconds after their last answer
(`BPGE_CONVERSATION_TTL_S`, default 1800) and at most `max_conversations` are kept (least recently used dropped).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.schemas import Intent

MAX_ID_CHARS = 64
DEFAULT_TTL_S = 1800.0
DEFAULT_MAX = 10_000


@dataclass
class Conversation:
    id: str
    practice_ids: list[str] = field(default_factory=list)  # the last answer's practices, main one first
    question: str = ""
    intent: Intent = "other"
    at: float = 0.0

    @property
    def practice_id(self) -> str | None:
        return self.practice_ids[0] if self.practice_ids else None


def new_id() -> str:
    return secrets.token_urlsafe(12)


class ConversationStore:
    """conversation id → Conversation, thread-safe, expiring and bounded (LRU)."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        max_conversations: int = DEFAULT_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_conversations = max_conversations
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Conversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, conversation_id: str | None) -> Conversation | None:
        """The live conversation of that id, or None (absent, unknown or expired)."""
        if not conversation_id:
            return None
        with self._lock:
            conversation = self._items.get(conversation_id)
            if conversation is None:
                return None
            if self._clock() - conversation.at > self.ttl_s:
                del self._items[conversation_id]
                return None
            return conversation

    def open(self, conversation_id: str | None) -> Conversation:
        """The live conversation of that id, or a new one with a new id."""
        found = self.get(conversation_id)
        return found if found is not None else Conversation(id=new_id(), at=self._clock())

    def remember(self, conversation: Conversation, *, practice_ids: list[str], question: str, intent: Intent) -> None:
        """Store what was just answered (keeps the previous practices when the answer had none)."""
        with self._lock:
            if practice_ids:
                conversation.practice_ids = list(dict.fromkeys(practice_ids))
            conversation.question = question
            conversation.intent = intent
            conversation.at = self._clock()
            self._items[conversation.id] = conversation
            self._items.move_to_end(conversation.id)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        with self._lock:
            self._items.pop(conversation_id, None)
