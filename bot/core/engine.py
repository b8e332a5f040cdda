"""The QA engine: a question answered from the index, with citations, in its language.

One async pipeline: the question as searched (a follow-up made standalone, "the lab" named), the
passages and sentences found, the extractive answer composed from them and, with an LLM configured,
an answer the model writes from the passages and that is checked before it is used. It knows
nothing of recruiting, candidates or platforms: the orchestrator decides what reaches it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot import messages
from bot.config import Settings
from bot.core import answerability, grounding, nlp
from bot.core.compose import about_someone_else, compose
from bot.core.conversation import ConversationMemory, Turn, is_follow_up, standalone
from bot.core.embeddings import Embedder
from bot.core.grounding import Passage
from bot.core.retrieval import Retrieval, Retriever
from bot.core.store import Store
from bot.core.types import Answer, Source, notice

_log = logging.getLogger(__name__)

# Candidates talking to the lab's bot mean the lab itself by "the lab" (not a partner's joint lab).
_THE_LAB = re.compile(r"\b(?:the|this|your|that)\s+lab(?:oratory)?\b(?!\s+with)", re.I)
# The same in Chinese: 实验室 on its own (or 贵/你们/该/这个实验室), not the end of a name (之江实验室,
# 联合实验室, "Eckhardt 实验室").
_THE_LAB_ZH = re.compile(r"(?:贵|你们|您们|该|这个)实验室|(?<!\w)(?<!\w\s)实验室")
_ZH_GROUP = ("实验室", "研究室", "课题组", "研究组", "团队")
_FIRST_PERSON = re.compile(r"\b(?:I|I'd|I'm|I'll|I've|me|my|mine)\b|我(?!们)", re.I)
_BARE_PRONOUN = re.compile(r"\b(?:it|they)\b(?!')|(?<![\u4e00-\u9fff])(?:它|该实验室|这个实验室)", re.I)
# After the Chroma server timed out or refused a connection, questions get "unavailable" at once for
# this long instead of each waiting for its own timeout; then the next question tries again.
_STORE_DOWN_S = 2.0
# How much less close to a name than the closest page in the name's own script a page in the
# other script may be and still be taken as about it (measured on the raw-document set).
_SAME_SUBJECT = 0.02
_LLM_DOCUMENTS = 4  # documents the LLM reads at most (beyond those the extractive answer quotes)
_MEMO = 512  # vectors of recent questions (and the names they use) kept: a message read for its intent is
# usually the question searched, and names recur

Partial = Callable[[str], None]  # receives the text generated so far (streaming)


def _transport_error(error: BaseException | None) -> bool:
    """A timeout or a refused connection somewhere in the chain of causes (httpx, under chromadb)."""
    import httpx

    while error is not None:
        if isinstance(error, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        error = error.__cause__ or error.__context__
    return False


class Engine:
    """Answers questions from the index; blocking work runs in its worker threads (`work`).

    With an `llm`, answers are generated from the passages found and checked; the extractive
    answer is the fallback. `memory` holds each conversation's recent questions (follow-ups).
    """

    def __init__(self, settings: Settings, *, store: Store, embedder: Embedder, memory: ConversationMemory,
                 llm=None):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.memory = memory
        self.llm = llm
        store.open_for_query(embedder.name)
        self.retriever = Retriever(store, embedder, settings.retrieval)
        self._secrets = grounding.secrets_in_environment((settings.llm.api_key_env,))
        self._checked_at = time.monotonic()
        self._refresh_lock = threading.Lock()
        self._store_down_until = self._store_warned_until = 0.0
        # Answers are CPU work: as many at a time as there are cores. More threads only contend for the
        # interpreter with the event loop (its lag grows) and leave nothing for other blocking work.
        self._workers = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="answer")
        self._vectors: OrderedDict[str, object] = OrderedDict()  # the last questions' vectors
        self._vectors_lock = threading.Lock()

    async def work(self, fn, *args):
        """`fn(*args)` on a worker thread: the event loop never waits for the model or the index."""
        return await asyncio.get_running_loop().run_in_executor(self._workers, fn, *args)

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

    async def answer(self, text: str, *, conversation: str, language: str, on_partial: Partial | None = None,
                     generate: bool = True) -> Answer:
        """The answer to `text` (instructions to the bot already taken out) in `conversation`;
        generated by the LLM when one is configured and `generate` (streamed to `on_partial`)."""
        history = await self.work(self.memory.recent, conversation)  # maybe Redis
        llm = self.llm if generate else None
        query = await self._rewrite(text, history) if llm else self.search_query(text, history)
        draft, retrieval = await self.work(self._extractive, conversation, text, query, language)
        # The model reads the passages itself, also where no single sentence answered; hand-offs and
        # sensitive topics no passage speaks to never reach it.
        if llm is None or not (draft.grounded or draft.unanswered):
            return draft
        generated = time.perf_counter()
        answer = await self._generate(text, query, language, retrieval, draft, on_partial)
        answer.timings["generate_ms"] = round((time.perf_counter() - generated) * 1000, 2)
        return answer

    # --- when the Chroma server is down ---------------------------------------------------------

    def down(self) -> bool:
        """The Chroma server failed a moment ago: questions get "unavailable" without waiting."""
        return time.monotonic() < self._store_down_until

    def server_failed(self, error: BaseException) -> bool:
        """Whether `error` means the Chroma server is unavailable (a timeout or a refused connection,
        or it does not answer now); if so, questions get "unavailable" at once for a moment."""
        if not self.settings.store.url or not (_transport_error(error) or not self.store.reachable()):
            return False
        now = time.monotonic()
        self._store_down_until = max(self._store_down_until, now + _STORE_DOWN_S)
        first, self._store_warned_until = now >= self._store_warned_until, now + _STORE_DOWN_S
        (_log.warning if first else _log.debug)("the Chroma server at %s is unavailable: %s",
                                                self.settings.store.url, f"{type(error).__name__}: {error}"[:300])
        return True

    def unavailable(self, language: str) -> Answer:
        return notice(messages.say("unavailable", language, contact=self.settings.lab.contact_email), language)

    # --- the question as searched ---------------------------------------------------------------

    def embed_queries(self, texts: list[str]) -> list:
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
        return f"{query} ({self.settings.lab.display_name(nlp.language(query))})"

    def _name_the_lab(self, text: str) -> str:
        """"The lab" / 实验室 alone is the lab whose bot this is, unless the question names another lab
        or group ("Who is the PI of the Yamazaki Lab, and which institute does the lab belong to?")."""
        lab = self.settings.lab
        ours = {lab.name.lower(), lab.name_zh}
        if any((e.head in ("lab", "group") or (e.cjk and e.surface.endswith(_ZH_GROUP))) and e.surface.lower() not in ours
               for e in answerability.entities(text)):
            return text
        text = _THE_LAB.sub(lab.name, text)
        return _THE_LAB_ZH.sub(lab.name_zh, text) if lab.name_zh else text

    # --- the extractive answer, and the LLM's ------------------------------------------------

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
        if self.down():
            raise ConnectionError("the Chroma server did not answer a moment ago")
        self.refresh()
        # One model call for every vector this answer needs (a batch costs less than its parts):
        # the query; a follow-up as typed ("focus"); the question without its names ("predicate").
        extra = {"focus": text if query != text else "", "predicate": answerability.predicate(query)}
        extra = {k: v for k, v in extra.items() if v and v != query}
        vectors = dict(zip(["query", *extra], self.embed_queries([query, *extra.values()])))
        search = functools.partial(self.retriever.search, query, language=language, vector=vectors["query"],
                                   predicate=vectors.get("predicate"),
                                   names=tuple((e.forms, e.parts) for e in answerability.entities(query)))
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
        passages = {nlp.language(h.chunk.text) for h in retrieval.hits}
        if not any(("en" if name.cjk else "zh") in passages for name in names):
            return {}  # every name can be read in every passage
        chunk_vectors = self.store.vectors([h.chunk.id for h in retrieval.hits])
        name_vectors = self.embed_queries([name.surface for name in names])
        out = {}
        said = ([answerability.Context(h.chunk.title, h.chunk.subject, h.chunk.text) for h in retrieval.hits]
                if any(n.cjk for n in names) else [])
        for name, name_vector in zip(names, name_vectors):
            # A Chinese name that a page writes (or the name linked to it: "伦敦国王学院 TAIR 实验室") is
            # read there, not guessed from closeness. (A Latin name still is: a Chinese page of the
            # group whose English card spells "Kai Ye" writes 叶凯.)
            if name.cjk and any(context.mentions(n) for n in [name, *answerability.linked(name, names)] for context in said):
                continue
            own = "zh" if name.cjk else "en"
            best: dict[str, tuple[float, str]] = {}
            for h in retrieval.hits:
                if h.chunk.id not in chunk_vectors:
                    continue
                lang = nlp.language(h.chunk.text)
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
        prompt = self.llm.prompt(text, query, language, passages)
        try:
            async with asyncio.timeout(self.settings.llm.timeout_s):
                if on_partial is None:
                    raw = await self.llm.generate(prompt)
                else:
                    raw = await self._stream(prompt, passages, on_partial)
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

    async def _stream(self, prompt: list, passages: list[Passage], on_partial: Partial) -> str:
        """Generate, passing the text so far to `on_partial`: invalid citations removed, and the
        tail held back so that no secret can show even in part; a leak stops the partials."""
        valid = {p.n for p in passages}
        hold = max((len(s) for s in self._secrets), default=0)
        raw, showing = "", True
        async for piece in self.llm.stream(prompt):
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
        blocked = about_someone_else(answerability.entities(question), retrieval.hits, (), lexical=self.retriever.lexical)
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
                " ".join(x for x in nlp.sentences(p) if not answerability.addresses_the_bot(x)) for p in nlp.paragraphs(c.text)))
        passages = [Passage(n, sources[n].title, "\n".join(texts[n])) for n in sorted(texts)]
        return passages, sources

    def _fallback(self, draft: Answer, why: str) -> Answer:
        _log.warning("LLM answer not used, sending the extractive answer instead: %s", why)
        return replace(draft, generator="fallback", timings=dict(draft.timings))

    def _redact(self, error: object) -> str:
        text = str(error)
        for secret in self._secrets:
            text = text.replace(secret, "[secret]")
        return text[:300]
