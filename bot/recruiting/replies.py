"""Neutral answers about openings: a list of records, or the records that fit a background.

Every line comes from a record's fields or from bot.messages; each record is cited. A record
confirmed longer ago than `[positions] stale_after_days` says so and names the contact.
"""

from __future__ import annotations

import datetime as dt

from bot import messages
from bot.config import Settings
from bot.core import nlp
from bot.core.types import Answer, Source
from bot.recruiting.openings import Fit
from bot.recruiting.positions import Position, display_date


_COMPACT = 5  # longer listings show one line per record


def listing(shown: list[Position], not_open: list[Position], *, what: str, all_open_areas: list[str],
            language: str, settings: Settings, today: dt.date) -> Answer:
    """The open records asked about (then the closed or paused ones asked about, saying so); with
    none, an honest "no such opening" that names what the records do list."""
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    phrase = messages.say("positions_what", language, topic=what) if what else ""
    if not shown and not not_open:
        text = messages.say("positions_none", language, lab=lab, what=phrase, contact=contact,
                     areas=_join(all_open_areas, language))
        return Answer(text, (), grounded=False, language=language)
    sources: list[Source] = []
    entries = shown + not_open
    blocks = [messages.say("positions_intro", language, lab=lab, what=phrase)]
    if len(entries) > _COMPACT:  # one line each; the details are one narrower question away
        blocks.append("\n".join(f"{_head(p, _cite(p, sources), language)} · {_status(p, language, settings, today, short=True)}"
                                for p in entries))
        blocks.append(messages.say("positions_more", language, contact=settings.lab.contact_email))
    else:
        blocks += [_entry(p, _cite(p, sources), language, settings, today) for p in entries]
    return Answer("\n\n".join(blocks), tuple(sources), grounded=True, language=language)


def matches(fits: list[Fit], *, all_open_areas: list[str], language: str, settings: Settings,
            today: dt.date) -> Answer:
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    if not fits:
        text = messages.say("match_none", language, lab=lab, contact=contact, areas=_join(all_open_areas, language))
        return Answer(text, (), grounded=False, language=language)
    sources: list[Source] = []
    blocks = [messages.say("match_intro", language, lab=lab)]
    for f in fits:
        entry = _entry(f.position, _cite(f.position, sources), language, settings, today)
        head, rest = entry.split("\n", 1)
        blocks.append(f"{head}\n  {messages.say('match_reason', language, reason=f.reason)}\n{rest}")
    blocks.append(messages.say("match_next", language, contact=contact))
    return Answer("\n\n".join(blocks), tuple(sources), grounded=True, language=language)


def as_json(p: Position, *, settings: Settings, today: dt.date) -> dict:
    """The record as `python -m bot positions --json` prints it."""
    return {"title": p.title, "organisation": p.organisation, "area": list(p.areas), "level": list(p.levels),
            "status": p.status, "as_of": p.as_of, "stale": p.stale(today, settings.positions.stale_after_days),
            "location": p.location, "apply": p.apply, "source": {"path": p.path, "title": p.title},
            "based_on": p.source}


def fit_json(f: Fit) -> dict:
    """A suggestion as `python -m bot match --json` prints it."""
    p = f.position
    return {"title": p.title, "area": list(p.areas), "organisation": p.organisation, "status": p.status,
            "as_of": p.as_of, "reason": f.reason, "source": {"path": p.path, "title": p.title},
            "score": round(f.score, 4)}


def _entry(p: Position, n: int, language: str, settings: Settings, today: dt.date) -> str:
    contact = settings.lab.contact_email
    unknown = messages.say("position_unknown", language)
    details = messages.say("position_details", language,
                    levels=_join([messages.level_name(level, language) for level in p.levels], language),
                    location=p.location or unknown, apply=p.apply or messages.say("apply_ask", language, contact=contact))
    return f"{_head(p, n, language)}\n  {details}\n  {_status(p, language, settings, today)}"


def _head(p: Position, n: int, language: str) -> str:
    # In Chinese, the area's Chinese name leads when the record has one (titles are as written).
    area = p.areas_in(language)[0]
    named = f"{area}｜" if language == "zh" and nlp.language(area) == "zh" else ""
    return f"- {named}{p.title} — {p.organisation} [{n}]"


def _status(p: Position, language: str, settings: Settings, today: dt.date, *, short: bool = False) -> str:
    """Open (and when confirmed), open but old enough to check, or not open."""
    date = display_date(p.as_of, language)
    if p.status != "open":
        key = "position_not_open"
    elif p.stale(today, settings.positions.stale_after_days):
        key = "position_stale"
    else:
        key = "position_current"
    return messages.say(f"{key}_short" if short else key, language, status=messages.status_name(p.status, language), date=date,
                 contact=settings.lab.contact_email)


def _cite(p: Position, sources: list[Source]) -> int:
    for s in sources:
        if s.path == p.path:
            return s.n
    sources.append(Source(n=len(sources) + 1, title=p.title, path=p.path, snippet=p.summary_en[:240], score=1.0))
    return len(sources)


def _join(items: list[str], language: str) -> str:
    return ("、" if language == "zh" else ", ").join(items)
