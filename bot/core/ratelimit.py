"""Per-user sliding-window rate limit, shared by every platform (and by every replica with Redis)."""

from __future__ import annotations

import logging

from bot.core.state import MemoryState

_log = logging.getLogger(__name__)


class RateLimiter:
    """At most `limit` messages per `window` seconds per user; `limit=0` disables it."""

    def __init__(self, limit: int, window: float, *, state=None):
        self.limit = limit
        self.window = window
        self.state = state or MemoryState()

    def wait(self, user: str) -> float:
        """Record a message from `user`; return 0 if allowed, else the seconds until it would be."""
        if self.limit <= 0:
            return 0.0
        try:
            return self.state.hit(f"rate:{user}", self.limit, self.window)
        except Exception as e:  # a limit that cannot be checked lets the candidate through
            _log.warning("rate limit not checked: %s", e)
            return 0.0
