"""How much of what a reader sees survives loading, file by file.

    python bench/loader_coverage.py [FOLDER ...]   (default: ../shared/realdocs/corpus, tests/eval/raw, knowledge)

For each file: the share of the distinct words of its visible text (outside menus, headers and
footers; template syntax and markup removed; a front matter's phrases included) that are in what the
loader returns, the share of its e-mail addresses, links, phone numbers, dates and sums of money that
survive, the share of those that a quote can carry (they are in a quotable sentence, not only in a
heading or a line too short to quote), and any template syntax or raw entity left in the loaded text. The visible text is read here
independently of the loaders (BeautifulSoup's text for HTML, pypdf's for PDF), so the two can disagree.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot.core import chunking, formats, loaders, markup  # noqa: E402
from bot.core import nlp  # noqa: E402
from bot.core.ingest import discover  # noqa: E402

LEFTOVERS = ("{%", "{{", "[comment]:", "&amp;", "&nbsp;")


def visible_text(path: Path) -> str:
    """What a browser or PDF viewer shows of the file, menus, headers and footers aside."""
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader
        return unicodedata.normalize("NFKC", "\n".join(p.extract_text() or "" for p in PdfReader(path).pages))
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix.lower() in (".html", ".htm"):
        from bs4 import BeautifulSoup
        soup = BeautifulSoup(raw, "html.parser")
        for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer", "head"]):
            tag.decompose()
        return soup.get_text("\n")
    front = ""
    m = re.match(r"\A---\s*\n(.*?)\n---\s*\n", raw, re.S)
    if m:
        raw = raw[m.end():]
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError:
            meta = {}
        front = "\n".join(_phrases(meta))
    raw = markup.strip_templates(raw) + "\n" + front
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>|<!--.*?-->|^```.*?^```", " ", raw, flags=re.M | re.S | re.I)
    raw = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def _phrases(node) -> list[str]:
    if isinstance(node, dict):
        return [p for v in node.values() for p in _phrases(v)]
    if isinstance(node, list):
        return [p for v in node for p in _phrases(v)]
    return [node] if isinstance(node, str) and (" " in node.strip() or nlp.CJK_RUN.search(node)) else []


def measure(path: Path) -> dict:
    seen = formats.deobfuscate(visible_text(path))
    try:
        doc = loaders.load(path, path.name)
    except loaders.LoadError as e:
        return {"file": path.name, "words": 0.0, "facts": 0.0, "quotable": 0.0, "n_facts": 0, "lost": [],
                "unquotable": [], "leftovers": [], "error": str(e)}
    loaded = f"{doc.title}\n{doc.text}"
    have = set(nlp.tokens(loaded))
    words = set(nlp.tokens(seen))
    kept = {formats.normalised(f) for fs in formats.facts(loaded).values() for f in fs}
    flat = formats.normalised(loaded)
    facts = sorted({f for fs in formats.facts(seen).values() for f in fs})
    lost = [f for f in facts if formats.normalised(f) not in kept and formats.normalised(f) not in flat]
    sentences = formats.normalised("\n".join(s for piece in chunking.split(doc.text, title=doc.title, chunk_chars=1200)
                                             for s in piece.sentences))
    unquotable = [f for f in facts if f not in lost and formats.normalised(f) not in sentences]
    return {"file": path.name, "words": len(words & have) / len(words) if words else 1.0,
            "facts": 1 - len(lost) / len(facts) if facts else 1.0,
            "quotable": 1 - (len(lost) + len(unquotable)) / len(facts) if facts else 1.0,
            "n_facts": len(facts), "lost": lost, "unquotable": unquotable,
            "leftovers": [s for s in LEFTOVERS if s in loaded], "error": ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--json", action="store_true", help="print every file's row as one JSON list")
    args = ap.parse_args()
    folders = args.folders or [ROOT.parent / "shared/realdocs/corpus", ROOT / "tests/eval/raw", ROOT / "knowledge"]
    if args.json:
        print(json.dumps([measure(f) for folder in folders for f in discover([folder])[0]], ensure_ascii=False))
        return 0
    for folder in folders:
        files, _ = discover([folder])
        rows = [measure(f) for f in files]
        if not rows:
            continue
        print(f"\n### {folder}\n\n| file | visible words kept | facts kept | facts quotable | facts | "
              "lost / not quotable / left over |\n|---|---|---|---|---|---|")
        for r in rows:
            note = r["error"] or "; ".join(r["lost"][:4] + [f"({f})" for f in r["unquotable"][:4]] + r["leftovers"])
            print(f"| {r['file']} | {r['words']:.2f} | {r['facts']:.2f} | {r['quotable']:.2f} | {r['n_facts']} | {note} |")
        n = len(rows)
        total_facts = sum(r["n_facts"] for r in rows)
        kept_facts = sum(r["facts"] * r["n_facts"] for r in rows)
        quotable = sum(r["quotable"] * r["n_facts"] for r in rows)
        print(f"| **all {n} files** | {sum(r['words'] for r in rows) / n:.3f} | "
              f"{kept_facts / total_facts if total_facts else 1:.3f} | "
              f"{quotable / total_facts if total_facts else 1:.3f} | {total_facts} | "
              f"{sum(1 for r in rows if r['error'])} skipped, {sum(1 for r in rows if r['leftovers'])} with leftovers |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
