"""Discord adapter: DMs, mentions, listed channels and slash commands in; rendered answers out.

It only translates: a Discord event becomes a `Question`, `Assistant.reply` answers it, and
the `Answer` is rendered within Discord's limits. Rate limits, truncation, memory and
apologies for failures all live in the core.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import re

import discord
from discord import app_commands

from bot import messages
from bot.adapters.live import LiveMessage, deliver
from bot.core.split import split_text
from bot.config import DiscordSettings, Settings
from bot.core import nlp
from bot.orchestrator.assistant import Assistant
from bot.core.types import Answer, Form, Question
from bot.errors import BotError

_log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000  # characters in one Discord message
_MENTION = re.compile(r"<@!?(\d+)>")
_ANSWERED_TYPES = (discord.MessageType.default, discord.MessageType.reply)
# How long a button's reply may take before the click is acknowledged without it (Discord allows 3 s);
# a reply ready in time may open a form (a modal must be the first response).
_CHOICE_WAIT_S = 1.5
_FORM_TIMEOUT_S = 1800.0  # an open form is dropped from memory after this (its submission still reaches on_interaction)
_PRIVATE_COMMANDS = ("interest", "handoff", "forget")  # about the candidate's own data: only they see the replies


def render(answer: Answer) -> str:
    """The answer with its numbered sources; links in <> so Discord shows no preview cards."""
    if not answer.sources:
        return answer.text
    lines = [answer.text, "", f"**{messages.say('sources', answer.language)}**"]
    lines += [f"[{s.n}] {s.title} — <{s.url}>" if s.url else f"[{s.n}] {s.title}" for s in answer.sources]
    return "\n".join(lines)


class ChoiceButton(discord.ui.DynamicItem[discord.ui.Button], template=r"choice:(?P<choice>[\w-]+)"):
    """One of a reply's choices (consent, handoff, forget me...); clicked, the core reads it as the
    candidate's answer. Dispatched by its custom_id, so it works after a restart too."""

    def __init__(self, choice: str, label: str | None = None, style: str = ""):
        super().__init__(discord.ui.Button(label=label, custom_id=f"choice:{choice}",
                                           style=_STYLES.get(style, discord.ButtonStyle.secondary)))
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["choice"], item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        await bot.handle(interaction, bot.on_choice(interaction, self.choice))


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=r"feedback:(?P<helpful>[01]):(?P<ref>\d+)"):
    """Helpful / not helpful under an answer on record (`ref`)."""

    def __init__(self, ref: int, helpful: bool, label: str | None = None):
        style = discord.ButtonStyle.success if helpful else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label, custom_id=f"feedback:{int(helpful)}:{ref}", style=style))
        self.ref, self.helpful = ref, helpful

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["ref"]), match["helpful"] == "1", item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        await bot.handle(interaction, bot.on_feedback(interaction, self.ref, self.helpful))


def view(answer: Answer) -> discord.ui.View | None:
    """The answer's choices as buttons; else helpful / not helpful buttons when it is on record."""
    buttons = [ChoiceButton(c.id, c.label[:80], c.style) for c in answer.choices]
    if not buttons and answer.ref is not None:
        buttons = [FeedbackButton(answer.ref, True, messages.say("helpful", answer.language)),
                   FeedbackButton(answer.ref, False, messages.say("not_helpful", answer.language))]
    if not buttons:
        return None
    shown = discord.ui.View(timeout=None)  # its buttons are dispatched by custom_id (DiscordBot.setup_hook)
    for button in buttons:
        shown.add_item(button)
    return shown


_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


def modal(form: Form) -> discord.ui.Modal:
    """A form as a Discord modal (at most 5 fields; labels up to 45 characters)."""
    shown = discord.ui.Modal(title=form.title[:45], custom_id=f"form:{form.id}", timeout=_FORM_TIMEOUT_S)
    for f in form.fields[:5]:
        shown.add_item(discord.ui.TextInput(
            label=f.label[:45], custom_id=f.id, required=f.required, default=f.value[:4000] or None,
            placeholder=f.hint[:100] or None, max_length=1000 if f.long else 300,
            style=discord.TextStyle.paragraph if f.long else discord.TextStyle.short))
    return shown


def submitted(components: list) -> dict[str, str]:
    """Field id -> value from a modal submission (text inputs in action rows or labels)."""
    values = {}
    for c in components:
        if "value" in c and "custom_id" in c:
            values[c["custom_id"]] = c["value"]
        values.update(submitted(c.get("components", []) + ([c["component"]] if "component" in c else [])))
    return values


def intents(config: DiscordSettings) -> discord.Intents:
    """Only what the bot uses. Discord sends the text of DMs and of messages that mention the
    bot without the privileged Message Content intent; other channel messages need it."""
    wanted = discord.Intents.none()
    wanted.guilds = wanted.guild_messages = wanted.dm_messages = True
    wanted.message_content = bool(config.answer_channels) or config.reply_in_thread
    return wanted


def conversation_key(channel: object, user_id: int, *, in_server: bool) -> str:
    """Follow-up memory is per DM, per thread, or per person in a channel."""
    if not in_server:
        return f"discord:dm:{user_id}"
    if getattr(channel, "type", None) in (discord.ChannelType.public_thread, discord.ChannelType.private_thread):
        return f"discord:thread:{channel.id}"
    return f"discord:channel:{channel.id}:{user_id}"


class _Chinese(app_commands.Translator):
    """The commands' Chinese descriptions (bot.messages.COMMANDS) for Discord clients set to Chinese."""

    _LOCALES = (discord.Locale.chinese, discord.Locale.taiwan_chinese)
    _ZH = {text["en"]: text["zh"] for c in messages.COMMANDS for text in (c.description, *(d for _, d in c.options))}

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext) -> str | None:
        return self._ZH.get(string.message) if locale in self._LOCALES else None


class DiscordBot(discord.Client):
    def __init__(self, assistant: Assistant, settings: Settings, **options):
        # Replies notify the candidate; nothing quoted from a document can ping anyone.
        mentions = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True)
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # a text bot: no voice libraries
        super().__init__(intents=intents(settings.discord), allowed_mentions=mentions, **options)
        self.assistant = assistant
        self.config = settings.discord
        self.lab = settings.lab
        self.stream_interval = settings.llm.stream_edit_seconds
        self.tree = app_commands.CommandTree(self)
        self._add_commands()

    # --- start-up -------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ChoiceButton, FeedbackButton)
        await self.tree.set_translator(_Chinese())
        guilds = [discord.Object(int(g)) for g in self.config.command_guilds]
        for guild in guilds:  # registered in these servers at once (global ones take up to an hour)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guilds:
            await self.tree.sync()
        _log.info("slash commands registered %s", f"in {len(guilds)} server(s)" if guilds else "globally")

    async def on_ready(self) -> None:
        _log.info("connected to Discord as %s (%s)", self.user, self.user.id if self.user else "?")

    def _add_commands(self) -> None:
        """The commands of bot.messages.COMMANDS, described in the client's language (_Chinese)."""
        def described(name: str):
            spec = messages.command(name)
            command = self.tree.command(name=name, description=spec.description["en"])
            options = {option: text["en"] for option, text in spec.options}
            return (lambda fn: command(app_commands.describe(**options)(fn))) if options else command

        @described("ask")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await self._answer_interaction(interaction, question)

        @described("positions")
        async def positions(interaction: discord.Interaction, area: str = "", level: str = "") -> None:
            await self._answer_interaction(interaction, f"{area} {level}".strip(), command="positions")

        @described("match")
        async def match(interaction: discord.Interaction, background: str) -> None:
            await self._answer_interaction(interaction, background, command="match")

        for name in ("about", "apply"):
            described(name)(self._shortcut(name))
        for name in ("interest", "handoff", "forget", "help", "new"):
            described(name)(self._plain_command(name))

    def _shortcut(self, name: str):
        async def command(interaction: discord.Interaction) -> None:
            language = _language(interaction)
            question = messages.shortcut_question(name, language, self.lab.display_name(language))
            await self._answer_interaction(interaction, question)
        return command

    def _plain_command(self, name: str):
        async def command(interaction: discord.Interaction) -> None:
            await self._answer_interaction(interaction, "", command=name)
        return command

    # --- messages -------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in _ANSWERED_TYPES:
            return  # itself, other bots, webhooks, system messages
        text = self._addressed_text(message)
        if text is None:
            return
        try:
            channel = message.channel
            if self.config.reply_in_thread and message.guild and not isinstance(channel, discord.Thread):
                title = " ".join(text.split())[:90] or "Question"
                channel = await message.create_thread(name=title, auto_archive_duration=1440)
            conversation = conversation_key(channel, message.author.id, in_server=message.guild is not None)
            question = Question(text, user=f"discord:{message.author.id}", conversation=conversation,
                                platform="discord", shared=message.guild is not None)
            reference = None if channel is not message.channel else message.to_reference(fail_if_not_exists=False)
            async with channel.typing():
                await self._deliver(question, channel.send, reference=reference)
        except Exception:
            _log.exception("could not answer Discord message %s", message.id)
            await self._apologise(message.channel.send, text)

    def _addressed_text(self, message: discord.Message) -> str | None:
        """The question, with the bot's mention removed; None when the message is not for the bot."""
        channel = message.channel
        ids = {str(channel.id), str(getattr(channel, "parent_id", ""))}
        if ids & set(self.config.ignore_channels):
            return None
        own_thread = isinstance(channel, discord.Thread) and channel.owner_id == self.user.id
        if not (message.guild is None or self.user in message.mentions or own_thread
                or ids & set(self.config.answer_channels)):
            return None
        return _MENTION.sub(lambda m: "" if int(m.group(1)) == self.user.id else m.group(0), message.content).strip()

    # --- slash commands -------------------------------------------------------------------

    async def _answer_interaction(self, interaction: discord.Interaction, text: str, *, command: str = "") -> None:
        # Deferred first: Discord allows 3 seconds for the first response, answers may take longer.
        # What concerns the candidate's own data (interest, handoff, forget me) only they see.
        private = command in _PRIVATE_COMMANDS
        try:
            await interaction.response.defer(thinking=True, ephemeral=private)
            question = self._interaction_question(interaction, text, command=command)
            await self._deliver(question, functools.partial(interaction.followup.send, wait=True, ephemeral=private))
        except Exception:
            _log.exception("could not answer Discord interaction %s", interaction.id)
            await self._apologise(interaction.followup.send, text)

    # --- buttons and forms ----------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Submitted forms (buttons are dynamic items; slash commands go to the command tree)."""
        custom_id = (interaction.data or {}).get("custom_id", "")
        if interaction.type == discord.InteractionType.modal_submit and custom_id.startswith("form:"):
            values = submitted(interaction.data.get("components", []))
            await self.handle(interaction, self._on_form(interaction, values))

    async def handle(self, interaction: discord.Interaction, handling) -> None:
        """Awaits `handling` (a click or a form); a failure is logged and the candidate gets the apology."""
        try:
            await handling
        except Exception:
            _log.exception("could not handle Discord interaction %s", interaction.id)
            send = interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
            await self._apologise(send, "")

    def _interaction_question(self, interaction: discord.Interaction, text: str = "", **what) -> Question:
        """A slash command, a click or a submitted form; forms open as modals here."""
        conversation = conversation_key(interaction.channel, interaction.user.id,
                                        in_server=interaction.guild_id is not None)
        return Question(text, user=f"discord:{interaction.user.id}", conversation=conversation, platform="discord",
                        language=_language(interaction), forms=True, **what)

    async def on_choice(self, interaction: discord.Interaction, choice: str) -> None:
        reply = asyncio.create_task(self.assistant.reply(self._interaction_question(interaction, choice=choice)))
        done, _ = await asyncio.wait({reply}, timeout=_CHOICE_WAIT_S)
        if done and reply.result().form is not None:  # a form opens in place of a message
            await interaction.response.send_modal(modal(reply.result().form))
            return
        await interaction.response.edit_message(view=None)  # the buttons have been used
        answer = await reply
        await interaction.followup.send(render(answer)[:MESSAGE_LIMIT], ephemeral=True, **_with_view(answer))

    async def _on_form(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        answer = await self.assistant.reply(self._interaction_question(interaction, values=values))
        await interaction.followup.send(render(answer)[:MESSAGE_LIMIT], ephemeral=True, **_with_view(answer))

    async def on_feedback(self, interaction: discord.Interaction, ref: int, helpful: bool) -> None:
        await self.assistant.feedback(ref, f"discord:{interaction.user.id}", helpful)
        content = interaction.message.content if interaction.message else ""
        language = "zh" if nlp.language(content) == "zh" else "en"
        thanks = f"\n\n*{messages.say('feedback_thanks', language)}*"
        await interaction.response.edit_message(content=(content[:MESSAGE_LIMIT - len(thanks)] + thanks), view=None)

    # --- sending --------------------------------------------------------------------------

    async def _deliver(self, question: Question, send, *, reference: discord.MessageReference | None = None) -> None:
        """Answer through `send` in as many messages as Discord's limit needs (the first one is
        the reply). With an LLM the first message shows the answer while it is generated."""
        as_reply = {"reference": reference} if reference else {}
        live = None
        if self.assistant.llm is not None:
            live = LiveMessage(lambda text: send(text, **as_reply), lambda message, text: message.edit(content=text),
                               interval=self.stream_interval, limit=MESSAGE_LIMIT)
        answer = await self.assistant.reply(question, on_partial=live.update if live else None)
        parts = [{"content": text} for text in split_text(render(answer), MESSAGE_LIMIT)]
        parts[0].update(as_reply)  # the first part is the reply, the buttons go under the last
        parts[-1].update(_with_view(answer))
        await deliver(parts, live, send=lambda part: send(**part),
                      replace=lambda message, part: message.edit(**{k: v for k, v in part.items() if k != "reference"}))

    async def _apologise(self, send, question_text: str) -> None:
        try:
            await send(self.assistant.apology(question_text).text)
        except Exception:
            _log.exception("could not send the apology either")


class ShardedDiscordBot(DiscordBot, discord.AutoShardedClient):
    """The same bot over several gateway connections (shards), for servers past Discord's per-connection
    limit; discord.py routes each event to its shard."""


def client(assistant: Assistant, settings: Settings) -> DiscordBot:
    """One connection, or shards as `[discord] shards` says ("auto" asks Discord how many)."""
    shards = settings.discord.shards
    if not shards:
        return DiscordBot(assistant, settings)
    return ShardedDiscordBot(assistant, settings, shard_count=None if shards == "auto" else int(shards))


def _with_view(answer: Answer) -> dict:
    buttons = view(answer)
    return {"view": buttons} if buttons else {}


def _language(interaction: discord.Interaction) -> str:
    return "zh" if str(interaction.locale).startswith("zh") else "en"


# --- running ------------------------------------------------------------------------------

def application_id(settings: Settings, token: str) -> str:
    """The application ID from config, or from the token (its first part is the ID in base64)."""
    if settings.discord.application_id:
        return settings.discord.application_id
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit():
        raise BotError("cannot read the application ID from DISCORD_TOKEN; set [discord] application_id "
                       "(Developer Portal → your application → General Information → Application ID)")
    return decoded


def invite_url(settings: Settings, token: str) -> str:
    """OAuth2 URL that adds the bot with the fewest permissions it needs."""
    permissions = discord.Permissions(view_channel=True, send_messages=True, send_messages_in_threads=True,
                                      read_message_history=True,  # needed to reply to a message
                                      create_public_threads=settings.discord.reply_in_thread)
    return discord.utils.oauth_url(application_id(settings, token), permissions=permissions,
                                   scopes=("bot", "applications.commands"))


async def serve(assistant: Assistant, settings: Settings, token: str) -> None:
    """Run until cancelled (Ctrl-C, SIGTERM); reconnects are handled by discord.py."""
    bot = client(assistant, settings)
    try:
        async with bot:
            await bot.start(token, reconnect=True)
    except discord.LoginFailure as e:
        raise BotError("Discord rejected the token in DISCORD_TOKEN; copy a fresh one from the Developer "
                       "Portal (your application → Bot → Reset Token)") from e
    except discord.PrivilegedIntentsRequired as e:
        raise BotError("Discord refused the Message Content intent, which [discord] answer_channels or "
                       "reply_in_thread needs: enable it in the Developer Portal (your application → Bot → "
                       "Privileged Gateway Intents → Message Content Intent), or clear those settings") from e
