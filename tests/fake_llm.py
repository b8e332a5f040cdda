"""An OpenAI-compatible chat-completions server on 127.0.0.1 with scripted replies.

`reply` decides what each request gets: a string, a `Script` (status, delay, pieces for
streaming), or a function of the request's messages returning either. Requests are recorded.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field

from aiohttp import web

from loopback import LoopbackServer


@dataclass
class Script:
    text: str = ""
    status: int = 200
    delay: float = 0.0          # seconds before answering
    piece_delay: float = 0.0    # seconds between streamed pieces
    pieces: list[str] = field(default_factory=list)  # streamed in these pieces (default: word by word)


def passages(messages: list[dict]) -> dict[int, str]:
    """The numbered passages in the last user message: {n: text}."""
    content = messages[-1]["content"]
    found = re.findall(r"^\[(\d+)\] \((.*?)\)\n(.*?)(?=\n\n\[\d+\] \(|\n\nQuestion: )", content, re.S | re.M)
    return {int(n): body for n, _title, body in found}


def number_of(messages: list[dict], needle: str) -> int:
    """The passage number whose text contains `needle`."""
    return next(n for n, body in passages(messages).items() if needle in body)


def echo_best_passage(messages: list[dict]) -> str:
    """Answer with the first two sentences of passage [1], cited (an 'LLM' that only quotes)."""
    found = passages(messages)
    if not found:
        return "The documents do not say. Please ask the recruitment team at talents@zhejianglab.com."
    body = " ".join(found[1].split())
    sentences = re.findall(r".+?(?:[.!?。！？](?=\s|$)|$)", body)
    return " ".join(s.strip() for s in sentences[:2] if s.strip()) + " [1]"


STREAMED_CAMPUS = "The campus covers 90.5 hectares [1], which is 1,358 mu."  # what the candidate ends up seeing


def streamed_campus_answer(messages: list[dict]) -> Script:
    """A slow stream citing the campus passage, with an invalid citation [7] that must never show."""
    n = number_of(messages, "90.5 hectares")
    return Script(text=f"The campus covers 90.5 hectares [{n}][7], which is 1,358 mu.", piece_delay=0.15)


def is_rewrite(messages: list[dict]) -> bool:
    return "standalone question" in messages[0]["content"]


class FakeLLM(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.reply: object = echo_best_passage
        self.requests: list[dict] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._completions)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answers(self) -> list[dict]:
        """Requests for answers (not follow-up rewrites)."""
        return [r for r in self.requests if not is_rewrite(r["messages"])]

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        script = self.reply(body["messages"]) if callable(self.reply) else self.reply
        if isinstance(script, str):
            script = Script(text=script)
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.status != 200:
            return web.json_response({"error": {"message": "scripted failure", "type": "server_error"}},
                                     status=script.status)
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body.get("model", "fake")}
        if not body.get("stream"):
            return web.json_response({**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": script.text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        pieces = script.pieces or re.findall(r"\S+\s*", script.text)
        for piece in pieces:
            chunk = {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if script.piece_delay:
                await asyncio.sleep(script.piece_delay)
        done = {**base, "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await response.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        await response.write_eof()
        return response
