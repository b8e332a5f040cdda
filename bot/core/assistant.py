"""Assistant: the single entry point every adapter calls."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import replace

from bot import messages as M
from bot.config import Settings
from bot.core import text as T
from bot.core.compose import compose
from bot.core.conversation import ConversationMemory, Turn, standalone
from bot.core.embeddings import Embedder, load_embedder
from bot.core.ratelimit import RateLimiter
from bot.core.retrieval import Retriever
from bot.core.store import Store
from bot.core.types import Answer, Question

_log = logging.getLogger(__name__)

_GREETING = re.compile(r"^\s*(hi|hello|hey|help|/help|你好|您好|帮助|\?)\s*[!.！。?？]*\s*$", re.I)
# Candidates talking to the lab's bot mean the lab itself by "the lab" (not a partner's joint lab).
_THE_LAB = re.compile(r"\b(?:the|this|your|that)\s+lab(?:oratory)?\b(?!\s+with)", re.I)
_START_OVER = re.compile(r"^\s*(/new|/reset|start over|new conversation|重新开始|新对话)\s*[!.！。]*\s*$", re.I)


class Assistant:
    """Answers questions from the index. Blocking work runs in worker threads.

    Build it with `Assistant.open(settings)` (or pass a ready store and embedder).
    """

    def __init__(self, settings: Settings, *, store: Store, embedder: Embedder):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        store.open_for_query(embedder.name)
        self.retriever = Retriever(store, embedder, settings.retrieval)
        self.memory = ConversationMemory(max_turns=settings.chat.memory_turns)
        self.rate_limiter = RateLimiter(settings.chat.rate_limit_messages, settings.chat.rate_limit_seconds)

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> Assistant:
        return cls(settings, store=Store(settings), embedder=embedder or load_embedder(settings.embeddings))

    def reload(self) -> None:
        """Pick up a re-indexed store."""
        self.store.open_for_query(self.embedder.name)
        self.retriever.reload()

    async def reply(self, question: Question) -> Answer:
        """What a chat platform sends back: the answer, unless the user is over the rate limit;
        any failure becomes a short apology (and a logged traceback), never an exception."""
        language = T.language(question.text)
        wait = self.rate_limiter.wait(question.user)
        if wait:
            return self._notice(M.say("rate_limited", language, seconds=math.ceil(wait)), language)
        try:
            return await self.answer(question)
        except Exception:
            _log.exception("could not answer a question from %s on %s", question.user, question.platform)
            return self._notice(M.say("error", language, contact=self.settings.lab.contact_email), language)

    async def answer(self, question: Question) -> Answer:
        return await asyncio.to_thread(self.answer_sync, question)

    def answer_sync(self, question: Question) -> Answer:
        started = time.perf_counter()
        text = " ".join(question.text.split())
        language = T.language(text)
        limit = self.settings.chat.max_question_chars
        truncated = len(text) > limit
        text = text[:limit]
        if not text or _GREETING.match(text):
            return self._help(language)
        if _START_OVER.match(text):
            self.memory.clear(question.conversation)
            return self._notice(M.say("new_conversation", language), language)

        query = self.search_query(text, self.memory.recent(question.conversation))
        self.memory.add(question.conversation, text, query)
        retrieval = self.retriever.search(query, language=language)
        retrieved = time.perf_counter()
        sentences = self.store.sentences_for([h.chunk.id for h in retrieval.relevant])
        focus = self.embedder.embed_queries([text])[0] if query != text and retrieval.relevant else None
        answer = compose(query, language=language, retrieval=retrieval, sentences=sentences,
                         lexical=self.retriever.lexical, settings=self.settings, focus=focus)
        done = time.perf_counter()
        if truncated:
            answer = _prepend(answer, M.say("truncated", language, limit=limit))
        timings = {"retrieve_ms": round((retrieved - started) * 1000, 2),
                   "compose_ms": round((done - retrieved) * 1000, 2),
                   "total_ms": round((done - started) * 1000, 2)}
        _log.debug("answered %s in %.1f ms (grounded=%s)", question.user, timings["total_ms"], answer.grounded)
        return replace(answer, timings=timings)

    def search_query(self, text: str, history: list[Turn]) -> str:
        """What is searched for `text`: a follow-up joined to its context, "the lab" named."""
        return _THE_LAB.sub(self.settings.lab.name, standalone(text, history))

    def _help(self, language: str) -> Answer:
        lab = self.settings.lab
        text = M.say("help", language, lab=lab.display_name(language), contact=lab.contact_email)
        return self._notice(text, language)

    @staticmethod
    def _notice(text: str, language: str) -> Answer:
        return Answer(text, (), grounded=False, language=language, notice=True)


def _prepend(answer: Answer, note: str) -> Answer:
    return replace(answer, text=f"{note}\n\n{answer.text}")
