"""The gateway drops or invalidates the session while the bot is answering: no question is lost and none
is answered twice (the real discord.py client against the fake Discord server)."""

from __future__ import annotations

import asyncio
import time

from conftest import fresh_assistant
from discord_driver import running
from fake_discord import BOT_USER


class SlowEmbedder:
    """The real embedder, a second slower: the gateway fails while an answer is being computed."""

    def __init__(self, real, delay: float = 1.0):
        self._real, self.delay = real, delay

    def __getattr__(self, name):
        return getattr(self._real, name)

    def embed_queries(self, texts):
        time.sleep(self.delay)
        return self._real.embed_queries(texts)


def _mention(fake, text: str) -> dict:
    return fake.message(f"<@{BOT_USER['id']}> {text}", mentions=[BOT_USER])


def _replies_to(fake, message_id: str) -> int:
    return sum(1 for c in fake.posted_messages()
               if str((c.body.get("message_reference") or {}).get("message_id")) == message_id)


async def _through_a_gateway_fault(fake, kb_assistant, fault) -> tuple[dict, dict]:
    """A question whose answer is being computed when `fault` hits the gateway, and one asked once
    the client is connected again; both answered (the caller counts how often)."""
    async with running(fake, fresh_assistant(kb_assistant, embedder=SlowEmbedder(kb_assistant.embedder))):
        during = _mention(fake, "How big is the campus?")
        await fake.dispatch("MESSAGE_CREATE", during)
        await asyncio.sleep(0.3)
        await fault()
        await fake.wait_connected()
        after = _mention(fake, "Who is the director of Zhejiang Lab?")
        await fake.dispatch("MESSAGE_CREATE", after)
        await fake.wait_for(lambda: len(fake.posted_messages()) >= 2)
        await asyncio.sleep(1.5)  # time enough for a second answer to show up, were there one
    return during, after


async def test_disconnect_and_resume_in_the_middle_of_an_answer(fake, kb_assistant):
    during, after = await _through_a_gateway_fault(fake, kb_assistant, fake.drop_connection)
    assert fake.resumes == 1 and len(fake.identified) == 1
    assert _replies_to(fake, during["id"]) == 1 and _replies_to(fake, after["id"]) == 1


async def test_invalid_session_identifies_again_and_loses_nothing(fake, kb_assistant):
    async def invalidate() -> None:
        await fake.invalidate_session()
        await fake.wait_for(lambda: len(fake.identified) == 2)

    during, after = await _through_a_gateway_fault(fake, kb_assistant, invalidate)
    assert len(fake.identified) == 2
    assert _replies_to(fake, during["id"]) == 1 and _replies_to(fake, after["id"]) == 1


async def test_sharded_client_answers_once(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant, discord={"shards": "2"})) as client:
        assert client.shard_count == 2
        question = _mention(fake, "Where is Zhejiang Lab?")
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.wait_for(lambda: fake.posted_messages())
        await asyncio.sleep(0.5)
    assert sorted(tuple(i["shard"]) for i in fake.identified) == [(0, 2), (1, 2)]
    assert _replies_to(fake, question["id"]) == 1


async def test_discord_rate_limits_and_server_errors_are_retried_and_the_answer_arrives_once(fake, kb_assistant):
    fake.rate_limit_next, fake.fail_next = 2, 1  # discord.py waits out a 429 and retries a 502 (after 1 s)
    async with running(fake, fresh_assistant(kb_assistant)):
        question = _mention(fake, "How big is the campus?")
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.wait_for(lambda: fake.posted_messages(), timeout=30)
        await asyncio.sleep(0.5)
    assert fake.rate_limit_next == 0 and fake.fail_next == 0 and _replies_to(fake, question["id"]) == 1
    assert "hectares" in fake.posted_messages()[0].body["content"]
