"""Interest (buttons and a modal), forget me, handoff and feedback buttons through the real discord.py
client against the fake Discord server."""

from __future__ import annotations

import asyncio

from conftest import fresh_assistant
from discord_driver import ask_and_wait, running
from fake_discord import BOT_USER, DM_CHANNEL_ID

RECRUITERS = 7000  # the handoff channel


def buttons(body: dict) -> list[str]:
    return [c["custom_id"] for row in body.get("components", []) for c in row["components"]]


def fields(body: dict) -> dict[str, dict]:
    """A modal's text inputs by custom_id (in action rows or labels)."""
    found = {}
    for row in body["data"]["components"]:
        for c in row.get("components", []) + ([row["component"]] if "component" in row else []):
            found[c["custom_id"]] = c
    return found


async def interact(fake, payload: dict, *, follow_ups: int = 0) -> list:
    """Dispatch an interaction; wait for its response and `follow_ups` follow-up messages."""
    before = len(fake.sent("POST", "webhooks/"))
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.sent("POST", f"interactions/{payload['id']}/"))
    await fake.wait_for(lambda: len(fake.sent("POST", "webhooks/")) >= before + follow_ups)
    [callback] = fake.sent("POST", f"interactions/{payload['id']}/")
    return [callback.body, *[c.body for c in fake.sent("POST", "webhooks/")[before:]]]


async def test_interest_slash_command_then_consent_button_then_modal(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    async with running(fake, assistant):
        deferred, consent = await interact(fake, fake.slash("interest"), follow_ups=1)
        assert deferred["type"] == 5 and "Before you register" in consent["content"]
        assert buttons(consent) == ["choice:consent_yes", "choice:consent_no"]
        posted = fake.message(consent["content"], author=BOT_USER)
        [modal] = await interact(fake, fake.click("choice:consent_yes", posted))
        assert modal["type"] == 9 and modal["data"]["custom_id"] == "form:interest"
        assert list(fields(modal)) == ["name", "email", "areas", "note"]
        assert fields(modal)["note"]["required"] is False and fields(modal)["email"]["required"] is True

        # A wrong email: the candidate is told, and can reopen the form with what they typed.
        values = {"name": "Ada Lovelace", "email": "ada-at-example", "areas": "intelligent robotics", "note": ""}
        _, refused = await interact(fake, fake.submit("form:interest", values), follow_ups=1)
        assert "doesn't look like an email address" in refused["content"]
        assert buttons(refused) == ["choice:interest_edit"] and assistant.records.interest() == []
        [again] = await interact(fake, fake.click("choice:interest_edit", fake.message(refused["content"], author=BOT_USER)))
        assert again["type"] == 9 and fields(again)["name"]["value"] == "Ada Lovelace"

        _, saved = await interact(fake, fake.submit("form:interest", {**values, "email": "ada@example.org"}),
                                  follow_ups=1)
    assert "Thank you, Ada Lovelace" in saved["content"]
    [entry] = assistant.records.interest()
    assert (entry["user"], entry["platform"], entry["email"]) == ("discord:5000", "discord", "ada@example.org")


async def test_interest_in_chinese_follows_the_locale(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        _, consent = await interact(fake, fake.slash("interest", locale="zh-CN"), follow_ups=1)
    assert "登记之前请知悉" in consent["content"]
    assert [c["label"] for row in consent["components"] for c in row["components"]] == ["同意", "不同意"]


async def test_interest_and_forget_me_by_direct_message(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    dm = dict(channel_id=DM_CHANNEL_ID, guild=False)
    async with running(fake, assistant):
        for text in ("我想申请", "同意", "张三", "zs@example.cn", "机器人", "跳过"):  # typed, a field a message
            [reply] = await ask_and_wait(fake, fake.message(text, **dm), channel=DM_CHANNEL_ID)
        assert "谢谢，张三" in reply.body["content"] and len(assistant.records.interest()) == 1
        [asked] = await ask_and_wait(fake, fake.message("删除我的信息", **dm), channel=DM_CHANNEL_ID)
        assert "要删除我保存的关于您的全部信息吗" in asked.body["content"] and len(assistant.records.interest()) == 1
        [gone] = await ask_and_wait(fake, fake.message("删除", **dm), channel=DM_CHANNEL_ID)
    assert gone.body["content"].startswith("已完成：删除了1条意向登记")
    assert assistant.records.interest() == []


async def test_answers_get_feedback_buttons_and_a_click_is_recorded(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    async with running(fake, assistant):
        [answer] = await ask_and_wait(fake, fake.message("How big is the campus?", channel_id=DM_CHANNEL_ID, guild=False),
                                      channel=DM_CHANNEL_ID)
        [helpful, unhelpful] = buttons(answer.body)
        assert helpful.startswith("feedback:1:") and unhelpful.startswith("feedback:0:")
        posted = fake.message(answer.body["content"], author=BOT_USER)
        [update] = await interact(fake, fake.click(unhelpful, posted))
    assert update["type"] == 7 and "Thanks, your feedback was recorded." in update["data"]["content"]
    assert update["data"]["components"] == []  # the buttons are gone
    [row] = assistant.records.feedback()
    assert row["helpful"] == 0 and row["question"] == "How big is the campus?" and row["platform"] == "discord"


async def test_handoff_to_the_recruiters_discord_channel(fake, kb_assistant, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token")  # the handoff is posted with the bot's own token
    assistant = fresh_assistant(kb_assistant, handoff={"discord_channel": str(RECRUITERS)})
    dm = dict(channel_id=DM_CHANNEL_ID, guild=False)
    async with running(fake, assistant):
        await ask_and_wait(fake, fake.message("How big is the campus?", **dm), channel=DM_CHANNEL_ID)
        [offer] = await ask_and_wait(fake, fake.message("Can I talk to a person?", **dm), channel=DM_CHANNEL_ID)
        assert "pass this conversation (1 question(s)" in offer.body["content"]
        assert buttons(offer.body) == ["choice:handoff_yes", "choice:handoff_no"]
        update, sent = await interact(fake, fake.click("choice:handoff_yes", fake.message(offer.body["content"],
                                                                                         author=BOT_USER)), follow_ups=1)
        await asyncio.sleep(0.1)
    assert update["type"] == 7 and update["data"]["components"] == []
    assert sent["content"].startswith("Sent: the recruitment team will reply here on Discord")
    [handed] = fake.posted_messages(RECRUITERS)
    assert "user discord:5000" in handed.body["content"] and "Q: How big is the campus?" in handed.body["content"]
    assert "hectares" in handed.body["content"] and handed.body["allowed_mentions"] == {"parse": []}


async def test_in_a_server_channel_details_are_never_asked_in_the_open(fake, kb_assistant):
    assistant = fresh_assistant(kb_assistant)
    mention = f"<@{BOT_USER['id']}>"
    async with running(fake, assistant):
        [consent] = await ask_and_wait(fake, fake.message(f"{mention} I'm interested", mentions=[BOT_USER]))
        assert buttons(consent.body) == ["choice:consent_yes", "choice:consent_no"]
        [typed] = await ask_and_wait(fake, fake.message(f"{mention} yes", mentions=[BOT_USER]))
        assert "To keep your details private" in typed.body["content"] and "name" not in typed.body["content"].lower()
        # The button opens the private form.
        [modal] = await interact(fake, fake.click("choice:consent_yes", fake.message(consent.body["content"],
                                                                                    author=BOT_USER)))
    assert modal["type"] == 9


async def test_flow_commands_answer_only_the_candidate(fake, kb_assistant):
    async with running(fake, fresh_assistant(kb_assistant)):
        deferred, consent = await interact(fake, fake.slash("interest"), follow_ups=1)
    assert deferred["data"]["flags"] & 64 and consent["flags"] & 64  # ephemeral
