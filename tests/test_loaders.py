"""Documents as labs really have them, through the real loaders and a real ingest.

Plain-text press articles without markup, web pages with navigation and footers, PDFs made
here with fpdf2 (running headers, page numbers, words hyphenated across lines), Markdown with
decorative symbols: what is indexed is what a reader reads, with its headings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import loaders
from bot.core.ingest import ingest
from bot.core.store import Store
from conftest import ROOT, settings_for
from docs import brochure_pdf, write

PRESS = """A Harbour for Ocean Science

How a coastal institute became a research hub

The Tidewater Institute sits on the northern shore of Qingdao, a port city in eastern China.

It was founded in 2009 by the provincial government together with three universities. Since then it
has grown steadily.

Campus

The campus covers 40 hectares. "We want a place where ships and
laboratories meet," said Lin Hai, the institute's director.

Related articles
Share this story
"""

NAV_ONLY = """<html><head><title>Menu</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li><li><a href="/jobs">Jobs</a></li></ul></nav>
<footer><a href="/privacy">Privacy</a> | <a href="/contact">Contact</a></footer></body></html>"""

PAGE = """<!DOCTYPE html><html><head><title>Open positions | Coral Reef Lab</title>
<meta property="og:site_name" content="Coral Reef Lab">
<meta property="article:published_time" content="2025-03-01T08:00:00Z"></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/jobs">Jobs</a></nav></header>
<div class="cookie-banner"><p>We use cookies to improve your experience. Accept all cookies to continue.</p></div>
<main><article><h1>Open positions</h1>
<p>The Coral Reef Lab in Sanya is hiring marine biologists for its reef restoration programme this year.</p>
<h2>Postdoctoral fellows</h2>
<p>Fellows join a team of twelve divers and spend three months a year at the field station on the coast.</p>
<div class="share-buttons"><p>Share this page: Twitter Facebook WeChat</p></div>
</article></main>
<footer><p>© 2025 Coral Reef Lab. All rights reserved.</p></footer></body></html>"""

DECORATED = """# ★ Summer School ★

■ **Dates:** *July and August*, every year

---

The **summer school** brings [forty students](https://example.org/list) from partner universities to the campus.

► Students spend __two weeks__ in lectures and `four weeks` in laboratory projects.

<!-- editor's note: update the dates every spring -->
[![status](https://img.example/badge.svg)](https://ci.example)

```bash
open https://example.org/apply
```

Questions go to <summer@school.example>.
"""


def _doc(tmp_path: Path, name: str, text: str) -> loaders.Document:
    return loaders.load(write(tmp_path, name, text), name)


def test_plain_text_keeps_title_and_headings_apart_from_sentences(tmp_path):
    doc = _doc(tmp_path, "press.txt", PRESS)
    assert doc.title == "A Harbour for Ocean Science"
    lines = doc.text.splitlines()
    assert "## Campus" in lines and "## How a coastal institute became a research hub" in lines
    # The title never runs into the first sentence; a paragraph broken mid-sentence is mended.
    assert any(ln.startswith("The Tidewater Institute sits") for ln in lines)
    assert '"We want a place where ships and laboratories meet," said Lin Hai' in doc.text
    assert "Related articles" not in doc.text and "Share this" not in doc.text


def test_html_main_content_without_navigation_cookies_or_footer(tmp_path):
    doc = _doc(tmp_path, "jobs.html", PAGE)
    assert doc.title == "Open positions" and doc.organisation == "Coral Reef Lab"
    assert doc.updated == "2025-03-01"
    assert "## Postdoctoral fellows" in doc.text.splitlines()
    assert "hiring marine biologists" in doc.text and "twelve divers" in doc.text
    for furniture in ("Home", "cookies", "Share this", "All rights reserved", "News"):
        assert furniture not in doc.text, furniture


def test_markdown_markup_and_decoration_never_reach_the_text(tmp_path):
    doc = _doc(tmp_path, "summer.md", DECORATED)
    assert doc.title == "Summer School"
    for mark in ("**", "__", "★", "■", "►", "`", "](", "---", "editor's note", "badge", "open https", "<", ">"):
        assert mark not in doc.text, mark
    assert "Questions go to summer@school.example." in doc.text
    assert "brings forty students from partner universities" in doc.text
    assert "- Dates: July and August, every year" in doc.text


def test_table_rows_are_read_with_their_headers(tmp_path):
    html = _doc(tmp_path, "jobs.html", """<html><body><nav>Home | Jobs</nav><h1>Open positions</h1>
        <table><tr><th>Position</th><th>Deadline</th></tr><tr><td>Postdoctoral researcher</td><td>31 March</td></tr>
        <tr><td>Research engineer</td><td>Open until filled</td></tr></table></body></html>""")
    markdown = _doc(tmp_path, "jobs.md", "# Open positions\n\n| Position | Deadline |\n|---|---|\n"
                                         "| Postdoctoral researcher | 31 March |\n| Research engineer | Open until filled |\n")
    for doc in (html, markdown):
        assert "- Position: Postdoctoral researcher; Deadline: 31 March" in doc.text
        assert "- Position: Research engineer; Deadline: Open until filled" in doc.text


def test_pdf_in_reading_order_without_running_headers_page_numbers_or_hyphens(tmp_path):
    path = brochure_pdf(tmp_path / "brochure.pdf", [
        ["## Research vessels", "The institute operates two research vessels for deep-sea sur-",
         "veys in the Yellow Sea."],
        ["## Students", "Each summer the institute hosts thirty graduate students from abroad."],
        ["## Contact", "Applications go to the admissions office by email."],
    ], header="Tidewater Institute | Annual Brochure", title="Tidewater Institute Brochure")
    doc = loaders.load(path, "brochure.pdf")
    assert doc.title == "Tidewater Institute Brochure"
    assert "deep-sea surveys in the Yellow Sea" in doc.text
    assert "Annual Brochure" not in doc.text and "Page 1" not in doc.text
    lines = doc.text.splitlines()
    assert lines.index("## Students") < lines.index("## Contact")


def test_raw_evaluation_pdf_is_the_one_its_script_writes(tmp_path):
    """tests/eval/raw/ holds the PDF tests/eval/make_raw_pdf.py writes (fpdf2), read back clean."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_raw_pdf", ROOT / "tests" / "eval" / "make_raw_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = loaders.load(module.write_pdf(tmp_path / "brochure.pdf"), "fresh")
    stored = loaders.load(ROOT / "tests" / "eval" / "raw" / "zju-alibaba-brochure.pdf", "stored")
    assert fresh.text == stored.text
    assert "cooperation, after a first agreement" in stored.text and "co- operation" not in stored.text


@pytest.mark.parametrize("name, content, reason", [
    ("menu.html", NAV_ONLY, "no readable content"),
    ("empty.txt", "", "empty"),
    ("broken.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "PDF"),
])
def test_unreadable_documents_are_reported_by_name_and_the_rest_indexed(tmp_path, embedder, name, content, reason):
    kb = tmp_path / "kb"
    write(kb, name, content)
    write(kb, "press.txt", PRESS)
    s = settings_for(tmp_path, knowledge=["kb"])
    report = ingest(s, store=Store(s), embedder=embedder, progress=False)
    failed = dict(report.failed)
    assert list(failed) == [f"kb/{name}"] and reason in failed[f"kb/{name}"]
    assert report.indexed == ["kb/press.txt"]


def test_every_chunk_and_sentence_carries_its_document_context(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "press.txt", PRESS)
    s = settings_for(tmp_path, knowledge=["kb"])
    ingest(s, store=Store(s), embedder=embedder, progress=False)
    store = Store(s)
    store.open_for_query(embedder.name)
    chunks = store.all_chunks()
    assert {c.title for c in chunks} == {"A Harbour for Ocean Science"}
    assert all(c.lead.startswith("The Tidewater Institute sits") for c in chunks)
    sentences = [x.text for x in store.sentences_for([c.id for c in chunks])]
    assert "It was founded in 2009 by the provincial government together with three universities." in sentences
    assert not any(x.startswith(("A Harbour", "Campus ")) for x in sentences)  # headings are not quoted
