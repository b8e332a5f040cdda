"""Split long answers for platforms with a message-size limit, losing no text."""

from __future__ import annotations

import re

# Preferred cut points, best first: a blank line, a line break, a sentence end, any space.
# (A CJK sentence end needs no space after it; a Latin one does, so "3.5" is never cut.)
_BOUNDARIES = tuple(re.compile(p) for p in (r"\n\s*\n", r"\n", r"(?<=[.!?;])\s+|(?<=[。！？；])\s*", r"\s+"))


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at the best boundary available.

    Only whitespace at a cut is dropped. A run with no boundary at all (a very long
    URL, unbroken CJK text) is cut at the limit as the last resort.
    """
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        cut, resume = _cut(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[resume:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut(text: str, limit: int) -> tuple[int, int]:
    """(end of this piece, start of the next) for text longer than `limit`."""
    window = text[:limit + 1]
    for boundary in _BOUNDARIES:
        # The last match that keeps the piece at least a third full, so pieces are not tiny.
        matches = [m for m in boundary.finditer(window) if limit // 3 <= m.start() <= limit]
        if matches:
            m = matches[-1]
            return m.start(), m.end()
    return limit, limit
