"""Registering interest (consent first), forget me, retention and export, in the console and from the
recruiters' command line, with SQLite on disk."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat

import pytest

from bot.adapters.console import chat
from bot.candidates.records import CandidateRecords
from bot.core.types import Question
from conftest import config_toml, fresh_assistant, run_cli


async def console(assistant, *lines: str) -> str:
    """The real console adapter, fed these lines."""
    out = io.StringIO()
    await chat(assistant, stdin=io.StringIO("".join(f"{line}\n" for line in lines)), stdout=out)
    return out.getvalue()


def config_for(assistant, tmp_path) -> str:
    """A config.toml that points the CLI at the assistant's candidate records."""
    return str(config_toml(tmp_path, f'[interest]\ndb = "{assistant.records.path}"\n'))


async def test_interest_in_the_console_asks_consent_first_then_stores_what_was_typed(kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant)
    out = await console(assistant, "How big is the campus?", "register my interest", "1", "Ada Lovelace",
                        "ada(at)example", "ada@example.org", "intelligent robotics", "I can start in March.")
    # Before anything is asked: what is stored, why, who sees it, for how long; and an explicit choice.
    consent = out[out.index("Before you register"):out.index("What's your name?")]
    assert "name, email address" in consent and "Why:" in consent and "Who sees it" in consent
    assert "180 days" in consent and "[1] Yes, I agree   [2] No, thanks" in consent
    assert "doesn't look like an email address" in out  # asked again, not stored wrong
    assert "Thank you, Ada Lovelace: your interest in intelligent robotics is registered" in out
    [entry] = assistant.records.interest()
    assert (entry["name"], entry["email"], entry["areas"], entry["note"]) == (
        "Ada Lovelace", "ada@example.org", "intelligent robotics", "I can start in March.")
    assert entry["user"] == "console:local" and entry["platform"] == "console"
    assert len(entry["consent_version"]) == 12 and entry["consented"] <= entry["registered"]
    # The file holds personal data: owner-only, in WAL mode.
    assert stat.S_IMODE(os.stat(assistant.records.path).st_mode) == 0o600
    assert sqlite3.connect(assistant.records.path).execute("pragma journal_mode").fetchone()[0] == "wal"


async def test_interest_in_chinese(kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    out = await console(assistant, "我对机器人很感兴趣，请帮我登记", "同意", "张三", "zhangsan@example.cn", "机器人", "跳过")
    assert "您同意吗？" in out and "[1] 同意   [2] 不同意" in out
    assert "请问您的姓名？" in out and "招聘团队应通过哪个邮箱联系您？" in out
    assert "谢谢，张三：您对“机器人”的意向已登记" in out
    [entry] = assistant.records.interest()
    assert (entry["name"], entry["areas"], entry["note"], entry["language"]) == ("张三", "机器人", "", "zh")


@pytest.mark.parametrize("lines", [("I'm interested", "no"), ("I'm interested", "2"),
                                   ("/interest", "1", "Ada", "cancel"), ("我想申请", "不同意")])
async def test_without_a_yes_or_after_cancel_nothing_is_stored(kb_assistant, lines):
    assistant = fresh_assistant(kb_assistant)
    out = await console(assistant, *lines)
    assert "nothing was stored" in out or "没有保存任何信息" in out
    assert assistant.records.interest() == []


async def test_a_question_instead_of_yes_leaves_the_flow_and_is_answered(kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    out = await console(assistant, "I'm interested", "How big is the campus?", "Ada")
    assert "hectares" in out
    assert assistant.records.interest() == []


async def test_a_form_submitted_without_consent_is_refused(kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    values = {"name": "Mallory", "email": "m@example.org", "areas": "robotics", "note": ""}
    answer = await assistant.reply(Question("", user="discord:9", platform="discord", values=values, forms=True))
    assert "expired" in answer.text and assistant.records.interest() == []


async def test_forget_me_deletes_entries_feedback_answers_and_the_conversation(kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant)
    user = dict(user="discord:42", conversation="discord:dm:42", platform="discord")
    for text in ("I'm interested", "yes", "Grace Hopper", "grace@example.org", "compilers", "skip"):
        await assistant.reply(Question(text, **user))
    answer = await assistant.reply(Question("How big is the campus?", **user))
    await assistant.feedback(answer.ref, "discord:42", helpful=True)
    # The same person registered on Slack too, with the same email.
    for text in ("register my interest", "yes", "Grace Hopper", "GRACE@example.org", "compilers", "skip"):
        await assistant.reply(Question(text, user="slack:T1/U7", conversation="slack:T1:dm:U7", platform="slack"))
    other = dict(user="discord:43", conversation="discord:dm:43", platform="discord")
    for text in ("I'm interested", "yes", "Alan Turing", "alan@example.org", "AI", "skip"):
        await assistant.reply(Question(text, **other))
    assert len(assistant.records.interest()) == 3 and assistant.memory.recent("discord:dm:42")

    asked = await assistant.reply(Question("forget me", **user))  # typed, not a command: asked first
    assert "Shall I delete everything I keep about you" in asked.text and len(assistant.records.interest()) == 3
    assert [c.id for c in asked.choices] == ["forget_yes", "forget_no"]
    reply = await assistant.reply(Question("yes", **user))
    assert reply.text.startswith("Done: I deleted 2 interest registrations, 1 feedback click, 1 recorded answer")
    assert [e["name"] for e in assistant.records.interest()] == ["Alan Turing"]
    assert assistant.records.feedback() == []
    assert assistant.memory.recent("discord:dm:42") == [] and assistant.memory.transcript("discord:dm:42") == []
    # A follow-up is no longer understood as one: nothing of the conversation is left.
    assert assistant.engine.search_query("and where is it?", assistant.memory.recent("discord:dm:42")) != \
        "How big is the campus? and where is it?"
    export = tmp_path / "out.csv"
    assert run_cli("--config", config_for(assistant, tmp_path), "interest", "export", "--csv", str(export),
                   cwd=tmp_path).returncode == 0
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert [r["email"] for r in rows] == ["alan@example.org"]
    assert "grace" not in export.read_text(encoding="utf-8").lower()
    again = await assistant.reply(Question("", command="forget", **user))  # the command deletes at once
    assert "I had nothing stored about you" in again.text
    await assistant.reply(Question("删除我的信息", **user))
    kept = await assistant.reply(Question("不删除", **user))
    assert kept.text == "好的，没有删除任何信息。"


def test_recruiters_list_export_and_forget_from_the_command_line(tmp_path):
    records = CandidateRecords(tmp_path / "c.sqlite3", retention_days=30)
    for n, (name, email) in enumerate([("Ada Lovelace", "ada@example.org"), ("张三", "zs@example.cn")]):
        records.add_interest(platform="slack", user=f"slack:T1/U{n}", name=name, email=email, areas="robotics",
                             note="", language="en", consent_version="v1", consent_at=1.0e9)
    config = config_toml(tmp_path, '[interest]\ndb = "c.sqlite3"\nretention_days = 30\n')
    listed = run_cli("--config", str(config), "interest", "list", "--json", cwd=tmp_path)
    assert [e["name"] for e in json.loads(listed.stdout)] == ["Ada Lovelace", "张三"]
    assert "Ada Lovelace <ada@example.org>" in run_cli("--config", str(config), "interest", "list", cwd=tmp_path).stdout
    export = tmp_path / "export.csv"
    run_cli("--config", str(config), "interest", "export", "--csv", str(export), cwd=tmp_path)
    assert stat.S_IMODE(os.stat(export).st_mode) == 0o600
    assert [r["name"] for r in csv.DictReader(export.open(encoding="utf-8"))] == ["Ada Lovelace", "张三"]
    forgot = run_cli("--config", str(config), "interest", "forget", "zs@example.cn", cwd=tmp_path)
    assert forgot.returncode == 0 and "deleted 1 interest registration" in forgot.stdout
    assert [e["name"] for e in records.interest()] == ["Ada Lovelace"]


def test_entries_past_retention_are_deleted_at_start_and_daily(tmp_path):
    now = [1_000_000_000.0]
    path = tmp_path / "c.sqlite3"
    records = CandidateRecords(path, retention_days=30, clock=lambda: now[0])
    records.add_interest(platform="discord", user="discord:1", name="Old", email="old@example.org", areas="AI",
                         note="", language="en", consent_version="v1", consent_at=now[0])
    now[0] += 20 * 86400
    records.add_interest(platform="discord", user="discord:2", name="New", email="new@example.org", areas="AI",
                         note="", language="en", consent_version="v1", consent_at=now[0])
    now[0] += 15 * 86400  # the first is 35 days old: the daily purge removes it before the next read
    assert [e["name"] for e in records.interest()] == ["New"]
    # At start: a new process opening the file purges at once.
    now[0] += 20 * 86400
    assert CandidateRecords(path, retention_days=30, clock=lambda: now[0]).interest() == []
