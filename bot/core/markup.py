"""Markup as labs publish it, read into blocks a reader sees.

One HTML block reader serves HTML pages and Markdown alike (Markdown is rendered to HTML first with
markdown-it-py, so inline HTML, ``<ul><li>`` inside Markdown, bare ``<div>`` text and entities are
read the way a browser shows them). Template syntax (Liquid, Hugo shortcodes, link-reference
comments) is removed before anything else, and a front matter that holds the page's content (an FAQ
kept as question/answer pairs, a profile's role and contact) is read as content.
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass

from bot.core import nlp


def parse_html(text: str):
    """The page as a browser builds it (the HTML5 parsing rules, lexbor via selectolax), as a
    BeautifulSoup tree: markup that real pages get wrong (`<h6>line<h6>`, unclosed `<p>` and `<li>`)
    is repaired the way a browser repairs it, so every line a reader sees is a block of its own
    instead of nesting the rest of the page inside it."""
    from bs4 import BeautifulSoup
    from selectolax.lexbor import LexborHTMLParser

    return BeautifulSoup(LexborHTMLParser(text).html or "", "html.parser")


# --- template syntax ------------------------------------------------------------------------------

_TEMPLATE = [
    re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S),  # Liquid comments
    re.compile(r"\{%-?\s*raw\s*-?%\}|\{%-?\s*endraw\s*-?%\}"),
    re.compile(r"\{%.*?%\}", re.S),                    # Liquid tags: {% include x.html %}, {% if %}
    re.compile(r"\{\{[<%].*?[>%]\}\}", re.S),         # Hugo shortcodes: {{< figure >}}, {{% note %}}
    re.compile(r"\{\{.*?\}\}", re.S),                  # Liquid / Go template output: {{ site.url }}
    re.compile(r"^[ \t]*\[(?:comment|//)\]:\s*<>\s*(?:\(.*?\)|\".*?\"|#.*)?[ \t]*$", re.M),  # [comment]: <> (…)
]


def strip_templates(text: str) -> str:
    """Template syntax out: it is the site generator's, never something a reader sees."""
    for pattern in _TEMPLATE:
        text = pattern.sub("", text)
    return text


# --- front matter that is content ---------------------------------------------------------------

# Keys of site machinery, never shown as text (Jekyll, Hugo and their common themes).
_MACHINERY = frozenset("""layout permalink sitemap excerpt type weight draft date lastmod publishdate expirydate
linktitle summary share commentable editable header image images avatar_filename icon icon_pack display
redirect_from menu menus classes author_profile sidebar nav news selected_papers announcements latest_posts
enabled scrollable limit align image_circular toc math comments url slug aliases tags keywords categories_order
title organisation organization org topic handoff sources updated source status as_of area level apply location
highlight_style theme css js feature_image cover thumbnail order""".split())


def _is_content(value: str) -> bool:
    """Words a reader sees: a phrase (spaces or Chinese), an address or a link; not an identifier."""
    v = value.strip()
    return bool(v) and (" " in v or bool(nlp.CJK_RUN.search(v)) or bool(nlp.CONTACT.search(v)))


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def front_matter_content(meta: dict, *, title: str = "") -> str:
    """The content a page keeps in its front matter, as Markdown: prose as paragraphs, a short value
    beside prose as its heading (an FAQ's question), other short values as "Label: value" lines."""
    out: list[str] = []

    def walk(node, key: str, depth: int) -> None:
        if isinstance(node, dict):
            values = {k: v for k, v in node.items() if str(k).lower() not in _MACHINERY}
            texts = [v for v in values.values() if isinstance(v, str)]
            longest = max(texts, key=len) if any(_prose(v) for v in texts) else None
            for k, v in values.items():
                if (isinstance(v, str) and longest is not None and v is not longest and _is_content(v)
                        and "\n" not in v.strip() and len(v.split()) <= 20):
                    out.append("#" * min(6, depth + 2) + " " + _one_line(v))  # a question above its answer
                else:
                    walk(v, str(k), depth + 1)
        elif isinstance(node, list):
            items = [v for v in node if isinstance(v, str) and _is_content(v) and not _prose(v)]
            if items and len(items) == len(node):
                out.append((f"{_label(key)}:\n" if key else "") + "\n".join(f"- {_one_line(v)}" for v in items))
            else:
                for v in node:
                    walk(v, key, depth)
        elif isinstance(node, str) and _is_content(node) and node.strip() != title.strip():
            out.append(node.strip() if _prose(node) else f"{_label(key)}: {_one_line(node)}")

    walk(meta, "", 0)
    return "\n\n".join(out)


def _prose(value: str) -> bool:
    v = value.strip()
    return len(v.split()) >= 8 or sum(len(r) for r in nlp.CJK_RUN.findall(v)) >= 16


def _one_line(value: str) -> str:
    return " ".join(re.sub(r"<br\s*/?>", " / ", value, flags=re.I).split())


# --- HTML blocks ---------------------------------------------------------------------------------

_SKIP = frozenset("script style noscript template svg iframe button select option textarea input head title pre "
                  "object embed canvas map video audio picture source".split())
_BLOCK = frozenset("p div section article main aside header footer nav li ul ol dl dt dd h1 h2 h3 h4 h5 h6 "
                   "blockquote pre address figure figcaption table thead tbody tfoot tr td th caption form "
                   "fieldset details summary body html center hr".split())
_BLOCK_LIST = sorted(_BLOCK)  # for bs4's find(): an inline tag holding a block is read as a block
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_ITEMS = frozenset({"li", "dt", "dd"})
# Containers whose text is a paragraph of its own; other block tags (header, figure, form...) pass on
# the kind of the block they sit in.
_PARAGRAPHS = frozenset("p div section article main td th tr blockquote address figcaption caption table ul ol dl"
                        .split())
_CHROME_TAGS = frozenset({"header", "footer", "aside"})
_NAV_ATTR = re.compile(r"(^|[-_ ])(nav|navbar|navigation|menu|breadcrumbs?|toc|pagination|skip)($|[-_ ])", re.I)
_CHROME_ATTR = re.compile(r"(^|[-_ ])(share|social|cookies?|consent|sidebar|footer|header|masthead|banner|related|"
                          r"comments?|author[-_]?profile|widget)($|[-_ ])", re.I)
_NEVER_CHROME = frozenset({"html", "body", "main", "article"})


@dataclass(frozen=True)
class Block:
    text: str
    kind: str          # "h1".."h6", "li", "p"
    chrome: bool       # in a header, footer, sidebar or other site furniture
    nav: bool = False  # in a menu
    region: int = 0    # which piece of furniture (one sidebar, one footer): a contact card is kept whole

    @property
    def heading(self) -> bool:
        return self.kind in _HEADINGS

    def markdown(self) -> str:
        if self.heading:
            return "#" * int(self.kind[1]) + " " + " ".join(self.text.split())
        return ("- " + self.text) if self.kind == "li" else self.text


def _attrs(el) -> str:
    return " ".join([el.get("id") or "", *(el.get("class") or []), el.get("role") or ""])


def _kind(name: str, outer: str) -> str:
    return name if name in _HEADINGS else "li" if name in _ITEMS else "p" if name in _PARAGRAPHS else outer


def html_blocks(soup, *, keep_lines: bool = False) -> list[Block]:
    """Every piece of visible text in document order, one block per block-level element (bare text
    in a ``<div>`` too), with whether it sits in menus or other site furniture. `keep_lines`: the
    newlines of the source are line breaks (Markdown rendered to HTML), not layout."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString  # comments, doctypes, CDATA: never shown

    _tables_as_lists(soup)
    blocks: list[Block] = []

    def inline_text(el) -> str:
        parts = []
        for child in el.children:
            if isinstance(child, PreformattedString) or (isinstance(child, Tag) and child.name in _SKIP):
                continue
            if isinstance(child, NavigableString):
                parts.append(layout(str(child)))
            elif child.name == "br":
                parts.append("\n")
            else:
                parts.append(inline_text(child))
        return "".join(parts)

    def layout(text: str) -> str:  # newlines in an HTML page's source are only layout
        return text if keep_lines else text.replace("\n", " ")

    def flush(buf: list[str], kind: str, chrome: bool, nav: bool, region: int) -> None:
        lines = (" ".join(ln.split()) for ln in "".join(buf).split("\n"))
        buf.clear()
        text = "\n".join(ln for ln in lines if ln)
        if text:
            blocks.append(Block(text, kind, chrome, nav, region))

    def walk(el, kind: str, chrome: bool, nav: bool, region: int = 0) -> None:
        buf: list[str] = []
        for child in el.children:
            if isinstance(child, PreformattedString):
                continue
            if isinstance(child, NavigableString):
                buf.append(layout(str(child)))
                continue
            if not isinstance(child, Tag) or child.name in _SKIP:
                continue
            if child.name == "br":
                buf.append("\n")
                continue
            if child.name in _BLOCK or child.find(_BLOCK_LIST):
                flush(buf, kind, chrome, nav, region)
                name = child.name
                attrs = _attrs(child) if name not in _NEVER_CHROME else ""
                c_nav = nav or name == "nav" or bool(attrs and _NAV_ATTR.search(attrs))
                c_chrome = chrome or name in _CHROME_TAGS or bool(attrs and _CHROME_ATTR.search(attrs))
                # The outermost piece of furniture names the region its blocks share.
                walk(child, _kind(name, kind), c_chrome, c_nav, id(child) if c_chrome and not chrome else region)
            else:
                buf.append(inline_text(child))
        flush(buf, kind, chrome, nav, region)

    walk(soup, "p", False, False)
    return blocks


def table_rows(rows: list[list[str]], *, header: bool = True) -> list[str]:
    """Table rows as sentences a reader can quote: "Position: Postdoc; Deadline: 31 March" when
    the first row is a header (`header`: it may be), else the cells joined."""
    if header and len(rows) >= 2 and len(rows[0]) == len(rows[1]) and all(rows[0]):
        head, body = rows[0], rows[1:]
        return ["; ".join(f"{h}: {v}" for h, v in zip(head, row) if v) for row in body]
    return ["; ".join(c for c in row if c) for row in rows]


def _tables_as_lists(soup) -> None:
    """Each row one list item, its cells named by the header row, so that a row answers on its own."""
    for table in soup.find_all("table"):
        if table.find("table"):  # a layout table holding tables: its cells are read as blocks
            continue
        trs = table.find_all("tr")
        rows = [[" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["th", "td"])] for tr in trs]
        header = bool(trs) and bool(trs[0].find("th")) and not trs[0].find("td")
        items = soup.new_tag("ul")
        for line in table_rows([r for r in rows if any(r)], header=header):
            item = soup.new_tag("li")
            item.string = line
            items.append(item)
        table.replace_with(items)


def blocks_markdown(blocks: list[Block]) -> str:
    """Blocks as the Markdown-ish text every loader returns (``#`` headings, ``- `` items, paragraphs)."""
    out: list[str] = []
    for b in _cards_joined(_headings_read_as_text(blocks)):
        for md in _split_headings(b.markdown()) if b.kind == "p" else [b.markdown()]:
            if md.startswith("- ") and out and out[-1].startswith("- "):
                out[-1] += "\n" + md
            else:
                out.append(md)
    return "\n\n".join(out)


def _headings_read_as_text(blocks: list[Block]) -> list[Block]:
    """Heading tags used for their size, not as headings: a sentence set as a heading is a paragraph,
    and three or more short headings in a row with nothing under them are a list."""
    out: list[Block] = []
    for b in blocks:
        out.append(dataclasses.replace(b, kind="p") if b.heading and _sentence_like(b.text) else b)
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and out[j + 1].heading and out[j + 1].kind == out[i].kind:
            j += 1
        if out[i].heading and j - i >= 2:
            out[i:j + 1] = [dataclasses.replace(b, kind="li") for b in out[i:j + 1]]
        i = j + 1
    return out


def _cards_joined(blocks: list[Block]) -> list[Block]:
    """Short lines in a row, each its own block (a contact card: name, phone, room, town), are one
    paragraph of lines, so that the name is quoted with the phone and the town with the street."""
    out: list[Block] = []
    for b in blocks:
        if out and _card_line(b) and _card_line(out[-1]) and out[-1].region == b.region:
            out[-1] = dataclasses.replace(b, text=f"{out[-1].text}\n{b.text}")
        else:
            out.append(b)
    return out


def _card_line(b: Block) -> bool:
    return b.kind == "p" and len(b.text.split()) <= 8 and not b.text.rstrip().endswith((".", "!", "?", "。"))


def _sentence_like(text: str) -> bool:
    return (len(text.split()) > 14 or sum(len(r) for r in nlp.CJK_RUN.findall(text)) > 30
            or text.rstrip().endswith(("。", "；", ";")))


MD_HEADING = re.compile(r"^#{1,6}\s+\S")  # a Markdown heading line


def _split_headings(text: str) -> list[str]:
    """Markdown headings left inside a raw HTML block ("#### Students" in a ``<div>``) are headings."""
    if "#" not in text:
        return [text]
    out: list[str] = []
    for line in text.split("\n"):
        if MD_HEADING.match(line) or not out or MD_HEADING.match(out[-1]):
            out.append(line)
        else:
            out[-1] += "\n" + line
    return out


def markdown_to_html(text: str) -> str:
    """CommonMark with tables; raw HTML passes through, as a site generator renders it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def unescape(text: str) -> str:
    """HTML entities (&amp;, &nbsp;, &#39;) as the characters a reader sees."""
    return html.unescape(text).replace("\xa0", " ")
