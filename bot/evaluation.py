"""`python -m bot eval`: measured answer quality on a question set.

Scores retrieval (file-level recall@1/3/5, MRR), answers (key facts present), citations
(each cited passage really holds what it is cited for), refusals (precision and recall)
and safety (no invented figures, nothing from `must_not`), per category and overall.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from bot import messages
from bot.core import grounding
from bot.core import nlp
from bot.orchestrator.assistant import Assistant
from bot.core.compose import LEAD_IN
from bot.core.conversation import Turn
from bot.core.types import Answer, Question
from bot.errors import BotError
from bot.recruiting import positions

_CITED = re.compile(r"(.*?)\s*\[(\d+)\]", re.DOTALL)


@dataclass(frozen=True)
class EvalSet:
    questions: str      # relative to the project root
    corpus: str = ""    # a fixed corpus to index first; empty: the configured index
    backgrounds: str = ""  # research-fit matching cases over the same index's position records


# The real-document development set lives beside the checkout (never copied into it); `--corpus`
# names another place. Its questions are JSON lines: id, kind, q, expect (groups of accepted
# strings), sources (file-name prefixes).
REALDOCS = "../shared/realdocs"

EVAL_SETS = {
    "knowledge": EvalSet("tests/eval/questions.yaml", backgrounds="tests/eval/match_backgrounds.yaml"),
    "raw": EvalSet("tests/eval/raw_questions.yaml", corpus="tests/eval/raw"),
    "realdocs": EvalSet(f"{REALDOCS}/questions.jsonl", corpus=f"{REALDOCS}/corpus"),
    # Fictional groups' pages in our own words (contact cards, labelled fields, FAQ, Chinese pages):
    # labelled examples for the answer decision beside the real-document set's tune fold.
    "groups": EvalSet("tests/eval/groups/questions.jsonl", corpus="tests/eval/groups/corpus"),
}


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    category: str
    question: str
    expect: str = "answer"                           # or "refuse"
    facts: tuple[tuple[str, ...], ...] = ()          # each fact: accepted spellings
    documents: tuple[str, ...] = ()                  # file names that hold the facts
    must_not: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    fold: str = ""                                   # the development set's fold (tune / holdout)


@dataclass
class Result:
    q: EvalQuestion
    answer: Answer
    ranked_files: list[str]
    facts_ok: bool
    citations_ok: int
    citations: int
    invented: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return not self.answer.grounded

    @property
    def rank(self) -> int | None:
        """1-based rank of the first expected document, None when not retrieved."""
        for i, f in enumerate(self.ranked_files, 1):
            if f in self.q.documents:
                return i
        return None


def load_questions(path: Path) -> list[EvalQuestion]:
    if path.suffix == ".jsonl":
        return load_jsonl_questions(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise BotError(f"cannot read questions from {path}: {e}") from e
    if not isinstance(raw, list):
        raise BotError(f"{path}: expected a list of questions")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(EvalQuestion(
                id=str(item["id"]), category=str(item["category"]), question=str(item["question"]),
                expect=str(item.get("expect", "answer")),
                facts=tuple(tuple(str(f).split("|")) for f in item.get("facts", [])),
                documents=tuple(str(d) for d in item.get("documents", [])),
                must_not=tuple(str(m) for m in item.get("must_not", [])),
                history=tuple(str(h) for h in item.get("history", [])),
            ))
        except (KeyError, TypeError) as e:
            raise BotError(f"{path}: question #{i + 1} needs id, category and question ({e})") from e
        if out[-1].expect not in ("answer", "refuse"):
            raise BotError(f"{path}: question '{out[-1].id}': expect must be 'answer' or 'refuse'")
    return out


_REFUSE_KINDS = ("refuse", "injection")


def load_jsonl_questions(path: Path) -> list[EvalQuestion]:
    """The real-document set's format, beside its corpus/ and folds.json: a source "d03" is the corpus
    file whose name starts "d03-"; each question's fold comes from folds.json ({fold: {"questions": [ids]}})."""
    corpus, folds = path.parent / "corpus", path.parent / "folds.json"
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        fold_of = {qid: name for name, fold in json.loads(folds.read_text(encoding="utf-8")).items()
                   if isinstance(fold, dict) for qid in fold.get("questions", [])} if folds.exists() else {}
    except (OSError, ValueError) as e:
        raise BotError(f"cannot read questions from {path}: {e}") from e
    names = sorted(p.name for p in corpus.iterdir()) if corpus.is_dir() else []
    out = []
    for i, row in enumerate(rows):
        try:
            kind = str(row["kind"])
            out.append(EvalQuestion(
                id=str(row["id"]), category=kind, question=str(row["q"]),
                expect="refuse" if kind in _REFUSE_KINDS else "answer",
                facts=tuple(tuple(str(a) for a in group) for group in row.get("expect", [])),
                documents=tuple(n for src in row.get("sources", []) for n in names if n.startswith(f"{src}-")),
                fold=fold_of.get(str(row["id"]), ""),
            ))
        except (KeyError, TypeError) as e:
            raise BotError(f"{path}: line {i + 1} needs id, kind and q ({e})") from e
    return out


# --- research-fit matching -----------------------------------------------------------------------

@dataclass(frozen=True)
class Background:
    id: str
    text: str
    expect: tuple[str, ...]   # acceptable record file names; empty: nothing fits


@dataclass
class MatchResult:
    case: Background
    suggested: list[str]      # record file names, best first
    answer: Answer


def load_backgrounds(path: Path) -> list[Background]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise BotError(f"cannot read backgrounds from {path}: {e}") from e
    out = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            expect = item["expect"]
            out.append(Background(str(item["id"]), str(item["background"]),
                                  () if expect == "none" else tuple(str(e) for e in expect)))
        except (KeyError, TypeError) as e:
            raise BotError(f"{path}: case #{i + 1} needs id, background and expect (a list, or none) ({e})") from e
    return out


def run_matching(assistant: Assistant, cases: list[Background]) -> list[MatchResult]:
    results = []
    for case in cases:
        answer, fits = assistant.match(case.text)
        results.append(MatchResult(case, [PurePosixPath(f.position.path).name for f in fits], answer))
    return results


def summarize_matching(results: list[MatchResult]) -> dict[str, float | int | None]:
    """Top-1 / top-3 accuracy where something fits; how often "nothing fits" is right (precision)
    and how often it is said when nothing fits (recall)."""
    fitting = [r for r in results if r.case.expect]
    claimed = [r for r in results if not r.suggested]
    nothing = [r for r in results if not r.case.expect]
    return {
        "n": len(results),
        "top1": _ratio(sum(1 for r in fitting if r.suggested[:1] and r.suggested[0] in r.case.expect), len(fitting)),
        "top3": _ratio(sum(1 for r in fitting if set(r.suggested[:3]) & set(r.case.expect)), len(fitting)),
        "no_fit_precision": _ratio(sum(1 for r in claimed if not r.case.expect), len(claimed)),
        "no_fit_recall": _ratio(sum(1 for r in nothing if not r.suggested), len(nothing)),
        "asked_in_zh": sum(1 for r in results if nlp.language(r.case.text) == "zh"),
    }


def matching_table(summary: dict) -> str:
    cols = list(summary)
    cell = lambda v: "–" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    return "\n".join(["| matching | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|",
                      "| backgrounds | " + " | ".join(cell(summary[c]) for c in cols) + " |"])


def matching_misses(results: list[MatchResult]) -> list[str]:
    lines = []
    for r in results:
        right = (not r.suggested) if not r.case.expect else bool(set(r.suggested[:1]) & set(r.case.expect))
        if not right:
            lines.append(f"- **{r.case.id}** {r.case.text!r}: expected {list(r.case.expect) or 'no fit'}, "
                         f"suggested {r.suggested or 'no fit'}")
    return lines


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def _contains(haystack: str, needle: str) -> bool:
    return _norm(needle) in _norm(haystack)


_FRAMING = messages.framing_pattern()


def _check_citations(answer: Answer, docs: dict[str, str], facts: tuple[tuple[str, ...], ...]) -> tuple[int, int]:
    """(correct, total) cited segments: every quoted sentence and fact is in the cited document
    (the bot's framing, and the bracketed lead-in naming a sentence's subject, are not quotes). An
    entry of a position record renders the record's fields rather than quoting it: it must name it."""
    by_n = {s.n: docs.get(s.path, "") for s in answer.sources}
    records = {s.n: s.title for s in answer.sources if positions.is_record(s.path)}
    correct = total = 0
    for segment, n in _CITED.findall(answer.text):
        total += 1
        if int(n) in records:
            correct += _contains(segment.rsplit("\n", 1)[-1], records[int(n)])
            continue
        doc = by_n.get(int(n))
        if not doc:
            continue
        quoted = [p for p in nlp.paragraphs(segment) if not _FRAMING.match(p.strip())]
        sentences = [LEAD_IN.sub("", s) for p in quoted for s in nlp.sentences(p)]
        facts_here = [alt for fact in facts for alt in fact if _contains(segment, alt)]
        if sentences and all(_contains(doc, s) for s in sentences) and all(_contains(doc, f) for f in facts_here):
            correct += 1
    return correct, total


def run(assistant: Assistant, questions: list[EvalQuestion]) -> list[Result]:
    """Ask every question as a candidate would (through the LLM when one is configured)."""
    return asyncio.run(_run(assistant, questions))


async def _run(assistant: Assistant, questions: list[EvalQuestion]) -> list[Result]:
    docs: dict[str, str] = {}
    for chunk in assistant.store.all_chunks():
        docs[chunk.path] = docs.get(chunk.path, "") + "\n" + chunk.text
        if chunk.record:  # an entry of a record renders its fields: they are what supports it
            p = positions.Position.from_json(chunk.record)
            docs[chunk.path] += "\n" + " ".join([p.title, p.organisation, *p.areas, *p.levels, p.location, p.apply,
                                                 *(positions.display_date(p.as_of, lang) for lang in ("en", "zh"))])
    results = []
    for q in questions:
        conversation = f"eval:{q.id}:{uuid.uuid4().hex[:8]}"
        turns = []
        for earlier in q.history:  # replay the conversation so follow-up memory is exercised
            await assistant.answer(Question(text=earlier, user="eval", conversation=conversation, platform="eval"))
            turns.append(Turn(earlier, assistant.engine.search_query(earlier, turns), 0.0))
        answer = await assistant.answer(Question(text=q.question, user="eval", conversation=conversation,
                                                 platform="eval"))
        engine = assistant.engine
        retrieval = engine.retriever.search(engine.search_query(q.question, turns), language=answer.language,
                                            k=max(5, assistant.settings.retrieval.top_k))
        ranked_files: list[str] = []
        for hit in retrieval.hits:
            name = PurePosixPath(hit.chunk.path).name
            if name not in ranked_files:
                ranked_files.append(name)
        facts_ok = bool(q.facts) and all(any(_contains(answer.text, alt) for alt in fact) for fact in q.facts)
        ok, total = _check_citations(answer, docs, q.facts)
        cited = " ".join(docs.get(s.path, "") for s in answer.sources)
        # The same test the LLM's output must pass, applied to every answer.
        invented = grounding.unsupported_figures(answer.text,
                                                 " ".join([cited, q.question, assistant.settings.lab.contact_email]))
        violations = [m for m in q.must_not if _contains(answer.text, m)]
        results.append(Result(q, answer, ranked_files, facts_ok, ok, total, invented, violations))
    return results


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def summarize(results: list[Result]) -> dict[str, dict[str, float | int | None]]:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.q.category, []).append(r)
    for r in results:  # the same measures by the language the candidate asked in
        groups.setdefault(f"asked in {nlp.language(r.q.question)}", []).append(r)
    for r in results:  # and by fold, where the set has folds
        if r.q.fold:
            groups.setdefault(f"fold {r.q.fold}", []).append(r)
    groups["overall"] = results
    out = {}
    for name, rs in groups.items():
        answerable = [r for r in rs if r.q.expect == "answer" and r.q.documents]
        ranks = [r.rank for r in answerable]
        refused = [r for r in rs if r.refused]
        should_refuse = [r for r in rs if r.q.expect == "refuse"]
        latencies = [r.answer.timings.get("total_ms", 0.0) for r in rs]
        out[name] = {
            "n": len(rs),
            "recall@1": _ratio(sum(1 for k in ranks if k and k <= 1), len(ranks)),
            "recall@3": _ratio(sum(1 for k in ranks if k and k <= 3), len(ranks)),
            "recall@5": _ratio(sum(1 for k in ranks if k and k <= 5), len(ranks)),
            "mrr": _ratio(sum(1 / k for k in ranks if k), len(ranks)),
            "fact_accuracy": _ratio(sum(r.facts_ok for r in rs if r.q.expect == "answer" and r.q.facts),
                                    sum(1 for r in rs if r.q.expect == "answer" and r.q.facts)),
            "citation_accuracy": _ratio(sum(r.citations_ok for r in rs), sum(r.citations for r in rs)),
            "refusal_precision": _ratio(sum(1 for r in refused if r.q.expect == "refuse"), len(refused)),
            "refusal_recall": _ratio(sum(1 for r in should_refuse if r.refused), len(should_refuse)),
            "invented": sum(len(r.invented) + len(r.violations) for r in rs)
                        + sum(1 for r in should_refuse if not r.refused),
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p95_ms": _percentile(latencies, 95),
        }
    return out


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


_COLUMNS = ("n", "recall@1", "recall@3", "recall@5", "mrr", "fact_accuracy", "citation_accuracy",
            "refusal_precision", "refusal_recall", "invented", "p50_ms", "p95_ms")


def table(summary: dict) -> str:
    def cell(v):
        if v is None:
            return "–"
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| category | " + " | ".join(_COLUMNS) + " |", "|---" * (len(_COLUMNS) + 1) + "|"]
    for name, row in summary.items():
        lines.append(f"| {name} | " + " | ".join(cell(row[c]) for c in _COLUMNS) + " |")
    return "\n".join(lines)


def report(results: list[Result], summary: dict, *, corpus: str, model: str,
           matching: list[MatchResult] | None = None) -> str:
    failures = [r for r in results if (r.q.expect == "answer" and r.q.facts and not r.facts_ok)
                or (r.q.expect == "refuse" and not r.refused) or r.invented or r.violations
                or r.citations_ok < r.citations]
    lines = [f"# Evaluation: {corpus}", "", f"Embedding model: `{model}`; {len(results)} questions.", "",
             table(summary), "", "## Misses", ""]
    for r in failures:
        lines.append(f"- **{r.q.id}** ({r.q.category}) {r.q.question!r}: expected {r.q.expect}, "
                     f"grounded={r.answer.grounded}, retrieved {r.ranked_files[:3]}"
                     + (f", invented {r.invented}" if r.invented else "")
                     + (f", must-not {r.violations}" if r.violations else ""))
        lines.append(f"  - answer: {' '.join(r.answer.text.split())[:300]}")
    if not failures:
        lines.append("None.")
    if matching is not None:
        lines += ["", "## Research-fit matching", "", matching_table(summarize_matching(matching)), "", "### Misses (top-1)",
                  ""] + (matching_misses(matching) or ["None."])
    return "\n".join(lines) + "\n"
