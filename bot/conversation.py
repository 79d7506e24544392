"""Conversations: what was last discussed under a conversation id, so follow-ups resolve on the web as on Telegram.

A conversation remembers the practices of its last answer (the first is "the practice" a follow-up refers to),
the last question and its intent. Conversations expire `ttl_s` seconds after their last answer
(`BPGE_CONVERSATION_TTL_S`, default 1800) and at most `max_conversations` are kept (least recently used dropped).
`ExpiringMap` is that memory, also used by front ends that map their own ids (a Telegram chat) to conversations.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.schemas import Intent

MAX_ID_CHARS = 64
DEFAULT_TTL_S = 1800.0
DEFAULT_MAX = 10_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """key → value, thread-safe: a value is forgotten `ttl_s` seconds after it was last put, and at most
    `max_items` are kept (the least recently put dropped), so memory stays bounded however many users come."""

    def __init__(self, ttl_s: float, max_items: int = DEFAULT_MAX, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The live value of `key`, or None (never put, expired or dropped)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if self._clock() - item[0] > self.ttl_s:
                del self._items[key]
                return None
            return item[1]

    def put(self, key: K, value: V) -> None:
        """Store `value` under `key`; its time to live starts again."""
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)


@dataclass
class Conversation:
    id: str
    practice_ids: list[str] = field(default_factory=list)  # the last answer's practices, main one first
    question: str = ""
    intent: Intent = "other"

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
        self._items: ExpiringMap[str, Conversation] = ExpiringMap(ttl_s, max_conversations, clock)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, conversation_id: str | None) -> Conversation | None:
        """The live conversation of that id, or None (absent, unknown or expired)."""
        return self._items.get(conversation_id) if conversation_id else None

    def open(self, conversation_id: str | None) -> Conversation:
        """The live conversation of that id, or a new one with a new id."""
        found = self.get(conversation_id)
        return found if found is not None else Conversation(id=new_id())

    def remember(self, conversation: Conversation, *, practice_ids: list[str], question: str, intent: Intent) -> None:
        """Store what was just answered (keeps the previous practices when the answer had none)."""
        if practice_ids:
            conversation.practice_ids = list(dict.fromkeys(practice_ids))
        conversation.question = question
        conversation.intent = intent
        self._items.put(conversation.id, conversation)

    def forget(self, conversation_id: str) -> None:
        self._items.pop(conversation_id)
