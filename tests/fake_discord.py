"""A fake Discord (REST API + gateway) on 127.0.0.1 for driving the real discord.py client.

It speaks just enough of the protocol for a bot: login, READY and GUILD_CREATE, heartbeats,
RESUME, slash-command registration, messages, typing, threads, interaction callbacks and
follow-ups. Everything the bot sends is recorded in `calls` for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from loopback import LoopbackServer

BOT_ID = 1000          # the bot user; also its application ID, as on real Discord
GUILD_ID = 2000
CHANNEL_ID = 3000      # a text channel in the guild
DM_CHANNEL_ID = 4000
HUMAN = {"id": "5000", "username": "candidate", "discriminator": "0", "avatar": None, "global_name": "Candidate"}
OTHER_BOT = {"id": "6000", "username": "otherbot", "discriminator": "0", "avatar": None, "bot": True}
BOT_USER = {"id": str(BOT_ID), "username": "recruitbot", "discriminator": "0", "avatar": None, "bot": True}
_TIMESTAMP = "2026-11-22T10:00:00.000000+00:00"


@dataclass
class Call:
    method: str
    path: str
    body: dict | list | None
    query: dict = field(default_factory=dict)


class FakeDiscord(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.identified: list[dict] = []  # the IDENTIFY payloads the client sent
        self.resumes = 0
        self.reject_token = False
        self.threads: list[dict] = []
        self._ids = itertools.count(900_000)
        self._seq = 0
        self._connected = asyncio.Event()
        self.rate_limit_next = 0  # this many message posts are answered 429 (retry_after 0.2 s) first
        self.fail_next = 0        # this many message posts are answered 502 (Bad Gateway) first

    # --- lifecycle ------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # --- what tests call ------------------------------------------------------------------

    async def wait_connected(self, timeout: float = 15) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def dispatch(self, event: str, data: dict) -> None:
        self._seq += 1
        await self._socket.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def drop_connection(self) -> None:
        """Close the gateway socket as a network failure would (the client must come back)."""
        self._connected.clear()
        await self._socket.close(code=4000, message=b"unknown error")

    async def invalidate_session(self) -> None:
        """INVALID_SESSION (not resumable): the client must identify again."""
        self._connected.clear()
        await self._socket.send_str(json.dumps({"op": 9, "d": False}))

    def message(self, content: str, *, author: dict = HUMAN, channel_id: int = CHANNEL_ID, guild: bool = True,
                mentions: list[dict] = ()) -> dict:
        data = {"id": str(next(self._ids)), "channel_id": str(channel_id), "author": author, "content": content,
                "timestamp": _TIMESTAMP, "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": list(mentions), "mention_roles": [], "attachments": [], "embeds": [], "pinned": False,
                "type": 0, "components": []}
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = {"roles": [], "joined_at": _TIMESTAMP, "deaf": False, "mute": False, "flags": 0}
        return data

    def slash(self, name: str, options: dict | None = None, *, locale: str = "en-US") -> dict:
        return {"id": str(next(self._ids)), "application_id": str(BOT_ID), "type": 2, "token": f"tok{next(self._ids)}",
                "version": 1, "attachment_size_limit": 8_000_000, "locale": locale,
                "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
                "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general"},
                "member": {"user": HUMAN, "roles": [], "joined_at": _TIMESTAMP, "deaf": False, "mute": False, "flags": 0,
                           "permissions": "0"},
                "data": {"id": str(next(self._ids)), "name": name, "type": 1,
                         "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()]}}

    def click(self, custom_id: str, message: dict, *, locale: str = "en-US") -> dict:
        """A button click (a component interaction) on `message`, a message the bot posted; as Discord
        sends it, the message carries its buttons (the one clicked among them)."""
        button = {"type": 2, "style": 2, "custom_id": custom_id, "label": custom_id}
        components = message.get("components") or [{"type": 1, "components": [button]}]
        return {**self.slash("", locale=locale), "type": 3, "message": {**message, "components": components},
                "data": {"custom_id": custom_id, "component_type": 2}}

    def submit(self, custom_id: str, values: dict[str, str], *, locale: str = "en-US") -> dict:
        """A modal submitted with `values` (field custom_id -> text), as Discord sends it."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        return {**self.slash("", locale=locale), "type": 5, "data": {"custom_id": custom_id, "components": rows}}

    def callbacks(self) -> list[Call]:
        """The interaction responses the bot sent (type 4 message, 5 deferred, 7 update, 9 modal)."""
        return [c for c in self.sent("POST", "interactions/")]

    def sent(self, method: str = "POST", prefix: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    def posted_messages(self, channel_id: int = CHANNEL_ID) -> list[Call]:
        return [c for c in self.sent("POST") if c.path == f"channels/{channel_id}/messages"]

    # --- gateway --------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op = payload["op"]
            if op == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:  # identify
                self.identified.append(payload["d"])
                await self._ready(payload["d"].get("shard"))
            elif op == 6:  # resume
                self.resumes += 1
                await self.dispatch("RESUMED", {})
                self._connected.set()
        return ws

    async def _ready(self, shard: list | None = None) -> None:
        # With shards, a guild belongs to shard (guild_id >> 22) % shard_count, as on Discord.
        mine = shard is None or (GUILD_ID >> 22) % shard[1] == shard[0]
        await self.dispatch("READY", {
            "v": 10, "user": BOT_USER, "session_id": "session-1", "resume_gateway_url": self.gateway_url,
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if mine else [],
            "application": {"id": str(BOT_ID), "flags": 0}, **({"shard": shard} if shard else {})})
        if not mine:
            self._connected.set()
            return
        await self.dispatch("GUILD_CREATE", {
            "id": str(GUILD_ID), "name": "Lab candidates", "owner_id": HUMAN["id"], "roles": [], "emojis": [],
            "features": [], "member_count": 2, "members": [], "threads": [], "unavailable": False, "large": False,
            "joined_at": _TIMESTAMP, "icon": None,
            "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "general", "position": 0,
                          "permission_overwrites": [], "guild_id": str(GUILD_ID)}]})
        self._connected.set()

    # --- REST -----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.json() if request.can_read_body and request.content_type == "application/json" else None
        self.calls.append(Call(request.method, path, body, dict(request.query)))
        if self.reject_token:
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if path == "users/@me":
            return _json(BOT_USER)
        if path == "oauth2/applications/@me":
            return _json({"id": str(BOT_ID), "name": "Recruit bot", "description": "", "icon": None,
                          "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64,
                          "owner": HUMAN, "flags": 0})
        if path.startswith("applications/") and path.endswith("/commands"):
            return _json([{**c, "id": str(next(self._ids)), "application_id": str(BOT_ID), "version": "1"}
                          for c in body])
        if path.endswith("/typing"):
            return web.Response(status=204)
        if path.startswith("interactions/") and path.endswith("/callback"):
            interaction_id = path.split("/")[1]
            return _json({"interaction": {"id": interaction_id, "type": 2, "response_message_loading": True}})
        if path.endswith("/threads"):
            thread = {"id": str(next(self._ids)), "type": 11, "guild_id": str(GUILD_ID), "parent_id": path.split("/")[1],
                      "name": body.get("name", ""), "owner_id": str(BOT_ID), "message_count": 0, "member_count": 1,
                      "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                          "archive_timestamp": _TIMESTAMP, "locked": False}}
            self.threads.append(thread)
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})  # as Discord does
            return _json(thread)
        if request.method == "PATCH" and "/messages/" in path:  # an edit
            channel_id = path.split("/")[1] if path.startswith("channels/") else str(CHANNEL_ID)
            return _json({**self.message(body.get("content", ""), author=BOT_USER, channel_id=int(channel_id)),
                          "id": path.rsplit("/", 1)[1]})
        if self.rate_limit_next and request.method == "POST" and path.endswith("/messages"):
            self.rate_limit_next -= 1
            self.calls.pop()  # not posted
            return web.Response(body=json.dumps({"message": "You are being rate limited.", "retry_after": 0.2,
                                                 "global": False}).encode(), status=429,
                                headers={"Content-Type": "application/json", "Via": "1.1 google",
                                         "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.2"})
        if self.fail_next and request.method == "POST" and path.endswith("/messages"):
            self.fail_next -= 1
            self.calls.pop()  # not posted
            return web.Response(text="bad gateway", status=502)
        if path.endswith("/messages") or path.startswith("webhooks/"):
            channel_id = path.split("/")[1] if path.startswith("channels/") else str(CHANNEL_ID)
            return _json({**self.message(body.get("content", ""), author=BOT_USER, channel_id=int(channel_id)),
                          "content": body.get("content", "")})
        return _json({"message": f"fake Discord has no route for {request.method} {path}", "code": 0}, status=404)


def _json(data: object, status: int = 200) -> web.Response:
    # Exactly application/json: with "; charset=utf-8" discord.py reads the body as text.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})
