"""Read .md / .txt / .html / .pdf files into clean text with metadata.

Every loader returns markdown-ish text (``#`` headings, blank-line paragraphs, ``- `` list
items) so one chunker serves all formats. Documents arrive as labs really have them
(press articles without headings, web pages with navigation, PDFs with running headers),
so each loader restores the structure a reader sees and drops what a reader skips; inline
markup and decorative symbols never reach a quoted sentence. Anything unreadable raises
LoadError with a reason a recruiter can act on; the ingest run reports it and goes on.
"""

from __future__ import annotations

import io
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core import formats, markup
from bot.core import nlp

_log = logging.getLogger(__name__)

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")

# Lines that are page furniture, not content (seen in scraped news articles and web pages).
_BOILERPLATE = re.compile(
    r"^\s*(share( this)?( on .*)?|share (this|on|via)\b.{0,60}|tweet|print( this)?|in the same category"
    r"|related (articles|posts|news|stories)|you can find our social media.*|we would love to thank the writer.*"
    r"|read more.{0,40}|subscribe.{0,40}|follow us.{0,40}|skip to (main )?content|back to top|cookie(s)? (policy|settings).*"
    r"|we use cookies.{0,150}|accept (all )?cookies|all rights reserved.*|(©|\(c\)|copyright)\s.{0,100}"
    r"|translated from .{0,60}|photo(graph(y)?)?:.{0,80}|image:.{0,80}|advertisement|menu|home"
    r"|分享到.{0,30}|返回顶部|版权所有.{0,80}|上一篇.{0,80}|下一篇.{0,80}|扫一扫.{0,30}|打印本页|关闭窗口)\s*$",
    re.IGNORECASE,
)
# Symbols used as decoration or as bullets; never part of a fact.
_DECOR = "■□▪▫●○◆◇★☆▶►▸▹◀◁◉◎※➤➢✦✧❖✓✔✗✘⬛⬜▌▐│┃"
_DECOR_RUN = re.compile(f"[{_DECOR}]+")
_BULLET_DECOR = re.compile(f"^\\s*[{_DECOR}•·◦‣⁃–—]\\s*")
_SENTENCE_END = ".!?。！？:：;；\"”’)）…"
_BULLET_LINE = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)]|\(\d{1,2}\))\s+(?=\S)")


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
    organisation: str = ""         # whose page this is (front matter, or the site's name)
    meta: dict = field(default_factory=dict)  # the Markdown front matter as written; for HTML, what the page's
                                              # head and header say of it (title, site name, brand, author)


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
        elif suffix == ".txt":
            doc = Document(path=key, text=structure_plain_text(clean_markup(text)), title="")
        else:
            doc = _load_markdown(text, key)
    doc.text = strip_boilerplate(clean_markup(doc.text))
    if not raw.strip():
        raise LoadError("no text found (empty file)")
    if not _has_prose(doc.text):
        raise LoadError("no readable content found (only menus, links or short fragments)")
    if not doc.title:
        doc.title = _first_heading(doc.text) or path.stem.replace("_", " ").replace("-", " ")
    doc.title = clean_markup(doc.title).strip()
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


def _has_prose(text: str) -> bool:
    """At least one real sentence, or a fact a candidate needs (a contact card of short lines is
    content); a page of menus and link labels has neither."""
    for line in text.splitlines():
        line = line.strip().lstrip("#-").strip()
        if len(line.split()) >= 6 or sum(len(r) for r in nlp.CJK_RUN.findall(line)) >= 12:
            return True
    return formats.has_fact(text)


# --- Markdown ---------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?)\n?\1[ \t]*(\n|\Z)", re.DOTALL)


def front_matter(text: str) -> tuple[dict, str]:
    """(front matter, body): YAML between ``---`` lines (Jekyll, Hugo), or TOML between ``+++`` (Hugo)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        if m.group(1) == "+++":
            meta = tomllib.loads(m.group(2))
        else:
            meta = yaml.safe_load(m.group(2)) or {}
    except (yaml.YAMLError, ValueError) as e:
        raise LoadError(f"front matter is not valid {'TOML' if m.group(1) == '+++' else 'YAML'}: "
                        f"{str(e).splitlines()[0]}") from e
    if not isinstance(meta, dict):
        raise LoadError("front matter must be a mapping of 'key: value' lines")
    return meta, text[m.end():]


def _load_markdown(text: str, key: str) -> Document:
    """Markdown as a site generator renders it: template syntax out, then CommonMark (raw HTML
    included) read block by block like a web page; content kept in the front matter follows."""
    meta, body = front_matter(text)
    title = markup.unescape(markup.strip_templates(str(meta.get("title") or ""))).strip()
    body = formats.deobfuscate(markup.strip_templates(body))
    soup = markup.parse_html(markup.markdown_to_html(body))
    blocks = [b for b in markup.html_blocks(soup, keep_lines=True) if not b.nav]
    text = "\n\n".join(p for p in (markup.blocks_markdown(blocks), markup.front_matter_content(meta, title=title)) if p)
    return Document(
        path=key, text=text, title=title,
        topic=str(meta.get("topic") or ""),
        url=str(meta.get("url") or ""),
        updated=str(meta.get("updated") or meta.get("date") or "")[:10],
        handoff=bool(meta.get("handoff", False)),
        organisation=str(meta.get("organisation") or meta.get("organization") or meta.get("org") or ""),
        meta=meta,
    )


_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),                           # images
    (re.compile(r"\[\s*\]\([^)]*\)"), ""),                                # [](url) left by a badge
    (re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)"), r"\1"),        # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),                      # [text][ref]
    (re.compile(r"<(?:mailto:)?((?:https?://)?[^<>\s]+(?:@|://)[^<>\s]+)>"), r"\1"),  # <http://...>, <a@b.org>
    (re.compile(r"<br\s*/?>", re.I), "\n"),
    (re.compile(r"</?[A-Za-z][^>\n]*>"), ""),                            # inline HTML tags
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),               # **strong**
    (re.compile(r"(?<![A-Za-z0-9*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![A-Za-z0-9*])"), r"\1"),  # *em*
    (re.compile(r"(?<![A-Za-z0-9_])_(?=\S)([^_\n]+?)(?<=\S)_(?![A-Za-z0-9_])"), r"\1"),    # _em_
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|>~])"), r"\1"),               # \$15 -> $15
]
_RULE = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")
_RULE_ENDS = re.compile(r"^(\s*#*\s*)[=*_~-]{3,}\s*|\s*[=*_~-]{3,}\s*$")  # "==== Packard 2021 ====" -> the words
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SETEXT = re.compile(r"^(?P<title>[^\n]+)\n(?P<bar>=+|-+)\s*$", re.M)


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CODE_BLOCK = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.S | re.M)
# A Markdown table with a header: "| a | b |", "|---|---|", then rows.
_PIPE_TABLE = re.compile(r"^[ \t]*\|.*\|[ \t]*\n[ \t]*\|?[ \t]*:?-{2,}.*\n(?:[ \t]*\|.*\|[ \t]*(?:\n|$))*", re.M)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def clean_markup(text: str) -> str:
    """Markdown emphasis, links, inline HTML and decorative symbols out; words and lines kept."""
    text = _COMMENT.sub("", _CODE_BLOCK.sub("", formats.deobfuscate(text)))  # comments and code are not prose
    text = _SETEXT.sub(lambda m: ("# " if m["bar"][0] == "=" else "## ") + m["title"], text)
    text = _PIPE_TABLE.sub(lambda m: "\n".join("- " + row for row in markup.table_rows(
        [_cells(ln) for ln in m.group(0).splitlines() if ln.strip() and not _TABLE_SEPARATOR.match(ln)])) + "\n",
        text)
    out = []
    for line in text.splitlines():
        if _RULE.match(line) or _TABLE_SEPARATOR.match(line):
            continue
        line = re.sub(r"^\s*(>\s*)+", "", line)  # block quotes read as plain paragraphs
        line = _RULE_ENDS.sub(lambda m: m.group(1) or "", line)
        for pattern, repl in _INLINE:
            line = pattern.sub(repl, line)
        if line.strip().startswith("|") and line.strip().endswith("|"):  # a table row -> one line of cells
            line = "; ".join(c.strip() for c in line.strip().strip("|").split("|") if c.strip())
        line = _BULLET_DECOR.sub("- ", line) if _BULLET_DECOR.match(line) and line.strip()[1:].strip() else line
        line = _DECOR_RUN.sub(" ", line)
        out.append(re.sub(r"[ \t]{2,}", " ", line).rstrip())
    return "\n".join(out)


# --- plain text and PDF text: restoring headings and paragraphs ----------------------------------

def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(tuple(_SENTENCE_END))


def _heading_like(line: str, first: bool, width: int) -> bool:
    """A short stand-alone line that does not read as a sentence. `width` is the line width of
    hard-wrapped text (0 when lines are paragraphs): a wrapped line is never a heading."""
    s = line.strip()
    if width and not first and len(s) > 0.75 * width:
        return False
    if re.search(r"@|https?://|www\.", s):  # an address is content, not a heading
        return False
    if not s or s.startswith(("-", "*", "#", "|")) or _ends_sentence(s) or nlp.CONNECTOR_END.search(s):
        return False
    if s[0].islower() or re.match(r"^\d+[.)]\s", s):
        return False
    cjk = sum(len(r) for r in nlp.CJK_RUN.findall(s))
    if cjk:
        return cjk <= (60 if first else 30) and "，" not in s
    words = len(s.split())
    return words <= (30 if first else 14) and len(s) <= (220 if first else 110)


def structure_plain_text(text: str) -> str:
    """Plain text (press articles, PDF text) as markdown: the title line as `#`, short stand-alone
    lines as `##` headings, wrapped lines joined into paragraphs, runs of short lines as a list."""
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    seen: set[str] = set()
    for i, ln in enumerate(lines):  # a title or caption printed twice is read once
        if len(ln) > 15 and ln in seen:
            lines[i] = ""
        seen.add(ln)
    kinds: list[str] = []                 # per line: blank | heading | item | text
    width = _wrap_width(lines)
    first = True
    for i, ln in enumerate(lines):
        if not ln:
            kinds.append("blank")
            continue
        if markup.MD_HEADING.match(ln):
            kinds.append("heading")
            first = False
            continue
        if _BULLET_LINE.match(ln):
            kinds.append("item")
            first = False
            continue
        prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j]), "")
        nxt = next((lines[j] for j in range(i + 1, len(lines)) if lines[j]), "")
        starts_block = not prev or _ends_sentence(prev) or kinds[-1] == "blank" or (kinds and kinds[-1] == "heading")
        continues = bool(nxt) and nxt[0].islower()
        kinds.append("heading" if starts_block and not continues and _heading_like(ln, first, width) else "text")
        first = False
    _demote_runs(lines, kinds)

    out: list[str] = []
    para: list[str] = []
    seen_title = False

    def flush():
        if para:
            out.append(" ".join(para) if not nlp.CJK_RUN.search(para[0]) else "".join(para))
            para.clear()

    for i, (ln, kind) in enumerate(zip(lines, kinds)):
        if kind == "blank":
            # A blank line ends a paragraph unless the sentence obviously goes on.
            nxt = next((lines[j] for j in range(i + 1, len(lines)) if lines[j]), "")
            # ("please contact:" is continued by the address on the next line.)
            if para and not (nxt[:1].islower() or nlp.CONNECTOR_END.search(para[-1]) or para[-1].endswith((":", "："))):
                flush()
            continue
        if kind == "heading":
            flush()
            out.append(ln if markup.MD_HEADING.match(ln) else ("## " if seen_title else "# ") + ln)
            seen_title = True
        elif kind == "item":
            flush()
            out.append("- " + _BULLET_LINE.sub("", ln).strip())
        elif not para and out and out[-1].startswith("- ") and (ln[0].islower() or not _ends_sentence(out[-1])) \
                and not formats.LABELLED.match(ln):
            out[-1] += " " + ln  # a wrapped list item goes on
        else:
            if para and (formats.LABELLED.match(ln) or (_ends_sentence(para[-1]) and not ln[0].islower()
                                                 and not para[-1].endswith((":", "：")))):
                flush()  # a labelled line ("Salary: ...") is a fact of its own
            para.append(ln)
    flush()
    return "\n\n".join(_group_items(out))


def _wrap_width(lines: list[str]) -> int:
    """The width of hard-wrapped text (PDF text, e-mail style), or 0 when lines are paragraphs."""
    lengths = sorted(len(ln) for ln in lines if ln)
    if len(lengths) < 5:
        return 0
    width = lengths[int(0.9 * (len(lengths) - 1))]
    near = sum(1 for n in lengths if n >= 0.8 * width)
    return width if 40 <= width <= 160 and near >= 0.3 * len(lengths) else 0


def _demote_runs(lines: list[str], kinds: list[str]) -> None:
    """Three or more short 'headings' in a row, one per line, are a list, not headings."""
    i = 0
    while i < len(kinds):
        if kinds[i] != "heading":
            i += 1
            continue
        j = i
        while j + 1 < len(kinds) and kinds[j + 1] == "heading":
            j += 1
        if j - i >= 2:
            for k in range(i + (1 if i == 0 else 0), j + 1):
                kinds[k] = "item"
        i = j + 1


def _group_items(blocks: list[str]) -> list[str]:
    """Consecutive list items form one block (one quotable list)."""
    out: list[str] = []
    for b in blocks:
        if b.startswith("- ") and out and out[-1].startswith("- "):
            out[-1] += "\n" + b
        else:
            out.append(b)
    return out


# --- HTML ---------------------------------------------------------------------------------------

def _load_html(text: str, key: str) -> Document:
    """Every block a reader sees, in page order. trafilatura (a maintained main-content extractor)
    says which blocks are the page's content and which are site furniture; a block it lost is put
    back when it lies outside menus, headers, footers and sidebars, or when it holds a fact a
    candidate needs (a contact card in a sidebar: e-mail, phone, address, date, sum of money)."""
    soup = markup.parse_html(text)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    site = _meta(soup, "og:site_name") or _meta(soup, "application-name")
    canonical = soup.find("link", rel="canonical")
    url = (canonical.get("href", "") if canonical else "") or _meta(soup, "og:url")
    date = _meta(soup, "article:published_time") or _meta(soup, "date")
    h1 = soup.find("h1")
    h1_text = h1.get_text(" ", strip=True) if h1 else ""
    brand = _brand(soup)
    blocks = [b for b in markup.html_blocks(soup) if not b.nav]
    body = markup.blocks_markdown(_content_blocks(blocks, _extract_main(text)))
    page_title = _without_site(title, site or brand)
    # "Helix Lab | About": which part names the page is unclear, the page's own heading is not.
    if h1_text and (not page_title or len(page_title) > 120 or re.search(r"\s[|–—]\s", page_title)):
        page_title = h1_text
    return Document(path=key, text=body, title=page_title, url=url, updated=date[:10], organisation=site,
                    meta={"html_title": title, "site_name": site, "brand": brand, "author": _meta(soup, "author")})


def _content_blocks(blocks: list[markup.Block], main: str) -> list[markup.Block]:
    """The blocks to keep, judged against trafilatura's text (`main`)."""
    main_words = set(nlp.tokens(main))
    body_words = {w for b in blocks if not b.chrome for w in nlp.tokens(b.text)}
    if not main_words or len(main_words & body_words) < 0.5 * len(body_words):
        return [b for b in blocks if not b.chrome or formats.has_fact(b.text)]  # trafilatura missed the page
    main_facts = {formats.normalised(f) for fs in formats.facts(main).values() for f in fs}
    # A piece of furniture (a sidebar card, a footer) holding a fact trafilatura lost is kept whole:
    # the phone's neighbours are the name, room and town that go with it.
    cards = {b.region for b in blocks if b.chrome and any(
        formats.normalised(f) not in main_facts for fs in formats.facts(b.text).values() for f in fs)}
    kept = []
    for b in blocks:
        words = nlp.tokens(b.text)
        in_main = bool(words) and sum(w in main_words for w in words) >= 0.6 * len(words)
        if in_main or not b.chrome or b.region in cards:
            kept.append(b)
    return kept


def _brand(soup) -> str:
    """The site's name as its header shows it: the link to the home page in the header or navbar."""
    for selector in ("[class*=navbar-brand]", "[class*=site-title]", "[class*=site-name]", "[class*=brand]",
                     "header a[href='/']"):
        for el in soup.select(selector):
            if not el.find_parent("li") and 1 < len(el.get_text(" ", strip=True)) <= 80:  # not a menu entry
                return " ".join(el.get_text(" ", strip=True).split())
    return ""


# "Page | Site", "Site - Page", "Page — Site", "Site: Page"; a hyphen only between spaces ("Jean-Paul").
TITLE_SEPARATOR = r"\s*[|｜–—·•]\s*|\s*:\s+|\s+[-_]\s+"


def _without_site(title: str, site: str) -> str:
    """"Open positions | Acme Lab" -> "Open positions" (the site's name is the owner, kept apart)."""
    if not site or site == title:
        return title
    return re.sub(rf"(?:{TITLE_SEPARATOR}){re.escape(site)}\s*$|^\s*{re.escape(site)}(?:{TITLE_SEPARATOR})", "", title)


def _meta(soup, name: str) -> str:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return str(tag.get("content", "")).strip() if tag else ""


def _extract_main(html: str) -> str:
    try:
        import trafilatura
    except ImportError:  # an optional speed-up in spirit: the block reader always works
        return ""
    try:
        return trafilatura.extract(html, output_format="markdown", include_formatting=True, include_links=False,
                                   include_images=False, include_tables=True, include_comments=False,
                                   favor_recall=True, deduplicate=False) or ""
    except Exception as e:  # a page trafilatura cannot parse is read by the block reader alone
        _log.debug("trafilatura failed: %s", e)
        return ""


# --- PDF ----------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?\s*$|^第\s*\d+\s*页",
                          re.I)
_HYPHENATED = re.compile(r"([a-z])-\n([a-z])")


def _load_pdf(raw: bytes, key: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata or {}
        title = str(meta.get("/Title") or "")
        author = str(meta.get("/Author") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise LoadError(f"not a readable PDF ({e})") from e
    except Exception as e:  # pypdf raises a wide range on damaged files
        raise LoadError(f"not a readable PDF ({type(e).__name__}: {e})") from e
    text = "\n\n".join(_drop_running_lines([pdf_text(page) for page in pages]))
    text = _HYPHENATED.sub(r"\1\2", text)
    return Document(path=key, text=structure_plain_text(text), title=title, organisation=author)


_PRIVATE_BULLET = re.compile(r"^[ \t]*[\ue000-\uf8ff\u2022\u25cf\u25aa\u2023\u2043][ \t]*", re.M)


def pdf_text(page: str) -> str:
    """A page's text as a reader sees it: ligatures and full-width forms unfolded (NFKC: "ﬂuids" ->
    "fluids"), symbol-font bullets (private-use characters) as list items."""
    return _PRIVATE_BULLET.sub("- ", unicodedata.normalize("NFKC", page))


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove page numbers and running headers/footers: short lines (numbers aside) that recur
    on at least half of the pages, twice or more."""
    def norm(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    counts: dict[str, int] = {}
    for page in pages:
        for line in {norm(ln) for ln in page.splitlines() if ln.strip()}:
            counts[line] = counts.get(line, 0) + 1
    repeated = {ln for ln, c in counts.items() if len(pages) >= 2 and c >= max(2, len(pages) / 2) and len(ln) < 100}
    return ["\n".join(ln for ln in page.splitlines()
                      if not _PAGE_NUMBER.match(ln) and norm(ln) not in repeated) for page in pages]


def strip_boilerplate(text: str) -> str:
    """Drop furniture lines and exact repeats of a line (captions, running headers)."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        bare = stripped.lstrip("#-").strip()
        # A repeated line is a caption or running header, unless it is an item of a list (two roles
        # can share one requirement).
        repeated = len(bare) > 15 and bare in seen and not stripped.startswith("- ")
        if stripped and (_BOILERPLATE.match(bare) or repeated):
            continue
        seen.add(bare)
        out.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _first_heading(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "").lstrip("#").strip()
    return first if len(first) <= 220 else ""
