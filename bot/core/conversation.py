"""Bounded per-conversation memory, and the rule that turns a follow-up into a standalone question."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass

from bot.core.state import MemoryState

_log = logging.getLogger(__name__)

# A short question that leans on an earlier one: a leading connector or a pronoun.
_FOLLOW_UP_EN = re.compile(
    r"^\s*(and|also|what about|how about|but|so|then)\b|\b(it|its|it's|they|them|their|there|that lab|this lab|"
    r"those|these|he|she|his|her)\b", re.I)
_FOLLOW_UP_ZH = re.compile(r"^\s*(那|那么|还有|另外|它|他们|她|他)|(它|他们|其|该实验室|这个实验室)")
_MAX_FOLLOW_UP_WORDS = 12


@dataclass(frozen=True)
class Turn:
    question: str      # as asked
    standalone: str    # as searched
    at: float


def is_follow_up(question: str) -> bool:
    if _FOLLOW_UP_ZH.search(question):
        return len(question) <= 30
    return len(question.split()) <= _MAX_FOLLOW_UP_WORDS and bool(_FOLLOW_UP_EN.search(question))


def standalone(question: str, history: list[Turn]) -> str:
    """The question to search for: a follow-up carries its previous question's words along."""
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1].standalone} {question}"


class ConversationMemory:
    """The last few turns of each conversation, forgotten after `ttl_s` idle (in this process, or in
    Redis for every replica: see bot.core.state)."""

    def __init__(self, *, max_turns: int = 6, ttl_s: float = 3600.0, state=None):
        self.max_turns = max_turns
        self.ttl_s = ttl_s
        self.state = state or MemoryState()

    def recent(self, key: str) -> list[Turn]:
        try:
            return [Turn(**json.loads(item)) for item in self.state.items(f"turns:{key}")]
        except Exception as e:  # without memory a follow-up is read on its own
            _log.warning("conversation memory not read: %s", e)
            return []

    def add(self, key: str, question: str, standalone_question: str) -> None:
        if self.max_turns == 0:
            return
        turn = json.dumps({"question": question, "standalone": standalone_question, "at": time.time()},
                          ensure_ascii=False)
        try:
            self.state.push(f"turns:{key}", turn, keep=self.max_turns, ttl=self.ttl_s)
        except Exception as e:
            _log.warning("conversation memory not written: %s", e)

    def log(self, user: str, key: str, question: str, answer: str, sources: list[str]) -> None:
        """What was asked and answered, with the sources: handed to a person when the candidate asks for
        one. Each user's conversations are indexed, so "forget me" finds them all."""
        if self.max_turns == 0:
            return
        turn = json.dumps({"q": question, "a": answer, "sources": sources}, ensure_ascii=False)
        try:
            self.state.push(f"log:{key}", turn, keep=self.max_turns, ttl=self.ttl_s)
            self.state.push(f"conversations:{user}", key, keep=100, ttl=self.ttl_s)
        except Exception as e:
            _log.warning("conversation log not written: %s", e)

    def transcript(self, key: str) -> list[dict]:
        try:
            return [json.loads(item) for item in self.state.items(f"log:{key}")]
        except Exception as e:
            _log.warning("conversation log not read: %s", e)
            return []

    def clear(self, key: str) -> None:
        self.state.delete(f"turns:{key}")
        self.state.delete(f"log:{key}")

    def forget(self, user: str) -> None:
        """Every conversation `user` took part in (in this process, or in Redis for all replicas)."""
        for key in set(self.state.items(f"conversations:{user}")):
            self.clear(key)
        self.state.delete(f"conversations:{user}")
