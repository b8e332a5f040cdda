"""The real Bolt AsyncApp over signed HTTP (and Socket Mode), its Web API client pointed at a mock."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from bot.adapters import slack_adapter
from bot.adapters.slack_adapter import MAX_BLOCKS, SECTION_LIMIT
from bot.core.types import Question
from bot.errors import BotError
from conftest import (LONG_QUESTION, FailingEmbedder, config_toml, fresh_assistant, long_answer_assistant, run_cli,
                      with_llm)
from fake_llm import STREAMED_CAMPUS, streamed_campus_answer
from fake_slack import BOT_ID, BOT_USER, TEAM
from slack_driver import HUMAN, context_text, event_body, make_bot, mention, message, running, section_text


async def test_mention_gets_exactly_one_reply_in_its_thread_with_sources(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        event = mention("How do I apply for a job at the lab?")
        response = await bot.event(event)
        assert response.status == 200
        await slack.wait_for(lambda: slack.posted())
        await asyncio.sleep(0.3)
    [post] = slack.posted()
    assert post["channel"] == "C0JOBS" and post["thread_ts"] == event["ts"]
    assert "talents@zhejianglab.com" in section_text(post) and "[1]" in section_text(post)
    # The source is listed, linked to the document's url.
    assert "*Sources*" in context_text(post) and "[1] <http://www.zhejianglab.com|How to apply>" in context_text(post)
    assert [b for b in post["blocks"] if b["type"] == "actions"], "feedback buttons"
    assert post["text"], "a plain-text fallback for notifications"


async def test_direct_message_gets_a_reply(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        await bot.event(message("Where is the campus?"))
        await slack.wait_for(lambda: slack.posted())
    [post] = slack.posted()
    assert post["channel"] == "D0CANDIDATE" and "Hangzhou" in section_text(post)


async def test_chinese_question_gets_a_chinese_answer(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        await bot.event(message("之江实验室在哪里？"))
        await slack.wait_for(lambda: slack.posted())
    [post] = slack.posted()
    assert "杭州" in section_text(post) and "*来源*" in context_text(post)


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp"])
async def test_forged_or_stale_requests_are_rejected_without_any_call(slack, kb_assistant, tmp_path, forgery):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        if forgery == "wrong secret":
            response = await bot.event(mention("Where is the campus?"), secret="not-the-secret")
        else:
            response = await bot.event(mention("Where is the campus?"), timestamp=int(time.time()) - 600)
        await asyncio.sleep(0.5)
    assert response.status == 401
    assert slack.posted() == []


async def test_retried_event_is_answered_once(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        event = mention("Where is the campus?")
        await bot.event(event, event_id="Ev0RETRY")
        for n in (1, 2):
            response = await bot.event(event, event_id="Ev0RETRY",
                                       headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
            assert response.status == 200
        await slack.wait_for(lambda: slack.posted())
        await asyncio.sleep(1)
    assert len(slack.posted()) == 1


async def test_mention_delivered_as_app_mention_and_message_is_answered_once(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        event = mention("Where is the campus?")
        as_message = {**event, "type": "message", "channel_type": "channel"}
        await bot.event(as_message)
        await bot.event(event)
        await slack.wait_for(lambda: slack.posted())
        await asyncio.sleep(1)
    assert len(slack.posted()) == 1


async def test_messages_from_bots_are_ignored(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        await bot.event(message("Where is the campus?", subtype="bot_message", bot_id="B0OTHER"))
        await bot.event(message("Where is the campus?", user=BOT_USER, bot_id=BOT_ID))  # itself
        await bot.event(message("marker: where is the campus?"))  # answered; sent last
        await slack.wait_for(lambda: slack.posted())
        await asyncio.sleep(0.5)
    [post] = slack.posted()
    assert "Hangzhou" in section_text(post)


async def test_thread_follow_ups_need_no_new_mention(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        first = mention("Where is the campus?")
        await bot.event(first)
        await slack.wait_for(lambda: len(slack.posted()) == 1)
        await bot.event(message("some chat in another thread", channel="C0JOBS", channel_type="channel",
                                thread_ts="1.000001"))
        await bot.event(message("How big is it?", channel="C0JOBS", channel_type="channel", thread_ts=first["ts"]))
        await slack.wait_for(lambda: len(slack.posted()) == 2)
        await asyncio.sleep(0.5)
    follow_up = slack.posted()[1]
    assert follow_up["thread_ts"] == first["ts"]
    assert "hectares" in section_text(follow_up), "understood from the thread's earlier question"
    assert len(slack.posted()) == 2


async def test_channels_mention_only_by_default_every_message_in_answer_channels_none_in_ignored(
        slack, kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant, slack={"answer_channels": ("C0ASK",), "ignore_channels": ("C0RANDOM",)})
    async with running(slack, assistant, tmp_path) as bot:
        await bot.event(message("How big is the campus?", channel="C0JOBS", channel_type="channel"))  # no mention
        await bot.event(mention("How big is the campus?", channel="C0RANDOM"))  # mentioned, but ignored there
        await bot.event(message("How big is the campus?", channel="C0RANDOM", channel_type="channel"))
        asked = message("How big is the campus?", channel="C0ASK", channel_type="channel")
        await bot.event(asked)  # no mention needed here
        await slack.wait_for(lambda: slack.posted())
        await bot.event(message("and where is it?", channel="C0ASK", channel_type="channel", thread_ts=asked["ts"]))
        await slack.wait_for(lambda: len(slack.posted()) == 2)
        await asyncio.sleep(0.5)
    first, follow_up = slack.posted()
    assert first["channel"] == "C0ASK" and first["thread_ts"] == asked["ts"] and "hectares" in section_text(first)
    assert follow_up["channel"] == "C0ASK" and follow_up["thread_ts"] == asked["ts"]
    assert "Hangzhou" in section_text(follow_up)


@pytest.mark.parametrize("command, text, expect", [
    ("/ask", "How big is the campus?", "hectares"),
    ("/positions", "robotics", "Researcher or chief scientist in robotics and automation"),
    ("/positions", "", "Researcher or chief scientist in machine learning"),
    ("/match", "I design FPGA accelerators and AI chips for neural network inference.", "Why: "),
    ("/match", "我是一名护士，在医院工作了十年。", "没有找到与您背景契合的开放岗位"),
])
async def test_commands_are_acknowledged_then_answered(slack, kb_assistant, tmp_path, command, text, expect):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        started = time.perf_counter()
        response = await bot.form({"token": "unused", "team_id": TEAM, "channel_id": "C0JOBS", "user_id": HUMAN,
                                   "command": command, "text": text, "response_url": slack.response_url("cmd"),
                                   "trigger_id": "1.2.3"})
        acked_in = time.perf_counter() - started
        await slack.wait_for(lambda: slack.responses)
    assert response.status == 200 and acked_in < 3
    [answer] = slack.responses
    assert answer["response_type"] == "ephemeral" and expect in section_text(answer)
    if command == "/ask" or "Why" in expect or "robotics" in text:  # cited, sources under the answer
        assert "[1]" in section_text(answer) and "Sources" in context_text(answer)


async def test_match_me_in_a_mention_is_matched(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        await bot.event(mention("match me: I maintain an open-source deep learning framework used by other labs"))
        await slack.wait_for(lambda: slack.posted())
    [post] = slack.posted()
    assert "Researcher or chief scientist in open-source AI platforms" in section_text(post)
    assert "Next step:" in section_text(post)


async def test_feedback_click_is_stored_and_acknowledged(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        await bot.event(message("How big is the campus?"))
        await slack.wait_for(lambda: slack.posted())
        [post] = slack.posted()
        [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
        helpful = next(e for e in actions["elements"] if e["action_id"] == "feedback_helpful")
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": HUMAN},
                   "api_app_id": "A0LAB", "token": "unused", "trigger_id": "1.2.3",
                   "container": {"type": "message", "message_ts": "1.1", "channel_id": "D0CANDIDATE"},
                   "channel": {"id": "D0CANDIDATE"}, "response_url": slack.response_url("click"),
                   "message": {"type": "message", "ts": "1.1", "text": post["text"], "blocks": post["blocks"]},
                   "actions": [{**helpful, "block_id": "feedback", "action_ts": "1.2"}]}
        response = await bot.form({"payload": json.dumps(payload)})
        await slack.wait_for(lambda: slack.responses)
        rows = bot.bot.assistant.records.feedback()
    assert response.status == 200
    [row] = rows
    assert row["helpful"] == 1 and row["question"] == "How big is the campus?"
    assert "hectares" in row["answer"] and "campus.md" in row["sources"]
    [update] = slack.responses
    assert update["replace_original"] is True
    assert "feedback was recorded" in context_text(update)
    assert not [b for b in update["blocks"] if b["type"] == "actions"], "the buttons are gone after the click"


async def test_long_answer_becomes_valid_blocks_that_lose_nothing(slack, tmp_path, embedder):
    assistant = long_answer_assistant(tmp_path, embedder)
    expected = (await assistant.answer(Question(LONG_QUESTION, conversation="reference"))).text
    assert len(expected) > 6000
    async with running(slack, assistant, tmp_path) as bot:
        await bot.event(message(LONG_QUESTION))
        await slack.wait_for(lambda: slack.posted())
        await asyncio.sleep(0.5)
    posts = slack.posted()
    for post in posts:
        assert len(post["blocks"]) <= MAX_BLOCKS
        for block in post["blocks"]:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT
            if block["type"] == "context":
                assert len(block["elements"]) <= 10
    sections = [section_text(p) for p in posts]
    assert sum(len([b for b in p["blocks"] if b["type"] == "section"]) for p in posts) >= 3
    assert re.sub(r"\s+", "", "".join(sections)) == re.sub(r"\s+", "", expected)


async def test_failure_gets_one_apology_in_the_thread_and_the_app_keeps_serving(slack, kb_assistant, tmp_path,
                                                                                 caplog):
    assistant = fresh_assistant(kb_assistant, embedder=FailingEmbedder(kb_assistant.embedder))
    async with running(slack, assistant, tmp_path) as bot:
        event = mention("EXPLODE where is the campus?")
        await bot.event(event)
        await slack.wait_for(lambda: slack.posted())
        await bot.event(mention("Where is the campus?"))
        await slack.wait_for(lambda: len(slack.posted()) == 2)
    apology, answer = slack.posted()
    assert apology["thread_ts"] == event["ts"] and section_text(apology).startswith("Sorry, something went wrong")
    assert not [b for b in apology["blocks"] if b["type"] == "actions"]
    assert "simulated embedding failure" in caplog.text
    assert "Hangzhou" in section_text(answer)


async def test_rate_limit_is_shared_core_behaviour(slack, kb_assistant, tmp_path):
    assistant = fresh_assistant(kb_assistant, chat={"rate_limit_messages": 1, "rate_limit_seconds": 600})
    async with running(slack, assistant, tmp_path) as bot:
        await bot.event(message("Where is the campus?"))
        await slack.wait_for(lambda: len(slack.posted()) == 1)
        await bot.event(message("How big is the campus?"))
        await slack.wait_for(lambda: len(slack.posted()) == 2)
    assert "wait about" in section_text(slack.posted()[1])


async def test_healthz_answers_for_load_balancers(slack, kb_assistant, tmp_path):
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        async with bot.session.get(bot.url + "/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_socket_mode_through_a_loopback_websocket(slack, kb_assistant, tmp_path):
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    bot = make_bot(slack, fresh_assistant(kb_assistant), tmp_path, signing_secret=None)
    handler = AsyncSocketModeHandler(bot.app, "xapp-test")
    await handler.connect_async()
    try:
        event = mention("Where is the campus?")
        await slack.push({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                          "retry_attempt": 0, "retry_reason": "", "payload": event_body(event)})
        await slack.wait_for(lambda: slack.posted())
    finally:
        await handler.close_async()
    assert any(a.get("envelope_id") == "env-1" for a in slack.acks)
    assert [c.method for c in slack.calls if c.method == "apps.connections.open"]
    [post] = slack.posted()
    assert post["thread_ts"] == event["ts"] and "Hangzhou" in section_text(post)


async def test_rejected_bot_token_is_a_clear_error(slack, kb_assistant, tmp_path):
    slack.reject_token = True
    bot = make_bot(slack, fresh_assistant(kb_assistant), tmp_path, token="xoxb-bad")
    with pytest.raises(BotError, match="Slack rejected SLACK_BOT_TOKEN"):
        await bot.check_credentials()


@pytest.mark.parametrize("env, expect", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-secret-1"}, "SLACK_SIGNING_SECRET is not set"),
    ({"SLACK_BOT_TOKEN": "xoxp-secret-2", "SLACK_SIGNING_SECRET": "secret-3"}, "starting with xoxb-"),
    ({"SLACK_BOT_TOKEN": "xoxb-secret-4", "SLACK_APP_TOKEN": "xoxb-secret-5"}, "starting with xapp-"),
])
def test_missing_or_malformed_credentials_exit_with_a_message(tmp_path, env, expect):
    config_toml(tmp_path)
    result = run_cli("slack", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert expect in result.stderr and "Traceback" not in result.stderr
    for secret in env.values():
        assert secret not in result.stderr


def test_app_manifest_subscribes_to_what_the_adapter_handles():
    import yaml
    from conftest import ROOT

    manifest = yaml.safe_load((ROOT / "deploy" / "slack-manifest.yml").read_text(encoding="utf-8"))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mention", "message.im", "message.channels"} <= events
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history"} <= scopes
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == list(slack_adapter.COMMANDS)
    # The descriptions are the command registry's (bot.messages.COMMANDS), which Discord and the console show too.
    from bot import messages
    assert {c["command"]: c["description"] for c in manifest["features"]["slash_commands"]} == {
        f"/{c.name}": c.description["en"] for c in messages.COMMANDS if c.slack}
    assert manifest["settings"]["interactivity"]["is_enabled"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"]


async def test_llm_answer_grows_by_updates_then_becomes_blocks(slack, kb_assistant, tmp_path, llm):
    llm.reply = streamed_campus_answer
    updates = lambda: [c.body for c in slack.calls if c.method == "chat.update"]  # noqa: E731
    async with running(slack, with_llm(kb_assistant, llm, stream_edit_seconds=0.2), tmp_path) as bot:
        event = mention("How big is the campus?")
        await bot.event(event)
        await slack.wait_for(lambda: any(u.get("blocks") for u in updates()))
    [preview] = slack.posted()
    assert preview["thread_ts"] == event["ts"] and "blocks" not in preview
    assert not any("[7]" in u["text"] for u in [preview, *updates()]), "an invalid citation never shows"
    final = updates()[-1]
    assert final["ts"] and section_text(final) == STREAMED_CAMPUS
    assert "Campus and location" in context_text(final) and [b for b in final["blocks"] if b["type"] == "actions"]
