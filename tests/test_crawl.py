"""Reading a lab's website: a real HTTP server on 127.0.0.1 serves a small site (English and Chinese
pages, a sitemap, a linked PDF, a robots.txt that forbids a path, a page that changes, one that goes
away, a slow one), crawled with the real HTTP client and indexed with the real pipeline."""

from __future__ import annotations

import pytest

from bot.core.crawl import MANIFEST, Crawler, CrawlError
from bot.core.ingest import ingest
from bot.core.store import Store
from bot.core.types import Question
from conftest import config_toml, run_cli, settings_for
from docs import pdf_bytes
from website import Website

JOIN = """<!DOCTYPE html><html lang="en"><head><title>Join us | Halvorsen Neuro Lab</title>
<link rel="alternate" hreflang="zh" href="/zh/join/"></head><body>
<nav><a href="/">Home</a> <a href="/about/">About</a></nav>
<main><h1>Join us</h1>
<p>The Halvorsen Neuro Lab studies how the cerebellum learns timing. We recruit PhD students and
postdoctoral researchers every year.</p>
<ul><li><a href="/join/postdoc/">Postdoctoral researcher in systems neuroscience</a></li>
<li><a href="/join/old-call/">Research assistant (2025 call)</a></li>
<li><a href="/join/private/shortlist/">Shortlist</a></li>
<li><a href="/join/slow/">Visiting students</a></li>
<li><a href="/files/phd-advert.pdf">PhD advert (PDF)</a></li></ul>
<p>Questions? Write to <a href="mailto:jobs@halvorsen.example">jobs@halvorsen.example</a>.</p></main>
</body></html>"""

POSTDOC = """<!DOCTYPE html><html><head><title>Postdoc | Halvorsen Neuro Lab</title></head><body><main>
<h1>Postdoctoral researcher in systems neuroscience</h1>
<p>The Halvorsen Neuro Lab offers a two-year postdoctoral position in systems neuroscience.</p>
<p>The postdoctoral salary is {salary} per year, with a relocation allowance.</p>
<p>Applicants need a PhD in neuroscience or physics and experience with in-vivo recordings.</p>
</main></body></html>"""

OLD_CALL = """<!DOCTYPE html><html><head><title>Research assistant | Halvorsen Neuro Lab</title></head><body><main>
<h1>Research assistant (2025 call)</h1>
<p>The Halvorsen Neuro Lab hired a research assistant for animal training in 2025; the call is closed.</p>
</main></body></html>"""

FAQ = """<!DOCTYPE html><html><head><title>FAQ | Halvorsen Neuro Lab</title></head><body><main>
<h1>Frequently asked questions</h1>
<p>Lab rotations for first-year PhD students last ten weeks and start in October.</p>
</main></body></html>"""

JOIN_ZH = """<!DOCTYPE html><html lang="zh"><head><title>加入我们 | Halvorsen 神经实验室</title></head><body><main>
<h1>加入我们</h1>
<p>Halvorsen 神经实验室研究小脑如何学习时间节律，每年招收博士研究生和博士后研究人员。</p>
<p>实验室位于挪威卑尔根大学医学院三楼。</p>
</main></body></html>"""

SECRET = "<html><body><main><p>The shortlist for the postdoc position holds four names this year.</p></main></body></html>"
SLOW = "<html><body><main><p>Visiting students stay three to six months in the lab.</p></main></body></html>"


def _site(web: Website, salary: str = "NOK 650,000") -> None:
    web.add("/robots.txt", f"User-agent: *\nDisallow: /join/private/\nSitemap: {web.url}/sitemap.xml\n",
            type="text/plain")
    web.add("/sitemap.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{web.url}/join/</loc></url><url><loc>{web.url}/join/faq/</loc></url>
<url><loc>{web.url}/about/</loc></url></urlset>""", type="application/xml")
    web.add("/join/", JOIN)
    web.add("/join/postdoc/", POSTDOC.format(salary=salary))
    web.add("/join/old-call/", OLD_CALL, etag=False)
    web.add("/join/faq/", FAQ)
    web.add("/join/private/shortlist/", SECRET)
    web.add("/join/slow/", SLOW, delay=2.0)
    web.add("/zh/join/", JOIN_ZH)
    web.add("/about/", "<html><body><main><p>The lab was founded in 2019 in Bergen.</p></main></body></html>")
    web.add("/files/phd-advert.pdf", pdf_bytes([
        "PhD position in cerebellar learning", "Halvorsen Neuro Lab, University of Bergen",
        "The PhD student will record Purkinje cells during eyeblink conditioning.",
        "Application deadline: 15 January 2027."]), type="application/pdf")


def _settings(tmp_path, **crawl):
    s = settings_for(tmp_path, knowledge=[])
    knowledge = s.knowledge.model_copy(update={"crawl_dir": str(tmp_path / "web"), "crawl_rate": 200.0,
                                               "crawl_timeout_s": 0.5, **crawl})
    return s.model_copy(update={"knowledge": knowledge})


def _texts(settings, embedder) -> list[str]:
    store = Store(settings)
    store.open_for_query(embedder.name)
    return [c.text for c in store.all_chunks()]


def _crawl_and_index(settings, embedder, url):
    crawled = Crawler(settings).run([url])
    indexed = ingest(settings, store=Store(settings), embedder=embedder, paths=crawled.folders, progress=False)
    return crawled, indexed


async def test_a_site_is_crawled_indexed_and_kept_in_sync(tmp_path, embedder):
    from bot.orchestrator.assistant import Assistant

    with Website() as web:
        _site(web)
        settings = _settings(tmp_path)
        seed = web.url + "/join/"
        crawled, indexed = _crawl_and_index(settings, embedder, seed)

        # What should be read is, from links, the sitemap, the language alternate and the PDF link; the
        # path robots.txt forbids is never asked for; the page outside /join/ is not read; the slow page
        # is reported, and the rest is indexed anyway.
        site = web.url.split("//")[1].replace(":", "_")
        assert sorted(crawled.fetched) == sorted(web.url + p for p in (
            "/join/", "/join/postdoc/", "/join/old-call/", "/join/faq/", "/zh/join/", "/files/phd-advert.pdf"))
        assert not web.asked("/join/private/shortlist/") and not web.asked("/about/")
        assert (web.url + "/join/private/shortlist/", "robots.txt forbids it") in crawled.skipped
        assert [url for url, _ in crawled.failed] == [web.url + "/join/slow/"]
        assert "crawl_timeout_s" in crawled.failed[0][1]
        assert all(h["User-Agent"].startswith("RecruitmentAssistantBot/1.0") for _, h in web.requests)
        assert sorted(k.split(f"web/{site}/")[1] for k in indexed.indexed) == [
            "files/phd-advert.pdf", "join/faq/index.html", "join/index.html", "join/old-call/index.html",
            "join/postdoc/index.html", "zh/join/index.html"]
        assert not any("shortlist" in t for t in _texts(settings, embedder))

        # The candidate's answer cites the page's address, not the file it was kept in.
        assistant = Assistant(settings, store=Store(settings), embedder=embedder)
        answer = await assistant.answer(Question("What is the postdoc salary at the Halvorsen Neuro Lab?"))
        assert answer.grounded and "650,000" in answer.text, answer.text
        assert answer.sources[0].url == web.url + "/join/postdoc/"
        hits = assistant.engine.retriever.search("Halvorsen 神经实验室在哪里？", language="zh").hits
        top = [h.chunk.url for h in hits[:settings.retrieval.top_k]]
        assert web.url + "/zh/join/" in top   # the Chinese version, read through hreflang

        # Between two crawls one page changes and one goes away: only the changed one is embedded again,
        # the gone one leaves the index, the unchanged ones are asked for conditionally and kept.
        web.add("/join/postdoc/", POSTDOC.format(salary="NOK 700,000"))
        web.pages.pop("/join/old-call/")
        web.requests.clear()
        crawled, indexed = _crawl_and_index(settings, embedder, seed)
        assert crawled.fetched == [web.url + "/join/postdoc/"]
        assert crawled.gone == [web.url + "/join/old-call/"]
        assert [k.rsplit("/", 2)[-2] for k in indexed.indexed] == ["postdoc"]
        assert [k.rsplit("/", 2)[-2] for k in indexed.removed] == ["old-call"]
        assert len(indexed.unchanged) == 4
        assert web.asked("/join/faq/")[0].get("If-None-Match")           # ETag: 304
        assert web.asked("/files/phd-advert.pdf")[0].get("If-None-Match")
        assert not any("animal training" in t for t in _texts(settings, embedder))
        answer = await Assistant(settings, store=Store(settings), embedder=embedder).answer(
            Question("What is the postdoc salary at the Halvorsen Neuro Lab?"))
        assert "700,000" in answer.text and "650,000" not in answer.text, answer.text

        # The slow page answers now: it is read and indexed; nothing else changes.
        web.pages["/join/slow/"].delay = 0.0
        crawled, indexed = _crawl_and_index(settings, embedder, seed)
        assert crawled.fetched == [web.url + "/join/slow/"] and len(indexed.indexed) == 1


def test_a_failing_page_keeps_what_the_index_had(tmp_path, embedder):
    with Website() as web:
        _site(web)
        settings = _settings(tmp_path)
        web.pages["/join/slow/"].delay = 0.0
        _crawl_and_index(settings, embedder, web.url + "/join/")
        web.pages["/join/postdoc/"].status = 503
        crawled, indexed = _crawl_and_index(settings, embedder, web.url + "/join/")
        assert crawled.failed == [(web.url + "/join/postdoc/", "HTTP 503; kept what was read before")]
        assert not indexed.removed and not indexed.indexed
        assert any("650,000" in t for t in _texts(settings, embedder))

        # A robots.txt that answers 5xx: nothing of the site is read this time, and nothing is lost.
        web.pages["/robots.txt"].status = 500
        crawled, indexed = _crawl_and_index(settings, embedder, web.url + "/join/")
        assert not crawled.fetched and not crawled.unchanged and len(crawled.failed) == 7
        assert all("answers HTTP 500" in why for _, why in crawled.failed)
        assert not indexed.removed and len(indexed.unchanged) == 7


def test_bad_web_sources_are_named_and_nothing_else_is_lost(tmp_path, embedder):
    with Website() as web:
        web.add("/robots.txt", "User-agent: *\nDisallow: /staff/\n", type="text/plain")
        web.add("/jobs/", "<html><body><main><p>We hire one engineer in 2027.</p>"
                          "<a href='/jobs/huge.pdf'>huge</a> <a href='/jobs/loop/'>loop</a></main></body></html>")
        web.add("/jobs/huge.pdf", b"%PDF-1.4 " + b"x" * 300_000, type="application/pdf")
        web.add("/jobs/loop/", "", location="/jobs/loop/")
        web.add("/staff/", "<html><body><p>Staff list.</p></body></html>")
        settings = _settings(tmp_path, crawl_max_mb=0.1)
        crawled = Crawler(settings).run([web.url + "/jobs/", web.url + "/staff/"])
        why = dict(crawled.failed)
        assert "crawl_max_mb (0.1 MB)" in why[web.url + "/jobs/huge.pdf"]
        assert "redirect loop" in why[web.url + "/jobs/loop/"]
        assert (web.url + "/staff/", "robots.txt forbids it") in crawled.skipped
        assert crawled.fetched == [web.url + "/jobs/"]

        # An unreachable host and a URL that is not http(s), through the command line.
        folder = tmp_path / "cli"
        folder.mkdir()
        config_toml(folder, f'[knowledge]\npaths = []\ncrawl_timeout_s = 2.0\n[store]\npath = "{folder / "index"}"\n')
        closed = "http://127.0.0.1:9/jobs/"
        result = run_cli("ingest", closed, cwd=folder)
        assert result.returncode == 1 and "cannot connect to 127.0.0.1:9" in result.stderr, result.stderr
        result = run_cli("ingest", "ftp://lab.example.org/jobs/", cwd=folder)
        assert result.returncode != 0 and "not an http(s) URL" in result.stderr, result.stderr
        result = run_cli("ingest", web.url + "/jobs/", cwd=folder)
        assert result.returncode == 0 and "1 indexed" in result.stderr, result.stderr
        assert (folder / ".web" / web.url.split("//")[1].replace(":", "_") / MANIFEST).is_file()


def test_a_url_that_is_not_http_is_refused_before_anything_is_read(tmp_path):
    with pytest.raises(CrawlError, match="not an http"):
        Crawler(_settings(tmp_path)).run(["file:///etc/passwd"])


def test_a_configured_url_that_is_not_http_names_the_key(tmp_path):
    from bot import config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[knowledge\] urls: expected http:// or https:// URLs, got \['ftp://x'\]"):
        config.load(str(config_toml(tmp_path, '[knowledge]\nurls = ["ftp://x"]\n')))


def test_an_interval_reads_as_people_write_it():
    import argparse
    from bot.cli import _interval

    assert [_interval(t) for t in ("90s", "30m", "6h", "1d", "600")] == [90, 1800, 21600, 86400, 600]
    with pytest.raises(argparse.ArgumentTypeError, match="30m, 6h or 1d"):
        _interval("often")


def test_ingest_explain_shows_what_a_web_page_yields(tmp_path):
    with Website() as web:
        _site(web)
        folder = tmp_path / "cli"
        folder.mkdir()
        config_toml(folder, "[knowledge]\npaths = []\n")
        result = run_cli("ingest", "--explain", web.url + "/join/postdoc/", cwd=folder)
        assert result.returncode == 0, result.stderr
        assert f"url: {web.url}/join/postdoc/" in result.stdout
        assert "subject: Halvorsen Neuro Lab" in result.stdout
        assert "The postdoctoral salary is NOK 650,000 per year" in result.stdout
        assert not web.asked("/join/") and not (folder / ".web").exists()


def test_links_are_read_against_the_address_a_redirect_ends_at(tmp_path):
    """/people redirects to /people/ (as web servers do for a folder): its relative links are below /people/."""
    with Website() as web:
        web.add("/people", "", location="/people/")
        web.add("/people/", "<html><body><main><p>Our group has four members.</p>"
                            "<a href='alumni/'>Alumni</a></main></body></html>")
        web.add("/people/alumni/", "<html><body><main><p>Former members went on to industry.</p></main></body></html>")
        crawled = Crawler(_settings(tmp_path)).run([web.url + "/people"])
        assert sorted(crawled.fetched) == [web.url + "/people", web.url + "/people/alumni/"], crawled
        assert web.asked("/people/alumni/") and not web.asked("/alumni/")
