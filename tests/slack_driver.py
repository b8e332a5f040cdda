"""What Slack would send the bot, signed, and a running bot's HTTP endpoint (shared by the Slack tests)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from urllib.parse import urlencode
import time
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_adapter
from bot.adapters.slack_adapter import SlackBot
from fake_slack import BOT_USER, TEAM, FakeSlack

SECRET = "test-signing-secret"
HUMAN = "U0CANDIDATE"
_ids = itertools.count(1)


class Running:
    """The bot's HTTP endpoint, and helpers that send it what Slack would."""

    def __init__(self, bot: SlackBot, url: str, session: aiohttp.ClientSession):
        self.bot, self.url, self.session = bot, url, session

    async def post(self, body: str, content_type: str, *, secret: str = SECRET, timestamp: int | None = None,
                   headers: dict | None = None) -> aiohttp.ClientResponse:
        ts = str(timestamp or int(time.time()))
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        all_headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
                       "Content-Type": content_type, **(headers or {})}
        async with self.session.post(self.url + slack_adapter.EVENTS_PATH, data=body.encode(),
                                     headers=all_headers) as response:
            await response.read()
            return response

    async def event(self, event: dict, *, event_id: str | None = None, **kwargs) -> aiohttp.ClientResponse:
        return await self.post(json.dumps(event_body(event, event_id)), "application/json", **kwargs)

    async def form(self, fields: dict, **kwargs) -> aiohttp.ClientResponse:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)


def event_body(event: dict, event_id: str | None = None) -> dict:
    return {"token": "unused", "team_id": TEAM, "api_app_id": "A0LAB", "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


def mention(text: str, *, channel: str = "C0JOBS", ts: str | None = None, thread_ts: str | None = None) -> dict:
    event = {"type": "app_mention", "user": HUMAN, "text": f"<@{BOT_USER}> {text}", "channel": channel,
             "ts": ts or f"{int(time.time())}.{next(_ids):06d}", "team": TEAM}
    return {**event, "thread_ts": thread_ts} if thread_ts else event


def message(text: str, *, channel: str = "D0CANDIDATE", channel_type: str = "im", **extra) -> dict:
    return {"type": "message", "user": HUMAN, "text": text, "channel": channel, "channel_type": channel_type,
            "ts": f"{int(time.time())}.{next(_ids):06d}", "team": TEAM, **extra}


def make_bot(slack: FakeSlack, assistant, tmp_path, *, signing_secret: str | None = SECRET,
             token: str = "xoxb-test") -> SlackBot:
    return SlackBot(assistant, assistant.settings, bot_token=token, signing_secret=signing_secret,
                    client=AsyncWebClient(token=token, base_url=slack.api_url))


@asynccontextmanager
async def running(slack: FakeSlack, assistant, tmp_path):
    bot = make_bot(slack, assistant, tmp_path)
    runner = web.AppRunner(slack_adapter.http_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        try:
            yield Running(bot, f"http://127.0.0.1:{port}", session)
        finally:
            await runner.cleanup()


def section_text(post: dict) -> str:
    return "".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")


def context_text(post: dict) -> str:
    return " ".join(e["text"] for b in post["blocks"] if b["type"] == "context" for e in b["elements"])
