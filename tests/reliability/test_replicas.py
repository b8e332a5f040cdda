"""Two Slack bot processes behind one URL, sharing a real Redis: every event answered exactly once
whichever replica gets it (and its retries), and a thread remembered across replicas."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter

import aiohttp
import pytest

from bot.core.state import RedisState
from conftest import ROOT, config_toml
from fake_slack import TEAM
from loopback import RedisServer, free_port
from slack_driver import SECRET, Running, section_text

EVENTS = 1000


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _replica(tmp_path, index, port: int, slack, redis_server) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config_toml(tmp_path, f'[slack]\napi_url = "{slack.api_url}"\n[state]\nurl = "{redis_server.url}"\n'
                                   '[chat]\nrate_limit_messages = 0\n[logging]\nlevel = "warning"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_"))}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               BOT_SLACK_PORT=str(port), BOT_SLACK_HOST="127.0.0.1")
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "slack", "--store", str(index)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


async def _healthy(session: aiohttp.ClientSession, url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            async with session.get(url + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the replica did not start")


def _event(i: int, text: str, thread_ts: str | None = None) -> dict:
    event = {"type": "app_mention", "user": f"U{i:05d}", "text": f"<@U0BOT> {text}", "channel": f"C{i % 5:04d}",
             "ts": f"{1700000000 + i}.{i:06d}", "team": TEAM}
    return {**event, "thread_ts": thread_ts} if thread_ts else event


async def test_two_replicas_sharing_redis_answer_each_event_once(slack, kb_settings, kb_assistant, redis_server,
                                                                 tmp_path):
    ports = [free_port(), free_port()]
    replicas = [_replica(tmp_path, kb_settings.store_path, port, slack, redis_server) for port in ports]
    try:
        async with aiohttp.ClientSession() as session:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for url, process in zip(urls, replicas):
                await _healthy(session, url, process)
            bots = [Running(None, url, session) for url in urls]
            # Mostly greetings (answered without a search, so the test measures the delivery, not the
            # model), every tenth a real question. Each event and its two retries alternate replicas;
            # every seventh is also delivered to both at once.
            events = [_event(i, "How big is the campus?" if i % 10 == 0 else "hi") for i in range(EVENTS)]
            for first in range(0, EVENTS, 50):
                sends = []
                for i in range(first, first + 50):
                    event_id = f"Ev{i:08d}"
                    sends.append(bots[i % 2].event(events[i], event_id=event_id))
                    sends += [bots[(i + n) % 2].event(events[i], event_id=event_id,
                                                      headers={"X-Slack-Retry-Num": str(n)}) for n in (1, 2)]
                    if i % 7 == 0:
                        sends.append(bots[(i + 1) % 2].event(events[i], event_id=event_id))
                statuses = Counter(r.status for r in await asyncio.gather(*sends))
                assert set(statuses) == {200}, statuses
            wanted = {e["ts"] for e in events}
            await slack.wait_for(lambda: wanted <= {p.get("thread_ts") for p in slack.posted()}, timeout=120)
            await asyncio.sleep(1.0)
            posts = Counter(p.get("thread_ts") for p in slack.posted())
            assert {posts[ts] for ts in wanted} == {1}, [ts for ts in wanted if posts[ts] != 1][:5]

            # A thread started on one replica is followed, with its conversation, on the other.
            start = _event(EVENTS, "Tell me about the DAMO-USTC joint lab")
            await bots[0].event(start)
            await slack.wait_for(lambda: any(p.get("thread_ts") == start["ts"] for p in slack.posted()))
            follow = {"type": "message", "user": "U99999", "text": "where is it?", "channel": start["channel"],
                      "channel_type": "channel", "ts": f"{1800000000}.000001", "thread_ts": start["ts"], "team": TEAM}
            before = len(slack.posted())
            await bots[1].event(follow)
            await slack.wait_for(lambda: len(slack.posted()) > before)
            assert "Hefei" in section_text(slack.posted()[-1])
    finally:
        for process in replicas:
            process.terminate()
            process.wait(20)


def test_state_in_redis_expires_and_limits(redis_server):
    state = RedisState(redis_server.url, prefix=f"t{time.time_ns()}:")
    assert state.claim("e1", 0.3) and not state.claim("e1", 0.3)
    time.sleep(0.4)
    assert state.claim("e1", 0.3), "claims expire"
    assert [state.hit("u", 2, 1.0) for _ in range(3)][:2] == [0.0, 0.0] and state.hit("u", 2, 1.0) > 0
    for n in range(5):
        state.push("c", f"turn {n}", keep=3, ttl=5)
    assert state.items("c") == ["turn 2", "turn 3", "turn 4"]
