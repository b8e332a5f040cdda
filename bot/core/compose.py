"""Extractive answers: the most relevant sentences of the retrieved passages, cited.

Nothing here writes a fact of its own. Sentences are quoted as the documents give
them; the only added words are framing from bot.messages. Three safeguards:
- nothing relevant enough -> an honest refusal with the recruitment contact;
- questions on sensitive topics (pay, visas, deadlines, ...) are answered only by a
  sentence that speaks to that topic, never by a merely nearby one;
- when documents disagree on a figure, both statements are quoted with their sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot import messages as M
from bot.config import Settings
from bot.core import text as T
from bot.core.retrieval import Hit, LexicalIndex, Retrieval
from bot.core.store import Sentence
from bot.core.types import Answer, Source

# topic -> words that mark it, in questions and in evidence alike.
SENSITIVE = {
    "pay": re.compile(r"salar|\bpay\b|\bpaid\b|\bearn|wage|compensation|remunerat|stipend|income|薪|工资|待遇|报酬|收入",
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

# Units whose figures must agree across documents; a disagreement is shown, not hidden.
_QUANTITY = re.compile(
    r"(\d[\d,]*(?:\.\d+)?)\s*(mu|hectares?|acres?|square met(?:er|re)s?|km2|km²|亩|公顷|平方米)\b", re.I)
_UNIT = {"hectare": "ha", "hectares": "ha", "公顷": "ha", "acre": "acre", "acres": "acre", "亩": "mu"}

_LEXICAL_WEIGHT = 0.10   # how much exact term overlap adds to a sentence's cosine
_MARGIN = 0.035          # sentences this close to the best one are quoted too
_FOCUS_WEIGHT = 0.7      # a follow-up's own words vs. the conversation's, when scoring sentences
_TOPIC_FLOOR = 0.05      # a topic sentence may sit this far below the relevance threshold


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    hit: Hit
    score: float

    @property
    def path(self) -> str:
        return self.hit.chunk.path


def _quantities(text: str) -> dict[str, float]:
    out = {}
    for value, unit in _QUANTITY.findall(text):
        unit = _UNIT.get(unit.lower(), "m2" if "met" in unit.lower() or "平方" in unit else unit.lower())
        out[unit] = float(value.replace(",", ""))
    return out


def _is_enumeration(sentence: str) -> bool:
    return sentence.count(",") + sentence.count("、") >= 3 or "\n" in sentence


def _rank(question: str, retrieval: Retrieval, sentences: list[Sentence], lexical: LexicalIndex,
          focus: np.ndarray | None) -> list[Evidence]:
    """Score sentences by cosine to the question plus IDF-weighted word overlap.

    `focus` is the embedding of a follow-up as typed ("where is it?"): weighted in, so
    the sentence that answers *this* turn beats those that answered the previous one.
    """
    hit_of = {h.chunk.id: h for h in retrieval.relevant}
    q_tokens = set(T.tokens(question))
    weight = sum(lexical.idf(t) for t in q_tokens) or 1.0
    wants_list = bool(_LIST_QUESTION.search(question))
    scored = []
    for s in sentences:
        hit = hit_of.get(s.chunk_id)
        if hit is None:
            continue
        overlap = sum(lexical.idf(t) for t in q_tokens & set(T.tokens(s.text))) / weight
        cosine = float(np.dot(s.vector, retrieval.query_vector))
        if focus is not None:
            cosine = (1 - _FOCUS_WEIGHT) * cosine + _FOCUS_WEIGHT * float(np.dot(s.vector, focus))
        bonus = _LIST_BONUS if wants_list and _is_enumeration(s.text) else 0.0
        scored.append(Evidence(s, hit, cosine + _LEXICAL_WEIGHT * overlap + bonus))
    return sorted(scored, key=lambda e: -e.score)


def _select(ranked: list[Evidence], settings: Settings) -> list[Evidence]:
    """The best sentence and those close to it, bounded in count and length, no near-repeats."""
    chosen: list[Evidence] = []
    size = 0
    for ev in ranked:
        if chosen and (ev.score < ranked[0].score - _MARGIN or len(chosen) >= settings.answer.max_sentences):
            break
        if size + len(ev.sentence.text) > settings.answer.max_chars and chosen:
            continue
        words = set(T.tokens(ev.sentence.text))
        if any(len(words & set(T.tokens(c.sentence.text))) > 0.8 * max(len(words), 1) for c in chosen):
            continue
        chosen.append(ev)
        size += len(ev.sentence.text)
    return chosen


def _conflicts(chosen: list[Evidence], ranked: list[Evidence]) -> list[Evidence]:
    """Sentences from other documents that give a different figure in the same unit."""
    extra = []
    floor = ranked[0].score - 3 * _MARGIN
    for ev in chosen:
        mine = _quantities(ev.sentence.text)
        if not mine:
            continue
        for other in ranked:
            if other.score < floor or other.path == ev.path or other in chosen or other in extra:
                continue
            theirs = _quantities(other.sentence.text)
            if any(u in theirs and theirs[u] != v for u, v in mine.items()):
                extra.append(other)
                break
    return extra


def _render(evidence: list[Evidence], language: str, lab: str) -> tuple[str, tuple[Source, ...]]:
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
        parts.append(f"{body} [{numbers[ev.path]}]" if last_of_group else body)
    if any("\n" in p for p in parts):
        joiner = "\n\n"
    else:  # Chinese sentences run on without spaces
        joiner = "" if all(T.language(p) == "zh" for p in parts) else " "
    text = joiner.join(parts)
    intro = M.say("evidence_intro", language, lab=lab)
    if intro:
        text = f"{intro}\n\n{text}"
    if language == "zh" and all(T.language(e.sentence.text) != "zh" for e in evidence):
        text += "\n\n" + M.say("quoted_note", language)
    return text, tuple(sources)


def refusal(language: str, settings: Settings, topic: str | None = None) -> Answer:
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    if topic:
        text = M.say("refusal_topic", language, lab=lab, contact=contact, topic=M.topic_name(topic, language))
    else:
        text = M.say("refusal", language, lab=lab, contact=contact)
    return Answer(text=text, sources=(), grounded=False, language=language)


def compose(question: str, *, language: str, retrieval: Retrieval, sentences: list[Sentence],
            lexical: LexicalIndex, settings: Settings, focus: np.ndarray | None = None) -> Answer:
    if not retrieval.relevant:
        return refusal(language, settings)
    ranked = _rank(question, retrieval, sentences, lexical, focus)
    if not ranked:
        return refusal(language, settings)

    topics = [t for t, pattern in SENSITIVE.items() if pattern.search(question)]
    if topics:
        # Only sentences that speak to the topic may answer; a merely nearby fact is not an answer.
        on_topic = [e for e in ranked if any(SENSITIVE[t].search(e.sentence.text) for t in topics)]
        floor = min(h.similarity for h in retrieval.relevant) - _TOPIC_FLOOR
        on_topic = [e for e in on_topic if e.score >= floor]
        if not on_topic:
            return refusal(language, settings, topic=topics[0])
        ranked = on_topic
    elif ranked[0].hit.chunk.handoff:
        # The "where to ask" page is the closest match to something it does not cover.
        return refusal(language, settings)
    # A hand-off page's sentences only ever answer alongside each other, never mixed into facts.
    ranked = [e for e in ranked if e.hit.chunk.handoff == ranked[0].hit.chunk.handoff]

    chosen = _select(ranked, settings)
    conflicting = _conflicts(chosen, ranked)
    text, sources = _render(chosen + conflicting, language, settings.lab.display_name(language))
    if conflicting:
        text += "\n\n" + M.say("conflict", language)
    handoff = chosen[0].hit.chunk.handoff
    if handoff:
        text += "\n\n" + M.say("handoff", language, contact=settings.lab.contact_email)
    return Answer(text=text, sources=sources, grounded=not handoff, language=language)
