"""Does this sentence answer this question? A model fitted to labelled examples decides.

Each candidate sentence (every sentence of the retrieved passages) is described by measured
features: how near it is to the question and to what is asked (above its language pair's
floor), how near its passage is, the words it shares with the question, whether it and its
passage name what the question names or name a competing subject, whether it holds the kind of
thing asked (a closed format: an address, a phone, a date, a sum), the sensitive topic, the
languages. Gradient-boosted trees over them give the probability that the sentence carries the
expected fact; the answer quotes the most probable sentences when the best clears a threshold
chosen on the fitting data (the share of unanswerable questions it must refuse), and refuses
otherwise.

The trees, threshold and margin live in `decision.json` beside this module, written by `python -m bot train`
(bot/training.py) from labelled questions of every evaluation set; inference needs only numpy
(the trees are walked here, a few hundred candidates at once).
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core import answerability
from bot.core import formats
from bot.core import nlp

WEIGHTS = Path(__file__).with_name("decision.json")
CANDIDATES = 60  # the nearest sentences weighed per question (fitted and answered alike)

FEATURES = (
    "similarity",         # cosine to the question, above the floor of the sentence's language
    "predicate",          # cosine to what is asked (names replaced by "it"), above the floor
    "focus",              # cosine to a follow-up as typed (the question's own otherwise)
    "below_best",         # how far the similarity sits below the best candidate's
    "similarity_rank",    # 1 / (1 + its rank among the candidates by similarity)
    "predicate_rank",     # 1 / (1 + its rank by closeness to what is asked)
    "passage_margin",     # the passage's cosine above its floor
    "best_passage",       # the best passage's cosine above its floor (how well the question was met at all)
    "passage_rank",       # 1 / (1 + rank of the passage after fusion)
    "relevant_passage",   # the passage clears its floor
    "overlap",            # IDF-weighted share of the question's words (names aside) it holds
    "overlap_any",        # it holds any of them
    "names_in_sentence",  # share of the question's names the sentence itself says
    "names_covered",      # every name is said by the sentence or its passage (document profile included)
    "names_unreadable",   # a name in the other script, and this page was not found to be about it
    "names_missing",      # a name neither the sentence nor its passage says
    "other_subject",      # the sentence names another organisation than the asked one
    "no_names",           # the question names nothing
    "carries",            # it holds the kind of thing asked ("who", "how many", "website"...)
    "open_kind",          # the question's kind of answer is not a closed one
    "topic_asked",        # the question is on a sensitive topic
    "on_topic",           # ...and the sentence speaks to it
    "same_language",
    "cross_language",
    "cross_similarity",   # the similarity again, for a sentence in the other language than the question:
    "cross_predicate",    # ...cosines across languages run lower, so the trees can split them apart
    "has_contact",        # an e-mail address or link
    "has_phone",
    "has_date",
    "has_money",
    "has_digit",
    "label_asked",        # a labelled line ("Phone: …", "Salary: …", "电话：…") whose label the question uses
    "length",             # log of its length in characters
    "enumeration_for_list",
    "handoff",            # from a "where to ask" page
    "leans_on_context",   # opens with "it", "the lab", "该"...
    "first_of_passage",
)


@dataclass(frozen=True)
class Model:
    """Gradient-boosted trees, flattened: node i tests feature[i] <= split[i] and goes to left[i]
    or right[i]; a leaf (left[i] == -1) adds value[i] to the log-odds."""
    roots: np.ndarray
    feature: np.ndarray
    split: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    prior: float       # the log-odds before any tree
    depth: int
    threshold: float   # the best candidate must reach this probability for an answer
    margin: float      # candidates this close (in probability) to the best are quoted too

    @classmethod
    def from_json(cls, data: dict) -> Model:
        if tuple(data["features"]) != FEATURES:
            raise RuntimeError(f"{WEIGHTS.name} was trained on other features: run `python -m bot train`")
        trees = data["trees"]
        offsets = np.cumsum([0] + [len(t["feature"]) for t in trees[:-1]])

        def joined(key: str, dtype) -> np.ndarray:
            return np.concatenate([np.asarray(t[key], dtype=dtype) for t in trees])

        def children(key: str) -> np.ndarray:  # a tree's node numbers, made global; -1 (a leaf) stays
            return np.concatenate([np.where(np.asarray(t[key]) >= 0, np.asarray(t[key]) + o, -1)
                                   for t, o in zip(trees, offsets)])

        return cls(offsets.astype(np.int64), joined("feature", np.int64), joined("split", np.float64),
                   children("left"), children("right"), joined("value", np.float64),
                   float(data["prior"]), int(data["depth"]), float(data["threshold"]), float(data["margin"]))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            leaf = self.left[node] < 0
            go_left = x[rows, np.maximum(self.feature[node], 0)] <= self.split[node]
            node = np.where(leaf, node, np.where(go_left, self.left[node], self.right[node]))
        z = self.prior + self.value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-z))


@functools.lru_cache(maxsize=1)
def model() -> Model:
    return Model.from_json(json.loads(WEIGHTS.read_text(encoding="utf-8")))


def language_pair(question_language: str, sentence: str) -> tuple[float, float]:
    same = nlp.language(sentence) == question_language
    return float(same), float(not same)


@functools.lru_cache(maxsize=65536)  # a sentence's formats do not depend on the question: read once
def formats_of(sentence: str) -> tuple[float, float, float, float, float]:
    found = formats.facts(sentence)
    return (float("email/url" in found), float("phone" in found), float("date" in found),
            float("money" in found), float(any(ch.isdigit() for ch in sentence)))


def label_asked(sentence: str, asked: set[str]) -> float:
    """A labelled line whose label shares a word with what is asked: "Phone: +47 …" for "what is
    the phone number?"."""
    if not formats.LABELLED.match(sentence):
        return 0.0
    label = re.split(r"[:：]", sentence, maxsplit=1)[0]
    return float(bool(asked & set(nlp.tokens(label))))


def length(sentence: str) -> float:
    return math.log(1 + len(sentence))


def names(asked: list[answerability.Entity], own: answerability.Context, around: answerability.Context | None, path: str,
          name_documents: dict) -> tuple[float, float, float, float]:
    """(share said by the sentence, all said by sentence or passage, one unreadable here, one
    missing). A name in the other script cannot be read by its letters: only the page found to be
    about it (`name_documents`, per name) covers it."""
    if not asked:
        return 0.0, 1.0, 0.0, 0.0
    in_sentence = covered = 0
    unreadable = missing = False
    in_own = {e.surface: own.mentions(e) for e in asked}
    in_around = {e.surface: around.mentions(e) if around is not None else False for e in asked}
    for entity in asked:
        if in_own[entity.surface]:
            in_sentence += 1
            covered += 1
            continue
        said = in_around[entity.surface]
        # A passage about a unit or a person's group is about what it belongs to: "TAIR" for
        # 伦敦国王学院 in "伦敦国王学院 TAIR 实验室", "ACMRSG" for Lei Zhu in "Lei Zhu's ACMRSG group".
        if not said and any(in_own[e.surface] or in_around[e.surface] for e in answerability.belonging_to(entity, asked)):
            said = True
        if said is None:
            if path in name_documents.get(entity, ()):
                covered += 1
            else:
                unreadable = True
        elif said:
            covered += 1
        else:
            missing = True
    return in_sentence / len(asked), float(covered == len(asked)), float(unreadable), float(missing)
