"""A mock Slack Web API (and Socket Mode websocket) on 127.0.0.1 that records every call."""

from __future__ import annotations

import itertools
import json
import random
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from loopback import LoopbackServer

TEAM = "T0LAB"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"


@dataclass
class Call:
    method: str
    body: dict


class FakeSlack(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # what was posted to response URLs
        self.acks: list[dict] = []       # Socket Mode envelopes the app acknowledged
        self.reject_token = False
        self._ts = itertools.count(1)
        # Faults, as Slack gives them under load: this share of the posting calls (chat.postMessage,
        # chat.update, response URLs) is answered 429 (with Retry-After) and this share 500, at random,
        # retries included; nothing is posted by a call that failed.
        self.rate_limited = 0.0
        self.errors = 0.0
        self.faults: list[int] = []  # the statuses answered, in order
        self._random = random.Random(7)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_get("/socket", self._socket_mode)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"  # the trailing slash matters to slack_sdk

    def response_url(self, name: str = "1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def posted(self) -> list[dict]:
        return [c.body for c in self.calls if c.method == "chat.postMessage"]

    async def push(self, envelope: dict) -> None:
        """Send a Socket Mode envelope to the connected app."""
        await self.wait_for(lambda: self._socket is not None)
        await self._socket.send_str(json.dumps(envelope))

    # --- handlers -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
            for key in ("blocks", "attachments"):
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        self.calls.append(Call(method, body))
        if self.reject_token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://lab.slack.com/", "team": "Lab", "user": "recruitbot",
                                      "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID,
                                      "is_enterprise_install": False})
        if method in ("chat.postMessage", "chat.update") and (fault := self._fault()):
            self.calls.pop()  # not posted
            return fault
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts,
                                      "message": {"text": body.get("text"), "ts": ts}})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        return web.json_response({"ok": True})

    def _fault(self) -> web.Response | None:
        draw = self._random.random()
        if draw < self.rate_limited:
            self.faults.append(429)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"})
        if draw < self.rate_limited + self.errors:
            self.faults.append(500)
            return web.Response(status=500, text="internal error")
        return None

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        if fault := self._fault():
            return fault
        self.responses.append(body)
        return web.Response(text="ok")

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A0LAB"}}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.append(json.loads(msg.data))
        return ws
