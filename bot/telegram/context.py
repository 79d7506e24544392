"""Per-chat conversation context (the practice just discussed), forgotten after a time limit."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ChatContext:
    practice_id: str | None = None
    question: str = ""
    answer_id: int | None = None
    at: float = field(default=0.0)


class ContextStore:
    """chat id -> ChatContext, expiring `ttl_s` seconds after the last update; at most
    `max_chats` chats are remembered (the least recently used are dropped)."""

    def __init__(self, ttl_s: float, max_chats: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_chats = max_chats
        self._clock = clock
        self._chats: OrderedDict[int, ChatContext] = OrderedDict()

    def get(self, chat_id: int) -> ChatContext | None:
        ctx = self._chats.get(chat_id)
        if ctx is None:
            return None
        if self._clock() - ctx.at > self.ttl_s:
            del self._chats[chat_id]
            return None
        return ctx

    def remember(
        self, chat_id: int, *, practice_id: str | None, question: str = "", answer_id: int | None = None
    ) -> ChatContext:
        ctx = ChatContext(practice_id=practice_id, question=question, answer_id=answer_id, at=self._clock())
        self._chats[chat_id] = ctx
        self._chats.move_to_end(chat_id)
        while len(self._chats) > self.max_chats:
            self._chats.popitem(last=False)
        return ctx

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)
