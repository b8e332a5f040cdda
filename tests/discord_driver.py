"""A running DiscordBot against the fake Discord server (shared by the Discord tests)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from bot.adapters import discord_adapter
from fake_discord import CHANNEL_ID, FakeDiscord


@asynccontextmanager
async def running(fake: FakeDiscord, assistant):
    client = discord_adapter.client(assistant, assistant.settings)
    task = asyncio.create_task(client.start("fake-token"))
    try:
        await fake.wait_connected()
        await asyncio.wait_for(client.wait_until_ready(), 15)
        yield client
    finally:
        await client.close()
        [outcome] = await asyncio.gather(task, return_exceptions=True)
        if isinstance(outcome, Exception):
            raise outcome  # the client crashed: that is the failure to report


async def ask_and_wait(fake: FakeDiscord, data: dict, *, replies: int = 1, channel: int = CHANNEL_ID) -> list:
    before = len(fake.posted_messages(channel))
    await fake.dispatch("MESSAGE_CREATE", data)
    await fake.wait_for(lambda: len(fake.posted_messages(channel)) >= before + replies)
    return fake.posted_messages(channel)[before:]
