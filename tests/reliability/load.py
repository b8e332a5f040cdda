"""Load and fault drivers shared by the reliability tests and bench/bench_reliability.py.

Everything runs on 127.0.0.1: the real Bolt app over signed HTTP, its Web API client pointed at the
fake Slack server, and the real Assistant on a real index.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

from bot import messages
from bot.evaluation import _percentile as percentile
from fake_slack import TEAM, FakeSlack
from slack_driver import Running

# Questions with short answers, so each event is answered in one message.
QUESTIONS = ("How big is the campus?", "Who is the director of Zhejiang Lab?", "Where is Zhejiang Lab?",
             "When was Zhejiang Lab founded?", "实验室主任是谁？", "What is the salary of a researcher?")


class LoopLag:
    """The longest the event loop was late to wake a task sleeping `tick` seconds."""

    def __init__(self, tick: float = 0.005):
        self.tick, self.max, self._task = tick, 0.0, None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.max = max(self.max, time.perf_counter() - started - self.tick)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


def _event(i: int) -> dict:
    return {"type": "app_mention", "user": f"U{i:05d}", "text": f"<@U0BOT> {QUESTIONS[i % len(QUESTIONS)]}",
            "channel": f"C{i % 7:04d}", "ts": f"{1700000000 + i}.{i:06d}", "team": TEAM}


async def slack_burst(bot: Running, slack: FakeSlack, *, events: int = 200, batch: int = 50, retries: int = 2,
                      doubled_every: int = 10, timeout: float = 120) -> dict:
    """`events` distinct mentions, `batch` at a time; each also retried `retries` times (X-Slack-Retry-Num),
    and every `doubled_every`-th delivered twice at once. Returns what was answered, once or not."""
    acks: list[float] = []
    statuses: Counter = Counter()
    all_events = [_event(i) for i in range(events)]

    async def deliver(event: dict, event_id: str, headers: dict | None = None) -> None:
        started = time.perf_counter()
        response = await bot.event(event, event_id=event_id, headers=headers)
        acks.append(time.perf_counter() - started)
        statuses[response.status] += 1

    started = time.perf_counter()
    with LoopLag() as lag:
        for first in range(0, events, batch):
            sends = []
            for i in range(first, min(first + batch, events)):
                event, event_id = all_events[i], f"Ev{i:08d}"
                sends.append(deliver(event, event_id))
                sends += [deliver(event, event_id, {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
                          for n in range(1, retries + 1)]
                if doubled_every and i % doubled_every == 0:
                    sends.append(deliver(event, event_id))
            await asyncio.gather(*sends)
        wanted = {e["ts"] for e in all_events}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not wanted <= {p.get("thread_ts") for p in slack.posted()}:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything posted twice would have arrived by now
    seconds = time.perf_counter() - started
    apology = messages.say("error", "en", contact="").split(",")[0]  # "Sorry"
    posts = Counter(p.get("thread_ts") for p in slack.posted())
    answered = [ts for ts in wanted if posts[ts] >= 1]
    return {
        "events": events, "deliveries": sum(statuses.values()),
        "answered_once": sum(1 for ts in wanted if posts[ts] == 1),
        "duplicates": sum(posts[ts] - 1 for ts in answered), "lost": len(wanted) - len(answered),
        "apologies": sum(apology in str(p.get("blocks") or p.get("text")) for p in slack.posted()),
        "http_5xx": sum(n for status, n in statuses.items() if status >= 500),
        "ack_p50_ms": round(statistics.median(acks) * 1000, 1), "ack_p95_ms": round(percentile(acks, 95) * 1000, 1),
        "loop_lag_max_ms": round(lag.max * 1000, 1), "seconds": round(seconds, 1),
        "slack_429": slack.faults.count(429), "slack_500": slack.faults.count(500),
    }
