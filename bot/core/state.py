"""What the bot remembers between messages: events already answered, rate-limit windows, conversations.

In this process by default. With `[state] url = "redis://..."` it lives in Redis, with the same TTLs,
so several replicas (two Slack workspaces, a rolling update, a restarted bot receiving Slack's retry)
answer each event once and remember each thread. Values are strings; keys are namespaced.

Redis is reached over the network: async callers go through `call()`, which runs the request on a
small thread pool of its own so a slow Redis never stalls the event loop. A Redis that fails is
logged and the bot carries on (it answers, without memory), rather than leave the candidate unanswered.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor

_log = logging.getLogger(__name__)


class MemoryState:
    """In this process; bounded (the least recently used keys go first beyond `max_keys`)."""

    remote = False

    def __init__(self, *, max_keys: int = 50_000, clock=time.monotonic):
        self._clock = clock
        self._max = max_keys
        self._values: OrderedDict[str, tuple[float, object]] = OrderedDict()  # key -> (expires, value)
        self._lock = threading.Lock()

    def _get(self, key: str):
        entry = self._values.get(key)
        if entry is None or entry[0] <= self._clock():
            self._values.pop(key, None)
            return None
        self._values.move_to_end(key)
        return entry[1]

    def _set(self, key: str, value: object, ttl: float) -> None:
        self._values[key] = (self._clock() + ttl, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max:
            self._values.popitem(last=False)

    def claim(self, key: str, ttl: float) -> bool:
        """True the first time `key` is claimed within `ttl` seconds."""
        with self._lock:
            if self._get(key) is not None:
                return False
            self._set(key, True, ttl)
            return True

    def seen(self, key: str) -> bool:
        with self._lock:
            return self._get(key) is not None

    def hit(self, key: str, limit: int, window: float) -> float:
        """Count one event in a sliding window: 0 when within `limit`, else the seconds to wait."""
        with self._lock:
            now = self._clock()
            times = self._get(key) or deque()
            while times and now - times[0] >= window:
                times.popleft()
            if len(times) >= limit:
                self._set(key, times, window)
                return window - (now - times[0])
            times.append(now)
            self._set(key, times, window)
            return 0.0

    def push(self, key: str, item: str, *, keep: int, ttl: float) -> None:
        with self._lock:
            items = self._get(key) or deque(maxlen=keep)
            items.append(item)
            self._set(key, items, ttl)

    def items(self, key: str) -> list[str]:
        with self._lock:
            return list(self._get(key) or ())

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._get(key)

    def put(self, key: str, value: str, ttl: float) -> None:
        with self._lock:
            self._set(key, value, ttl)

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    async def call(self, fn, *args):
        return fn(*args)


# Sliding window in one round trip: drop old entries, count, admit or say how long to wait.
_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  return tostring(ARGV[2] - (ARGV[1] - oldest))
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return '0'
"""


class RedisState:
    """The same, in Redis (`redis://host:port/db`), shared by every replica."""

    remote = True

    def __init__(self, url: str, *, prefix: str = "recruit-bot:", timeout: float = 1.0):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           decode_responses=True)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="state")

    def ping(self) -> None:
        self._redis.ping()

    def claim(self, key: str, ttl: float) -> bool:
        return bool(self._redis.set(self._prefix + key, "1", nx=True, px=max(1, int(ttl * 1000))))

    def seen(self, key: str) -> bool:
        return bool(self._redis.exists(self._prefix + key))

    def hit(self, key: str, limit: int, window: float) -> float:
        return float(self._hit(keys=[self._prefix + key], args=[time.time(), window, limit, uuid.uuid4().hex]))

    def push(self, key: str, item: str, *, keep: int, ttl: float) -> None:
        pipe = self._redis.pipeline()
        pipe.rpush(self._prefix + key, item).ltrim(self._prefix + key, -keep, -1)
        pipe.pexpire(self._prefix + key, max(1, int(ttl * 1000))).execute()

    def items(self, key: str) -> list[str]:
        return self._redis.lrange(self._prefix + key, 0, -1)

    def get(self, key: str) -> str | None:
        return self._redis.get(self._prefix + key)

    def put(self, key: str, value: str, ttl: float) -> None:
        self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    async def call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)


def open_state(url: str):
    """MemoryState for an empty URL, else RedisState (checked at start: a wrong URL fails early)."""
    if not url:
        return MemoryState()
    state = RedisState(url)
    state.ping()
    return state
