"""Split a document into chunks that keep their heading context, and chunks into sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core import formats
from bot.core import nlp

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Piece:
    section: str               # heading path, e.g. "Campus > Land area"
    text: str
    sentences: tuple[str, ...]  # the quotable units of `text`

    def heading(self, title: str, *, owner: str = "") -> str:
        """Whose page, the document title and the section path, e.g. "Zhejiang Lab — About — Campus"."""
        parts = [title, self.section]
        if owner and owner.lower() not in title.lower():
            parts.insert(0, owner)
        return " — ".join(p for p in parts if p)

    def context(self, title: str, *, owner: str = "") -> str:
        """What gets embedded and lexically indexed: the heading context plus the text."""
        head = self.heading(title, owner=owner)
        return f"{head}\n{self.text}" if head else self.text


def _sections(text: str, title: str) -> list[tuple[str, list[str]]]:
    """(heading path, paragraphs) in document order."""
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, list[str]]] = [("", [])]
    for block in nlp.paragraphs(text):
        first, _, rest = block.partition("\n")
        m = _HEADING.match(first)
        if m:
            level, name = len(m.group(1)), m.group(2)
            stack = [(lv, n) for lv, n in stack if lv < level] + [(level, name)]
            path = " > ".join(n for lv, n in stack if not (lv == 1 and n == title))
            out.append((path, []))
            block = rest.strip()
            if not block:
                continue
        out[-1][1].append(block)
    # A heading with nothing under it that states a fact ("###### Jane Doe: jane@lab.org", a card set
    # in heading tags) is the section's one line, not a heading to drop.
    for path, paras in out:
        if not paras and formats.has_fact(_leaf(path)):
            paras.append(_leaf(path))
    return [(path, paras) for path, paras in out if paras]


def _leaf(path: str) -> str:
    """A section's own heading, read from its path ("Jobs > Postdoc"); a merged section's path is
    "first / second", and the later headings are among its units."""
    return path.split(" / ")[0].rsplit(" > ", 1)[-1]


def _quotable(sentence: str) -> bool:
    """Long enough to say something; a short line that states a fact always is: an address, link,
    phone number, date or sum ("Tel: +49 …", "Room 203-525"), or a labelled value ("Office: B2")."""
    return (len(sentence) >= 25 or (len(sentence) >= 8 and bool(nlp.CJK_RUN.search(sentence)))
            or (len(sentence) >= 6 and any(ch.isdigit() for ch in sentence))
            or bool(formats.LABELLED.match(sentence)) or formats.has_fact(sentence))


def _merge_small(sections: list[tuple[str, list[str]]], chunk_chars: int) -> list[tuple[str, list[str]]]:
    """Join neighbouring short sections (keeping their headings in the text) so that a
    one-line section does not become a tiny chunk that wins every dense search."""
    merged: list[tuple[str, list[str]]] = []
    for path, paras in sections:
        if merged:
            prev_path, prev_paras = merged[-1]
            if len("\n\n".join(prev_paras + paras)) + len(path) < chunk_chars:
                heading = "#### " + (path.rsplit(" > ", 1)[-1] if path else "")
                merged[-1] = (" / ".join(p for p in (prev_path, path) if p), prev_paras + [heading] + paras)
                continue
        merged.append((path, list(paras)))
    return merged


def split(text: str, *, title: str, chunk_chars: int) -> list[Piece]:
    pieces: list[Piece] = []
    for section, paras in _merge_small(_sections(text, title), chunk_chars):
        # Paragraphs too long for one chunk are broken at sentence boundaries.
        units: list[str] = []
        for para in _join_list_intros(paras):
            if len(para) <= chunk_chars:
                units.append(para)
            else:
                units.extend(nlp.sentences(para))
        heading = "# " + _leaf(section) if section else ""
        buf: list[str] = []
        for unit in units:
            if buf and len("\n\n".join(buf + [unit])) > chunk_chars:
                pieces.append(_piece(section, buf, heading))
                buf, heading = [], ""
            buf.append(unit)
        if buf:
            pieces.append(_piece(section, buf, heading))
    return pieces


def _join_list_intros(paras: list[str]) -> list[str]:
    """"We are recruiting for the following roles:" and the list after it are one quotable unit; so
    are a heading that introduces a list ("Address:") and the list, the heading read as its label."""
    out: list[str] = []
    for para in paras:
        if out and out[-1].rstrip().endswith((":", "：")) and _LIST_ITEM.match(para):
            intro = _HEADING.fullmatch(out[-1].strip())
            out[-1] = (intro.group(2) if intro else out[-1]) + "\n" + para
        else:
            out.append(para)
    return out


def _piece(section: str, units: list[str], heading: str = "") -> Piece:
    """`heading`: the section's own heading, when this is its first piece."""
    body = "\n\n".join(units)
    sents = tuple(dict.fromkeys(s for u in [heading, *units] for s in _unit_sentences(u)))
    return Piece(section=section, text=body, sentences=sents)


def _unit_sentences(unit: str) -> list[str]:
    """A heading is context, not a quote, unless it states a fact of a closed format: a position
    titled "Postdoctoral position (14 Feb 2022)" is dated by its heading."""
    if unit.startswith("#"):
        m = _HEADING.fullmatch(unit.strip())
        return [m.group(2)] if m and formats.has_fact(m.group(2)) else []
    return [s for s in nlp.sentences(unit) if _quotable(s)]
