"""The position records of one index generation: which are asked about, and which fit a background.

Both questions are answered from the records alone. What a question asks about (an area, a level,
an organisation) must match a record by its words or closely by meaning; nothing else is offered as
if it were what was asked. A background fits a record when one of its sentences is close to one of
the record's sentences or area names, above the embedding model's floor for that pair of languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.core import nlp
from bot.core.embeddings import Embedder
from bot.core.store import Store
from bot.recruiting.positions import Position, levels_in

# How far above the language pair's relevance floor a question's topic must be to an area name to
# mean it ("robots" -> robotics and automation), and a background to a record's sentence to fit it.
# Measured with `python -m bot eval` (the match set) and bench/calibrate_relevance.py's floors.
TOPIC_MARGIN = 0.075
TOPIC_WINDOW = 0.015
FIT_MARGIN = 0.065
# Matches this close to the best one are suggested with it; weaker ones would only be filler.
FIT_WINDOW = 0.03
# A word of the background that few records use ("FPGA", "芯片") and this record does: evidence a
# short area name's vector alone may miss. Worth this much each, for at most _SHARED_MAX words.
_SHARED_WEIGHT = 0.01
_SHARED_MAX = 3

# Words of a question about openings that say nothing about which opening.
_GENERIC = frozenset(nlp.tokens(
    "open opening openings position positions vacancy vacancies job jobs role roles hiring hire hired recruit recruits "
    "recruiting recruitment recruited available currently now still any lab laboratory have has got are is there "
    "which what kind kinds type types field fields area areas direction directions research opportunity "
    "opportunities programme programmes program programs list show all new current someone people candidate "
    "candidates looking look for in on at the a an you your we i me my team teams group groups seek seeking offer "
    "offering accept accepting anything related with this year right do does did can could would like get work "
    "join find some many apply moment time today present presently recently soon season semester"))
_ZH_GENERIC = re.compile(r"招聘|招人|招收|在招|招募|聘请|岗位|职位|空缺|职缺|工作|机会|方向|领域|研究|哪些|哪个|什么|有没有|是否|最近|近期|今年|"
                         r"目前|现在|还有|还在|你们|贵|实验室|相关|方面|开放|人员|人才|请问|可以|需要|一些|列出|所有")


# "match me: ...": a request's prefix, not part of the background ("/match ..." is the command).
_MATCH_PREFIX = re.compile(r"^\s*(?:match me\b|match\s*(?=[:：])|find my fit\b|帮我匹配|匹配(?=[:：]))\s*[:：]?\s*",
                           re.I)


def background_of(text: str) -> tuple[str, bool]:
    """The background a request to be matched gives, and whether it was typed as a command."""
    m = _MATCH_PREFIX.match(text)
    return (text[m.end():].strip(), True) if m else (text, False)


@dataclass(frozen=True)
class Reading:
    """What a question about openings asks for."""
    topic: str                  # what is left once the words about openings and levels are set aside
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Fit:
    position: Position
    score: float                # how far above its floor the closest pair of sentences is
    reason: str                 # the record's sentence (or area name) closest to the background


def read(question: str, lab_names: tuple[str, ...]) -> Reading:
    levels, rest = levels_in(question)
    for name in lab_names:
        if name:
            rest = re.sub(re.escape(name), " ", rest, flags=re.I)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+#.-]*", rest)
             if len(w) > 1 and nlp.tokens(w) and nlp.tokens(w)[0] not in _GENERIC]
    rest = re.sub("[的了吗呢吧啊是在有和与及或我你们这那哪些]", " ", _ZH_GENERIC.sub(" ", rest))
    chinese = [run for run in nlp.CJK_RUN.findall(rest) if len(run) >= 2]
    return Reading(topic=" ".join(words + chinese), levels=levels)


class Openings:
    """The records with the vectors matching needs: their area names and their sentences."""

    def __init__(self, positions: list[Position], *, area_vectors: dict[str, np.ndarray],
                 sentences: dict[str, list[tuple[str, np.ndarray]]], floor):
        self.positions = positions
        self._areas = area_vectors          # path -> one row per area name
        self._sentences = sentences         # path -> (sentence, vector) of the record's body
        self._floor = floor                 # (question language, passage language) -> cosine floor
        self._names = {p.path: set(nlp.tokens(" ".join([*p.areas, p.title, p.organisation]))) for p in positions}
        self._words = {p.path: set(nlp.tokens(" ".join([*p.areas, p.title, *(s for s, _ in sentences.get(p.path, []))])))
                       for p in positions}
        # Words in more than a few records ("research", "lab") say nothing about which one fits.
        counts: dict[str, int] = {}
        for words in self._words.values():
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        self._common = {w for w, c in counts.items() if c > max(2, len(positions) // 5)} | _GENERIC

    @classmethod
    def load(cls, store: Store, embedder: Embedder, floor, *, lab: str) -> Openings:
        records = store.records()
        positions = sorted((Position.from_json(raw) for raw, _ in records.values()),
                           key=lambda p: (p.organisation != lab, p.path))  # the lab's own first
        owner = {cid: path for path, (_, ids) in records.items() for cid in ids}
        sentences: dict[str, list[tuple[str, np.ndarray]]] = {}
        for s in store.sentences_for(list(owner)):
            sentences.setdefault(owner[s.chunk_id], []).append((s.text, s.vector))
        names = [a for p in positions for a in p.areas]
        vectors = embedder.embed_passages(names) if names else np.zeros((0, embedder.dim), np.float32)
        area_vectors, i = {}, 0
        for p in positions:
            area_vectors[p.path], i = vectors[i:i + len(p.areas)], i + len(p.areas)
        return cls(positions, area_vectors=area_vectors, sentences=sentences, floor=floor)

    def __bool__(self) -> bool:
        return bool(self.positions)

    def open_areas(self, language: str) -> list[str]:
        """The main area of each open record, each once, in the language asked when written in it."""
        return list(dict.fromkeys(p.areas_in(language)[0] for p in self.positions if p.status == "open"))

    # --- which records a question is about ---------------------------------------------------

    def select(self, reading: Reading, topic_vector: np.ndarray | None, language: str) -> list[Position]:
        """The records the question is about, open or not: those of the levels it names, and of the
        area, title or organisation it names: by all of its words, or else closely by meaning (the
        closest only, and never an area that shares some of the topic's words but not the others:
        "quantum computing" is not "cognitive computing")."""
        found = [p for p in self.positions if not reading.levels or set(reading.levels) & set(p.levels)]
        if not reading.topic:
            return found
        asked = {w for w in nlp.tokens(reading.topic) if len(w) > 1} - _GENERIC  # CJK by bigrams
        if not asked:
            return found
        by_words = [p for p in found if asked <= self._names[p.path]]
        if by_words or topic_vector is None:
            return by_words
        margins = {}
        for p in found:
            names = [(a, v) for a, v in zip(p.areas, self._areas[p.path])
                     if not asked & set(nlp.tokens(a))]  # a partial overlap is another field
            if names:
                margins[p.path] = max(float(v @ topic_vector) - self._floor(language, nlp.language(a)) for a, v in names)
        best = max(margins.values(), default=0.0)
        if best < TOPIC_MARGIN:
            return []
        return [p for p in found if margins.get(p.path, -1.0) >= best - TOPIC_WINDOW]

    # --- which records fit a background ----------------------------------------------------------

    def _rare_words(self, text: str) -> set[str]:
        return {w for w in nlp.tokens(text) if len(w) > 1 and w not in self._common}

    def fit(self, pieces: list[str], vectors: np.ndarray, *, limit: int) -> list[Fit]:
        """The open records closest to any piece of the background (pieces[0] is the whole), best
        first, up to `limit` and within FIT_WINDOW of the best; none when even the best is under
        FIT_MARGIN. The reason quoted is the record's sentence closest to the background."""
        fits, per_piece = [], []
        languages = [nlp.language(piece) for piece in pieces]
        words = self._rare_words(pieces[0])
        for p in self.positions:
            if p.status != "open":
                continue
            sentences = self._sentences.get(p.path, [])
            candidates = sentences + list(zip(p.areas, self._areas[p.path]))
            if not candidates:
                continue
            texts = [t for t, _ in candidates]
            sims = vectors @ np.stack([v for _, v in candidates]).T          # pieces x candidates
            floors = np.array([[self._floor(lq, nlp.language(t)) for t in texts] for lq in languages])
            bonus = _SHARED_WEIGHT * min(len(words & self._words[p.path]), _SHARED_MAX)
            per_piece.append((sims - floors).max(axis=1) + bonus)
            margins = (sims - floors).max(axis=0)                            # per candidate
            score = float(margins.max()) + bonus
            # A sentence says why better than an area name; in the background's language when one is close.
            said = range(len(sentences)) or range(len(texts))
            best = max(said, key=lambda k: margins[k])
            own = [k for k in said if nlp.language(texts[k]) == languages[0] and margins[k] >= margins[best] - FIT_WINDOW]
            reason = texts[max(own, key=lambda k: margins[k])] if own else texts[best]
            fits.append(Fit(p, score, reason))
        if not fits or max(f.score for f in fits) < FIT_MARGIN:
            return []
        # The best record overall; then each part of the background's own best ("speech recognition
        # and FPGA accelerators" has two); then any as close as the best.
        order = sorted(range(len(fits)), key=lambda k: -fits[k].score)
        pieces_best = np.stack(per_piece)                                     # records x pieces
        chosen = [order[0]]
        for piece in np.argsort(-pieces_best.max(axis=0)):
            k = int(np.argmax(pieces_best[:, piece]))
            if pieces_best[k, piece] >= FIT_MARGIN and k not in chosen:
                chosen.append(k)
        chosen += [k for k in order if k not in chosen and fits[k].score >= fits[order[0]].score - FIT_WINDOW]
        return [fits[k] for k in chosen][:limit]


def background_pieces(text: str, limit: int = 12) -> list[str]:
    """The background whole, and each of its sentences and clauses: a CV summary names several
    fields, and each should be able to find its own area."""
    pieces = [text]
    for paragraph in nlp.paragraphs(text):
        for sentence in nlp.sentences(paragraph):
            for clause in re.split(r"[;；]|,?\s+(?:and|but|also|while)\s+|，|、|和|以及", sentence):
                clause = clause.strip(" ,.，。")
                if len(nlp.tokens(clause)) >= 2 and clause not in pieces:
                    pieces.append(clause)
    return pieces[:limit]
