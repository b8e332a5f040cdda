"""A seeded history of candidates' questions, asked through the real assistant (for the report's tests
and the README's chart): answerable questions from the evaluation set and unanswerable ones in groups
of paraphrases, English and Chinese, spread over the last 30 days."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import yaml

from bot.core.types import Question

ROOT = Path(__file__).resolve().parent.parent

# Questions the lab's documents do not answer, each group asked in several wordings; weights differ so
# that the report's ranking is known.
UNANSWERED = {
    "salary": (30, ["What is the salary for a postdoc?", "How much does a postdoc earn?", "postdoc salary?",
                    "博士后工资多少？"]),
    "visa": (20, ["Do you sponsor work visas?", "Can the lab help with my visa?", "Will you help me get a work visa?"]),
    "childcare": (14, ["Is there a kindergarten for staff children?", "Does the lab help with childcare?"]),
    "remote": (10, ["Can I work remotely from Europe?", "Is remote work possible for researchers?"]),
}


def answerable() -> list[str]:
    questions = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text(encoding="utf-8"))
    return [q["question"] for q in questions if q.get("facts") and q["category"] in ("direct", "paraphrase", "chinese")]


async def seed(assistant, *, total: int = 220, days: int = 30, seed: int = 7) -> dict[str, int]:
    """Ask `total` questions on Discord (so they are recorded), then spread them over `days`; one in
    five unanswered ones is also clicked "not helpful". Returns how many of each group were asked."""
    rng = random.Random(seed)
    asked = {name: 0 for name in UNANSWERED}
    unanswered = [name for name, (weight, _) in UNANSWERED.items() for _ in range(weight)]
    good = answerable()
    for n in range(total):
        if n < len(unanswered):
            name = unanswered[n]
            text, asked[name] = rng.choice(UNANSWERED[name][1]), asked[name] + 1
        else:
            text = rng.choice(good)
        user = f"discord:{100 + n % 17}"
        answer = await assistant.reply(Question(text, user=user, conversation=f"discord:dm:{user}", platform="discord"))
        if answer.ref and not answer.grounded and n % 5 == 0:
            await assistant.feedback(answer.ref, user, False)
    now = time.time()
    with sqlite3.connect(assistant.records.path) as db:  # as if asked over the last `days` days
        for (row_id,) in db.execute("select id from answers").fetchall():
            db.execute("update answers set at = ? where id = ?", (now - rng.uniform(0, days * 86400 - 60), row_id))
    return asked
