"""Handoff to a person by email (a real SMTP server, aiosmtpd, on 127.0.0.1), routed by topic; a failed
destination; and no personal data or secret in any log line."""

from __future__ import annotations

import email
import email.policy
import logging

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from bot import logs
from bot.core.types import Question
from conftest import config_toml, fresh_assistant, run_cli
from loopback import free_port

DISCORD = dict(user="discord:77", conversation="discord:dm:77", platform="discord")


class Inbox:
    def __init__(self) -> None:
        self.mail: list = []

    async def handle_DATA(self, server, session, envelope):
        self.mail.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    """An SMTP server on 127.0.0.1 that wants a login (user "bot", password "smtp-pass-canary")."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                            authenticator=lambda server, session, envelope, mechanism, auth: AuthResult(
                                success=(auth.login, auth.password) == (b"bot", b"smtp-pass-canary")))
    controller.start()
    yield controller, inbox
    controller.stop()


def text_of(mail) -> str:
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    return f"Subject: {message['subject']}\n{message.get_content()}"


def handoff_settings(port: int, **extra) -> dict:
    return {"email": "recruiting@lab.example", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
            "smtp_user": "bot", "smtp_from": "bot@lab.example", **extra}


async def test_handoff_by_email_routes_pay_questions_to_hr_with_the_conversation(kb_assistant, smtp, monkeypatch):
    from bot.config import HandoffRoute

    controller, inbox = smtp
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pass-canary")
    hr = HandoffRoute(name="the HR team", topics=("pay", "visa"), email="hr@lab.example")
    assistant = fresh_assistant(kb_assistant, handoff=handoff_settings(controller.port, routes=(hr,)))
    await assistant.reply(Question("How big is the campus?", **DISCORD))
    await assistant.reply(Question("What is the salary for a postdoc?", **DISCORD))
    offer = await assistant.reply(Question("Can I talk to a person?", **DISCORD))
    assert "pass this conversation (2 question(s)" in offer.text and "the HR team" in offer.text
    assert [c.id for c in offer.choices] == ["handoff_yes", "handoff_no"]
    assert inbox.mail == []  # nothing is sent before the yes
    sent = await assistant.reply(Question("yes", **DISCORD))
    assert sent.text.startswith("Sent: the HR team will reply here on Discord")
    [mail] = inbox.mail
    assert mail.rcpt_tos == ["hr@lab.example"] and mail.mail_from == "bot@lab.example"
    body = text_of(mail)
    assert "Subject: Candidate handoff from discord (pay)" in body and "user discord:77" in body
    assert "Q: How big is the campus?" in body and "hectares" in body and "Sources: [1]" in body
    assert "Request: Can I talk to a person?" in body
    [record] = assistant.records.handoffs()
    assert record["status"] == "sent" and record["destination"] == "email:hr@lab.example"


async def test_other_questions_go_to_the_default_destination_in_chinese(kb_assistant, smtp, monkeypatch):
    controller, inbox = smtp
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pass-canary")
    assistant = fresh_assistant(kb_assistant, handoff=handoff_settings(controller.port))
    await assistant.reply(Question("之江实验室在哪里？", **DISCORD))
    offer = await assistant.reply(Question("我想联系招聘人员", **DISCORD))
    assert "转给招聘团队" in offer.text and "在Discord上回复您" in offer.text
    sent = await assistant.reply(Question("发送", **DISCORD))
    assert sent.text.startswith("已发送：")
    [mail] = inbox.mail
    assert mail.rcpt_tos == ["recruiting@lab.example"] and "之江实验室在哪里" in text_of(mail)


async def test_no_means_nothing_is_sent(kb_assistant, smtp, monkeypatch):
    controller, inbox = smtp
    assistant = fresh_assistant(kb_assistant, handoff=handoff_settings(controller.port))
    await assistant.reply(Question("talk to a human please", **DISCORD))
    declined = await assistant.reply(Question("", choice="handoff_no", **DISCORD))
    assert declined.text == "OK, nothing was sent." and inbox.mail == [] and assistant.records.handoffs() == []


async def test_without_a_destination_the_candidate_gets_the_contact(kb_assistant):
    answer = await fresh_assistant(kb_assistant).reply(Question("talk to a person", **DISCORD))
    assert "talents@zhejianglab.com" in answer.text and not answer.choices


async def test_a_failed_destination_is_said_and_the_request_kept(kb_assistant, tmp_path):
    closed = free_port()  # nothing listens there
    assistant = fresh_assistant(kb_assistant, handoff=handoff_settings(closed, smtp_user=""))
    await assistant.reply(Question("How big is the campus?", **DISCORD))
    await assistant.reply(Question("talk to a person", **DISCORD))
    failed = await assistant.reply(Question("yes", **DISCORD))
    assert "couldn't reach the recruitment team" in failed.text and "recruiting@lab.example" in failed.text
    [record] = assistant.records.handoffs()
    assert record["status"] == "failed"
    config = config_toml(tmp_path, f'[interest]\ndb = "{assistant.records.path}"\n')
    listed = run_cli("--config", str(config), "interest", "handoffs", cwd=tmp_path)
    assert "failed  discord discord:77 -> email:recruiting@lab.example" in listed.stdout


async def test_no_personal_data_or_secret_in_any_log_line(kb_assistant, smtp, monkeypatch, capfd):
    """Canaries planted in every flow; the bots' own log set-up at debug level; then grep."""
    controller, _ = smtp
    canaries = ["Zqxcanary", "Wuvname", "zqx.canary@example.org", "+86 138 0013 8000", "smtp-pass-canary",
                "discord-token-canary"]
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pass-canary")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-canary")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.setup(logging.DEBUG, "json", extra_secret_names=("SMTP_PASSWORD",))
    try:
        assistant = fresh_assistant(kb_assistant, handoff=handoff_settings(controller.port, discord_channel="123"))
        for text in ("I'm interested", "yes", "Zqxcanary Wuvname", "zqx.canary@example.org", "robotics",
                     "call me on +86 138 0013 8000", "My name is Zqxcanary Wuvname, how big is the campus?",
                     "talk to a person", "yes", "forget me", "yes"):
            await assistant.reply(Question(text, **DISCORD))
        logging.getLogger("bot.test").warning("candidate %s <%s> wrote", "Zqxcanary Wuvname", "zqx.canary@example.org")
    finally:
        root.handlers[:], root.level = saved
    logged = capfd.readouterr().err
    assert "interest registered on discord" in logged and "candidate [name] <[email]> wrote" in logged
    assert "could not hand a conversation off" in logged  # the Discord channel was unreachable: logged, masked
    for canary in canaries:
        assert canary not in logged, canary
