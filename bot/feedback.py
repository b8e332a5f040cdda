"""Answers shown with feedback buttons, and the candidates' helpful / not helpful clicks (SQLite).

Recruiters read it with any SQLite tool, e.g. the questions the bot could not answer well:
    sqlite3 feedback.sqlite3 "select question, answer from answers join feedback
                              on answers.id = answer_id where not helpful"
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.core.types import Answer, Question

_SCHEMA = """
create table if not exists answers (
    id integer primary key, at real not null, platform text not null, user text not null,
    conversation text not null, question text not null, answer text not null,
    grounded integer not null, sources text not null);
create table if not exists feedback (
    id integer primary key, answer_id integer not null references answers(id), at real not null,
    user text not null, helpful integer not null);
"""


class FeedbackStore:
    """Blocking calls; the adapters run them in a worker thread."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Several processes may share the file; a lock held longer than this fails the write (and
        # the answer goes out without buttons) rather than keep the candidate waiting.
        db = sqlite3.connect(self.path, timeout=2)
        try:
            with db:  # commit, or roll back on error
                yield db
        finally:
            db.close()

    def record_answer(self, question: Question, answer: Answer) -> int:
        sources = json.dumps([{"n": s.n, "title": s.title, "path": s.path, "url": s.url} for s in answer.sources],
                             ensure_ascii=False)
        with self._connect() as db:
            cursor = db.execute(
                "insert into answers (at, platform, user, conversation, question, answer, grounded, sources)"
                " values (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), question.platform, question.user, question.conversation, question.text, answer.text,
                 int(answer.grounded), sources))
            return int(cursor.lastrowid)

    def record_feedback(self, answer_id: int, user: str, helpful: bool) -> bool:
        """False when the answer is unknown (e.g. the database was replaced)."""
        with self._connect() as db:
            if db.execute("select 1 from answers where id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute("insert into feedback (answer_id, at, user, helpful) values (?, ?, ?, ?)",
                       (answer_id, time.time(), user, int(helpful)))
            return True

    def rows(self) -> list[dict]:
        """Every click with its question, answer and sources (for reports and tests)."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(
                "select f.user, f.helpful, f.at, a.question, a.answer, a.sources, a.platform"
                " from feedback f join answers a on a.id = f.answer_id order by f.id")]
