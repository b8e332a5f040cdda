"""A small website on 127.0.0.1 for the crawler's tests and benchmark: a real HTTP server whose pages
a test can change, remove, slow down or redirect, answering If-None-Match (ETag) and If-Modified-Since
as web servers do."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LAST_MODIFIED = "Mon, 02 Nov 2026 08:00:00 GMT"


@dataclass
class Page:
    body: bytes
    type: str = "text/html; charset=utf-8"
    status: int = 200
    delay: float = 0.0       # seconds before answering
    etag: bool = True        # False: only Last-Modified (which changes with the body)
    location: str = ""       # a redirect (302) to here

    @property
    def tag(self) -> str:
        """Its ETag: changes with the body."""
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class Website:
    def __init__(self):
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []   # (path, request headers), in order
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.path, dict(self.headers)))
                page = site.pages.get(self.path)
                if page is None:
                    return self._send(404, b"not found", "text/plain")
                if page.delay:
                    time.sleep(page.delay)
                if page.location:
                    self.send_response(302)
                    self.send_header("Location", page.location)
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if page.status != 200:
                    return self._send(page.status, b"error", "text/plain")
                modified = _LAST_MODIFIED if page.etag else time.strftime(
                    "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1_780_000_000 + len(page.body)))
                if (page.etag and self.headers.get("If-None-Match") == page.tag) or (
                        not page.etag and self.headers.get("If-Modified-Since") == modified):
                    self.send_response(304)
                    self.end_headers()
                    return None
                headers = {"ETag": page.tag} if page.etag else {"Last-Modified": modified}
                return self._send(200, page.body, page.type, headers)

            def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Website:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, body: str | bytes, **page) -> None:
        self.pages[path] = Page(body.encode() if isinstance(body, str) else body, **page)

    def asked(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for `path`."""
        return [headers for p, headers in self.requests if p == path]
