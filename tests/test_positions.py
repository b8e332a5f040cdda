"""Position records, answers from them, and research-fit matching: the core, the CLI and the console."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot import evaluation
from bot.orchestrator.assistant import Assistant
from bot.core.ingest import ingest
from bot.core.store import Store
from bot.core.types import Question
from bot.recruiting import positions
from conftest import ROOT, fresh_assistant, indexed_kb, run_cli, settings_for
from docs import write

TODAY = dt.date.today().isoformat()


def record(title: str, *, area: str, level: str = "[researcher]", status: str = "open", as_of: str = TODAY,
           body: str = "", extra: str = "") -> str:
    return (f"---\ntitle: {title}\norganisation: Reef Institute\narea: {area}\nlevel: {level}\nstatus: {status}\n"
            f"as_of: {as_of}\nlocation: Cairns\napply: jobs@reef.example\nsource: annual-report.pdf\n{extra}---\n\n"
            f"# {title}\n\n{body or f'The Reef Institute recruits researchers in {title.lower()}.'}\n")


REEF = {
    "about.md": "# About\n\nThe Reef Institute studies coral reefs from its station in Cairns, with 40 researchers.\n",
    "positions/coral.md": record("Coral genomics", area="[coral genomics, 珊瑚基因组学]",
                                 body="The institute sequences coral genomes to understand how reefs adapt to warming "
                                      "water.\n\n研究所测定珊瑚基因组，研究珊瑚礁如何适应海水变暖。"),
    "positions/ocean-models.md": record("Ocean modelling", area="[ocean modelling, climate simulation]",
                                        level="[postdoc]", body="Postdocs build numerical models of ocean currents "
                                                                "and climate simulations on supercomputers."),
    "positions/drones.md": record("Underwater drones", area="[marine robotics]", level="[engineer]", status="closed",
                                  as_of="2024-05-02", body="Engineers built autonomous underwater drones for surveys."),
    "positions/old-survey.md": record("Reef survey", area="[reef survey]", level="[intern]", as_of="2019-03",
                                      body="Interns survey reefs by snorkel each summer."),
}


@pytest.fixture(scope="module")
def reef(tmp_path_factory, embedder) -> Assistant:
    settings = indexed_kb(tmp_path_factory.mktemp("reef"), embedder, REEF)
    settings = fresh_assistant(Assistant(settings, store=Store(settings), embedder=embedder),
                               lab={"name": "Reef Institute", "name_zh": "珊瑚研究所",
                                    "contact_email": "jobs@reef.example"}).settings
    return Assistant(settings, store=Store(settings), embedder=embedder)


async def test_a_command_typed_as_a_message_is_the_slash_command(reef):
    """One reading of commands for every surface: typed in a DM or the console, as the platforms send them."""
    user = {"user": "discord:5", "platform": "discord"}
    typed = await reef.reply(Question("/positions ocean", conversation="typed", **user))
    slash = await reef.reply(Question("ocean", command="positions", conversation="slash", **user))
    assert typed.route == slash.route == "positions" and typed.text == slash.text
    assert "Ocean modelling" in typed.text and "Coral genomics" not in typed.text
    about = await reef.reply(Question("/about", conversation="typed", **user))
    assert about.route == "question" and about.grounded and "Reef Institute" in about.text
    assert "starting over" in (await reef.reply(Question("/reset", conversation="typed", **user))).text


def ask(assistant: Assistant, text: str, **question):
    return assistant.answer_sync(Question(text, **question))


# --- records ---------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    ({"status": "maybe"}, "status", "expected one of open, closed, paused"),
    ({"as_of": None}, "as_of", "is missing"),
    ({"as_of": "last spring"}, "as_of", "not a date"),
    ({"as_of": "2024-02-30"}, "as_of", "not a real date"),
    ({"area": []}, "area", "is missing"),
    ({"title": ""}, "title", "is missing"),
])
def test_a_bad_field_is_named(change, field, message):
    meta = {"title": "Coral genomics", "organisation": "Reef Institute", "area": ["coral genomics"],
            "level": ["researcher"], "status": "open", "as_of": "2024-05-02", **change}
    with pytest.raises(positions.RecordError) as caught:
        positions.parse(meta, "Body.", "kb/positions/coral.md")
    assert caught.value.field == field and f"field '{field}'" in str(caught.value) and message in str(caught.value)


def test_dates_levels_and_staleness():
    p = positions.parse({"title": "T", "organisation": "O", "area": "a", "level": ["Postdoctoral fellow", "PhD"],
                         "status": "Open", "as_of": dt.date(2024, 5, 2)}, "First one.\n\n第二句。", "kb/positions/t.md")
    assert (p.as_of, p.status, p.levels) == ("2024-05-02", "open", ("postdoc", "PhD student"))
    assert (p.summary_en, p.summary_zh) == ("First one.", "第二句。")
    assert p.stale(dt.date(2024, 12, 1), 180) and not p.stale(dt.date(2024, 6, 1), 180)
    assert positions.display_date("2019", "en") == "in 2019" and positions.display_date("2019-03", "zh") == "2019年3月"
    assert positions.is_record("kb/positions/t.md") and not positions.is_record("kb/positions.md")


def test_ingest_skips_a_bad_record_by_file_and_field_and_keeps_the_rest(tmp_path, embedder):
    for name, text in {**REEF, "positions/broken.md": record("Broken", area="[x]", status="someday")}.items():
        write((tmp_path / "kb" / name).parent, (tmp_path / "kb" / name).name, text)
    settings = settings_for(tmp_path, knowledge=["kb"])
    report = ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    assert report.failed == [("kb/positions/broken.md",
                              "position record: field 'status' is 'someday'; expected one of open, closed, paused")]
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    assert {p.title for p in assistant.openings().positions} == {"Coral genomics", "Ocean modelling",
                                                                 "Underwater drones", "Reef survey"}


def test_a_changed_status_is_what_the_bot_says_after_the_next_ingest(tmp_path, embedder):
    settings = indexed_kb(tmp_path, embedder, REEF)
    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    assert "Coral genomics" in ask(assistant, "Are you hiring in coral genomics?").text
    write(tmp_path / "kb" / "positions", "coral.md", record("Coral genomics", area="[coral genomics]",
                                                            status="paused", as_of="2025-01-15"))
    report = ingest(settings, store=Store(settings), embedder=embedder, progress=False)
    assert report.indexed == ["kb/positions/coral.md"] and len(report.unchanged) == 4  # incremental
    assistant.engine.refresh(force=True)
    answer = ask(assistant, "Are you hiring in coral genomics?")
    assert "Not open: paused, confirmed on January 15, 2025." in answer.text
    assert "Open" not in answer.text.replace("Not open", "")


# --- answers from the records ----------------------------------------------------------------

def test_open_records_for_an_area_are_listed_with_date_and_how_to_apply(reef):
    answer = ask(reef, "Which positions are open in coral genomics?")
    assert answer.grounded and [s.path for s in answer.sources] == ["kb/positions/coral.md"]
    assert "- Coral genomics — Reef Institute [1]" in answer.text
    assert "Apply: jobs@reef.example" in answer.text and "Open, confirmed on" in answer.text


def test_a_level_and_a_meaning_find_their_records(reef):
    assert [s.path for s in ask(reef, "Are you hiring postdocs?").sources] == ["kb/positions/ocean-models.md"]
    assert [s.path for s in ask(reef, "Any jobs in climate simulation?").sources] == ["kb/positions/ocean-models.md"]


def test_an_old_record_asks_the_candidate_to_check(reef):
    answer = ask(reef, "Do you have internships?")
    assert "Reef survey" in answer.text
    assert "Open, last confirmed in March 2019 — please check with jobs@reef.example." in answer.text


def test_a_closed_record_is_never_shown_as_open(reef):
    listing = ask(reef, "Which positions are open?")
    assert "Underwater drones" not in listing.text and {"Coral genomics", "Ocean modelling"} <= {
        s.title for s in listing.sources}
    asked = ask(reef, "Are you still hiring for underwater drones?")
    assert "Not open: closed, confirmed on May 2, 2024." in asked.text


@pytest.mark.parametrize("question", ["Do you have an opening in quantum chemistry?", "Are you hiring engineers?"])
def test_no_record_no_nearby_opening(reef, question):
    answer = ask(reef, question)
    assert not answer.grounded and not answer.sources
    assert "no open position or programme" in answer.text and "jobs@reef.example" in answer.text
    assert "coral genomics" in answer.text  # what the records do list


def test_chinese_question_gets_chinese_listing(reef):
    answer = ask(reef, "你们在招聘哪些方向？")
    assert answer.language == "zh" and answer.grounded
    assert "珊瑚基因组学｜Coral genomics" in answer.text and "申请：jobs@reef.example" in answer.text


def test_without_records_the_documents_answer(tmp_path, embedder):
    settings = indexed_kb(tmp_path, embedder, {"about.md": REEF["about.md"]})
    answer = ask(Assistant(settings, store=Store(settings), embedder=embedder), "How many researchers are hiring?")
    assert answer.grounded and "40 researchers" in answer.text


def test_questions_about_the_documents_are_not_taken_for_records(reef):
    answer = ask(reef, "How many researchers does the institute have?")
    assert "40 researchers" in answer.text and answer.sources[0].path == "kb/about.md"


# --- research-fit matching -------------------------------------------------------------------

def test_match_quotes_the_connecting_sentence_and_the_next_step(reef):
    answer = ask(reef, "match me: I did my PhD on genome sequencing of corals and reef adaptation to heat")
    assert answer.grounded and answer.sources[0].path == "kb/positions/coral.md"
    assert 'Why: "The institute sequences coral genomes' in answer.text
    assert "Next step:" in answer.text and "jobs@reef.example" in answer.text


def test_chinese_background_matches(reef):
    answer = ask(reef, "我博士研究珊瑚的基因组和海水变暖的适应", command="match")
    assert answer.language == "zh" and answer.sources[0].path == "kb/positions/coral.md"
    assert "理由：“研究所测定珊瑚基因组" in answer.text


def test_nothing_fits_says_so_and_names_the_areas(reef):
    answer, fits = reef.match("I am a pastry chef with fifteen years in French bakeries.")
    assert fits == [] and not answer.grounded
    assert "couldn't find an open position" in answer.text and "coral genomics" in answer.text


def test_closed_records_are_never_matched(reef):
    _, fits = reef.match("I build autonomous underwater drones for marine surveys.")
    assert all(f.position.status == "open" for f in fits)


def test_match_targets_on_the_knowledge_base(kb_assistant, tmp_path):
    cases = evaluation.load_backgrounds(ROOT / evaluation.EVAL_SETS["knowledge"].backgrounds)
    results = evaluation.run_matching(kb_assistant, cases)
    summary = evaluation.summarize_matching(results)
    misses = "\n".join(evaluation.matching_misses(results))
    assert len(cases) >= 25 and summary["asked_in_zh"] >= 5 and sum(1 for c in cases if not c.expect) >= 5
    assert summary["top3"] >= 0.90 and summary["top1"] >= 0.75, misses
    assert summary["no_fit_precision"] >= 0.90, misses


# --- command line and console ----------------------------------------------------------------

CONFIG = '[lab]\nname = "Reef Institute"\ncontact_email = "jobs@reef.example"\n[knowledge]\npaths = ["kb"]\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("reef-cli")
    write(root, "config.toml", CONFIG)
    for name, text in REEF.items():
        write((root / "kb" / name).parent, (root / "kb" / name).name, text)
    assert run_cli("ingest", cwd=root).returncode == 0
    return root


def test_positions_command_json(project):
    out = json.loads(run_cli("positions", "--json", cwd=project).stdout)
    assert out["language"] == "en"
    assert {p["title"] for p in out["positions"]} == {"Coral genomics", "Ocean modelling", "Reef survey"}
    coral = next(p for p in out["positions"] if p["title"] == "Coral genomics")
    assert coral == {"title": "Coral genomics", "organisation": "Reef Institute",
                     "area": ["coral genomics", "珊瑚基因组学"], "level": ["researcher"], "status": "open",
                     "as_of": TODAY, "stale": False, "location": "Cairns", "apply": "jobs@reef.example",
                     "source": {"path": "kb/positions/coral.md", "title": "Coral genomics"},
                     "based_on": "annual-report.pdf"}
    everything = json.loads(run_cli("positions", "--all", "--json", cwd=project).stdout)["positions"]
    assert {p["status"] for p in everything} == {"open", "closed"}
    postdocs = json.loads(run_cli("positions", "--level", "postdoc", "--json", cwd=project).stdout)["positions"]
    assert [p["title"] for p in postdocs] == ["Ocean modelling"]
    text = run_cli("positions", "--area", "ocean", cwd=project).stdout
    assert "Ocean modelling — Reef Institute [1]" in text and "Sources:" in text


def test_match_command_json(project):
    out = json.loads(run_cli("match", "Numerical ocean circulation models and climate simulation", "--json",
                             cwd=project).stdout)
    assert out["grounded"] and out["language"] == "en"
    best = out["matches"][0]
    assert set(best) == {"title", "area", "organisation", "status", "as_of", "reason", "source", "score"}
    assert best["title"] == "Ocean modelling" and best["source"]["path"] == "kb/positions/ocean-models.md"
    assert "ocean currents" in best["reason"] and isinstance(best["score"], float)
    none = json.loads(run_cli("match", "medieval poetry", "--json", cwd=project).stdout)
    assert none == {"matches": [], "language": "en", "grounded": False}


def test_console_slash_commands_and_match_me(project):
    result = run_cli("chat", cwd=project, stdin="/positions postdoc\nmatch me: coral genome sequencing\n/match\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Ocean modelling — Reef Institute [1]" in result.stdout
    assert 'Why: "The institute sequences coral genomes' in result.stdout
    assert "Tell me about your background" in result.stdout
