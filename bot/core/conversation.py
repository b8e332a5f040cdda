"""Bounded per-conversation memory, and the rule that turns a follow-up into a standalone question."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

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
    """The last few turns of each conversation; old conversations are forgotten (LRU + idle TTL)."""

    def __init__(self, *, max_turns: int = 6, max_conversations: int = 10_000, ttl_s: float = 3600.0):
        self.max_turns = max_turns
        self.max_conversations = max_conversations
        self.ttl_s = ttl_s
        self._turns: OrderedDict[str, deque[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def recent(self, key: str) -> list[Turn]:
        with self._lock:
            turns = self._turns.get(key)
            if not turns or time.monotonic() - turns[-1].at > self.ttl_s:
                return []
            return list(turns)

    def add(self, key: str, question: str, standalone_question: str) -> None:
        if self.max_turns == 0:
            return
        with self._lock:
            turns = self._turns.pop(key, None) or deque(maxlen=self.max_turns)
            turns.append(Turn(question, standalone_question, time.monotonic()))
            self._turns[key] = turns
            while len(self._turns) > self.max_conversations:
                self._turns.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._turns.pop(key, None)
