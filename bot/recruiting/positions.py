"""Openings as records: one Markdown file per position or programme, front matter validated at ingest.

A record says what is open, for whom, since when it was last confirmed and how to apply. The
bot lists records as they are (never a closed one as open, never a nearby one as if it were
the one asked about) and says when a record is old enough that the candidate should check.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from bot import errors
from bot.core import nlp

STATUSES = ("open", "closed", "paused")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

# Career levels as candidates name them; the first name is the canonical one. Checked in this order
# (and matched text removed), so "chief scientist" is not also "scientist" and 博士后 not also 博士.
LEVELS: dict[str, re.Pattern] = {name: re.compile(pattern, re.I) for name, pattern in (
    ("chief scientist", r"\bchief scientists?\b|首席科学家"),
    ("postdoc", r"\bpost-?docs?\b|\bpost-?doctoral(?: fellows?| researchers?)?\b|博士后"),
    ("PhD student", r"\bph\.?d\.?(?: students?| candidates?| programmes?| programs?| positions?)?|\bdoctoral students?\b"
                    r"|博士生|博士研究生|读博|博士"),
    ("intern", r"\binterns?\b|\binternships?\b|实习生?"),
    ("engineer", r"\bengineers?\b|工程师"),
    ("student", r"\b(?:under)?graduates?\b|\bstudents?\b|学生|研究生|本科生"),
    ("researcher", r"\bresearchers?\b|\bresearch scientists?\b|\bscientists?\b|研究员|科研人员|科学家"),
)}


class RecordError(errors.RecordError):
    """A position record that cannot be used; names the front-matter field to fix."""

    def __init__(self, field: str, why: str):
        super().__init__(f"position record: field '{field}' {why}")
        self.field = field


@dataclass(frozen=True)
class Position:
    path: str
    title: str
    organisation: str
    areas: tuple[str, ...]
    levels: tuple[str, ...]
    status: str
    as_of: str                  # YYYY, YYYY-MM or YYYY-MM-DD, as precise as the source
    location: str = ""
    apply: str = ""
    source: str = ""            # the document the facts come from
    summary_en: str = ""        # the body's first sentence in each language, for listings
    summary_zh: str = ""

    @property
    def confirmed(self) -> dt.date:
        """The as-of date; a month or a year counts from its first day (the cautious reading)."""
        year, month, day = _DATE.match(self.as_of).groups()
        return dt.date(int(year), int(month or 1), int(day or 1))

    def stale(self, today: dt.date, days: int) -> bool:
        return (today - self.confirmed).days > days

    def summary(self, language: str) -> str:
        return (self.summary_zh if language == "zh" else self.summary_en) or self.summary_en or self.summary_zh

    def areas_in(self, language: str) -> tuple[str, ...]:
        """The area names written in `language`'s script (all of them when none is)."""
        mine = tuple(a for a in self.areas if (nlp.language(a) == "zh") == (language == "zh"))
        return mine or self.areas

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Position:
        data = json.loads(raw)
        data["areas"], data["levels"] = tuple(data["areas"]), tuple(data["levels"])
        return cls(**data)


def is_record(key: str) -> bool:
    """Markdown files in a folder named `positions` are records."""
    p = PurePosixPath(key)
    return p.suffix.lower() in (".md", ".markdown") and "positions" in p.parts[:-1]


def parse(meta: dict, body: str, key: str) -> Position:
    """The record in `meta` (front matter); RecordError names the first field that is wrong."""
    def text(name: str, *, required: bool = True) -> str:
        value = meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise RecordError(name, "is missing")
            return ""
        if not isinstance(value, (str, int, float)):
            raise RecordError(name, f"should be text, got {type(value).__name__}")
        return str(value).strip()

    def names(name: str) -> tuple[str, ...]:
        value = meta.get(name)
        values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        out = tuple(str(v).strip() for v in values if str(v).strip())
        if not out:
            raise RecordError(name, "is missing: give one or more, e.g. [machine learning]")
        return out

    status = text("status").lower()
    if status not in STATUSES:
        raise RecordError("status", f"is '{status}'; expected one of {', '.join(STATUSES)}")
    paragraphs = [p for p in nlp.paragraphs(body) if not p.startswith("#")]
    sentences = [s for p in paragraphs for s in nlp.sentences(p)]
    return Position(
        path=key, title=text("title"), organisation=text("organisation", required=False) or text("organization"),
        areas=names("area"), levels=tuple(canonical_level(v) for v in names("level")), status=status,
        as_of=_as_of(meta.get("as_of")), location=text("location", required=False),
        apply=text("apply", required=False), source=text("source", required=False),
        summary_en=next((s for s in sentences if nlp.language(s) == "en"), ""),
        summary_zh=next((s for s in sentences if nlp.language(s) == "zh"), ""),
    )


def _as_of(value: object) -> str:
    if value is None or value == "":
        raise RecordError("as_of", "is missing: the date the status was last confirmed (YYYY-MM-DD, YYYY-MM or YYYY)")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    m = _DATE.match(str(value).strip())
    if not m:
        raise RecordError("as_of", f"is '{value}', not a date: write YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = (int(g) if g else 1 for g in m.groups())
    try:
        dt.date(year, month, day)
    except ValueError as e:
        raise RecordError("as_of", f"is '{value}', not a real date ({e})") from e
    return str(value).strip()


def canonical_level(name: str) -> str:
    for canonical, pattern in LEVELS.items():
        if pattern.fullmatch(name.strip()):
            return canonical
    return name.strip()


def levels_in(text: str) -> tuple[tuple[str, ...], str]:
    """The levels a question names, and the question with them removed."""
    found = []
    for canonical, pattern in LEVELS.items():
        if pattern.search(text):
            found.append(canonical)
            text = pattern.sub(" ", text)
    return tuple(found), text


def display_date(as_of: str, language: str) -> str:
    """"on March 5, 2020", "in March 2020", "in 2019"; 2020年3月5日."""
    year, month, day = _DATE.match(as_of).groups()
    if language == "zh":
        return f"{year}年" + (f"{int(month)}月" if month else "") + (f"{int(day)}日" if day else "")
    if not month:
        return f"in {year}"
    name = dt.date(2000, int(month), 1).strftime("%B")
    return f"on {name} {int(day)}, {year}" if day else f"in {name} {year}"
