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

from bot import messages
from bot.config import Settings
from bot.core import answerability
from bot.core import decision
from bot.core import figures
from bot.core import formats
from bot.core import nlp
from bot.core.lexical import LexicalIndex
from bot.core.retrieval import Hit, Retrieval
from bot.core.store import Sentence
from bot.core.types import Answer, Chunk, Source, document_of

# topic -> words that mark it, in questions and in evidence alike.
SENSITIVE = {
    # ("earn a doctorate" is no question of pay)
    "pay": re.compile(r"salar|\bpay(?:s|ing)?\b|\bpaid\b|\bearn(?!\w*\s+(?:(?:a|an|the|his|her|their|my|your)\s+)?"
                      r"(?:degree|doctorate|ph\.?d|master|bachelor|diploma|credit))|wage|compensation|remunerat|stipend"
                      r"|income|薪|工资|待遇|报酬|收入", re.I),
    "visa": re.compile(r"\bvisas?\b|work permit|residence permit|immigra|签证|工作许可|居留", re.I),
    "deadline": re.compile(r"deadline|due date|closing date|last day to apply|截止|最晚", re.I),
    # (relocation as a cost or support: "relocating to Seattle straight away" is about when one moves)
    "housing": re.compile(r"housing|accommodation|apartment|relocation|(?:help|support|assist|pay|cover)\w*\s+(?:\w+\s+){0,2}"
                          r"relocat|dormitor|住房|宿舍|公寓|安家", re.I),
    "benefits": re.compile(r"benefit|insurance|pension|vacation|leave days|福利|保险|假期", re.I),
    "stock": re.compile(r"\bstocks?\b|\bshares\b|share price|股票|股价", re.I),
}

# "Which areas...", "list the...", "哪些": answers that enumerate deserve a nudge.
_LIST_QUESTION = re.compile(
    r"\b(which|what)\b.*\b(areas|fields|topics|partners|positions|roles|programs|programmes|facilities|kinds|types)\b"
    r"|\blist\b|哪些", re.I)
HANDOFF_MARGIN = 0.035  # a fact sentence this much less near than the hand-off page does not answer
_LIST_EXTRA = 2  # more sentences a list answer may quote, from the passage of its best one
# A yes/no question whose quoted sentences hold no word of what it asks is answered with them ("the
# documents don't say this in so many words...") only when the model is this sure; else refused.
# (Chosen on the realdocs tune fold: a publication line near the group answered "can the postdoc start
# remotely?"; no answered question of any set changed.)
_SURE_UNSTATED = 0.75
# A word shared with a yes/no question says what it asks when it weighs this share of the rarest asked
# word (chosen on the realdocs tune fold: "postdoc" on a site of adverts for "can the postdoc start
# remotely?" weighs 0.31 of "remotely"; 0.5 also refused "is X hiring postdocs right now?", at 0.39).
_WEIGHS = 0.35
_YES_NO_WORDS = frozenset({"true", "right", "correct", "really", "still", "already", "isn't", "doesn't", "confirm"})


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    hit: Hit
    score: float                      # the model's probability that it carries the answer
    features: tuple[float, ...] = ()  # what the model read (bot.core.decision.FEATURES)

    @property
    def path(self) -> str:
        return self.hit.chunk.path

    def feature(self, name: str) -> float:
        return self.features[decision.FEATURES.index(name)]


def topics_of(text: str) -> list[str]:
    """The sensitive topics a text speaks to (pay, visas, deadlines...)."""
    return [t for t, pattern in SENSITIVE.items() if pattern.search(text)]


def speaks_to(topic: str, sentence: str) -> bool:
    """The sentence speaks to the topic: its words, or for pay a sum of money ("35000/per month")."""
    return bool(SENSITIVE[topic].search(sentence) or (topic == "pay" and formats.MONEY.search(sentence)))


_VALUE_CHARS = 80  # a sentence this short under a heading is that heading's value
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _heading_above(passage: str, sentence: str) -> str:
    """The heading right above `sentence` in its passage ("" when none is)."""
    at = passage.find(sentence[:40])
    headings = list(_HEADING.finditer(passage, 0, at)) if at > 0 else []
    return headings[-1].group(1) if headings else ""


def _is_enumeration(sentence: str) -> bool:
    return sentence.count(",") + sentence.count("、") >= 3 or "\n" in sentence


def candidates(question: str, *, retrieval: Retrieval, sentences: list[Sentence], lexical: LexicalIndex,
               settings: Settings, ask: answerability.Ask, focus: np.ndarray | None = None,
               predicate: np.ndarray | None = None, name_documents: dict | None = None,
               scored: bool = True) -> list[Evidence]:
    """Every sentence of the retrieved passages with its features and the model's probability
    that it answers, most probable first.

    `focus` is the embedding of a follow-up as typed ("where is it?"), so the sentence that answers
    *this* turn beats those that answered the previous one; `predicate` the embedding of the
    question with its names replaced by "it", so the sentence that says what is asked beats one
    that only repeats the name. Sentences of a page addressed to an AI are never candidates.
    """
    hits = {h.chunk.id: (rank, h) for rank, h in enumerate(retrieval.hits)}
    relevant = {h.chunk.id for h in retrieval.relevant}
    asked = answerability.entities(question)
    aliases = _aliases(settings)
    elsewhere = about_someone_else(asked, retrieval.hits, aliases, name_documents, lexical)
    name_documents = name_documents or {}
    # The subject is read separately; overlap counts the words of what is asked.
    named = {t for e in asked for t in nlp.tokens(e.surface)}
    q_tokens = set(nlp.tokens(question))
    weight = sum(lexical.weight(t) for t in q_tokens) or 1.0
    # Against a sentence in the other language, only the words that have a translation can be shared.
    weight_across = sum(lexical.weight(t) for t in q_tokens if t.isascii() or nlp.gloss(t)) or 1.0
    q_tokens -= named
    wants_list = bool(_LIST_QUESTION.search(question))
    topics = topics_of(question)
    also = {t for name, alias in aliases for e in asked if name == e.surface.lower() for t in nlp.tokens(alias)}
    best_passage = max((h.margin for h in retrieval.hits), default=0.0)
    # Whose pages were found: only those names are competing subjects.
    subjects = {t for h in retrieval.hits for t in nlp.tokens(f"{h.chunk.subject} {h.chunk.organisation}")}
    eligible: list[tuple[Sentence, Hit, int, float]] = []
    for s in sentences:
        rank, hit = hits.get(s.chunk_id, (0, None))
        if hit is None or answerability.addresses_the_bot(s.text):
            continue
        if hit.chunk.path in elsewhere and not all(_around_sentence(s.text, aliases).mentions(e) for e in asked):
            continue  # a page about a competing subject answers only where the sentence names the asked one
        # Cosines are read above the floor of the sentence's own language.
        eligible.append((s, hit, rank, retrieval.floors.get(nlp.language(s.text), hit.floor)))
    if not eligible:
        return []
    vectors = np.array([s.vector for s, *_ in eligible])
    floors = np.array([floor for *_, floor in eligible])
    near = vectors @ retrieval.query_vector - floors
    asked_near = vectors @ predicate - floors if predicate is not None else near
    focus_near = vectors @ focus - floors if focus is not None else near
    rank_near, rank_asked = (_ranks(v) for v in (near, asked_near))
    rows: list[dict[str, float]] = []
    kept: list[tuple[Sentence, Hit]] = []
    # The nearest candidates only are weighed (as the model was fitted): the rest are far from it.
    for i in np.argsort(-near, kind="stable")[:decision.CANDIDATES]:
        s, hit, rank, _ = eligible[i]
        similarity = float(near[i])
        shared = nlp.shared_words(q_tokens, s.text)
        own = _around_sentence(s.text, aliases)
        around = _around(hit.chunk, aliases) if asked else None
        language = decision.language_pair(retrieval.language, s.text)
        formats = decision.formats_of(s.text)
        in_sentence, covered, unreadable, missing = decision.names(asked, own, around, hit.chunk.path, name_documents)
        # The heading above a sentence may speak to the asked topic, and a short value under it is
        # labelled by it ("Application Deadline" / "Oct. 1st, 2020.").
        heading = _heading_above(hit.chunk.text, s.text)
        labelled = f"{heading}: {s.text}" if heading and len(s.text) <= _VALUE_CHARS else s.text
        rows.append({
            "similarity": similarity, "predicate": float(asked_near[i]), "focus": float(focus_near[i]),
            "below_best": similarity - float(near.max()),
            "similarity_rank": float(rank_near[i]), "predicate_rank": float(rank_asked[i]),
            "passage_margin": hit.margin, "best_passage": best_passage, "passage_rank": 1.0 / (1 + rank),
            "relevant_passage": float(s.chunk_id in relevant),
            "overlap": sum(lexical.weight(t) for t in shared) / (weight_across if language[1] else weight),
            "overlap_any": float(bool(shared)),
            "names_in_sentence": in_sentence, "names_covered": covered, "names_unreadable": unreadable,
            "names_missing": missing,
            "other_subject": float(bool(asked) and answerability.names_other_subject(s.text, asked, also, subjects)),
            "no_names": float(not asked),
            "carries": float(answerability.carries(ask.kind, s.text, ask.counted, tuple(e.surface for e in asked))),
            "open_kind": float(ask.kind is None),
            "topic_asked": float(bool(topics)),
            "on_topic": float(any(speaks_to(t, s.text) or speaks_to(t, heading) for t in topics)),
            "same_language": language[0], "cross_language": language[1],
            "cross_similarity": language[1] * similarity,
            "cross_predicate": language[1] * float(asked_near[i]),
            "has_contact": formats[0], "has_phone": formats[1], "has_date": formats[2], "has_money": formats[3],
            "has_digit": formats[4], "label_asked": decision.label_asked(labelled, q_tokens), "length": decision.length(s.text),
            "enumeration_for_list": float(wants_list and _is_enumeration(s.text)),
            "handoff": float(hit.chunk.handoff), "leans_on_context": float(answerability.leans_on_context(s.text)),
            "first_of_passage": float(s.position == 0),
        })
        kept.append((s, hit))
    if not rows:
        return []
    x = np.array([[row[name] for name in decision.FEATURES] for row in rows])
    # (Unscored when the features are being recorded to fit the model: bot.training.)
    probabilities = decision.model().probabilities(x) if scored else np.zeros(len(x))
    out = [Evidence(s, hit, float(p), tuple(row)) for (s, hit), p, row in zip(kept, probabilities, x.tolist())]
    return sorted(out, key=lambda e: -e.score)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 / (1 + rank) of each value, the largest first."""
    out = np.empty(len(values))
    out[np.argsort(-values, kind="stable")] = 1.0 / (1 + np.arange(len(values)))
    return out


def about_someone_else(asked: list[answerability.Entity], hits: tuple[Hit, ...], aliases: tuple[tuple[str, str], ...],
                       name_documents: dict | None = None, lexical: LexicalIndex | None = None) -> set[str]:
    """The documents about a competing subject: for a name the question uses, some document says
    it and this one (its retrieved passages, title, profile, opening) never does, not even in part;
    or, for a name in the other script than this document, another page was found to be about it
    (`name_documents`, per name). "Yamazaki Lab" is not answered from another lab's page; a name no
    document says ("If", "Dr") blocks nothing. Whether a name of several words ("Bonan Zhu") is said
    by documents the search did not bring back is read from the whole index (`lexical`): the
    question is then about them, not about the pages found."""
    if not asked:
        return set()
    texts: dict[str, list[str]] = {}
    profiles: dict[str, str] = {}
    keys: dict[str, str] = {}  # the index's document key -> path
    for h in hits:
        c = h.chunk
        texts.setdefault(c.path, [c.title, c.subject, c.organisation, c.lead]).append(c.text)
        profiles[c.path] = c.subject
        keys[document_of(c.id)] = c.path
    documents = {path: _around_document("\n".join(parts), aliases) for path, parts in texts.items()}

    @functools.cache  # asked again for every name the question links to it
    def about(entity: answerability.Entity, path: str) -> bool:
        doc = documents[path]
        # "Prof. Zhu" for "Lei Zhu"; "research" alone is not "Glacier Research Station"
        partly = len(entity.tokens) > 1 and 2 * len(entity.tokens & doc.words) >= len(entity.tokens)
        return bool(doc.mentions(entity)) or partly or answerability.shares_a_name(entity, profiles[path])

    blocked: set[str] = set()
    for entity in asked:
        # "Lei Zhu's ACMRSG group" names one subject twice: a page about either name is about it,
        # though it never spells the other ("U-Tokyo" in "Yamazaki Lab at U-Tokyo" is no such name).
        # A page about a unit ("东京大学山崎研究室") is about its university; one about the university
        # alone is not about the unit.
        spared = {path for path in documents if any(about(e, path) for e in answerability.linked(entity, asked))}
        found = (name_documents or {}).get(entity, set())  # pages in the other script found to be about it
        said = {path for path, doc in documents.items() if doc.mentions(entity)} | set(found)
        holders: set[str] = set()  # the documents of the whole index that say it (a name of several words)
        if lexical is not None and len(entity.tokens) > 1 and not entity.cjk:
            holders = set().union(*(lexical.documents_holding(form) for form in entity.forms))
            said |= {keys[k] for k in holders if k in keys}  # in a passage of a found page that was not returned
        for path, doc in documents.items():
            if path in spared:
                continue
            mentions = doc.mentions(entity)
            if (said or holders) and path not in said and mentions is False and not about(entity, path):
                blocked.add(path)
            elif mentions is None and found and path not in found:
                blocked.add(path)
    return blocked


@functools.lru_cache(maxsize=1024)
def _around_document(text: str, aliases: tuple[tuple[str, str], ...]) -> answerability.Context:
    return answerability.Context(text, aliases=dict(aliases))


def _select(ranked: list[Evidence], settings: Settings, margin: float, wants_list: bool = False) -> list[Evidence]:
    """The best sentence and those close to it, bounded in count and length, no near-repeats.
    For a list question, further enumerations from the best sentence's passage join it: the
    items of one list are often spread over several sentences."""
    chosen: list[Evidence] = []
    size = 0

    def take(ev: Evidence) -> None:
        nonlocal size
        if size + len(ev.sentence.text) > settings.answer.max_chars and chosen:
            return
        words = set(nlp.tokens(ev.sentence.text))
        if any(len(words & set(nlp.tokens(c.sentence.text))) > 0.8 * max(len(words), 1) for c in chosen):
            return
        chosen.append(ev)
        size += len(ev.sentence.text)

    for ev in ranked:
        if chosen and (ev.score < ranked[0].score - margin or len(chosen) >= settings.answer.max_sentences):
            break
        take(ev)
    if wants_list:
        for ev in ranked:
            if len(chosen) >= settings.answer.max_sentences + _LIST_EXTRA or ev.score < ranked[0].score - 3 * margin:
                break
            if ev not in chosen and ev.path == chosen[0].path and _is_enumeration(ev.sentence.text):
                take(ev)
    return chosen


def _conflicts(chosen: list[Evidence], ranked: list[Evidence], kind: str | None,
               floor: float) -> tuple[list[Evidence], bool]:
    """Sentences from other documents that measure the same thing (an area, a sum of money, a
    count, the year asked for) differently: shown side by side, each with its own source. Also
    whether any such pair was found (among the chosen sentences themselves, too)."""
    extra: list[Evidence] = []
    found = False
    for ev in chosen:
        mine = figures.measures(ev.sentence.text, years=kind == "time")
        if not mine:
            continue
        for other in ranked:
            if other.score < floor or other.path == ev.path or other in extra:
                continue
            if figures.disagree(mine, figures.measures(other.sentence.text, years=kind == "time")):
                found = True
                if other not in chosen:
                    extra.append(other)
                    break
    return extra, found


# A sentence that leans on its context ("It was founded...") gets the subject named in front of
# it, in square brackets: the bot's framing, never part of the quote.
LEAD_IN = re.compile(r"^\[(?!\d+\])[^\]\n]{1,80}\]\s*")


@functools.lru_cache(maxsize=4096)  # chunks recur across questions; parsing one costs ~0.3 ms
def _around(chunk: Chunk, aliases: tuple[tuple[str, str], ...] = ()) -> answerability.Context:
    """What a passage is about: its document's title, owner and opening, its section, its text."""
    return answerability.Context(chunk.title, chunk.organisation, chunk.subject, chunk.lead, chunk.section, chunk.text,
                     aliases=dict(aliases))


@functools.lru_cache(maxsize=65536)
def _around_sentence(sentence: str, aliases: tuple[tuple[str, str], ...]) -> answerability.Context:
    return answerability.Context(sentence, aliases=dict(aliases))


def _aliases(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The lab's name in each script (config), so "Zhejiang Lab" is found in a Chinese page."""
    lab = settings.lab
    return ((lab.name.lower(), lab.name_zh), (lab.name_zh.lower(), lab.name)) if lab.name and lab.name_zh else ()


def _subject(ev: Evidence, asked: list[answerability.Entity]) -> str:
    """Whom a sentence is about: the name the question used when the passage is about it, else its
    title (when short) or section."""
    c = ev.hit.chunk
    context = _around(c)
    for entity in asked:
        if not entity.cjk and context.mentions(entity) and nlp.language(ev.sentence.text) == "en":
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
            asked: list[answerability.Entity]) -> tuple[str, tuple[Source, ...]]:
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
        if first_of_group and not ev.hit.chunk.handoff and answerability.leans_on_context(body):
            subject = _subject(ev, asked)
            if subject and subject.lower() not in body.lower():
                body = f"[{subject}] {body}"
        parts.append(f"{body} [{numbers[ev.path]}]" if last_of_group else body)
    if any("\n" in p for p in parts) or len({nlp.language(p) for p in parts}) > 1:
        joiner = "\n\n"
    else:  # Chinese sentences run on without spaces
        joiner = "" if all(nlp.language(p) == "zh" for p in parts) else " "
    text = joiner.join(parts)
    intro = messages.say("evidence_intro", language, lab=whose) if whose else messages.say("evidence_intro_neutral", language)
    if intro:
        text = f"{intro}\n\n{text}"
    languages = {nlp.language(e.sentence.text) for e in evidence}
    if languages == {"en"} and language == "zh" or languages == {"zh"} and language == "en":
        text += "\n\n" + messages.say("quoted_note", language)
    return text, tuple(sources)


def _says_what_was_asked(question: str, evidence: str, lexical: LexicalIndex) -> bool:
    """The evidence holds a word of what a yes/no question asks (its names aside), one that weighs
    near the rarest such word (`_WEIGHS`): in "Can the postdoc start remotely?" the pages are about
    postdocs, the question about starting remotely."""
    named = {t for e in answerability.entities(question) for t in nlp.tokens(e.surface)}
    weights = {a: lexical.weight(a) for a in set(nlp.tokens(question)) - named - _YES_NO_WORDS}
    said = set(nlp.tokens(evidence))
    bar = max(weights.values(), default=0.0) * _WEIGHS
    # "postdocs" is said by "Postdoctoral": a shared beginning of five letters or more counts.
    return not weights or any(w >= bar and (a in said or any(len(a) >= 5 and s.startswith(a[:max(5, len(a) - 2)])
                                                             for s in said))
                              for a, w in weights.items())


def refusal(language: str, settings: Settings, topic: str | None = None, question: str = "",
            unanswered: bool = False) -> Answer:
    """"Not in the documents", with the contact; naming whose documents were searched: our lab's,
    unless the question is about another organisation. `unanswered`: no sentence was good enough
    (not a sensitive topic the documents never speak to), so an LLM may read the passages."""
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    other = _other_subject(question, settings)
    key = ("refusal_topic" if topic else "refusal") + ("_other" if other else "")
    text = messages.say(key, language, lab=lab, contact=contact, subject=other,
                 topic=messages.topic_name(topic, language) if topic else "")
    return Answer(text=text, sources=(), grounded=False, language=language, unanswered=unanswered)


def _other_subject(question: str, settings: Settings) -> str:
    """The organisation or person a question names when it is not our lab ("" when it names ours or
    none): an organisation's name, a name of several words ("Bonan Zhu"), a Latin name in a Chinese
    question ("Gravel 实验室")."""
    ours = {n.lower() for n in (settings.lab.name, settings.lab.name_zh) if n}
    chinese = bool(nlp.CJK_RUN.search(question))
    named = [e for e in answerability.entities(question)
             if e.cjk or answerability.names_organisation(e) or len(e.tokens) > 1 or chinese]
    if not named or any(e.surface.lower() in ours for e in named):
        return ""
    return named[0].surface


def instructions_only(language: str, settings: Settings) -> Answer:
    """A message that tells the bot what to do or say instead of asking: no evidence is quoted."""
    lab, contact = settings.lab.display_name(language), settings.lab.contact_email
    return Answer(text=messages.say("instruction", language, lab=lab, contact=contact), sources=(), grounded=False,
                  language=language)


def compose(question: str, *, language: str, retrieval: Retrieval, sentences: list[Sentence],
            lexical: LexicalIndex, settings: Settings, focus: np.ndarray | None = None,
            predicate: np.ndarray | None = None, ask: answerability.Ask, name_documents: dict | None = None) -> Answer:
    """The extractive answer to `question` (the search query: a follow-up already made standalone);
    `ask` is what the candidate's own message asks (kind, stated figures; its instructions to the
    bot already set aside by the assistant); `name_documents`: per name in the question, the page
    in the other script that is about it."""
    ranked = candidates(question, retrieval=retrieval, sentences=sentences, lexical=lexical, settings=settings,
                        ask=ask, focus=focus, predicate=predicate, name_documents=name_documents)
    decide = decision.model()
    topics = topics_of(question)
    if topics:  # only a sentence that speaks to the topic may answer; a merely nearby fact is not an answer
        ranked = [e for e in ranked if e.feature("on_topic")]
    # A hand-off page's sentences only ever answer alongside each other, never mixed into facts.
    # Which one is meant is read from closeness to the question: the hand-off page ("what we cannot
    # answer here") is written to be near what the facts do not cover.
    nearest = sorted(ranked, key=lambda e: -e.feature("similarity"))
    handoff = bool(nearest) and nearest[0].hit.chunk.handoff
    if handoff and not topics:
        facts = [e for e in nearest if not e.hit.chunk.handoff]
        if not facts or facts[0].feature("similarity") < nearest[0].feature("similarity") - HANDOFF_MARGIN:
            return refusal(language, settings, question=question)
        handoff = False
    threshold = settings.answer.min_confidence or decide.threshold
    ranked = [e for e in ranked if e.hit.chunk.handoff == handoff and e.score >= threshold]
    if not ranked:
        return refusal(language, settings, topic=topics[0] if topics else None, question=question,
                       unanswered=not topics)

    asked = answerability.entities(question)
    chosen = _select(ranked, settings, decide.margin, bool(_LIST_QUESTION.search(question)))
    conflicting, differ = _conflicts(chosen, ranked, ask.kind, ranked[0].score - 3 * decide.margin)
    evidence = chosen + conflicting
    text, sources = _render(evidence, language, _whose(evidence, settings, language), asked)
    quoted = " ".join(e.sentence.text for e in evidence)
    if ask.confirm and ask.figures and not figures.supported(ask.figures, quoted):
        text = f"{messages.say('premise_unconfirmed', language)}\n\n{text}"
    elif ask.confirm and not _says_what_was_asked(question, quoted, lexical):
        if chosen[0].score < _SURE_UNSTATED:
            return refusal(language, settings, question=question, unanswered=True)
        # "Does X hire interns?" answered by X's list of positions: say that it is not said outright.
        text = f"{messages.say('not_stated', language)}\n\n{text}"
    if differ:
        text += "\n\n" + messages.say("conflict", language)
    if handoff:
        text += "\n\n" + messages.say("handoff", language, contact=settings.lab.contact_email)
    return Answer(text=text, sources=sources, grounded=not handoff, language=language)
