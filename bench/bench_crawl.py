"""Benchmark: reading a website (ingest URL), first and again, against a baseline that reads it whole
each time, in one run.

A generated site of --pages HTML pages (English and Chinese) and a few linked PDF adverts is served on
127.0.0.1 (tests/website.py: ETag and Last-Modified answered as web servers do). Reported: pages per
second of the crawl itself (at crawl_rate 1000/s; a real site is read at [knowledge] crawl_rate, 2/s by
default), and for a re-crawl after 5% of the pages changed and 2% went away: the share of pages skipped
as unchanged (304, or the same bytes), the bytes transferred, and the files ingest embedded again. The
baseline reads the same site into an empty folder (no conditional requests, every page new), as a crawl
without a memory would. Ingest uses feature-hashing vectors (the model's cost per chunk is bench_scale's).

    pip install -e '.[test]' && python bench/bench_crawl.py [--pages 300]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_WORDS = ("cerebellum", "timing", "postdoc", "imaging", "funding", "student", "rotation", "electrode", "campus",
          "seminar", "deadline", "fellowship", "laboratory", "recording", "model", "behaviour")


def _page(i: int, version: int, rng: random.Random) -> str:
    words = " ".join(rng.choice(_WORDS) for _ in range(120))
    zh = "实验室每年招收博士研究生和博士后。" if i % 5 == 0 else ""
    return (f"<html><head><title>Page {i} | Bench Lab</title></head><body><main><h1>Topic {i}</h1>"
            f"<p>Version {version}. {words}.</p><p>{zh}</p></main></body></html>")


def _site(web, pages: int, seed: int = 7) -> None:
    from docs import pdf_bytes

    rng = random.Random(seed)
    links = "".join(f'<li><a href="/lab/p{i}/">Topic {i}</a></li>' for i in range(pages))
    pdfs = "".join(f'<li><a href="/lab/ads/ad{i}.pdf">Advert {i}</a></li>' for i in range(max(1, pages // 50)))
    web.add("/robots.txt", "User-agent: *\nDisallow: /lab/private/\n", type="text/plain")
    web.add("/lab/", f"<html><body><main><h1>Bench Lab</h1><ul>{links}{pdfs}</ul></main></body></html>")
    for i in range(pages):
        web.add(f"/lab/p{i}/", _page(i, 1, rng))
    for i in range(max(1, pages // 50)):
        web.add(f"/lab/ads/ad{i}.pdf", pdf_bytes([f"Advert {i}", "Bench Lab hires a postdoc.", "Salary: EUR 50,000."]),
                type="application/pdf")


def _settings(folder: Path):
    from bot.config import KnowledgeSettings, StoreSettings, load

    s = load(str(ROOT / "config.toml"))
    knowledge = KnowledgeSettings(paths=(), crawl_dir=str(folder / "web"), crawl_rate=1000.0, crawl_depth=2,
                                  crawl_max_pages=100000)
    return s.model_copy(update={"knowledge": knowledge, "store": StoreSettings(path=str(folder / "index"))})


def _run(settings, web, embedder):
    from bot.core.crawl import Crawler
    from bot.core.ingest import ingest
    from bot.core.store import Store

    started = time.perf_counter()
    crawled = Crawler(settings).run([web.url + "/lab/"])
    crawl_s = time.perf_counter() - started
    started = time.perf_counter()
    report = ingest(settings, store=Store(settings, writing=True), embedder=embedder, paths=crawled.folders,
                    progress=False)
    return crawled, crawl_s, report, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()

    from bot.core.embeddings import HashingEmbedder
    from website import Website

    embedder = HashingEmbedder(dim=384)
    rows = []
    with Website() as web, tempfile.TemporaryDirectory() as scratch:
        _site(web, args.pages)
        ours, naive = Path(scratch) / "ours", Path(scratch) / "naive"
        first, first_s, first_ingest, first_ingest_s = _run(_settings(ours), web, embedder)
        total = len(first.fetched)
        rows.append(("first crawl", first, first_s, first_ingest, first_ingest_s, _bytes(web)))

        rng = random.Random(11)
        changed = rng.sample(range(args.pages), max(1, args.pages * 5 // 100))
        gone = rng.sample(sorted(set(range(args.pages)) - set(changed)), max(1, args.pages * 2 // 100))
        for i in changed:
            web.add(f"/lab/p{i}/", _page(i, 2, rng))
        for i in gone:
            web.pages.pop(f"/lab/p{i}/")
        web.requests.clear()
        again, again_s, again_ingest, again_ingest_s = _run(_settings(ours), web, embedder)
        rows.append(("re-crawl", again, again_s, again_ingest, again_ingest_s, _bytes(web)))

        web.requests.clear()
        shutil.rmtree(naive, ignore_errors=True)
        base, base_s, base_ingest, base_ingest_s = _run(_settings(naive), web, embedder)
        rows.append(("re-crawl, baseline without memory", base, base_s, base_ingest, base_ingest_s, _bytes(web)))

    print(f"site: {args.pages} pages and {max(1, args.pages // 50)} PDFs ({total} read); then {len(changed)} changed, "
          f"{len(gone)} gone\n")
    print("| run | requests | pages/s | unchanged (skipped) | KB transferred | files embedded | removed | crawl s "
          "| ingest s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, c, cs, r, rs, sent in rows:
        read = len(c.fetched) + len(c.unchanged)
        share = len(c.unchanged) / read if read else 0.0
        print(f"| {name} | {c.requests} | {read / cs:.0f} | {len(c.unchanged)} ({share:.0%}) | {sent / 1024:.0f} | "
              f"{len(r.indexed)} | {len(r.removed)} | {cs:.2f} | {rs:.2f} |")


def _bytes(web) -> int:
    """What the server sent for the requests it saw since the last clear: 200s carry the page's body."""
    sent = 0
    for path, headers in web.requests:
        page = web.pages.get(path)
        if page is None or page.status != 200:
            continue
        if headers.get("If-None-Match") != page.tag:
            sent += len(page.body)
    return sent


if __name__ == "__main__":
    main()
