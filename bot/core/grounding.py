"""Checks on generated text before a candidate sees it: citations, figures, secrets."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_CITATION = re.compile(r"\s?\[(\d+(?:\s*[,，、]\s*\d+)*)\]")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|APIKEY|PRIVATE", re.I)


@dataclass(frozen=True)
class Passage:
    n: int
    title: str
    text: str


@dataclass(frozen=True)
class Checked:
    text: str
    cited: tuple[int, ...]   # passage numbers the text cites, all valid
    refusal: bool            # says the documents do not answer (no citation needed)


def secrets_in_environment(extra_names: tuple[str, ...] = ()) -> list[str]:
    """Values that must never appear in an answer: anything that looks like a token or key."""
    names = [n for n in os.environ if _SECRET_NAME.search(n)] + [n for n in extra_names if n]
    return [v for v in (os.environ.get(n, "") for n in names) if len(v) >= 8]


def leaks(text: str, secrets: list[str]) -> bool:
    return any(s in text for s in secrets)


def drop_invalid_citations(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Remove citation numbers that point at no passage; return the text and the numbers kept."""
    kept: list[int] = []

    def fix(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match.group(1))]
        good = [n for n in numbers if n in valid]
        kept.extend(n for n in good if n not in kept)
        return " " + "".join(f"[{n}]" for n in good) if good else ""
    return _CITATION.sub(fix, text).strip(), kept


def check(text: str, passages: list[Passage], *, question: str, contact: str, secrets: list[str]) -> tuple[Checked | None, str]:
    """The text as it may be shown, or None with the reason it may not."""
    text = (text or "").strip()
    if not text:
        return None, "empty output"
    if leaks(text, secrets):
        return None, "a secret appeared in the output"
    text, cited = drop_invalid_citations(text, {p.n for p in passages})
    if not cited:
        if contact in text:  # "the documents do not say; please ask <contact>"
            return Checked(text, (), refusal=True), ""
        return None, "no valid citation"
    # Every figure must come from a cited passage, the question or the contact address.
    unsupported = unsupported_figures(text, " ".join([*(p.text for p in passages if p.n in cited), question, contact]))
    if unsupported:
        return None, f"figures not in the cited passages: {', '.join(unsupported[:3])}"
    return Checked(text, tuple(sorted(cited)), refusal=False), ""


def unsupported_figures(text: str, support: str) -> list[str]:
    """The figures in `text` (citation markers aside) that `support` does not contain; "1,358" and
    "1358" count as the same figure."""
    support = _digits(support)
    return [n for n in _NUMBER.findall(_CITATION.sub("", text)) if _digits(n) not in support]


def _digits(text: str) -> str:
    return re.sub(r"(?<=\d)[,.](?=\d)", "", text)
