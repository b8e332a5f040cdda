"""What a message is for, decided by meaning: a question for the documents, or one of the things a
candidate asks the bot to do (list openings, match a background, register interest, forget me, a
person, small talk, starting over, an instruction to the bot).

A linear model over the message's multilingual-e5 vector, fitted to labelled examples in English
and Chinese (`tests/eval/intents/examples.jsonl`, plus the evaluation sets' questions) by
`python -m bot train --intents`, which also reports it on a held-out split. A message the model is
unsure of is a question: answering a request from the documents costs less than eating a question.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL = Path(__file__).with_name("intents.json")
QUESTION = "question"
# The route a script or test sees (`ask --json`): greetings, thanks and starting over are small talk.
ROUTES = {"greeting": "smalltalk", "thanks": "smalltalk", "reset": "smalltalk"}
FLOWS = ("interest", "forget", "handoff")
# Inside a form, what is typed is the next value (a name, an email, an area: not what the model was
# fitted on); only a request this sure leaves the form for forget me or a person.
SURE = 0.9


@dataclass(frozen=True)
class Intent:
    name: str                  # a label of the model (question, positions, match, interest, ...)
    confidence: float = 1.0    # the model's probability for it
    exact: bool = False        # a command, not the model's reading

    @property
    def route(self) -> str:
        return ROUTES.get(self.name, self.name)


@dataclass(frozen=True)
class IntentModel:
    embedder: str              # the embedding model the weights were fitted on
    labels: tuple[str, ...]
    mean: np.ndarray           # standardisation of the vector
    scale: np.ndarray
    weights: np.ndarray        # labels x dimensions
    bias: np.ndarray
    threshold: float           # below this probability a request is taken as a question

    @classmethod
    def from_json(cls, data: dict) -> IntentModel:
        return cls(data["embedder"], tuple(data["labels"]), np.asarray(data["mean"], np.float32),
                   np.asarray(data["scale"], np.float32), np.asarray(data["weights"], np.float32),
                   np.asarray(data["bias"], np.float32), float(data["threshold"]))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = ((np.atleast_2d(vectors) - self.mean) / self.scale) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def classify(self, vector: np.ndarray) -> Intent:
        p = self.probabilities(vector)[0]
        [name] = decide(p[None], self.labels, self.threshold)
        return Intent(str(name), float(p[self.labels.index(name)]))


def decide(p: np.ndarray, labels: tuple[str, ...], threshold: float) -> np.ndarray:
    """Per row of probabilities, the most probable label; a request under `threshold` is a question."""
    names = np.array(labels)[p.argmax(axis=1)]
    return np.where((names != QUESTION) & (p.max(axis=1) < threshold), QUESTION, names)


@functools.cache
def model() -> IntentModel:
    return IntentModel.from_json(json.loads(MODEL.read_text(encoding="utf-8")))
