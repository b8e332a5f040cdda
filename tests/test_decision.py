"""The answer decision is a fitted model: its weights are reproduced by the training script from
the recorded features, its precision holds on the questions it was not fitted on, and it answers
what the pages of a fictional group state where hand-written rules refused."""

from __future__ import annotations

import json

import pytest

from bot import training
from bot.core import decision
from bot.orchestrator.assistant import Assistant
from bot.core.types import Question
from conftest import ROOT, indexed_kb

pytest.importorskip("sklearn")


def test_the_training_script_reproduces_the_shipped_weights():
    """Fitting the recorded features again gives the shipped file (the fit itself checks that
    bot.core.decision walks the trees to scikit-learn's probabilities)."""
    shipped = json.loads(decision.WEIGHTS.read_text(encoding="utf-8"))
    trained = json.loads(json.dumps(training.fit(ROOT / training.DATA)))  # as written to the file
    assert trained == shipped


def test_precision_holds_on_the_questions_it_was_not_fitted_on():
    scores = training.fit(ROOT / training.DATA)["scores"]
    tune, holdout = scores["realdocs:tune"], scores["realdocs:holdout"]
    # Held out: other groups' pages and questions, never seen by the fit or the threshold.
    assert holdout["questions"] >= 80
    assert holdout["precision"] >= 0.55 and holdout["refused_right"] >= 0.65, scores
    assert holdout["answered_right"] >= tune["answered_right"] - 0.15, scores


GROUP_PAGE = """---
title: "Join us | Heron Soil Ecology Group"
---
# Join us

The Heron Soil Ecology Group at Lakeshore University studies how microbes store carbon in wetland soils.

## Open positions

We are looking for a fully funded postdoc in soil microbiology, starting in autumn.

Applicants write to Dr. Ana Ruiz at ana.ruiz@lakeshore.example with a CV and two references.

## Contact

Phone +1 555 0134 2210
Room 203-525, Lakeshore Science Hall
"""


ADVERT = """# Project associate, Marsh Alloys Group

The Marsh Alloys Group at Fenwick Institute is seeking a project associate (42000/per month) to work on
oxidation of turbine coatings.

## People

Ilse Varga leads the Marsh Alloys Group. She earned her doctorate in materials science at Tidewater
University in 2011 and joined Fenwick Institute in 2015.
"""


def _fictional(tmp_path_factory, embedder, path: str, page: str) -> Assistant:
    settings = indexed_kb(tmp_path_factory.mktemp(path.split("/")[0]), embedder, {path: page})
    return Assistant.open(settings, embedder=embedder, use_llm=False)


@pytest.fixture(scope="module")
def group_assistant(tmp_path_factory, embedder) -> Assistant:
    return _fictional(tmp_path_factory, embedder, "heron/join.md", GROUP_PAGE)


@pytest.fixture(scope="module")
def advert_assistant(tmp_path_factory, embedder) -> Assistant:
    return _fictional(tmp_path_factory, embedder, "marsh/associate.md", ADVERT)


@pytest.mark.parametrize("page, question, expected", [
    # "when" in a clause did not make this a time question; the answer is an address.
    ("group", "Who do I write to when I apply to the Heron Soil Ecology Group?", "ana.ruiz@lakeshore.example"),
    # A phone number, not an "in <Capitalised word>" place.
    ("group", "What is the phone number of the Heron Soil Ecology Group?", "+1 555 0134 2210"),
    # A rate per month is a sum of pay, though it names no currency.
    ("advert", "What monthly pay does the Marsh Alloys Group offer its project associate?", "42000/per month"),
    # Earning a doctorate is no question of pay.
    ("advert", "Where did Ilse Varga earn her doctorate?", "Tidewater University"),
])
def test_a_fictional_groups_page_answers_what_it_states(request, page, question, expected):
    assistant = request.getfixturevalue(f"{page}_assistant")
    answer = assistant.answer_sync(Question(text=question, conversation=question))
    assert answer.grounded and expected in answer.text, answer.text


def test_a_refusal_names_the_asked_group_not_our_lab(group_assistant):
    answer = group_assistant.answer_sync(Question(text="What is the salary of the postdoc in the Heron Soil Ecology "
                                                       "Group?"))
    assert not answer.grounded
    assert "Zhejiang Lab" not in answer.text and "Heron Soil Ecology Group" in answer.text, answer.text
