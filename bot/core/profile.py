"""Whose page it is: a document's subject and the other names it goes by.

Real pages name their owner in the site's chrome, not in the body: the ``<title>`` suffix, the header
brand, the Jekyll or Hugo site configuration beside the page, a PDF's author or first line, the folder
the file sits in. Every chunk carries its document's profile, so "the contact page" of a group whose
body never says the group's name is still found, and quoted, for a question that names the group.
Where a page speaks as "I" or "we", the profile is who "I" or "we" is.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core import nlp
from bot.core.loaders import TITLE_SEPARATOR, LoadError, front_matter

# A lab can say whose pages a folder holds: `_folder.md` (front matter) or `.bot.toml`, with
# `organisation` and `aliases` (other spellings, the name in the other script).
FOLDER_FILES = ("_folder.md", ".bot.toml")
_SITE_CONFIGS = ("_config.yml", "_config.yaml", "hugo.toml", "hugo.yaml", "config.toml", "config.yaml")
_SEPARATOR = re.compile(TITLE_SEPARATOR)
_FIRST_PERSON = re.compile(r"\b(I am|I'm|I have|my (?:group|lab|team|research)|join (?:me|us|our)|we are|our (?:group|lab|team))\b"
                           r"|我们|本课题组|本团队|本实验室", re.I)
_INDEX_PREFIX = re.compile(r"^(?:[a-z]?\d+[-_. ]+)+", re.I)


@dataclass(frozen=True)
class Profile:
    names: tuple[str, ...] = ()                 # the subject first, then the other names
    first_person: bool = False                  # the page speaks as "I" / "we": they are the subject
    found: tuple[tuple[str, str], ...] = ()     # (where, name), for `ingest --explain`

    @property
    def subject(self) -> str:
        return self.names[0] if self.names else ""

    def text(self) -> str:
        """The names as one line, as the index stores them with every chunk."""
        return " | ".join(self.names)


def build(doc, path: Path, root: Path | None = None) -> Profile:
    """The profile of a loaded document (`doc`: loaders.Document) read from `path` under `root`."""
    found: list[tuple[str, str]] = []
    meta = doc.meta or {}

    def add(where: str, *names) -> None:
        for name in names:
            if isinstance(name, dict):
                name = name.get("name") or ""
            name = " ".join(str(name or "").split()).strip(" ,;|")
            if 1 < len(name) <= 120 and not nlp.CONTACT.fullmatch(name):
                found.append((where, name))

    add("front matter", meta.get("organisation"), meta.get("organization"), meta.get("org"))
    # Hugo's `aliases` are old URLs of the page, not names of its owner.
    add("front matter aliases", *(a for a in _as_list(meta.get("aliases")) if "/" not in str(a)))
    for where, values in _folder_defaults(path, root) + _site_config(path, root):
        add(where, *values)
    add("page site name", meta.get("site_name"))
    add("page header", meta.get("brand"))
    add("page title", _title_owner(str(meta.get("html_title") or doc.title or ""), doc.text))
    if doc.path.lower().endswith(".pdf"):
        add("PDF author", doc.organisation if " " in doc.organisation.strip() else "")  # not a user name
        add("PDF signature", *_signature(doc.text))
    add("author", *_as_list(meta.get("author")))
    first_person = bool(_FIRST_PERSON.search(doc.text[:4000]))
    add("file name", _path_words(path, root))

    names: list[str] = []
    for _, name in found:
        if not any(name.lower() == n.lower() for n in names):
            names.append(name)
    return Profile(tuple(names), first_person, tuple(found))


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _folders(path: Path, root: Path | None) -> list[Path]:
    """The file's folder and those above it, up to the ingested root (never beyond it)."""
    folder = path.parent.resolve()
    stop = (root or folder).resolve()
    out = [folder]
    while folder != stop and stop in folder.parents:
        folder = folder.parent
        out.append(folder)
    return out


def _read_config(file: Path) -> dict:
    """A folder default or site configuration: TOML, YAML, or a Markdown file's front matter; {} when
    it is missing or unreadable (a broken one never stops an ingest)."""
    try:
        text = file.read_text(encoding="utf-8")
        data = (tomllib.loads(text) if file.suffix == ".toml" else
                front_matter(text)[0] if file.suffix == ".md" else yaml.safe_load(text))
    except (OSError, ValueError, yaml.YAMLError, LoadError):
        return {}
    return data if isinstance(data, dict) else {}


def _folder_defaults(path: Path, root: Path | None) -> list[tuple[str, list]]:
    """The nearest folder's `.bot.toml` / `_folder.md`: organisation and aliases."""
    for folder in _folders(path, root):
        out = [(f"folder default ({name})", [data.get("organisation") or data.get("organization"),
                                             *_as_list(data.get("aliases"))])
               for name in FOLDER_FILES if (data := _read_config(folder / name))]
        if out:
            return out
    return []


def _site_config(path: Path, root: Path | None) -> list[tuple[str, list]]:
    """The nearest Jekyll or Hugo site configuration: the site's title and author."""
    for folder in _folders(path, root):
        for name in _SITE_CONFIGS:
            data = _read_config(folder / name)
            params = data.get("params") if isinstance(data.get("params"), dict) else {}
            if data.get("title") or data.get("author") or params.get("author"):
                return [(f"site config ({name})", [data.get("title"), *_as_list(data.get("author") or params.get("author"))])]
    return []


def settings_bytes(path: Path, root: Path | None, cache: dict[Path, bytes] | None = None) -> bytes:
    """The folder defaults and site configurations a file's profile reads: a change to them is a
    change to the file (it is indexed again). `cache`: per folder, for a run over many files."""
    cache = {} if cache is None else cache
    out = b""
    for folder in _folders(path, root):
        if folder not in cache:
            cache[folder] = b"".join(name.encode() + _bytes(folder / name) for name in (*FOLDER_FILES, *_SITE_CONFIGS))
        out += cache[folder]
    return out


def _bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError:
        return b""


def _title_owner(title: str, body: str) -> str:
    """The part of "Contact | X Laboratory" (or "X Lab - Join us") that names the site: not the page's
    own heading (a site's name is not a heading of its pages), and reading as a name (capitals past
    its first word, an acronym); the later part on a tie (the usual place of a site's name)."""
    parts = [p.strip() for p in _SEPARATOR.split(title) if p.strip()]
    if len(parts) < 2:
        return ""
    headings = {ln.lstrip("#").strip().lower() for ln in body.splitlines() if ln.startswith("#")}

    def score(part: str) -> int:
        if part.lower() in headings:
            return 0
        words = part.split()
        return (sum(1 for w in words[1:] if w[:1].isupper()) + sum(1 for w in words if w[:2].isalpha() and w[:2].isupper())
                + any(m.end() == len(part) for m in nlp.ZH_ORGANISATION.finditer(part)))  # "Halvorsen 神经实验室"

    best = max(reversed(parts), key=score)
    return best if score(best) > 0 else ""


def _signature(text: str) -> list[str]:
    """A PDF ad's first line when it is short (a letterhead), e.g. the group or institute."""
    first = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "")
    return [first] if 0 < len(first.split()) <= 8 and not first.endswith(".") else []


def _path_words(path: Path, root: Path | None) -> str:
    """The folder (below the root) and file name, as words: "partners/damo/join.md" -> "damo join"."""
    folders = [f.name for f in reversed(_folders(path, root)[:-1])] if root else []
    stem = _INDEX_PREFIX.sub("", path.stem)
    return " ".join(w for w in re.split(r"[-_.\s/]+", " ".join([*folders[-2:], stem])) if w)
