"""Delivering an answer: a message that shows it while it is being generated (edited at a bounded
rate), then its parts, as many messages as the platform's limits need."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

_log = logging.getLogger(__name__)


async def deliver(parts: list, live: LiveMessage | None, *, send: Callable[[object], Awaitable[object]],
                  replace: Callable[[object, object], Awaitable[object]]) -> None:
    """Sends an answer's `parts` (rendered by the adapter): the preview shown while it was generated
    is replaced by the first part, the others follow in order."""
    shown = await live.finish() if live else None
    if shown is not None:
        await replace(shown, parts[0])
        parts = parts[1:]
    for part in parts:
        await send(part)


class LiveMessage:
    """`update(text)` may be called for every generated token; the platform sees at most one
    post or edit per `interval` seconds, always with the latest text. `finish()` waits for the
    edit in flight and returns the posted message (None if nothing was posted), which the
    adapter then edits into the final, checked answer."""

    def __init__(self, post: Callable[[str], Awaitable[object]], edit: Callable[[object, str], Awaitable[object]],
                 *, interval: float, limit: int):
        self._post, self._edit = post, edit
        self.interval, self.limit = interval, limit
        self.message: object | None = None
        self._latest = self._shown = ""
        self._task: asyncio.Task | None = None
        self._closing = asyncio.Event()

    def update(self, text: str) -> None:
        self._latest = text
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def finish(self) -> object | None:
        self._closing.set()
        if self._task is not None:
            await self._task
        return self.message

    async def _run(self) -> None:
        while not self._closing.is_set():  # once closing, the final answer replaces the preview
            if self._latest != self._shown:
                text = self._latest
                preview = text if len(text) <= self.limit else text[:self.limit - 1] + "…"
                try:
                    if self.message is None:
                        self.message = await self._post(preview)
                    else:
                        await self._edit(self.message, preview)
                except Exception:  # a preview is optional; the final answer is still delivered
                    _log.warning("could not show the answer while it was generated", exc_info=True)
                    return
                self._shown = text
            try:
                await asyncio.wait_for(self._closing.wait(), self.interval)
            except TimeoutError:
                pass
