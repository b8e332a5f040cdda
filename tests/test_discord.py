"""The real discord.py client, driven through a fake Discord server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re

import discord
import pytest
import yarl

from bot.adapters import discord_adapter
from bot.adapters.discord_adapter import MESSAGE_LIMIT, render
from bot.core.types import Question
from bot.errors import BotError
from conftest import (LONG_QUESTION, FailingEmbedder, config_toml, fresh_assistant, long_answer_assistant, run_cli,
                      with_llm)
from discord_driver import ask_and_wait, running
from fake_discord import BOT_USER, CHANNEL_ID, DM_CHANNEL_ID, OTHER_BOT
from fake_llm import STREAMED_CAMPUS, streamed_campus_answer

MESSAGE_CONTENT = discord.Intents(message_content=True).value


async def test_mention_in_a_channel_gets_one_cited_reply_to_that_message(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        question = fake.message(f"<@{BOT_USER['id']}> What does the lab do in machine learning?", mentions=[BOT_USER])
        [reply] = await ask_and_wait(fake, question)
        await asyncio.sleep(0.3)  # nothing else follows
    assert len(fake.posted_messages()) == 1
    assert str(reply.body["message_reference"]["message_id"]) == question["id"]
    content = reply.body["content"]
    assert "machine learning" in content.lower() and "[1]" in content and "**Sources**" in content
    assert "<@" not in content  # the mention was not treated as part of the question
    assert reply.body["allowed_mentions"]["parse"] == []  # quoted text can never ping anyone
    assert fake.sent("POST", f"channels/{CHANNEL_ID}/typing"), "typing shown while answering"


async def test_direct_message_gets_a_reply_in_the_dm(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        [reply] = await ask_and_wait(fake, fake.message("Where is the campus?", channel_id=DM_CHANNEL_ID, guild=False),
                                     channel=DM_CHANNEL_ID)
    assert "Hangzhou" in reply.body["content"] and "[1]" in reply.body["content"]


async def test_chinese_direct_message_gets_a_chinese_answer(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        [reply] = await ask_and_wait(fake, fake.message("之江实验室在哪里？", channel_id=DM_CHANNEL_ID, guild=False),
                                     channel=DM_CHANNEL_ID)
    assert "杭州" in reply.body["content"] and "**来源**" in reply.body["content"]


async def test_own_and_other_bots_messages_and_unaddressed_ones_are_ignored(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        await fake.dispatch("MESSAGE_CREATE", fake.message("Where is the campus?", author=BOT_USER,
                                                           channel_id=DM_CHANNEL_ID, guild=False))
        await fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{BOT_USER['id']}> Where is the campus?",
                                                           author=OTHER_BOT, mentions=[BOT_USER]))
        await fake.dispatch("MESSAGE_CREATE", fake.message("Where is the campus?"))  # no mention
        # A message that is answered, dispatched last: once its reply is there, the others had their turn.
        await ask_and_wait(fake, fake.message("marker: where is the campus?", channel_id=DM_CHANNEL_ID, guild=False),
                           channel=DM_CHANNEL_ID)
    assert len(fake.posted_messages(DM_CHANNEL_ID)) == 1
    assert fake.posted_messages(CHANNEL_ID) == []


async def test_empty_mention_gets_the_help_text(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        [reply] = await ask_and_wait(fake, fake.message(f"<@{BOT_USER['id']}>", mentions=[BOT_USER]))
    assert "research areas" in reply.body["content"] and "talents@zhejianglab.com" in reply.body["content"]


async def test_overlong_question_is_cut_with_a_note(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant, chat={"max_question_chars": 200})
    async with running(fake, assistant):
        text = "Where is the campus? " + "please " * 1000
        [reply] = await ask_and_wait(fake, fake.message(text, channel_id=DM_CHANNEL_ID, guild=False),
                                     channel=DM_CHANNEL_ID)
    assert "first 200 characters" in reply.body["content"]
    assert len(reply.body["content"]) <= MESSAGE_LIMIT


async def test_long_answer_is_split_into_messages_that_lose_nothing(fake, tmp_path, embedder):
    assistant = long_answer_assistant(tmp_path, embedder)
    question = LONG_QUESTION
    expected = render(await assistant.answer(Question(question, conversation="reference")))
    assert len(expected) > 2 * MESSAGE_LIMIT, "the document must produce a long answer"

    async with running(fake, assistant):
        parts = await ask_and_wait(fake, fake.message(question, channel_id=DM_CHANNEL_ID, guild=False),
                                   replies=3, channel=DM_CHANNEL_ID)
        await asyncio.sleep(0.3)
    parts = [c.body["content"] for c in fake.posted_messages(DM_CHANNEL_ID)]
    assert len(parts) >= 3 and all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert re.sub(r"\s+", "", "".join(parts)) == re.sub(r"\s+", "", expected)
    flat = " ".join(expected.split())
    for before, after in zip(parts, parts[1:]):  # every cut is at whitespace, never inside a word
        assert " ".join(before.split()) + " " + " ".join(after.split()) in flat


@pytest.mark.parametrize("command, options, locale, expect", [
    ("ask", {"question": "How big is the campus?"}, "en-US", "[1]"),
    ("positions", None, "en-US", "machine learning"),
    ("apply", None, "en-US", "talents@zhejianglab.com"),
    ("about", None, "en-US", "alibaba"),
    ("positions", None, "zh-CN", "机器学习"),
    ("positions", {"area": "robotics"}, "en-US", "researcher or chief scientist in robotics and automation"),
    ("positions", {"level": "postdoc"}, "en-US", "no open position or programme for postdoc"),
    ("match", {"background": "My PhD was on spiking neural networks and brain-inspired computing."}, "en-US",
     "why: \"the lab is building research facilities for brain-inspired computing"),
    ("match", {"background": "我研究语音识别和自然语言处理。"}, "zh-CN", "理由："),
])
async def test_slash_command_is_deferred_then_answered_by_follow_up(fake, kb_assistant, command, options, locale,
                                                                    expect):
    async with running(fake, fresh_assistant(kb_assistant)):
        interaction = fake.slash(command, options, locale=locale)
        await fake.dispatch("INTERACTION_CREATE", interaction)
        await fake.wait_for(lambda: fake.sent("POST", "webhooks/"))
    callback = fake.sent("POST", f"interactions/{interaction['id']}/")
    follow_ups = fake.sent("POST", f"webhooks/{BOT_USER['id']}/{interaction['token']}")
    assert len(callback) == 1 and callback[0].body["type"] == 5  # deferred "thinking" response
    assert fake.calls.index(callback[0]) < fake.calls.index(follow_ups[0])
    assert expect in follow_ups[0].body["content"].lower() or expect in follow_ups[0].body["content"]


async def test_slash_commands_are_registered_on_start(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        pass
    [put] = fake.sent("PUT", f"applications/{BOT_USER['id']}/commands")
    assert {c["name"] for c in put.body} == {"ask", "positions", "match", "about", "apply", "help", "interest", "handoff",
                                         "forget", "new"}
    positions = next(c for c in put.body if c["name"] == "positions")
    assert [(o["name"], o["required"]) for o in positions["options"]] == [("area", False), ("level", False)]
    ask = next(c for c in put.body if c["name"] == "ask")
    assert ask["options"][0]["name"] == "question" and ask["options"][0]["required"]
    # Described from the one command registry, in Chinese for Chinese clients.
    assert positions["description"] == "Open positions and programmes, with how to apply"
    assert positions["description_localizations"]["zh-CN"] == "开放的岗位与项目，以及申请方式"
    assert ask["options"][0]["description_localizations"]["zh-TW"] == "您的问题（中文或英文）"


async def test_rate_limit_answers_politely_and_only_once_over(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant, chat={"rate_limit_messages": 2, "rate_limit_seconds": 600})
    async with running(fake, assistant):
        for _ in range(3):
            replies = await ask_and_wait(fake, fake.message("Where is the campus?", channel_id=DM_CHANNEL_ID,
                                                            guild=False), channel=DM_CHANNEL_ID)
    contents = [c.body["content"] for c in fake.posted_messages(DM_CHANNEL_ID)]
    assert len(contents) == 3
    assert all("Hangzhou" in c for c in contents[:2])
    assert "wait about" in replies[0].body["content"] and "Hangzhou" not in replies[0].body["content"]


async def test_client_reconnects_after_the_gateway_drops(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        await fake.drop_connection()
        await fake.wait_connected()
        [reply] = await ask_and_wait(fake, fake.message("Where is the campus?", channel_id=DM_CHANNEL_ID, guild=False),
                                     channel=DM_CHANNEL_ID)
    assert fake.resumes + len(fake.identified) >= 2
    assert "Hangzhou" in reply.body["content"]


async def test_failure_inside_the_assistant_gets_one_apology_and_the_bot_carries_on(fake, kb_assistant, caplog):
    assistant = fresh_assistant(kb_assistant, embedder=FailingEmbedder(kb_assistant.embedder))
    async with running(fake, assistant):
        [apology] = await ask_and_wait(fake, fake.message("EXPLODE where is the campus?", channel_id=DM_CHANNEL_ID,
                                                          guild=False), channel=DM_CHANNEL_ID)
        [answer] = await ask_and_wait(fake, fake.message("Where is the campus?", channel_id=DM_CHANNEL_ID,
                                                         guild=False), channel=DM_CHANNEL_ID)
    assert apology.body["content"].startswith("Sorry, something went wrong")
    assert "simulated embedding failure" in caplog.text  # the traceback is logged, not shown
    assert "simulated" not in apology.body["content"]
    assert "Hangzhou" in answer.body["content"]


async def test_listed_channels_need_no_mention_and_ignored_ones_get_nothing(fake, kb_assistant):
    other = 3001
    assistant = fresh_assistant(kb_assistant, discord={"answer_channels": (str(CHANNEL_ID),),
                                                       "ignore_channels": (str(other),)})
    async with running(fake, assistant):
        await fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{BOT_USER['id']}> Where is the campus?",
                                                           channel_id=other, mentions=[BOT_USER]))
        [reply] = await ask_and_wait(fake, fake.message("Where is the campus?"))
    assert "Hangzhou" in reply.body["content"]
    assert fake.posted_messages(other) == []
    assert fake.identified[0]["intents"] & MESSAGE_CONTENT, "needed to read messages without a mention"


async def test_reply_in_thread_answers_there_and_follow_ups_need_no_mention(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant, discord={"reply_in_thread": True})
    async with running(fake, assistant):
        question = fake.message(f"<@{BOT_USER['id']}> Where is the campus?", mentions=[BOT_USER])
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.wait_for(lambda: fake.threads and fake.posted_messages(int(fake.threads[0]["id"])))
        thread_id = int(fake.threads[0]["id"])
        [follow_up] = await ask_and_wait(fake, fake.message("How big is it?", channel_id=thread_id),
                                         channel=thread_id)
    [created] = fake.sent("POST", f"channels/{CHANNEL_ID}/messages/{question['id']}/threads")
    assert created.body["name"] == "Where is the campus?"
    assert fake.posted_messages(CHANNEL_ID) == []
    first = fake.posted_messages(thread_id)[0]
    assert "Hangzhou" in first.body["content"]
    assert "hectares" in follow_up.body["content"], "the follow-up is understood from the thread's memory"


async def test_default_set_up_asks_discord_for_no_privileged_intent(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        pass
    [identify] = fake.identified
    privileged = MESSAGE_CONTENT | discord.Intents(members=True, presences=True).value
    assert identify["intents"] & privileged == 0
    wanted = discord.Intents(identify["intents"])
    assert wanted.dm_messages and wanted.guild_messages and wanted.guilds


async def test_rejected_token_is_a_clear_error(fake, kb_assistant):
    fake.reject_token = True
    with pytest.raises(BotError, match="rejected the token in DISCORD_TOKEN"):
        await discord_adapter.serve(fresh_assistant(kb_assistant), kb_assistant.settings, "bad-token")


def test_missing_token_exits_with_a_message_not_a_traceback(tmp_path):
    config_toml(tmp_path)
    result = run_cli("discord", cwd=tmp_path)
    assert result.returncode == 1
    assert "DISCORD_TOKEN is not set" in result.stderr and "Traceback" not in result.stderr


def test_invite_url_has_the_scopes_and_minimal_permissions(tmp_path):
    token = "MTAwMA.fake.token"  # "1000" in base64, as real tokens start with the application ID
    config_toml(tmp_path)
    result = run_cli("discord", "--invite-url", cwd=tmp_path, env={"DISCORD_TOKEN": token})
    assert result.returncode == 0, result.stderr
    url = yarl.URL(result.stdout.strip())
    assert url.query["client_id"] == "1000"
    assert set(url.query["scope"].split()) == {"bot", "applications.commands"}
    granted = discord.Permissions(int(url.query["permissions"]))
    assert granted.send_messages and granted.read_message_history and not granted.administrator
    assert not granted.manage_messages and not granted.mention_everyone
    assert token not in result.stdout + result.stderr


async def test_llm_answer_grows_by_edits_then_becomes_the_checked_answer(fake, kb_assistant, llm):
    llm.reply = streamed_campus_answer
    edits = lambda: fake.sent("PATCH", f"channels/{DM_CHANNEL_ID}/messages/")  # noqa: E731
    async with running(fake, with_llm(kb_assistant, llm, stream_edit_seconds=0.2)):
        [first] = await ask_and_wait(fake, fake.message("How big is the campus?", channel_id=DM_CHANNEL_ID,
                                                        guild=False), channel=DM_CHANNEL_ID)
        await fake.wait_for(lambda: any("**Sources**" in c.body["content"] for c in edits()))
    assert len(fake.posted_messages(DM_CHANNEL_ID)) == 1, "one message, edited as the answer grows"
    assert len(first.body["content"]) < len(STREAMED_CAMPUS)
    contents = [c.body["content"] for c in edits()]
    assert len(contents) >= 2 and not any("[7]" in c for c in contents + [first.body["content"]])
    assert contents[-1].startswith(STREAMED_CAMPUS)
    assert "Campus and location" in contents[-1]
