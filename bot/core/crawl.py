"""A lab's website read into a local folder that ingest indexes like any other.

`Crawler(settings).run(urls)` fetches each URL and the pages linked below it on the same site (up to
[knowledge] crawl_depth links away, at most crawl_max_pages per site), the pages the site's sitemap lists
below it, the PDFs the pages link to (on any host: adverts often sit on a university's HR site) and the
pages' other-language versions (`<link rel="alternate" hreflang>`). It obeys robots.txt (RFC 9309, read
with the standard library's parser), says who it is in its User-Agent (with the lab's contact) and makes
at most crawl_rate requests a second, fewer where robots.txt asks for a Crawl-delay.

Incremental: each site has a folder under [knowledge] crawl_dir with the pages as files and a manifest
(`.crawl.json`: URL -> file, ETag, Last-Modified). A re-crawl asks with If-None-Match / If-Modified-Since
and rewrites a file only when its bytes changed, so ingest (which skips files whose content hash it
knows) embeds only what changed. A page that is gone (404, 410) loses its file, and so its chunks; a
page that fails (timeout, 5xx, too large, a redirect loop) keeps its file, and so what the index had.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import xml.etree.ElementTree as ElementTree
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib import robotparser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import httpx
from bot.config import Settings
from bot.core import markup
from bot.core.loaders import SUPPORTED
from bot.errors import BotError

_log = logging.getLogger(__name__)

MANIFEST = ".crawl.json"
AGENT = "RecruitmentAssistantBot"   # the product token robots.txt rules name
_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf",
          "text/plain": ".txt", "text/markdown": ".md"}
_MAX_REDIRECTS = 10
_MAX_SITEMAPS = 20       # sitemap files read per site (an index may list many)
_UNSAFE = re.compile(r"[^\w.\-]+")


class CrawlError(BotError):
    """A URL that cannot be crawled at all (not http or https)."""


class _Failed(Exception):
    """A request that got no usable answer; the message says why."""


@dataclass
class CrawlReport:
    fetched: list[str] = field(default_factory=list)     # new or changed: written
    unchanged: list[str] = field(default_factory=list)   # 304, or the same bytes again
    gone: list[str] = field(default_factory=list)        # 404 / 410 (or now forbidden): file removed
    failed: list[tuple[str, str]] = field(default_factory=list)   # kept what it had
    skipped: list[tuple[str, str]] = field(default_factory=list)  # never read: robots.txt, type, page limit
    folders: list[Path] = field(default_factory=list)    # each site's folder, for ingest
    requests: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        counts = (f"{len(self.fetched)} pages new or changed, {len(self.unchanged)} unchanged, {len(self.gone)} gone, "
                  f"{len(self.failed)} failed, {len(self.skipped)} skipped")
        return f"web: {counts}; {self.requests} requests in {self.seconds:.1f} s ({rate:.1f}/s)"


def check_url(url: str) -> str:
    """The URL without its fragment, or a CrawlError that says what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise CrawlError(f"not an http(s) URL: {url!r} (expected e.g. https://lab.example.org/join/)")
    return _normal(url.strip())


def _normal(url: str) -> str:
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _folder_of(url: str) -> str:
    """The site's folder name: its host (and port)."""
    return _UNSAFE.sub("_", urlsplit(url).netloc)


def _file_name(url: str, suffix: str) -> str:
    """Where a page is kept in its site's folder: its path, with the suffix of what it is ("/join/" ->
    "join/index.html", "/ads/postdoc" -> "ads/postdoc.pdf"); a query string becomes a short hash."""
    parts = urlsplit(url)
    segments = [_UNSAFE.sub("_", s) for s in unquote(parts.path).split("/") if s not in ("", ".", "..")]
    if parts.path.endswith("/") or not segments:
        segments.append("index")
    stem = segments[-1]
    if stem.lower().endswith(SUPPORTED):
        stem = stem.rsplit(".", 1)[0]
    if parts.query:
        stem += "__" + hashlib.sha1(parts.query.encode()).hexdigest()[:8]
    return "/".join([*segments[:-1], (stem or "index") + suffix])


def _suffix(url: str, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind in _TYPES:
        return _TYPES[kind]
    path = urlsplit(url).path.lower()
    return next((s for s in SUPPORTED if path.endswith(s)), "")


def _is_pdf_link(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".pdf")


class _Site:
    """One host: its folder and manifest, its robots.txt rules, and how many pages were read."""

    def __init__(self, root: Path, url: str):
        self.origin = _origin(url)
        self.folder = root / _folder_of(url)
        self.manifest: dict[str, dict] = _read_manifest(self.folder)
        self.robots: robotparser.RobotFileParser | None = None
        self.unreadable = ""   # why nothing of the site can be read now (its robots.txt did not answer)
        self.delay = 0.0
        self.pages = 0

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.folder / MANIFEST)

    def allows(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(AGENT, url)

    def remove(self, url: str) -> bool:
        """Forget a page and delete its file; True when there was one."""
        entry = self.manifest.pop(url, None)
        if not entry:
            return False
        (self.folder / entry["file"]).unlink(missing_ok=True)
        return True


def _read_manifest(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def source_url(path: Path) -> str:
    """The URL a file in a crawl folder was read from ("" for any other file): citations link to it."""
    path = path.resolve()
    for folder in path.parents:
        manifest = folder / MANIFEST
        if manifest.is_file():
            try:
                stamp = manifest.stat().st_mtime_ns
            except OSError:
                return ""
            return _urls_by_file(folder, stamp).get(path.relative_to(folder).as_posix(), "")
    return ""


@lru_cache(maxsize=16)
def _urls_by_file(folder: Path, _stamp: int) -> dict[str, str]:
    return {entry.get("file", ""): url for url, entry in _read_manifest(folder).items()}


class Crawler:
    def __init__(self, settings: Settings, *, follow: bool = True):
        """`follow`: False reads the given pages only (no links, sitemap or pages read before)."""
        self.settings = settings
        self.limits = settings.knowledge  # crawl_depth, crawl_max_pages, crawl_rate, crawl_timeout_s, crawl_max_mb
        self.follow = follow
        lab = settings.lab
        agent = f"{AGENT}/1.0 (recruitment assistant of {lab.name}; +mailto:{lab.contact_email})"
        self.client = httpx.Client(headers={"User-Agent": agent}, follow_redirects=True,
                                   max_redirects=_MAX_REDIRECTS, timeout=self.limits.crawl_timeout_s)
        self.sites: dict[str, _Site] = {}
        self.report = CrawlReport()
        self._last_request = 0.0

    def run(self, urls: list[str]) -> CrawlReport:
        started = time.perf_counter()
        seeds = list(dict.fromkeys(check_url(u) for u in urls))
        scopes = [(_origin(u), urlsplit(u).path.rsplit("/", 1)[0] + "/") for u in seeds]
        queue: deque[tuple[str, int]] = deque((u, 0) for u in seeds)
        try:
            for site in dict.fromkeys(self._site(seed) for seed in seeds) if self.follow else ():
                if self.limits.crawl_depth >= 1:  # the sitemap's pages below a URL, as if linked from it
                    queue.extend((u, 1) for u in self._sitemap(site) if self._in_scope(u, scopes))
                # Pages read before are asked again (conditionally): one that is gone now leaves the index
                # even when no page links to it any more.
                queue.extend((u, int(e.get("depth", 0))) for u, e in site.manifest.items())
            seen: set[str] = set()
            while queue:
                url, depth = queue.popleft()
                if url in seen:
                    continue
                seen.add(url)
                page = self._visit(url, depth)
                if page is None or not self.follow:
                    continue
                body, base = page  # links are read against where the page was found (after redirects)
                for link, alternate in _links(body, base):
                    if alternate and _origin(link) == _origin(base):
                        queue.append((link, depth))               # the page in another language
                    elif _is_pdf_link(link):
                        queue.append((link, depth + 1))           # an advert: read at any depth, any host
                    elif depth < self.limits.crawl_depth and self._in_scope(link, scopes):
                        queue.append((link, depth + 1))
        finally:
            for site in self.sites.values():
                if site.manifest or site.folder.exists():
                    site.save()
            self.report.folders = [s.folder for s in self.sites.values() if s.folder.exists()]
            self.report.seconds = time.perf_counter() - started
            self.client.close()
        return self.report

    @staticmethod
    def _in_scope(url: str, scopes: list[tuple[str, str]]) -> bool:
        origin, path = _origin(url), urlsplit(url).path or "/"
        return any(origin == o and path.startswith(p) for o, p in scopes)

    def _site(self, url: str) -> _Site:
        key = _origin(url)
        if key not in self.sites:
            site = self.sites[key] = _Site(self.settings.crawl_path, url)
            self._read_robots(site)
        return self.sites[key]

    # --- one page ---------------------------------------------------------------------------------

    def _visit(self, url: str, depth: int) -> tuple[bytes, str] | None:
        """Fetch one page into its site's folder; when it is HTML, its body and final URL to read links from."""
        site = self._site(url)
        entry = site.manifest.get(url)
        if site.unreadable:
            return self._failed(url, site.unreadable, entry)
        if not site.allows(url):
            if site.remove(url):
                self.report.gone.append(url)
            self.report.skipped.append((url, "robots.txt forbids it"))
            return None
        if site.pages >= self.limits.crawl_max_pages:
            self.report.skipped.append((url, f"over crawl_max_pages ({self.limits.crawl_max_pages}) for this site"))
            return None
        site.pages += 1
        headers = {}
        if entry and entry.get("etag"):
            headers["If-None-Match"] = entry["etag"]
        if entry and entry.get("last_modified"):
            headers["If-Modified-Since"] = entry["last_modified"]
        try:
            status, response_headers, body, final = self._get(url, headers, site.delay)
        except _Failed as e:
            return self._failed(url, str(e), entry)
        if status == 304 and entry:
            self.report.unchanged.append(url)
            body = _read_file(site, entry) if entry["file"].endswith(".html") else None
            return (body, entry.get("final") or url) if body else None
        if status in (404, 410):
            if site.remove(url):
                self.report.gone.append(url)
            else:
                self.report.failed.append((url, f"not found (HTTP {status})"))
            return None
        if status != 200:
            return self._failed(url, f"HTTP {status}", entry)
        suffix = _suffix(final, response_headers.get("content-type", ""))
        if not suffix:
            self.report.skipped.append((url, f"not a page or PDF ({response_headers.get('content-type', '?')})"))
            return None
        name = entry["file"] if entry and entry["file"].endswith(suffix) else _file_name(url, suffix)
        file = site.folder / name
        if entry and entry["file"] != name:
            (site.folder / entry["file"]).unlink(missing_ok=True)
        if file.is_file() and file.read_bytes() == body:
            self.report.unchanged.append(url)
        else:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(body)
            self.report.fetched.append(url)
        site.manifest[url] = {"file": name, "etag": response_headers.get("etag", ""),
                              "last_modified": response_headers.get("last-modified", ""),
                              "depth": min(depth, int(entry.get("depth", depth)) if entry else depth), "final": final}
        return (body, final) if suffix == ".html" else None

    def _failed(self, url: str, why: str, entry: dict | None) -> None:
        """Reported; a page read before keeps its file (and so what the index had)."""
        self.report.failed.append((url, f"{why}; kept what was read before" if entry else why))

    def _get(self, url: str, headers: dict, delay: float) -> tuple[int, httpx.Headers, bytes, str]:
        """GET with the rate limit: (status, headers, body of a 200, final URL); _Failed says why not."""
        self._wait(delay)
        self.report.requests += 1
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    return response.status_code, response.headers, b"", str(response.url)
                limit = int(self.limits.crawl_max_mb * 1024 * 1024)
                size = int(response.headers.get("content-length") or 0)
                chunks, read = [], 0
                if size <= limit:
                    for chunk in response.iter_bytes():
                        read += len(chunk)
                        if read > limit:
                            break
                        chunks.append(chunk)
                if max(size, read) > limit:
                    raise _Failed(f"larger than crawl_max_mb ({self.limits.crawl_max_mb:g} MB)")
                return 200, response.headers, b"".join(chunks), str(response.url)
        except httpx.TooManyRedirects:
            raise _Failed(f"a redirect loop (more than {_MAX_REDIRECTS} redirects)") from None
        except httpx.TimeoutException:
            raise _Failed(f"no answer within crawl_timeout_s ({self.limits.crawl_timeout_s:g} s)") from None
        except httpx.ConnectError:
            raise _Failed(f"cannot connect to {urlsplit(url).netloc}") from None
        except httpx.HTTPError as e:
            raise _Failed(f"{type(e).__name__}: {e}") from None

    def _wait(self, delay: float) -> None:
        pause = max(1.0 / self.limits.crawl_rate, delay) - (time.monotonic() - self._last_request)
        if pause > 0:
            time.sleep(pause)
        self._last_request = time.monotonic()

    # --- robots.txt and sitemaps ------------------------------------------------------------------

    def _read_robots(self, site: _Site) -> None:
        """RFC 9309: a robots.txt that is missing (4xx) allows everything; 401/403 forbid everything; one
        that cannot be read (no connection, 5xx) means nothing of the site is read this time."""
        where = site.origin + "/robots.txt"
        rules = robotparser.RobotFileParser(where)
        site.robots = rules
        try:
            status, _, body, _ = self._get(where, {}, 0.0)
        except _Failed as e:
            site.unreadable = str(e)
            return
        if status >= 500:
            site.unreadable = f"{where} answers HTTP {status}: the site is not read until it answers"
        elif status in (401, 403):
            rules.disallow_all = True
        elif status >= 400:
            rules.allow_all = True
        else:
            rules.parse(body.decode("utf-8", "replace").splitlines())
            site.delay = float(rules.crawl_delay(AGENT) or 0.0)

    def _sitemap(self, site: _Site) -> list[str]:
        """The page URLs of the site's sitemaps (those robots.txt names, else /sitemap.xml)."""
        pending = list((site.robots.site_maps() if site.robots else None) or [site.origin + "/sitemap.xml"])
        urls: list[str] = []
        for _ in range(_MAX_SITEMAPS):
            if not pending:
                break
            try:  # a missing or broken sitemap is no error: the links are followed anyway
                status, _, body, _ = self._get(pending.pop(0), {}, site.delay)
                tree = ElementTree.fromstring(body) if status == 200 else None
            except (_Failed, ElementTree.ParseError):
                continue
            if tree is None:
                continue
            locations = [e.text.strip() for e in tree.iter() if e.tag.endswith("loc") and e.text]
            if tree.tag.endswith("sitemapindex"):
                pending.extend(locations)
            else:
                urls.extend(_normal(u) for u in locations if urlsplit(u).scheme in ("http", "https"))
        return urls


def _read_file(site: _Site, entry: dict) -> bytes | None:
    try:
        return (site.folder / entry["file"]).read_bytes()
    except OSError:
        return None


def _links(body: bytes, base: str) -> list[tuple[str, bool]]:
    """(absolute URL, is a language alternate) for the page's links, in page order."""
    soup = markup.parse_html(body.decode("utf-8", "replace"))
    out: list[tuple[str, bool]] = []
    for tag in soup.find_all("link", hreflang=True, href=True):
        if "alternate" in (tag.get("rel") or []):
            out.append((_normal(urljoin(base, tag["href"])), True))
    for tag in soup.find_all("a", href=True):
        href = tag["href"].strip()
        if href and not href.lower().startswith(("mailto:", "tel:", "javascript:", "#")):
            url = urljoin(base, href)
            if urlsplit(url).scheme in ("http", "https"):
                out.append((_normal(url), False))
    return out
