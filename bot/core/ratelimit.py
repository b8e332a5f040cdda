"""Per-user sliding-window rate limit, shared by every platform."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class RateLimiter:
    """At most `limit` messages per `window` seconds per user; `limit=0` disables it.

    Memory is bounded: the least recently seen users are forgotten beyond `max_users`.
    """

    def __init__(self, limit: int, window: float, *, max_users: int = 10_000, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.max_users = max_users
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, user: str) -> float:
        """Record a message from `user`; return 0 if allowed, else the seconds until it would be."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            times = self._seen.pop(user, None) or deque()
            self._seen[user] = times
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                return self.window - (now - times[0])
            times.append(now)
            while len(self._seen) > self.max_users:
                self._seen.popitem(last=False)
            return 0.0
