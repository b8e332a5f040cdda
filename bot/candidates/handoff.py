"""Handing a conversation to a person: where it goes (by topic), and sending it there.

Destinations are a Slack channel, a Discord channel or an email address (`[handoff]`, with
`[[handoff.routes]]` sending some topics elsewhere, e.g. pay and visas to HR). Tokens and the SMTP
password come from the environment. A failure raises; the caller tells the candidate and keeps the
request on record.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from bot.config import Settings
from bot.core.compose import SENSITIVE
from bot.core.split import split_text

_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Destination:
    kind: str     # "slack", "discord" or "email"
    address: str  # channel ID or email address
    name: str     # who will answer ("" = the recruitment team)
    topic: str    # what routed it here ("" = the default)

    def __str__(self) -> str:
        return f"{self.kind}:{self.address}"


def route(settings: Settings, texts: list[str]) -> Destination | None:
    """The first route whose topics or words appear in `texts` (the candidate's questions), else the
    default destination; None when nothing is configured."""
    config = settings.handoff
    joined = "\n".join(texts)
    for r in config.routes:
        topics = [t for t in r.topics if SENSITIVE[t].search(joined)]
        words = [w for w in r.words if w.lower() in joined.lower()]
        if topics or words:
            return _destination(r.slack_channel, r.discord_channel, r.email, r.name or config.name,
                                (topics or words)[0])
    return _destination(config.slack_channel, config.discord_channel, config.email, config.name, "")


def _destination(slack: str, discord_channel: str, email: str, name: str, topic: str) -> Destination | None:
    for kind, address in (("slack", slack), ("discord", discord_channel), ("email", email)):
        if address:
            return Destination(kind, address, name, topic)
    return None


def message(request: str, platform: str, user: str, transcript: list[dict], topic: str) -> tuple[str, str]:
    """Subject and plain text of the handoff: who asked, what, and the conversation with its sources."""
    subject = f"Candidate handoff from {platform}" + (f" ({topic})" if topic else "")
    lines = [f"{subject}: user {user}.", f"Request: {request}", ""]
    if transcript:
        lines.append("Conversation so far:")
        for n, turn in enumerate(transcript, 1):
            lines.append(f"{n}. Q: {turn['q']}")
            lines.append(f"   A: {turn['a']}")
            if turn.get("sources"):
                lines.append("   Sources: " + "; ".join(turn["sources"]))
    else:
        lines.append("(No questions before the request.)")
    lines.append("")
    lines.append("Reply to the candidate on " + platform + ("" if platform == "console" else " (user id above)") + ".")
    return subject, "\n".join(lines)


async def send(settings: Settings, destination: Destination, subject: str, text: str) -> None:
    if destination.kind == "slack":
        await _slack(settings, destination.address, text)
    elif destination.kind == "discord":
        await _discord(destination.address, text)
    else:
        await asyncio.to_thread(_email, settings, destination.address, subject, text)


class HandoffError(Exception):
    pass


def _token(name: str) -> str:
    token = os.environ.get(name, "")
    if not token:
        raise HandoffError(f"{name} is not set, so the handoff channel cannot be reached")
    return token


async def _slack(settings: Settings, channel: str, text: str) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=_token("SLACK_BOT_TOKEN"), timeout=int(_TIMEOUT_S),
                            **({"base_url": settings.slack.api_url} if settings.slack.api_url else {}))
    for part in split_text(text, 3000):
        await client.chat_postMessage(channel=channel, text=part, unfurl_links=False, unfurl_media=False)


async def _discord(channel: str, text: str) -> None:
    import aiohttp
    import discord

    headers = {"Authorization": f"Bot {_token('DISCORD_TOKEN')}"}
    url = f"{discord.http.Route.BASE}/channels/{channel}/messages"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_TIMEOUT_S)) as session:
        for part in split_text(text, 2000):
            async with session.post(url, json={"content": part, "allowed_mentions": {"parse": []}},
                                    headers=headers) as response:
                if response.status >= 300:
                    raise HandoffError(f"Discord answered {response.status} for channel {channel}")


def _email(settings: Settings, to: str, subject: str, text: str) -> None:
    config = settings.handoff
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = subject, config.smtp_from or settings.lab.contact_email, to
    mail.set_content(text)
    if config.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=_TIMEOUT_S,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=_TIMEOUT_S)
    with smtp:
        if config.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_user:
            smtp.login(config.smtp_user, os.environ.get(config.smtp_password_env, ""))
        smtp.send_message(mail)
