"""Servers that go away or hang, databases that are locked, and text no one should send: the candidate
always gets an answer or a clear message, and the bot recovers by itself."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

from bot.config import KnowledgeSettings, Settings, StoreSettings
from bot.orchestrator.assistant import Assistant
from bot.core.ingest import ingest
from bot.core.store import Store
from bot.core.types import Question
from conftest import LAB, ROOT, config_toml, fresh_assistant
from docs import CAMPUS_A, HIRING, write
from slack_driver import message, running, section_text

UNAVAILABLE = "can't reach the lab's documents right now"


def served(tmp_path, chroma, embedder, **store) -> Assistant:
    write(tmp_path / "kb", "campus.md", CAMPUS_A)
    write(tmp_path / "kb", "hiring.md", HIRING)
    settings = Settings(root=tmp_path, lab=LAB, store=StoreSettings(url=chroma.url, **store),
                        knowledge=KnowledgeSettings(paths=("kb",)))
    ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
    return Assistant(settings, store=Store(settings), embedder=embedder)


async def test_a_hung_chroma_server_gives_a_clear_message_within_5_s_and_answers_resume(chroma, tmp_path, embedder):
    # An index too big to be held in memory (memory_mb = 0 makes this one so) reads the server for every answer.
    assistant = served(tmp_path, chroma, embedder, memory_mb=0)
    assert (await assistant.reply(Question("How big is the campus?"))).grounded
    os.kill(chroma.process.pid, signal.SIGSTOP)  # hangs instead of dying: connections open, no answers
    try:
        started = time.monotonic()
        burst = await asyncio.gather(*(assistant.reply(Question("How big is the campus?", user=f"u{i}",
                                                                 conversation=str(i))) for i in range(20)))
        took = time.monotonic() - started
        greeting = await asyncio.wait_for(assistant.reply(Question("hi", user="other")), 1.0)  # not held up
    finally:
        os.kill(chroma.process.pid, signal.SIGCONT)
    assert all(a.notice and UNAVAILABLE in a.text for a in burst) and took < 5, (took, burst[0].text)
    assert "talents@zhejianglab.com" in burst[0].text and greeting.notice
    await asyncio.sleep(2.1)  # the next question tries the server again
    back = await assistant.reply(Question("How big is the campus?", user="u-back", conversation="back"))
    assert back.grounded and "hectares" in back.text


def test_chat_survives_the_server_going_away(chroma, tmp_path, embedder):
    served(tmp_path, chroma, embedder)
    config_toml(tmp_path, f'[knowledge]\npaths = ["kb"]\n[store]\nurl = "{chroma.url}"\nmemory_mb = 0\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    chat = subprocess.Popen([sys.executable, "-m", "bot", "chat"], cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
    chat.stdin.write("How big is the campus?\n")
    chat.stdin.flush()
    answered = ""
    while "hectares" not in answered:
        line = chat.stdout.readline()
        assert line, chat.stderr.read()
        answered += line
    chroma.stop()
    out, err = chat.communicate("How big is the campus?\n/quit\n", timeout=60)
    assert chat.returncode == 0 and UNAVAILABLE in out and "Traceback" not in err, err


async def test_a_locked_feedback_database_still_delivers_the_answer(slack, kb_assistant, tmp_path, caplog):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        lock = sqlite3.connect(bot.bot.assistant.records.path)
        lock.execute("begin exclusive")  # another process holds the write lock
        try:
            await bot.event(message("How big is the campus?"))
            await slack.wait_for(lambda: slack.posted(), timeout=15)
        finally:
            lock.rollback()
            lock.close()
    [post] = slack.posted()
    assert "hectares" in section_text(post)
    assert not any(b["type"] == "actions" for b in post["blocks"])  # no buttons: nothing to record them against
    assert "could not record the answer" in caplog.text


async def test_lone_surrogates_and_control_characters_are_answered(kb_assistant):
    answer = await fresh_assistant(kb_assistant).reply(Question("How big\ud800 is the\x00 campus?\udfff"))
    assert answer.grounded and "hectares" in answer.text
