"""Answer quality must not drop below what was measured (README, "Answer quality").

Two sets: knowledge/ (written for the bot) and the raw-document corpus tests/eval/raw/
(press articles, web pages, a PDF, decorated Markdown; English and Chinese; several
organisations). Thresholds leave a little room for model noise.
"""

from __future__ import annotations

from bot import evaluation
from bot.orchestrator.assistant import Assistant
from bot.core.ingest import ingest
from bot.core.store import Store
from conftest import ROOT, settings_for


def _measure(assistant: Assistant, eval_set: str, tmp_path):
    questions = evaluation.load_questions(ROOT / evaluation.EVAL_SETS[eval_set].questions)
    results = evaluation.run(assistant, questions)
    summary = evaluation.summarize(results)
    report = evaluation.report(results, summary, corpus=eval_set, model=assistant.embedder.name)
    (tmp_path / f"{eval_set}.md").write_text(report, encoding="utf-8")
    # Figures in answers that their sources lack, and `must_not` strings (another organisation's fact).
    summary["overall"]["unsupported"] = sum(len(r.invented) + len(r.violations) for r in results)
    return questions, summary, report


def test_quality_on_the_knowledge_base(kb_assistant, tmp_path):
    questions, summary, report = _measure(kb_assistant, "knowledge", tmp_path)
    overall = summary["overall"]
    assert len(questions) >= 80
    assert overall["recall@5"] >= 0.95, report
    assert overall["fact_accuracy"] >= 0.93, report
    assert overall["refusal_recall"] == 1.0 and overall["refusal_precision"] >= 0.90, report
    assert overall["citation_accuracy"] >= 0.95, report
    for category in ("out_of_scope", "injection"):
        assert summary[category]["invented"] == 0, report
    assert {"direct", "paraphrase", "list", "followup", "chinese", "out_of_scope", "injection"} <= set(summary)


def test_quality_on_raw_documents(tmp_path_factory, embedder, tmp_path):
    tmp = tmp_path_factory.mktemp("raw")
    settings = settings_for(tmp, knowledge=[str(ROOT / evaluation.EVAL_SETS["raw"].corpus)])
    store = Store(settings)
    report = ingest(settings, store=store, embedder=embedder, progress=False)
    assert not report.failed and len(report.indexed) == 6, report.failed
    questions, summary, report = _measure(Assistant(settings, store=store, embedder=embedder), "raw", tmp_path)
    overall = summary["overall"]
    assert len(questions) >= 60
    assert overall["recall@5"] >= 0.95, report
    assert overall["fact_accuracy"] >= 0.85, report
    # The answer decision is fitted (bot/core/decision.py): a question with no answer may, rarely, get
    # a sentence about the asked subject that does not answer it; never an unsupported figure or
    # another organisation's fact.
    assert overall["refusal_recall"] >= 0.90, report
    assert overall["unsupported"] == 0, report
    assert overall["citation_accuracy"] >= 0.95, report
    # Chinese questions are answered nearly as well as English ones, including those whose answer is
    # only in a document in the other language.
    assert summary["asked in zh"]["fact_accuracy"] >= 0.85, report
    assert summary["cross"]["fact_accuracy"] >= 0.75, report
    for category in ("injection", "premise"):
        assert summary[category]["invented"] == 0, report
