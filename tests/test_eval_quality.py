"""Answer quality on the knowledge base must not drop below the measured baseline.

Baseline (README, "Answer quality"): recall@5 1.00, key facts 0.95, refusal recall 1.00,
citations 1.00, nothing invented. Thresholds leave a little room for model noise.
"""

from __future__ import annotations

from bot import evaluation
from conftest import ROOT


def test_quality_on_the_knowledge_base(kb_assistant, tmp_path):
    questions = evaluation.load_questions(ROOT / "tests" / "eval" / "questions.yaml")
    assert len(questions) >= 80
    results = evaluation.run(kb_assistant, questions)
    summary = evaluation.summarize(results)
    overall = summary["overall"]
    report = evaluation.report(results, summary, corpus="knowledge/", model=kb_assistant.embedder.name)
    (tmp_path / "eval.md").write_text(report, encoding="utf-8")
    assert overall["recall@5"] >= 0.95, report
    assert overall["fact_accuracy"] >= 0.85, report
    assert overall["refusal_recall"] >= 0.9, report
    assert overall["refusal_precision"] >= 0.9, report
    assert overall["citation_accuracy"] >= 0.95, report
    for category in ("out_of_scope", "injection"):
        assert summary[category]["invented"] == 0, report
    assert {"direct", "paraphrase", "list", "followup", "chinese", "out_of_scope", "injection"} <= set(summary)
