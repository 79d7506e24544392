"""Per-user sliding-window rate limit."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key; `limit <= 0` disables the limit."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[int, deque[float]] = {}

    def hit(self, key: int) -> int:
        """Count one event for `key`. Returns 0 if allowed, else the seconds to wait (>= 1)."""
        if self.limit <= 0:
            return 0
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return max(1, math.ceil(self.window_s - (now - events[0])))
        events.append(now)
        if len(self._events) > 50_000:  # drop idle users now and then
            self._events = {k: v for k, v in self._events.items() if v and now - v[-1] < self.window_s}
        return 0
