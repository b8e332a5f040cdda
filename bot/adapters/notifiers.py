"""Sending handed-off conversations (and the report's digest) where `[handoff]` routes them: a Slack
channel, a Discord channel or an email address. The platforms' tokens and the SMTP password come
from the environment."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from email.message import EmailMessage

from bot.candidates.handoff import Destination, HandoffError
from bot.config import Settings
from bot.core.split import split_text

_TIMEOUT_S = 10.0


class PlatformNotifier:
    """The `Notifier` of the bots and the command line: each destination through its own API."""

    def __init__(self, settings: Settings):
        self.settings = settings

    async def send(self, destination: Destination, subject: str, text: str) -> None:
        if destination.kind == "slack":
            await self._slack(destination.address, text)
        elif destination.kind == "discord":
            await self._discord(destination.address, text)
        else:
            await asyncio.to_thread(self._email, destination.address, subject, text)

    async def _slack(self, channel: str, text: str) -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        from bot.adapters.slack_adapter import retry_handlers

        api_url = self.settings.slack.api_url
        client = AsyncWebClient(token=_token("SLACK_BOT_TOKEN"), timeout=int(_TIMEOUT_S), retry_handlers=retry_handlers(),
                                **({"base_url": api_url} if api_url else {}))
        for part in split_text(text, 3000):
            await client.chat_postMessage(channel=channel, text=part, unfurl_links=False, unfurl_media=False)

    async def _discord(self, channel: str, text: str) -> None:
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

    def _email(self, to: str, subject: str, text: str) -> None:
        config = self.settings.handoff
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = subject, config.smtp_from or self.settings.lab.contact_email, to
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


def _token(name: str) -> str:
    token = os.environ.get(name, "")
    if not token:
        raise HandoffError(f"{name} is not set, so the handoff channel cannot be reached")
    return token
