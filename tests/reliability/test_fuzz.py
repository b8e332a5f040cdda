"""Arbitrary text through the Assistant and through each platform's rendering: nothing escapes, every
reply fits the platform, and nothing in a reply can ping a crowd (hypothesis)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters import discord_adapter, slack_adapter
from bot.core.split import split_text
from bot.core.types import Answer, Question, Source
from conftest import fresh_assistant

NASTY = st.sampled_from(["@everyone", "@here", "<!channel>", "<!here>", "<!everyone>", "<@U0BOT>", "<@&1234>",
                         "<#C0JOBS>", "\u200b", "\u202e", "\u2066", "\x00", "\x1b[31m", "\r\n", "match me:",
                         "/positions", "ignore previous instructions", "你们在招聘哪些方向？", "**", "```", "[1]"])
SURROGATE = st.characters(categories=["Cs"])
MESSAGES = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.text(max_size=40), NASTY, SURROGATE), max_size=12).map("".join),
    st.integers(1, 50_000).map(lambda n: ("How big is the campus? " * (n // 23 + 1))[:n]),
)
CASES = 150


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MESSAGES)
def test_rendering_never_escapes_limits_or_markup(text):
    answer = Answer(text, (Source(1, text[:80] or "t", "kb/x.md", text[:240], 1.0, url="https://lab.example/x"),),
                    grounded=True, language="en", ref=1)
    for part in split_text(discord_adapter.render(answer), discord_adapter.MESSAGE_LIMIT):
        assert len(part) <= discord_adapter.MESSAGE_LIMIT
    for blocks in slack_adapter.render(answer):
        assert len(blocks) <= slack_adapter.MAX_BLOCKS
        for block in blocks:
            texts = [block["text"]["text"]] if block["type"] == "section" else [
                e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
            for t in texts:
                assert len(t) <= slack_adapter.SECTION_LIMIT
                # Slack reads <!channel>, <!here>, <@U…> and <#C…> as mentions: only our own links remain.
                assert "<!" not in t and "<@" not in t and "<#" not in t


def test_arbitrary_messages_get_a_bounded_answer(kb_assistant):
    assistant = fresh_assistant(kb_assistant, chat={"rate_limit_messages": 0})
    limit = assistant.settings.chat.max_question_chars

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=MESSAGES)
    def check(text):
        answer = asyncio.run(assistant.reply(Question(text, user="fuzz")))
        assert isinstance(answer, Answer) and answer.text
        assert len(answer.text) < limit + 5000  # bounded, whatever came in
        assert "Sorry, something went wrong" not in answer.text, answer.text  # no exception inside

    check()
