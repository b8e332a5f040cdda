"""Slack under load and faults: every event answered exactly once, acknowledged fast, nothing lost."""

from __future__ import annotations

import asyncio
import json
import logging

from conftest import fresh_assistant
from fake_slack import TEAM
from load import slack_burst
from slack_driver import SECRET, event_body, mention, running


async def test_burst_with_retries_duplicates_and_slack_errors_is_answered_exactly_once(slack, kb_assistant, tmp_path,
                                                                                       caplog):
    slack.rate_limited, slack.errors = 0.2, 0.1  # of every posting call, retries included
    assistant = fresh_assistant(kb_assistant, chat={"rate_limit_messages": 0})
    with caplog.at_level(logging.INFO, logger="bot"):
        async with running(slack, assistant, tmp_path) as bot:
            result = await slack_burst(bot, slack, events=200, batch=50)
    print(json.dumps(result))
    assert result["answered_once"] == 200 and result["duplicates"] == 0 and result["lost"] == 0, result
    assert result["apologies"] == 0, result  # the retries outlast the faults
    assert result["http_5xx"] == 0 and result["deliveries"] == 200 * 3 + 20, result
    assert result["slack_429"] > 20 and result["slack_500"] > 10, "the faults really happened"
    assert result["ack_p95_ms"] < 1000, result  # Slack allows 3 s
    assert result["loop_lag_max_ms"] < 500, result
    # One INFO line per answered event, with the user hashed.
    answered = [r.getMessage() for r in caplog.records if r.getMessage().startswith("answered slack user")]
    assert len(answered) == 200 and not any("U00042" in line for line in answered)


async def test_slash_command_answers_reach_their_response_url_through_faults(slack, kb_assistant, tmp_path):
    """Bolt's respond() has no retries; the bot's response-URL client has the Web API's."""
    slack.rate_limited, slack.errors = 0.2, 0.1
    commands = 40
    async with running(slack, fresh_assistant(kb_assistant, chat={"rate_limit_messages": 0}), tmp_path) as bot:
        acks = await asyncio.gather(*(bot.form({"token": "unused", "team_id": TEAM, "channel_id": "C0JOBS",
                                                "user_id": f"U{n:04d}", "command": "/ask", "text": "How big is the campus?",
                                                "response_url": slack.response_url(f"cmd{n}"), "trigger_id": "1.2.3"})
                                      for n in range(commands)))
        await slack.wait_for(lambda: len(slack.responses) >= commands, timeout=120)
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
    assert [a.status for a in acks] == [200] * commands
    assert len(slack.responses) == commands and slack.faults.count(429) > 3 and slack.faults.count(500) > 1
    assert all("hectares" in json.dumps(r) and "Sorry" not in json.dumps(r) for r in slack.responses)


async def test_forged_stale_and_malformed_requests_get_401_and_log_no_body(slack, kb_assistant, tmp_path, caplog):
    canary = "candidate-private-text-7f3a"
    async with running(slack, fresh_assistant(kb_assistant), tmp_path) as bot:
        body = json.dumps(event_body(mention(f"{canary} where is the campus?")))
        forged = await bot.post(body, "application/json", secret="wrong-secret")
        stale = await bot.post(body, "application/json", timestamp=1_600_000_000)
        async with bot.session.post(bot.url + "/slack/events", data=f"not json {canary}",
                                    headers={"Content-Type": "text/plain"}) as unsigned:
            await unsigned.read()
        async with bot.session.post(bot.url + "/slack/events", data=b"\xff\xfe{{{",
                                    headers={"Content-Type": "application/json", "X-Slack-Signature": "v0=00",
                                             "X-Slack-Request-Timestamp": "1"}) as garbage:
            await garbage.read()
    assert [r.status for r in (forged, stale, unsigned, garbage)] == [401, 401, 401, 401]
    assert slack.posted() == []
    assert not any(canary in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text
