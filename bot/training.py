"""Fit the answer decision (bot.core.decision) to labelled questions: `python -m bot train`.

Two steps, so the fit is reproducible without re-indexing anything:
1. harvest (`--harvest`): every question of every evaluation set is asked of its own index; each
   candidate sentence's features are recorded with a label: 1 when it holds one of the answer's
   accepted strings, 0 otherwise (every candidate of a question that must be refused is 0). The
   real-document set's `tune` fold is used for fitting; its `holdout` fold is harvested only to
   be reported. The features (numbers, no text) are saved to `tests/eval/decision_features.npz`.
2. fit: gradient-boosted trees (scikit-learn, the `train` extra; classes weighted to balance)
   on the fitting rows, exported as plain lists that bot.core.decision walks with numpy; the
   threshold is the lowest at which 86% of the fitting questions without an answer are refused,
   with the margin (how close to the best a sentence must be to be quoted too) that then answers
   most of the others with the fact. Trees, threshold,
   margin and the per-set scores (precision of the answers given, share answered right, share
   refused right) go to `bot/core/decision.json`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.core import decision
from bot.core.compose import HANDOFF_MARGIN

DATA = Path("tests/eval/decision_features.npz")
BAGS = 5           # models averaged
TREES = {"max_depth": 3, "n_estimators": 200, "learning_rate": 0.05, "min_samples_leaf": 50}
REFUSAL_RECALL = 0.86  # of the fitting questions that have no answer, the share that must be refused
MARGINS = (0.05, 0.10, 0.20, 0.30)  # sentences this close (in probability) to the best are quoted with it
_QUOTED = 3        # sentences an answer quotes at most (config: answer.max_sentences)
_SEEDS = "../shared/seeds"


def _sets(settings: Settings) -> list[tuple[str, Path, list[Path] | None]]:
    """(name, questions, corpus folders; None = the configured knowledge folders)."""
    from bot.evaluation import EVAL_SETS
    out = [("knowledge", settings.resolve(EVAL_SETS["knowledge"].questions), None)]
    for name in ("raw", "groups", "realdocs"):
        corpus = settings.resolve(EVAL_SETS[name].corpus)
        if corpus.is_dir():
            out.append((name, settings.resolve(EVAL_SETS[name].questions), [corpus]))
    if settings.resolve(_SEEDS).is_dir():  # our own source articles, asked the knowledge questions
        out.append(("seeds", settings.resolve(EVAL_SETS["knowledge"].questions), [settings.resolve(_SEEDS)]))
    return out


def harvest(settings: Settings, out: Path = DATA, stores: Path | None = None) -> Path:
    """Ask every set's questions of its own index (in `stores`/<set>, kept between runs, or a
    throw-away one) and record each candidate's features and label."""
    from bot.cli import _ingest
    from bot.orchestrator.assistant import Assistant
    from bot.evaluation import _contains, load_questions

    rows, labels, question_ids, groups, expected = [], [], [], [], []
    for name, questions_path, corpus in _sets(settings):
        with tempfile.TemporaryDirectory(prefix="bot-train-") as scratch:
            here = settings.with_store_path(stores / name if stores else Path(scratch))
            if _ingest(here, corpus):
                raise SystemExit(f"could not index the {name} set")
            assistant = Assistant.open(here, use_llm=False)
            for q in load_questions(questions_path):
                if q.expect == "answer" and not q.facts:
                    continue  # nothing to label its sentences by
                conversation = f"train:{q.id}"
                for earlier in q.history:  # follow-ups: the conversation so far is in memory
                    _candidates(assistant, earlier, conversation)
                found = _candidates(assistant, q.question, conversation)
                if found is None:
                    continue  # a greeting, or a message of instructions only: no sentence is weighed
                group = f"{name}:{q.fold}" if q.fold else name
                for ev in found:
                    rows.append(ev.features)
                    labels.append(int(q.expect == "answer"
                                      and any(_contains(ev.sentence.text, alt) for fact in q.facts for alt in fact)))
                    question_ids.append(f"{name}:{q.id}")
                    groups.append(group)
                    expected.append(q.expect == "answer")
            print(f"{name}: {len(set(question_ids))} questions so far, {len(rows)} candidates", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, x=np.array(rows, dtype=np.float32), y=np.array(labels, dtype=np.int8),
                        question=np.array(question_ids), group=np.array(groups), answer=np.array(expected), features=np.array(decision.FEATURES))
    return out


def _candidates(assistant, text: str, conversation: str) -> list | None:
    """The candidate sentences (features, unscored) for a message, as the assistant weighs them; the
    turn is remembered, as answering it would."""
    from bot.core.compose import candidates
    from bot.core.types import Question

    question = Question(text=text, user="train", conversation=conversation)
    read = assistant.read_message(question, " ".join(text.split()), assistant.intent_of(question))
    if not isinstance(read, tuple):
        return None
    text, language = read
    engine = assistant.engine
    inputs = engine.evidence(conversation, text, engine.search_query(text, assistant.memory.recent(conversation)), language)
    return candidates(**{k: v for k, v in inputs.items() if k != "language"}, scored=False)


def _fitting(groups: np.ndarray) -> np.ndarray:
    return ~np.char.endswith(groups.astype(str), ":holdout")


Scored = list[tuple[np.ndarray, np.ndarray, int]]


def _questions(x: np.ndarray, y: np.ndarray, question: np.ndarray, answer: np.ndarray, p: np.ndarray) -> Scored:
    """Per question: the best candidates' probabilities and labels, most probable first, and
    whether the question has an answer. On a sensitive topic only sentences that speak to it are
    candidates, and a question the hand-off page is clearly nearest to has none: as when answering."""
    topic, on_topic = decision.FEATURES.index("topic_asked"), decision.FEATURES.index("on_topic")
    out = []
    for q in np.unique(question):
        rows = np.flatnonzero(question == q)
        answerable = int(answer[rows[0]])
        rows = rows[(x[rows, topic] == 0) | (x[rows, on_topic] == 1)]
        if len(rows) and _handed_off(x[rows]):
            rows = rows[:0]
        best = rows[np.argsort(-p[rows], kind="stable")][:_QUOTED]
        out.append((p[best], y[best], answerable))
    return out


def _handed_off(x: np.ndarray) -> bool:
    """The hand-off page is clearly nearer than any fact (as bot.core.compose decides): refused."""
    handoff, near = x[:, decision.FEATURES.index("handoff")] == 1, x[:, decision.FEATURES.index("similarity")]
    if not handoff.any() or near[handoff].max() < near.max():
        return False
    return not (~handoff).any() or near[~handoff].max() < near[handoff].max() - HANDOFF_MARGIN


def _scores(scored: Scored, threshold: float, margin: float) -> dict[str, float | None]:
    """Precision of the answers given, share of answerable questions answered with the fact among
    the quoted sentences (those within `margin` of the best), share of the others refused."""
    given = right = refused = 0
    for p, y, answerable in scored:
        if not len(p) or p[0] < threshold:
            refused += not answerable
            continue
        given += 1
        right += bool(answerable and y[p >= max(threshold, p[0] - margin)].any())
    answerable = sum(a for _, _, a in scored)
    refusable = len(scored) - answerable
    return {"questions": len(scored), "precision": round(right / given, 3) if given else None,
            "answered_right": round(right / answerable, 3) if answerable else None,
            "refused_right": round(refused / refusable, 3) if refusable else None}


def _choose(scored: Scored) -> tuple[float, float]:
    """The lowest threshold at which the fitting questions that have no answer are refused at the
    stated rate (REFUSAL_RECALL), with the margin that then answers most of the others right."""
    choices = []
    for margin in MARGINS:
        for t in np.arange(0.30, 0.96, 0.01):
            s = _scores(scored, float(t), margin)
            if (s["refused_right"] or 0.0) >= REFUSAL_RECALL:
                choices.append((s["answered_right"] or 0.0, -t, round(float(t), 2), margin))
                break
    if not choices:
        return 0.95, MARGINS[0]
    _, _, threshold, margin = max(choices)
    return threshold, margin


def fit(data: Path = DATA) -> dict:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.utils.class_weight import compute_sample_weight

    saved = np.load(data)
    if tuple(saved["features"]) != decision.FEATURES:
        raise SystemExit(f"{data} holds other features than bot.core.decision: run `python -m bot train --harvest`")
    x, y, question, group, answer = (saved["x"].astype(np.float64), saved["y"], saved["question"], saved["group"],
                                     saved["answer"])
    mask = _fitting(group)
    # A few models on different subsamples, their log-odds averaged: one model's choice between two
    # near sentences is noise; their average is steadier.
    weights = compute_sample_weight("balanced", y[mask])
    ensemble = [GradientBoostingClassifier(**TREES, subsample=0.8, random_state=seed).fit(x[mask], y[mask], weights)
                for seed in range(BAGS)]
    trained = _export(ensemble)
    model = decision.Model.from_json({**trained, "threshold": 0.5, "margin": 0.0})
    p = model.probabilities(x)
    reference = np.mean([m.decision_function(x) for m in ensemble], axis=0)
    if not np.allclose(p, 1 / (1 + np.exp(-reference)), atol=1e-4):  # our walk of the trees is sklearn's
        raise RuntimeError("the exported trees do not reproduce scikit-learn's probabilities")
    threshold, margin = _choose(_questions(x[mask], y[mask], question[mask], answer[mask], p[mask]))
    report = {}
    for g in sorted(set(group.astype(str))):
        rows = group == g
        report[g] = _scores(_questions(x[rows], y[rows], question[rows], answer[rows], p[rows]), threshold, margin)
    return {**trained, "threshold": threshold, "margin": margin, "scores": report}


def _export(ensemble: list) -> dict:
    """The fitted trees as plain lists, leaf values scaled by the learning rate and divided among
    the models, and the models' mean prior log-odds of the (weighted) classes."""
    out, priors = [], []
    for trees in ensemble:
        prior = float(trees.init_.class_prior_[1])
        priors.append(np.log(prior / (1 - prior)))
        for [estimator] in trees.estimators_:
            t = estimator.tree_
            out.append({"feature": t.feature.tolist(), "split": [round(float(v), 9) for v in t.threshold],
                        "left": t.children_left.tolist(), "right": t.children_right.tolist(),
                        "value": [round(float(v) * trees.learning_rate / len(ensemble), 9) for v in t.value[:, 0, 0]]})
    return {"features": list(decision.FEATURES), "prior": round(float(np.mean(priors)), 9), "depth": TREES["max_depth"],
            "trees": out}


def main(settings: Settings, *, harvest_first: bool, stores: Path | None = None, data: Path = DATA,
         out: Path = decision.WEIGHTS) -> int:
    data = settings.resolve(data)
    if harvest_first or not data.exists():
        harvest(settings, data, stores)
    trained = fit(data)
    out.write_text(json.dumps(trained, separators=(",", ":")) + "\n", encoding="utf-8")
    for g, s in trained["scores"].items():
        print(f"{g:18} {s}")
    print(f"threshold {trained['threshold']}; trees written to {out}", file=sys.stderr)
    decision.model.cache_clear()
    return 0
