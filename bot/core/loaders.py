"""Read .md / .txt / .html / .pdf files into clean text with metadata.

Every loader returns markdown-ish text (``#`` headings, blank-line paragraphs) so one
chunker serves all formats. Anything unreadable raises LoadError with a reason a
recruiter can act on; the ingest run reports it and goes on.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")

# Lines that are page furniture, not content (seen in scraped news articles).
_BOILERPLATE = re.compile(
    r"^\s*(share( this)?( on .*)?|tweet|print( this)?|in the same category|related (articles|posts)"
    r"|you can find our social media.*|we would love to thank the writer.*|read more.*|subscribe.*"
    r"|follow us.*|skip to (main )?content|back to top|cookie(s)? (policy|settings).*"
    r"|translated from .*|photo(graph(y)?)?:.*|image:.*|advertisement|menu|home)\s*$",
    re.IGNORECASE,
)


class LoadError(Exception):
    """The file cannot be read or parsed; the message says why."""


@dataclass
class Document:
    path: str
    text: str
    title: str
    topic: str = ""
    url: str = ""
    updated: str = ""
    handoff: bool = False          # a page that says where to ask, not facts to quote


def load(path: Path, key: str) -> Document:
    """Load one file; `key` is the path recorded in the index."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(f"unsupported file type '{suffix}' (supported: {', '.join(SUPPORTED)})")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from e
    if suffix == ".pdf":
        doc = _load_pdf(raw, key)
    else:
        text = _decode(raw)
        if suffix in (".html", ".htm"):
            doc = _load_html(text, key)
        else:
            doc = _load_markdown(text, key)
    doc.text = strip_boilerplate(doc.text)
    if not doc.text.strip():
        raise LoadError("no text found (empty file)")
    if not doc.title:
        doc.title = _first_heading(doc.text) or path.stem.replace("_", " ").replace("-", " ")
    return doc


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise LoadError("not a text file (binary content)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError("not a text file (neither UTF-8 nor GB18030)")


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.DOTALL)


def _load_markdown(text: str, key: str) -> Document:
    meta: dict = {}
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as e:
            raise LoadError(f"front matter is not valid YAML: {str(e).splitlines()[0]}") from e
        if not isinstance(meta, dict):
            raise LoadError("front matter must be a mapping of 'key: value' lines")
        text = text[m.end():]
    return Document(
        path=key, text=text,
        title=str(meta.get("title") or ""),
        topic=str(meta.get("topic") or ""),
        url=str(meta.get("url") or ""),
        updated=str(meta.get("updated") or ""),
        handoff=bool(meta.get("handoff", False)),
    )


_NOISE_TAGS = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe", "svg", "button")
_NOISE_ATTR = re.compile(r"(^|[-_ ])(nav|menu|share|social|cookie|breadcrumb|sidebar|footer|header|banner|related|comment)s?($|[-_ ])", re.I)


def _load_html(text: str, key: str) -> Document:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_NOISE_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:  # already removed with its parent
            continue
        attrs = " ".join([tag.get("id") or "", *(tag.get("class") or []), tag.get("role") or ""])
        if attrs.strip() and _NOISE_ATTR.search(attrs):
            tag.decompose()
    body = soup.body or soup
    blocks = []
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "pre", "blockquote"]):
        if el.find_parent(["p", "li", "td", "pre", "blockquote"]):
            continue  # nested: its text is already in the parent block
        words = el.get_text(" ", strip=True)
        if not words:
            continue
        if el.name[0] == "h":
            blocks.append("#" * int(el.name[1]) + " " + words)
        elif el.name == "li":
            blocks.append("- " + words)
        else:
            blocks.append(words)
    canonical = soup.find("link", rel="canonical")
    url = canonical.get("href", "") if canonical else ""
    return Document(path=key, text="\n\n".join(blocks), title=title, url=url)


def _load_pdf(raw: bytes, key: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise LoadError(f"not a readable PDF ({e})") from e
    except Exception as e:  # pypdf raises a wide range on damaged files
        raise LoadError(f"not a readable PDF ({type(e).__name__}: {e})") from e
    return Document(path=key, text=_drop_repeated_lines(pages), title=title)


def _drop_repeated_lines(pages: list[str]) -> str:
    """Remove running headers/footers: short lines that recur on most pages."""
    if len(pages) < 3:
        return "\n\n".join(pages)
    counts: dict[str, int] = {}
    for page in pages:
        for line in {ln.strip() for ln in page.splitlines() if ln.strip()}:
            counts[line] = counts.get(line, 0) + 1
    repeated = {ln for ln, c in counts.items() if c >= len(pages) * 0.6 and len(ln) < 100}
    return "\n\n".join(
        "\n".join(ln for ln in page.splitlines() if ln.strip() not in repeated) for page in pages
    )


def strip_boilerplate(text: str) -> str:
    """Drop furniture lines and exact repeats of a line (captions, running headers)."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and (_BOILERPLATE.match(stripped) or (len(stripped) > 15 and stripped in seen)):
            continue
        seen.add(stripped)
        out.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _first_heading(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "").lstrip("#").strip()
    return first if len(first) <= 120 else ""
