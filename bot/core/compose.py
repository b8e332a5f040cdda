"""Extractive answers: the most relevant sentences of the retrieved passages, cited.

Nothing here writes a fact of its own. Sentences are quoted as the documents give
them; the only added words are framing from bot.messages. The safeguards:
- nothing relevant enough -> an honest refusal with the recruitment contact;
- questions on sensitive topics (pay, visas, deadlines, ...) are answered only by a
  sentence that speaks to that topic, never by a merely nearby one;
- when documents disagree on a figure, both statements are quoted with their sources;
- a sentence answers only if it is about what the question names and carries what it asks
  for (bot.core.answerability); a message that only instructs the bot gets no evidence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from bot import messages as M
from bot.config import Settings
from bot.core import answerability as A
from bot.core import figures as F
from bot.core import text as T
from bot.core.lexical import LexicalIndex
from bot.core.retrieval import Hit, Retrieval
from bot.core.store import Sentence
from bot.core.types import Answer, Chunk, Source

# topic -> words that mark it, in questions and in evidence alike.
SENSITIVE = {
    "pay": re.compile(r"salar|\bpay(?:s|ing)?\b|\bpaid\b|\bearn|wage|compensation|remunerat|stipend|income|薪|工资|待遇|报酬|收入",
                      re.I),
    "visa": re.compile(r"\bvisas?\b|work permit|residence permit|immigra|签证|工作许可|居留", re.I),
    "deadline": re.compile(r"deadline|due date|closing date|last day to apply|截止|最晚", re.I),
    "housing": re.compile(r"housing|accommodation|apartment|relocat|dormitor|住房|宿舍|公寓|安家", re.I),
    "benefits": re.compile(r"benefit|insurance|pension|vacation|leave days|福利|保险|假期", re.I),
    "stock": re.compile(r"\bstocks?\b|\bshares\b|share price|股票|股价", re.I),
}

# "Which areas...", "list the...", "哪些": answers that enumerate deserve a nudge.
_LIST_QUESTION = re.compile(
    r"\b(which|what)\b.*\b(areas|fields|topics|partners|positions|roles|programs|programmes|facilities|kinds|types)\b"
    r"|\blist\b|哪些", re.I)
_LIST_BONUS = 0.03
_LIST_EXTRA = 2  # more sentences a list answer may quote, from the passage of its best one
_YES_NO_WORDS = frozenset({"true", "right", "correct", "really", "still", "already", "isn't", "doesn't", "confirm"})

_LEXICAL_WEIGHT = 0.10   # how much exact term overlap adds to a sentence's cosine
_MARGIN = 0.035          # sentences this close to the best one are quoted too
_FOCUS_WEIGHT = 0.7      # a follow-up's own words vs. the conversation's, when scoring sentences
_TOPIC_FLOOR = 0.05      # a topic sentence may sit this far below the relevance threshold
_SENTENCE_FLOOR = 0.02   # a sentence of a passage under the floor must clear it by this much
_PREDICATE_WEIGHT = 0.5  # what is asked vs. the whole question (names included), when ranking sentences
# Kinds of answer that a sentence's shape alone cannot confirm (capitalised words are everywhere):
# such a sentence must also share a word or the meaning of what is asked (when in the question's
# language: across languages no word can be shared, and the subject check carries the weight).
_WEAK_KINDS = (None, "name", "place")


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    hit: Hit
    score: float

    @property
    def path(self) -> str:
        return self.hit.chunk.path


def _is_enumeration(sentence: str) -> bool:
    return sentence.count(",") + sentence.count("、") >= 3 or "\n" in sentence


def _rank(question: str, retrieval: Retrieval, sentences: list[Sentence], lexical: LexicalIndex,
          focus: np.ndarray | None, predicate: np.ndarray | None = None, kind: str | None = None) -> list[Evidence]:
    """Score sentences by cosine to the question (above its language pair's floor) plus
    IDF-weighted word overlap.

    `focus` is the embedding of a follow-up as typed ("where is it?"): weighted in, so
    the sentence that answers *this* turn beats those that answered the previous one.
    `predicate` is the embedding of the question with its names replaced by "it": weighted in,
    so the sentence that says what is asked beats one that only repeats the name.
    """
    hit_of = {h.chunk.id: h for h in retrieval.hits}
    relevant = {h.chunk.id for h in retrieval.relevant}
    # The subject is checked separately (answerability); overlap counts the words of what is asked.
    named = {t for e in A.entities(question) for t in T.tokens(e.surface)}
    q_tokens = set(T.tokens(question))
    weight = sum(lexical.idf(t) for t in q_tokens) or 1.0
    q_tokens -= named
    asks_more = bool(q_tokens)  # "Tell me about X" asks nothing of X but X: any sentence about X will do
    wants_list = bool(_LIST_QUESTION.search(question))
    scored = []
    for s in sentences:
        hit = hit_of.get(s.chunk_id)
        if hit is None or A.addresses_the_bot(s.text):  # a page's instructions to an AI are not evidence
            continue
        shared = q_tokens & set(T.tokens(s.text))
        overlap = sum(lexical.idf(t) for t in shared) / weight
        similarity = float(np.dot(s.vector, retrieval.query_vector))
        floor = retrieval.floors.get(T.language(s.text), hit.floor)  # the sentence's own language
        cosine = similarity
        if focus is not None:
            cosine = (1 - _FOCUS_WEIGHT) * cosine + _FOCUS_WEIGHT * float(np.dot(s.vector, focus))
        if predicate is not None:
            cosine = (1 - _PREDICATE_WEIGHT) * cosine + _PREDICATE_WEIGHT * float(np.dot(s.vector, predicate))
        bonus = _LIST_BONUS if wants_list and _is_enumeration(s.text) else 0.0
        # Cosines are compared above their language pair's floor, so an English sentence can
        # answer a Chinese question against Chinese sentences that merely score higher.
        score = cosine - floor + _LEXICAL_WEIGHT * overlap + bonus
        if s.chunk_id not in relevant and not (similarity - floor >= _SENTENCE_FLOOR
                                               or overlap >= 0.5 and similarity - floor >= -_SENTENCE_FLOOR):
            continue  # a passage below the floor answers only through a sentence clearly above it,
            #           or one that holds most of the question's words and is near it
        if (predicate is not None and asks_more and kind in _WEAK_KINDS and not shared
                and T.language(s.text) == retrieval.language
                and not (kind == "place" and A.locates(s.text)) and float(np.dot(s.vector, predicate)) < floor):
            continue  # no word and not the meaning of what is asked: only the name matched
        scored.append(Evidence(s, hit, score))
    return sorted(scored, key=lambda e: -e.score)


def _select(ranked: list[Evidence], settings: Settings, wants_list: bool = False) -> list[Evidence]:
    """The best sentence and those close to it, bounded in count and length, no near-repeats.
    For a list question, further enumerations from the best sentence's passage join it: the
    items of one list are often spread over several sentences."""
    chosen: list[Evidence] = []
    size = 0

    def take(ev: Evidence) -> None:
        nonlocal size
        if size + len(ev.sentence.text) > settings.answer.max_chars and chosen:
            return
        words = set(T.tokens(ev.sentence.text))
        if any(len(words & set(T.tokens(c.sentence.text))) > 0.8 * max(len(words), 1) for c in chosen):
            return
        chosen.append(ev)
        size += len(ev.sentence.text)

    for ev in ranked:
        if chosen and (ev.score < ranked[0].score - _MARGIN or len(chosen) >= settings.answer.max_sentences):
            break
        take(ev)
    if wants_list:
        for ev in ranked:
            if len(chosen) >= settings.answer.max_sentences + _LIST_EXTRA or ev.score < ranked[0].score - 3 * _MARGIN:
                break
            if ev not in chosen and ev.path == chosen[0].path and _is_enumeration(ev.sentence.text):
                take(ev)
    return chosen


def _conflicts(chosen: list[Evidence], ranked: list[Evidence], kind: str | None) -> list[Evidence]:
    """Sentences from other documents that measure the same thing (an area, a sum of money, a
    count, the year asked for) differently: shown side by side, each with its own source."""
    extra: list[Evidence] = []
    floor = ranked[0].score - 3 * _MARGIN
    for ev in chosen:
        mine = F.measures(ev.sentence.text, years=kind == "time")
        if not mine:
            continue
        for other in ranked:
            if other.score < floor or other.path == ev.path or other in chosen or other in extra:
                continue
            if F.disagree(mine, F.measures(other.sentence.text, years=kind == "time")):
                extra.append(other)
                break
    return extra


# A sentence that leans on its context ("It was founded...") gets the subject named in front of
# it, in square brackets: the bot's framing, never part of the quote.
LEAD_IN = re.compile(r"^\[(?!\d+\])[^\]\n]{1,80}\]\s*")


@functools.lru_cache(maxsize=4096)  # chunks recur across questions; parsing one costs ~0.3 ms
def _around(chunk: Chunk, aliases: tuple[tuple[str, str], ...] = ()) -> A.Context:
    """What a passage is about: its document's title, owner and opening, its section, its text."""
    return A.Context(chunk.title, chunk.organisation, chunk.subject, chunk.lead, chunk.section, chunk.text,
                     aliases=dict(aliases))


@functools.lru_cache(maxsize=65536)
def _around_sentence(sentence: str, aliases: tuple[tuple[str, str], ...]) -> A.Context:
    return A.Context(sentence, aliases=dict(aliases))


def _aliases(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The lab's name in each script (config), so "Zhejiang Lab" is found in a Chinese page."""
    lab = settings.lab
    return ((lab.name.lower(), lab.name_zh), (lab.name_zh.lower(), lab.name)) if lab.name and lab.name_zh else ()


def _subject(ev: Evidence, asked: list[A.Entity]) -> str:
    """Whom a sentence is about: the name the question used when the passage is about it, else its
    title (when short) or section."""
    c = ev.hit.chunk
    context = _around(c)
    for entity in asked:
        if not entity.cjk and context.mentions(entity) and T.language(ev.sentence.text) == "en":
            return entity.surface
    section = c.section.rsplit(" > ", 1)[-1].rsplit(" / ", 1)[-1] if c.section else ""
    return c.title if len(c.title) <= 60 else section


def _whose(evidence: list[Evidence], settings: Settings, language: str) -> str:
    """The organisation the evidence is about, for the framing: never our lab for someone else's page."""
    owners = {ev.hit.chunk.organisation for ev in evidence}
    if len(owners) == 1 and "" not in owners:
        return owners.pop()
    lab = settings.lab
    names = [n for n in (lab.name, lab.name_zh) if n]
    if names and all(any(n in f"{ev.hit.chunk.title} {ev.hit.chunk.text}" for n in names) for ev in evidence):
        return lab.display_name(language)
    return ""


def _render(evidence: list[Evidence], language: str, whose: str,
            asked: list[A.Entity]) -> tuple[str, tuple[Source, ...]]:
    """Quote the evidence grouped by source in reading order, each group cited [n]."""
    numbers: dict[str, int] = {}
    sources: list[Source] = []
    for ev in evidence:
        if ev.path not in numbers:
            numbers[ev.path] = len(numbers) + 1
            c = ev.hit.chunk
            sources.append(Source(n=numbers[ev.path], title=c.title, path=c.path, url=c.url,
                                  snippet=ev.sentence.text[:240], score=round(ev.hit.similarity, 4)))
    ordered = sorted(evidence, key=lambda e: (numbers[e.path], e.sentence.chunk_id, e.sentence.position))
    parts: list[str] = []
    for i, ev in enumerate(ordered):
        last_of_group = i + 1 == len(ordered) or ordered[i + 1].path != ev.path
        body = ev.sentence.text.rstrip()
        first_of_group = i == 0 or ordered[i - 1].path != ev.path
        if first_of_group and not ev.hit.chunk.handoff and A.leans_on_context(body):
            subject = _subject(ev, asked)
            if subject and subject.lower() not in body.lower():
                body = f"[{subject}] {body}"
        parts.append(f"{body} [{numbers[ev.path]}]" if last_of_group else body)
    if any("\n" in p for p in parts) or len({T.language(p) for p in parts}) > 1:
        joiner = "\n\n"
    else:  # Chinese sentences run on without spaces
        joiner = "" if all(T.language(p) == "zh" for p in parts) else " "
    text = joiner.join(parts)
    intro = M.say("evidence_intro", language, lab=whose) if whose else M.say("evidence_intro_neutral", language)
    if intro:
        text = f"{intro}\n\n{text}"
    languages = {T.language(e.sentence.text) for e in evidence}
    if languages == {"en"} and language == "zh" or languages == {"zh"} and language == "en":
        text += "\n\n" + M.say("quoted_note", language)
    return text, tuple(sources)


def _says_what_was_asked(question: str, evidence: str) -> bool:
    """The evidence holds a word of what a yes/no question asks (its names aside)."""
    named = {t for e in A.entities(question) for t in T.tokens(e.surface)}
    asked = set(T.tokens(question)) - named - _YES_NO_WORDS
    said = set(T.tokens(evidence))
    # "postdocs" is said by "Postdoctoral": a shared beginning of five letters or more counts.
    return not asked or any(a in said or any(len(a) >= 5 and w.startswith(a[:max(5, len(a) - 2)]) for w in said)
                            for a in asked)


def refusal(language: str, settings: Settings, topic: str | None = None) -> Answer:
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    if topic:
        text = M.say("refusal_topic", language, lab=lab, contact=contact, topic=M.topic_name(topic, language))
    else:
        text = M.say("refusal", language, lab=lab, contact=contact)
    return Answer(text=text, sources=(), grounded=False, language=language)


def instructions_only(language: str, settings: Settings) -> Answer:
    """A message that tells the bot what to do or say instead of asking: no evidence is quoted."""
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    return Answer(text=M.say("instruction", language, lab=lab, contact=contact), sources=(), grounded=False,
                  language=language)


def _answers(ev: Evidence, asked: list[A.Entity], kind: str | None, counted: frozenset[str],
             around: A.Context, aliases: tuple[tuple[str, str], ...], name_documents: dict) -> bool:
    """The answerability check: about what the question names, and holding what it asks for.
    `around` is what the sentence's passage is about; `name_documents`, per name, the page in the
    other script that is about it."""
    sentence = ev.sentence.text
    if not A.carries(kind, sentence, counted, tuple(e.surface for e in asked)):
        return False
    if not asked:
        return True
    own = _around_sentence(sentence, aliases)
    for entity in asked:
        if own.mentions(entity):
            continue
        said = around.mentions(entity)
        if said is None:
            # A name in the other script cannot be read by its letters: only the page found to be
            # about it (Assistant._name_documents) may answer for it.
            if ev.path not in name_documents.get(entity, ()):
                return False
            continue
        # Not named in the sentence: its passage must be about it, and the sentence about nobody else.
        also = {t for name, alias in aliases if name == entity.surface.lower() for t in T.tokens(alias)}
        if not said or A.names_other_subject(sentence, asked, also):
            return False
    return True


def compose(question: str, *, language: str, retrieval: Retrieval, sentences: list[Sentence],
            lexical: LexicalIndex, settings: Settings, focus: np.ndarray | None = None,
            predicate: np.ndarray | None = None, ask: A.Ask, name_documents: dict | None = None) -> Answer:
    """The extractive answer to `question` (the search query: a follow-up already made standalone);
    `ask` is what the candidate's own message asks (kind, stated figures; its instructions to the
    bot already set aside by the assistant); `name_documents`: per name in the question, the page
    in the other script that is about it."""
    ranked = _rank(question, retrieval, sentences, lexical, focus, predicate, ask.kind)
    if not ranked:
        return refusal(language, settings)

    topics = [t for t, pattern in SENSITIVE.items() if pattern.search(question)]
    if topics:
        # Only sentences that speak to the topic may answer; a merely nearby fact is not an answer.
        on_topic = [e for e in ranked if any(SENSITIVE[t].search(e.sentence.text) for t in topics)]
        floor = min((h.margin for h in retrieval.relevant), default=0.0) - _TOPIC_FLOOR
        on_topic = [e for e in on_topic if e.score >= floor]
        if not on_topic:
            return refusal(language, settings, topic=topics[0])
        ranked = on_topic
    asked = A.entities(question)
    aliases = _aliases(settings)
    around = {h.chunk.id: _around(h.chunk, aliases) for h in retrieval.hits} if asked else {}
    ranked = [e for e in ranked if e.hit.chunk.handoff
              or _answers(e, asked, ask.kind, ask.counted, around.get(e.hit.chunk.id), aliases,
                          name_documents or {})]
    if not ranked:
        return refusal(language, settings, topic=topics[0] if topics else None)
    # A hand-off page's sentences only ever answer alongside each other, never mixed into facts.
    handoff = ranked[0].hit.chunk.handoff
    if handoff and not topics:
        facts = [e for e in ranked if not e.hit.chunk.handoff]
        if not facts or facts[0].score < ranked[0].score - _MARGIN:
            # The "where to ask" page is clearly the closest match to something the facts do not cover.
            return refusal(language, settings)
        handoff = False
    ranked = [e for e in ranked if e.hit.chunk.handoff == handoff]

    chosen = _select(ranked, settings, bool(_LIST_QUESTION.search(question)))
    conflicting = _conflicts(chosen, ranked, ask.kind)
    evidence = chosen + conflicting
    text, sources = _render(evidence, language, _whose(evidence, settings, language), asked)
    quoted = " ".join(e.sentence.text for e in evidence)
    if ask.confirm and ask.figures and not F.supported(ask.figures, quoted):
        text = f"{M.say('premise_unconfirmed', language)}\n\n{text}"
    elif ask.confirm and not _says_what_was_asked(question, quoted):
        # "Does X hire interns?" answered by X's list of positions: say that it is not said outright.
        text = f"{M.say('not_stated', language)}\n\n{text}"
    if conflicting:
        text += "\n\n" + M.say("conflict", language)
    if handoff:
        text += "\n\n" + M.say("handoff", language, contact=settings.lab.contact_email)
    return Answer(text=text, sources=sources, grounded=not handoff, language=language)
