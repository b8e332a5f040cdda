"""Everything the bot keeps about candidates, in one SQLite file (`[interest] db`): registered interest,
handoff requests, the answers it gave (for the feedback buttons and the report) and feedback clicks.

The file is created readable by its owner only and runs in WAL mode (several bot processes may share
it). Rows older than `[interest] retention_days` are deleted when it is opened and then at most a day
apart, before any write or read. Recruiters read it with `python -m bot interest ...` and `report`.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bot.candidates.privacy import scrub
from bot.core.types import Answer, Question

_SCHEMA = """
create table if not exists interest (
    id integer primary key, at real not null, platform text not null, user text not null, name text not null,
    email text not null, areas text not null, note text not null, language text not null,
    consent_version text not null, consent_at real not null);
create table if not exists handoffs (
    id integer primary key, at real not null, platform text not null, user text not null, topic text not null,
    destination text not null, status text not null, transcript text not null);
create table if not exists answers (
    id integer primary key, at real not null, platform text not null, user text not null,
    conversation text not null, question text not null, answer text not null, grounded integer not null,
    sources text not null);
create table if not exists feedback (
    id integer primary key, answer_id integer not null references answers(id), at real not null,
    user text not null, helpful integer not null);
create index if not exists answers_at on answers(at);
"""
# Added after the first release (files made by it gain them on open).
_ANSWER_COLUMNS = {"language": "text not null default ''", "generator": "text not null default ''",
                   "topic": "text not null default ''", "best_source": "text not null default ''",
                   "best_score": "real not null default 0"}
EXPORT_COLUMNS = ("id", "registered", "platform", "user", "name", "email", "areas", "note", "language",
                  "consent_version", "consented")
_DAY = 86400.0
_CREATE_S = 3.0  # how long creating the tables may wait for other processes (then the write fails, logged)


class CandidateRecords:
    """Blocking calls; from the event loop, through `run`: on a thread of their own, so that under a
    burst they never queue behind the answers (nor answers behind them)."""

    def __init__(self, path: Path, *, retention_days: int, clock=time.time):
        self.path = path
        self.retention_days = retention_days
        self._clock = clock
        self._purged_at = float("-inf")
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        self._ready = False

    async def run(self, method, /, *args, **kwargs):
        """`method(*args, **kwargs)`, one of these calls, on the records' own thread."""
        call = functools.partial(method, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    # --- the file ------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:
                self._create()
        # A lock held longer than this fails the write (the answer goes out without buttons)
        # rather than keep the candidate waiting.
        db = sqlite3.connect(self.path, timeout=2)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commit, or roll back on error
                if self._clock() - self._purged_at >= _DAY:
                    self._purge(db)
                yield db
        finally:
            db.close()

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte (SQLite gives its -wal and -shm files the same mode).
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        deadline = time.monotonic() + _CREATE_S
        while True:
            try:
                self._create_schema()
                break
            except sqlite3.OperationalError as e:
                # Replicas starting together: switching to WAL fails at once (SQLite does not wait for it).
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._ready = True

    def _create_schema(self) -> None:
        db = sqlite3.connect(self.path, timeout=1)
        try:
            if db.execute("pragma journal_mode").fetchone()[0] != "wal":
                db.execute("pragma journal_mode=wal")
            db.executescript(_SCHEMA)
            have = {row[1] for row in db.execute("pragma table_info(answers)")}
            for column, kind in _ANSWER_COLUMNS.items():
                if column not in have:
                    try:
                        db.execute(f"alter table answers add column {column} {kind}")
                    except sqlite3.OperationalError as e:  # a replica starting beside this one added it first
                        if "duplicate column" not in str(e):
                            raise
            db.commit()
        finally:
            db.close()

    def _purge(self, db: sqlite3.Connection) -> None:
        cutoff = self._clock() - self.retention_days * _DAY
        db.execute("delete from feedback where at < ? or answer_id in (select id from answers where at < ?)",
                   (cutoff, cutoff))
        for table in ("interest", "handoffs", "answers"):
            db.execute(f"delete from {table} where at < ?", (cutoff,))
        self._purged_at = self._clock()

    def purge(self) -> None:
        """Delete what is past retention now (the bots also do it at start)."""
        self._purged_at = float("-inf")
        with self._connect():
            pass

    # --- interest ------------------------------------------------------------------------------

    def add_interest(self, *, platform: str, user: str, name: str, email: str, areas: str, note: str,
                     language: str, consent_version: str, consent_at: float) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "insert into interest (at, platform, user, name, email, areas, note, language, consent_version,"
                " consent_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self._clock(), platform, user, name, email, areas, note, language, consent_version, consent_at))
            return int(cursor.lastrowid)

    def interest(self) -> list[dict]:
        """Every registration, oldest first, as exported."""
        with self._connect() as db:
            rows = db.execute("select * from interest order by id").fetchall()
        return [{"id": r["id"], "registered": _iso(r["at"]), "platform": r["platform"], "user": r["user"],
                 "name": r["name"], "email": r["email"], "areas": r["areas"], "note": r["note"],
                 "language": r["language"], "consent_version": r["consent_version"],
                 "consented": _iso(r["consent_at"])} for r in rows]

    def export_csv(self, path: Path) -> int:
        rows = self.interest()
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)  # personal data: owner-only too
        with open(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)

    # --- handoffs ------------------------------------------------------------------------------

    def add_handoff(self, *, platform: str, user: str, topic: str, destination: str, status: str,
                    transcript: list[dict]) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "insert into handoffs (at, platform, user, topic, destination, status, transcript)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                (self._clock(), platform, user, topic, destination, status, json.dumps(transcript, ensure_ascii=False)))
            return int(cursor.lastrowid)

    def handoffs(self) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("select id, at, platform, user, topic, destination, status from handoffs"
                              " order by id").fetchall()
        return [{**dict(r), "at": _iso(r["at"])} for r in rows]

    # --- answers and feedback ------------------------------------------------------------------

    def record_answer(self, question: Question, answer: Answer, *, topic: str = "") -> int:
        """The answer as the candidate saw it; the question with emails, phone numbers and
        registered names scrubbed (it is what the report shows)."""
        sources = json.dumps([{"n": s.n, "title": s.title, "path": s.path, "url": s.url} for s in answer.sources],
                             ensure_ascii=False)
        path, title, score = answer.best
        with self._connect() as db:
            cursor = db.execute(
                "insert into answers (at, platform, user, conversation, question, answer, grounded, sources,"
                " language, generator, topic, best_source, best_score) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self._clock(), question.platform, question.user, question.conversation, scrub(question.text),
                 answer.text, int(answer.grounded), sources, answer.language, answer.generator, topic,
                 title or path, score))
            return int(cursor.lastrowid)

    def record_feedback(self, answer_id: int, user: str, helpful: bool) -> bool:
        """False when the answer is unknown (past retention, forgotten, or the file replaced)."""
        with self._connect() as db:
            if db.execute("select 1 from answers where id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute("insert into feedback (answer_id, at, user, helpful) values (?, ?, ?, ?)",
                       (answer_id, self._clock(), user, int(helpful)))
            return True

    def feedback(self) -> list[dict]:
        """Every click with its question, answer and sources."""
        with self._connect() as db:
            return [dict(r) for r in db.execute(
                "select f.user, f.helpful, f.at, a.question, a.answer, a.sources, a.platform"
                " from feedback f join answers a on a.id = f.answer_id order by f.id")]

    def answers_since(self, since: float) -> list[dict]:
        """Recorded answers since `since`, each with whether anyone found it not helpful."""
        with self._connect() as db:
            return [dict(r) for r in db.execute(
                "select a.id, a.at, a.platform, a.question, a.grounded, a.language, a.generator, a.topic,"
                " a.best_source, a.best_score, exists(select 1 from feedback f where f.answer_id = a.id"
                " and not f.helpful) as unhelpful from answers a where a.at >= ? order by a.at", (since,))]

    # --- forget me -----------------------------------------------------------------------------

    def forget(self, who: str) -> tuple[dict[str, int], set[str]]:
        """Delete everything of a user id ("discord:123", "slack:T/U"), or of an email address, and of
        any email that user registered (the same person on another platform). The counts per kind,
        and the user ids found (their conversations are forgotten too)."""
        with self._connect() as db:
            users = {who}
            emails = {who.lower()} if "@" in who else set()
            for _ in range(2):  # user -> their emails -> users who registered those emails
                marks = ",".join("?" * len(users))
                emails |= {r[0].lower() for r in db.execute(f"select email from interest where user in ({marks})",
                                                            tuple(users))}
                if emails:
                    found = db.execute(f"select user from interest where lower(email) in ({','.join('?' * len(emails))})",
                                       tuple(emails))
                    users |= {r[0] for r in found}
            marks, ids = ",".join("?" * len(users)), tuple(users)
            counts = {
                "interest": db.execute(f"delete from interest where user in ({marks})"
                                       + (f" or lower(email) in ({','.join('?' * len(emails))})" if emails else ""),
                                       ids + tuple(emails)).rowcount,
                "feedback": db.execute(f"delete from feedback where user in ({marks}) or answer_id in"
                                       f" (select id from answers where user in ({marks}))", ids + ids).rowcount,
                "answers": db.execute(f"delete from answers where user in ({marks})", ids).rowcount,
                "handoffs": db.execute(f"delete from handoffs where user in ({marks})", ids).rowcount,
            }
        return counts, {u for u in users if "@" not in u}


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat(timespec="seconds")
