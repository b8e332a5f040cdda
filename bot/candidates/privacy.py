"""Personal data: scrubbed from what is recorded for reports, and masked in every log line (like secrets).

Emails and phone numbers are recognised by their shape; names cannot be, so the names candidates
register are remembered (in this process) and masked wherever they appear afterwards.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+(])[+(]?\d[\d ().-]{7,}\d(?!\w)")
_MAX_NAMES = 10_000

_names: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_by_length: list[str] = []  # the names longest first, kept in step with _names (scrub runs on every log line)


def remember(*values: str) -> None:
    """Mask these from now on (a registered name, its parts)."""
    with _lock:
        for value in values:
            for part in {value.strip(), *value.split()}:
                if len(part) >= 2 and not part.isdigit():
                    _names[part] = None
                    _names.move_to_end(part)
        while len(_names) > _MAX_NAMES:
            _names.popitem(last=False)
        _by_length[:] = sorted(_names, key=len, reverse=True)


# Digit runs of a phone's length that are not phones: a date ("2026-12-06 03", the start of every log
# line's timestamp), a date-stamped id ("20250105-123456"), an address or version ("192.168.100.200").
_NOT_PHONE = re.compile(r"(?:19|20)\d\d([-/.])\d{1,2}\1\d{1,2}|^(?:19|20)\d\d[01]\d[0-3]\d[-_T]?\d{4,6}$"
                        r"|^\d+(?:\.\d+){3,}$")


def _phone(match: re.Match) -> str:
    text = match.group(0)
    if _NOT_PHONE.search(text) or match.string[match.end():match.end() + 1] == ":":  # a time follows
        return text
    digits = sum(c.isdigit() for c in text)
    return "[phone]" if digits >= 10 or (text.startswith("+") and digits >= 8) else text


def scrub(text: str) -> str:
    """`text` with emails, phone numbers and remembered names replaced by placeholders."""
    text = _PHONE.sub(_phone, EMAIL.sub("[email]", text))
    with _lock:
        names = list(_by_length)
    for name in names:
        if name in text:
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)" if name.isascii() else re.escape(name), "[name]", text)
    return text
