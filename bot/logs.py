"""Logging set-up: human-readable lines or JSON lines, with secrets and personal data masked either way."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from bot.candidates.privacy import scrub
from bot.core.grounding import secrets_in_environment


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Masking(logging.Formatter):
    """Formats with `inner`, then replaces any secret value (tokens, keys) with [secret], and personal
    data (emails, phone numbers, registered names) with placeholders."""

    def __init__(self, inner: logging.Formatter, secrets: list[str]):
        super().__init__()
        self.inner, self.secrets = inner, secrets

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return scrub(text)


def setup(level: int, fmt: str = "text", *, extra_secret_names: tuple[str, ...] = ()) -> None:
    inner = _Json() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Masking(inner, secrets_in_environment(extra_secret_names)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request is noise at info level.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "chromadb.telemetry"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
