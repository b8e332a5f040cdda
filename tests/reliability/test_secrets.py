"""Canary secrets planted in the environment never reach a log line or a message, in text or JSON logs,
tracebacks included."""

from __future__ import annotations

import json
import logging

import pytest

from bot import logs
from bot.core.types import Question
from conftest import FailingEmbedder, fresh_assistant
from slack_driver import message, running, section_text

CANARIES = {"DISCORD_TOKEN": "canary-discord-5b1f", "SLACK_BOT_TOKEN": "xoxb-canary-77aa",
            "SLACK_SIGNING_SECRET": "canary-signing-91c2", "OPENAI_API_KEY": "sk-canary-0d3e"}


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_canaries_never_reach_logs_or_candidates(monkeypatch, capfd, kb_assistant, slack, tmp_path, fmt):
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    logs.setup(logging.DEBUG, fmt)
    try:
        failing = fresh_assistant(kb_assistant, embedder=FailingEmbedder(kb_assistant.embedder))
        log = logging.getLogger("bot.test")
        try:  # a traceback that carries a secret in its message
            raise RuntimeError(f"upstream said: bad key {CANARIES['OPENAI_API_KEY']}")
        except RuntimeError:
            log.exception("calling the provider failed")
        apology = await failing.reply(Question(f"EXPLODE {CANARIES['DISCORD_TOKEN']}", user="u1"))
        async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
            await bot.event(message(f"How big is the campus? {CANARIES['SLACK_BOT_TOKEN']}"))
            await slack.wait_for(lambda: slack.posted())
    finally:
        logging.getLogger().handlers.clear()
    err = capfd.readouterr().err
    assert "Traceback" in err and "[secret]" in err, "the traceback was logged, masked"
    if fmt == "json":
        assert all(json.loads(line) for line in err.strip().splitlines() if line.startswith("{"))
    sent = apology.text + " ".join(section_text(p) for p in slack.posted())
    for value in CANARIES.values():
        assert value not in err and value not in sent
