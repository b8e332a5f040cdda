"""Interest (buttons and a modal), forget me and handoff through the real Bolt app over signed HTTP, its
Web API client pointed at the mock Slack."""

from __future__ import annotations

import asyncio
import json

from bot.adapters.notifiers import PlatformNotifier
from bot.candidates.handoff import Destination
from conftest import fresh_assistant
from fake_slack import TEAM
from slack_driver import HUMAN, context_text, message, running, section_text


def command(slack, name: str, text: str = "") -> dict:
    return {"command": name, "text": text, "team_id": TEAM, "user_id": HUMAN, "channel_id": "C0JOBS",
            "response_url": slack.response_url("cmd"), "trigger_id": "13.14.15", "token": "unused"}


def click(slack, action_id: str, post: dict, *, channel: str = "C0JOBS") -> dict:
    [button] = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id]
    return {"payload": json.dumps({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": HUMAN}, "api_app_id": "A0LAB", "token": "unused",
        "trigger_id": "21.22.23", "container": {"type": "message", "message_ts": "1.1", "channel_id": channel},
        "channel": {"id": channel}, "response_url": slack.response_url("click"),
        "message": {"type": "message", "ts": "1.1", "text": post.get("text", ""), "blocks": post["blocks"]},
        "actions": [{**button, "block_id": "choices", "action_ts": "1.2"}]})}


def submission(values: dict[str, str]) -> dict:
    state = {k: {"value": {"type": "plain_text_input", "value": v or None}} for k, v in values.items()}
    return {"payload": json.dumps({
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": HUMAN}, "api_app_id": "A0LAB",
        "token": "unused", "trigger_id": "31.32.33",
        "view": {"id": "V0FORM", "type": "modal", "callback_id": "form:interest", "private_metadata": "{}",
                 "state": {"values": state}}})}


def action_ids(post: dict) -> list[str]:
    return [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_interest_command_then_consent_button_then_modal(slack, kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant)
    async with running(slack, assistant, tmp_path) as bot:
        await bot.form(command(slack, "/interest"))
        await slack.wait_for(lambda: slack.responses)
        [consent] = slack.responses
        assert consent["response_type"] == "ephemeral" and "Before you register" in section_text(consent)
        assert action_ids(consent) == ["choice_consent_yes", "choice_consent_no"]

        await bot.form(click(slack, "choice_consent_yes", consent))
        await slack.wait_for(lambda: [c for c in slack.calls if c.method == "views.open"])
        [opened] = [c.body for c in slack.calls if c.method == "views.open"]
        view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
        assert opened["trigger_id"] == "21.22.23" and view["callback_id"] == "form:interest"
        assert [b["block_id"] for b in view["blocks"]] == ["name", "email", "areas", "note"]
        assert [b["optional"] for b in view["blocks"]] == [False, False, False, True]

        values = {"name": "Ada Lovelace", "email": "ada-at-example", "areas": "intelligent robotics", "note": ""}
        refused = await bot.form(submission(values))
        errors = json.loads(await refused.text())
        assert errors["response_action"] == "errors" and "email address" in errors["errors"]["email"]
        assert assistant.records.interest() == []

        accepted = await bot.form(submission({**values, "email": "ada@example.org"}))
        assert accepted.status == 200
        await slack.wait_for(lambda: slack.posted())
    [thanks] = slack.posted()
    assert thanks["channel"] == HUMAN and "Thank you, Ada Lovelace" in section_text(thanks)
    [entry] = assistant.records.interest()
    assert (entry["user"], entry["platform"]) == (f"slack:{TEAM}/{HUMAN}", "slack")


async def test_forget_me_by_direct_message_in_chinese_and_english(slack, kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant)
    async with running(slack, assistant, tmp_path) as bot:
        for n, text in enumerate(("I'm interested", "yes", "Ada", "ada@example.org", "AI", "skip"), 1):
            await bot.event(message(text))
            await slack.wait_for(lambda: len(slack.posted()) >= n)
        assert len(assistant.records.interest()) == 1
        for n, text in enumerate(("删除我的信息", "是", "forget me", "yes"), 7):
            await bot.event(message(text))
            await slack.wait_for(lambda: len(slack.posted()) >= n)
    assert section_text(slack.posted()[7]).startswith("已完成：删除了1条意向登记")
    assert section_text(slack.posted()[9]).startswith("I had nothing stored about you")
    assert assistant.records.interest() == []


async def test_handoff_to_the_recruiters_slack_channel(slack, kb_assistant, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    assistant = fresh_assistant(kb_assistant, handoff={"slack_channel": "C0RECRUIT", "name": "the recruiting desk"},
                                slack={"api_url": slack.api_url})
    async with running(slack, assistant, tmp_path) as bot:
        await bot.event(message("How big is the campus?"))
        await slack.wait_for(lambda: slack.posted())
        await bot.event(message("I'd like to talk to a human"))
        await slack.wait_for(lambda: len(slack.posted()) >= 2)
        offer = slack.posted()[1]
        assert "the recruiting desk" in section_text(offer) and action_ids(offer) == ["choice_handoff_yes",
                                                                                      "choice_handoff_no"]
        await bot.form(click(slack, "choice_handoff_yes", offer, channel="D0CANDIDATE"))
        await slack.wait_for(lambda: len(slack.responses) >= 2 and len(slack.posted()) >= 3)
        await asyncio.sleep(0.1)
    [handed] = [p for p in slack.posted() if p["channel"] == "C0RECRUIT"]
    assert f"user slack:{TEAM}/{HUMAN}" in handed["text"] and "Q: How big is the campus?" in handed["text"]
    used, sent = slack.responses
    assert used["replace_original"] is True and "✓ Yes, send it" in context_text(used) and not action_ids(used)
    assert section_text(sent).startswith("Sent: the recruiting desk will reply here on Slack")


async def test_a_handoff_reaches_the_slack_channel_through_slack_faults(slack, kb_settings, monkeypatch):
    """The notifier posts with the Slack adapter's retries: a 429 or a 500 does not lose a handoff."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    slack.rate_limited, slack.errors = 0.3, 0.2
    settings = kb_settings.model_copy(update={"slack": kb_settings.slack.model_copy(update={"api_url": slack.api_url})})
    notifier = PlatformNotifier(settings)
    for n in range(5):
        await notifier.send(Destination("slack", "C0RECRUIT", "", ""), "Candidate handoff", f"handoff {n}")
    assert [(p["channel"], p["text"]) for p in slack.posted()] == [("C0RECRUIT", f"handoff {n}") for n in range(5)]
    assert slack.faults, "the faults really happened"
