"""Slack adapter (slack-bolt, async): mentions, DMs, thread follow-ups, slash commands (`/ask`, `/positions`,
`/match`, `/interest`, `/handoff`, `/forget`), buttons (choices, feedback) and forms as modals.

It only translates: a Slack event becomes a `Question`, `Assistant.reply` answers it, and the
`Answer` is rendered as Block Kit within Slack's limits. Bolt acknowledges every event before the
listener runs, so answering never holds up the 3-second acknowledgement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (AsyncConnectionErrorRetryHandler,
                                                         AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import messages
from bot.adapters.live import LiveMessage, deliver
from bot.core.split import split_text
from bot.config import Settings
from bot.core import nlp
from bot.orchestrator.assistant import Assistant
from bot.core.types import Answer, Form, Question
from bot.errors import BotError

_log = logging.getLogger(__name__)

SECTION_LIMIT = 3000   # characters in one section block's text
MAX_BLOCKS = 50        # blocks in one message
CONTEXT_ELEMENTS = 10  # elements in one context block
EVENTS_PATH = "/slack/events"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
_FEEDBACK = re.compile(r"^feedback_(helpful|unhelpful)$")
_CHOICE = re.compile(r"^choice_")
_FORM = re.compile(r"^form:")
COMMANDS = tuple(f"/{c.name}" for c in messages.COMMANDS if c.slack)  # as deploy/slack-manifest.yml lists them


# --- rendering -----------------------------------------------------------------------------

def escape(text: str) -> str:
    """Slack treats &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(answer: Answer) -> list[list[dict]]:
    """Block Kit messages for `answer`: its text in sections, the numbered sources in context
    blocks, and its choices as buttons (or feedback buttons, when it is on record); as many
    messages as the limits need."""
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
                          for part in split_text(escape(answer.text), SECTION_LIMIT)]
    if answer.sources:
        elements = [f"*{messages.say('sources', answer.language)}*"] + [
            f"[{s.n}] <{s.url}|{escape(s.title)}>" if s.url else f"[{s.n}] {escape(s.title)}" for s in answer.sources]
        blocks += [{"type": "context", "elements": [{"type": "mrkdwn", "text": e[:SECTION_LIMIT]}
                                                    for e in elements[i:i + CONTEXT_ELEMENTS]]}
                   for i in range(0, len(elements), CONTEXT_ELEMENTS)]
    if answer.choices:
        blocks.append({"type": "actions", "block_id": "choices", "elements": [
            _button(c.label, f"choice_{c.id}", c.id, c.style or None) for c in answer.choices]})
    elif answer.ref is not None:
        blocks.append({"type": "actions", "block_id": "feedback", "elements": [
            _button(messages.say("helpful", answer.language), "feedback_helpful", str(answer.ref), "primary"),
            _button(messages.say("not_helpful", answer.language), "feedback_unhelpful", str(answer.ref))]})
    return [blocks[i:i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]


def modal(form: Form, metadata: str = "") -> dict:
    """A form as a Slack modal; a refused value is shown under its field (see _on_form)."""
    blocks = []
    for f in form.fields:
        element = {"type": "plain_text_input", "action_id": "value", "multiline": f.long,
                   "max_length": 1000 if f.long else 300}
        if f.value:
            element["initial_value"] = f.value
        if f.hint:
            element["placeholder"] = {"type": "plain_text", "text": f.hint[:150]}
        blocks.append({"type": "input", "block_id": f.id, "optional": not f.required, "element": element,
                       "label": {"type": "plain_text", "text": f.label[:2000]}})
    return {"type": "modal", "callback_id": f"form:{form.id}", "private_metadata": metadata[:3000],
            "title": {"type": "plain_text", "text": form.title[:24]},
            "submit": {"type": "plain_text", "text": form.submit[:24]}, "blocks": blocks}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": label[:75]}, "action_id": action_id,
              "value": value}
    return {**button, "style": style} if style else button


def fallback_text(blocks: list[dict]) -> str:
    """The plain text Slack shows in notifications for a message made of `blocks`."""
    for block in blocks:
        if block["type"] == "section":
            return block["text"]["text"]
    return ""


# --- posting, retried ----------------------------------------------------------------------

# Slack answers 429 (with Retry-After) past about a message a second per channel, and now and then 5xx
# or a dropped connection. Every posting call is retried, backing off up to a few seconds between
# tries, so an answer gets through unless Slack stays down for about half a minute; only then does the
# candidate get the apology (and the answer is still on record for the feedback buttons).
_RETRIES = 10
_BACKOFF_S, _BACKOFF_MAX_S = 0.25, 5.0


class _CappedBackoff(RetryIntervalCalculator):
    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return min(_BACKOFF_MAX_S, RandomJitter().recalculate(_BACKOFF_S * 2 ** current_attempt))


def retry_handlers() -> list[AsyncRetryHandler]:
    backoff = _CappedBackoff()
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=_RETRIES, interval_calculator=backoff),
            AsyncConnectionErrorRetryHandler(max_retry_count=_RETRIES, interval_calculator=backoff)]


def responder(response_url: str):
    """Posts to a slash command's or a button's response URL with the same retries (Bolt's own
    `respond` has none); raises when Slack still refuses."""
    client = AsyncWebhookClient(url=response_url, retry_handlers=retry_handlers())

    async def respond(**message) -> None:
        response = await client.send_dict({k: v for k, v in message.items() if v is not None})
        if response.status_code >= 300:
            raise SlackApiError(f"the response URL answered {response.status_code}", response.body)
    return respond


# --- the app -------------------------------------------------------------------------------

# How long an answered event, and a thread the bot answered in, are remembered (Slack retries within
# minutes; a thread's follow-ups come within days).
_ANSWERED_TTL = 3600
_THREAD_TTL = 7 * 24 * 3600


class SlackBot:
    def __init__(self, assistant: Assistant, settings: Settings, *, bot_token: str,
                 signing_secret: str | None = None, client: AsyncWebClient | None = None):
        self.assistant = assistant
        self.config = settings.slack
        self.stream_interval = settings.llm.stream_edit_seconds
        self.state = assistant.state  # answered events and followed threads, shared by replicas with Redis
        self.signing_secret = signing_secret
        client = client or AsyncWebClient(token=bot_token, **({"base_url": settings.slack.api_url}
                                                              if settings.slack.api_url else {}))
        client.retry_handlers = retry_handlers()  # see _RETRIES
        self.app = AsyncApp(token=bot_token, signing_secret=signing_secret, client=client,
                            request_verification_enabled=signing_secret is not None)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        for command in COMMANDS:
            self.app.command(command)(self._on_command)
        self.app.action(_FEEDBACK)(self._on_feedback)
        self.app.action(_CHOICE)(self._on_choice)
        self.app.view(_FORM)(self._on_form)
        self.app.error(self._on_error)

    async def check_credentials(self) -> None:
        """Fail at start, with a clear message, when Slack does not accept the bot token."""
        try:
            await self.app.client.auth_test()
        except SlackApiError as e:
            raise BotError(f"Slack rejected SLACK_BOT_TOKEN ({e.response.get('error')}); copy the Bot User OAuth "
                           "Token (xoxb-…) from your app's OAuth & Permissions page") from e

    # --- listeners ------------------------------------------------------------------------

    async def _on_mention(self, event: dict, body: dict, client: AsyncWebClient) -> None:
        if event.get("channel") in self.config.ignore_channels:
            return
        thread = event.get("thread_ts") or event["ts"]
        await self._answer_event(event, body, client, thread_ts=thread, follow_key=(event["channel"], thread))

    async def _on_message(self, event: dict, body: dict, client: AsyncWebClient, context) -> None:
        if event.get("subtype") or event.get("bot_id") or event.get("user") == context.bot_user_id:
            return  # edits, joins, bots (itself included)
        thread, channel = event.get("thread_ts"), event.get("channel", "")
        if event.get("channel_type") == "im":
            await self._answer_event(event, body, client, thread_ts=thread, follow_key=None)
        elif f"<@{context.bot_user_id}>" in event.get("text", "") or channel in self.config.ignore_channels:
            return  # a mention also arrives as app_mention, which answers it
        elif channel in self.config.answer_channels:  # every message here is for the bot, as a mention
            await self._answer_event(event, body, client, thread_ts=thread or event["ts"],
                                     follow_key=(channel, thread or event["ts"]))
        elif thread and self.config.follow_threads and await self._remembered(f"thread:{channel}:{thread}"):
            await self._answer_event(event, body, client, thread_ts=thread, follow_key=None)

    async def _answer_event(self, event: dict, body: dict, client: AsyncWebClient, *, thread_ts: str | None,
                            follow_key: tuple | None) -> None:
        # Slack retries events and delivers a mention twice (to any replica): answer each message once.
        if not await self._claim(f"answered:{event['channel']}:{event['ts']}", _ANSWERED_TTL):
            return
        if follow_key:
            await self._claim(f"thread:{follow_key[0]}:{follow_key[1]}", _THREAD_TTL)
        team, channel, user = body.get("team_id", ""), event["channel"], event.get("user", "")
        dm = event.get("channel_type") == "im"
        question = Question(_MENTION.sub("", event.get("text", "")).strip(), user=f"slack:{team}/{user}",
                            conversation=_conversation(team, channel, user, thread_ts, dm=dm), platform="slack",
                            shared=not dm)

        async def post(blocks: list[dict]) -> None:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks,
                                          text=fallback_text(blocks), unfurl_links=False, unfurl_media=False)

        async def replace(ts: str, blocks: list[dict]) -> None:
            await client.chat_update(channel=channel, ts=ts, blocks=blocks, text=fallback_text(blocks))

        live = None
        if self.assistant.llm is not None:  # show the answer while it is generated
            async def start(text: str) -> str:
                return (await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=escape(text)))["ts"]

            async def edit(ts: str, text: str) -> None:
                await client.chat_update(channel=channel, ts=ts, text=escape(text))
            live = LiveMessage(start, edit, interval=self.stream_interval, limit=SECTION_LIMIT)
        await self._deliver(question, post, live=live, replace=replace)

    async def _on_command(self, ack, command: dict) -> None:
        """/ask QUESTION, /positions [AREA or LEVEL], /match BACKGROUND, /interest, /handoff, /forget."""
        await ack()  # at once; the answer follows through the response URL
        team, user = command.get("team_id", ""), command.get("user_id", "")
        name = command.get("command", "/ask").lstrip("/")
        question = Question(command.get("text", ""), user=f"slack:{team}/{user}",
                            conversation=f"slack:{team}:{command.get('channel_id', '')}:ask:{user}", platform="slack",
                            command="" if name == "ask" else name, forms=True)
        # What concerns the candidate's own data is only ever shown to them.
        visibility = self.config.ask_visibility if name in ("ask", "positions", "match") else "ephemeral"
        respond = responder(command["response_url"])

        async def post(blocks: list[dict]) -> None:
            await respond(blocks=blocks, text=fallback_text(blocks), response_type=visibility, replace_original=False)
        await self._deliver(question, post)

    async def _on_feedback(self, ack, body: dict, action: dict) -> None:
        await ack()
        respond = responder(body["response_url"])
        helpful = action["action_id"] == "feedback_helpful"
        await self.assistant.feedback(int(action["value"]), _user(body), helpful)
        await respond(**_used(body, messages.say("feedback_thanks", _language(body))), replace_original=True)

    async def _on_choice(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """A choice's reply; a form opens as a modal (the click's trigger_id is valid for 3 seconds)."""
        await ack()
        respond = responder(body["response_url"])
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        thread_ts = (body.get("message") or {}).get("thread_ts")
        conversation = _conversation(body.get("team", {}).get("id", ""), channel, body.get("user", {}).get("id", ""),
                                     thread_ts, dm=channel.startswith("D"))
        question = Question("", user=_user(body), platform="slack", choice=action["action_id"].removeprefix("choice_"),
                            conversation=conversation, forms=True)
        answer = await self.assistant.reply(question)
        if answer.form is not None:
            metadata = json.dumps({"channel": channel, "thread_ts": thread_ts})
            await client.views_open(trigger_id=body["trigger_id"], view=modal(answer.form, metadata))
            return
        label = next((e["text"]["text"] for b in (body.get("message") or {}).get("blocks", [])
                      for e in b.get("elements", []) if e.get("action_id") == action["action_id"]), "")
        await respond(**_used(body, f"✓ {label}" if label else ""), replace_original=True)
        for blocks in render(answer):
            await respond(blocks=blocks, text=fallback_text(blocks), response_type="ephemeral", replace_original=False)

    async def _on_form(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        """A submitted modal: refused values are shown under their fields; else the reply goes to the
        candidate's DM with the bot."""
        values = {block: (fields.get("value") or {}).get("value") or ""
                  for block, fields in view.get("state", {}).get("values", {}).items()}
        answer = await self.assistant.reply(Question("", user=_user(body), platform="slack", values=values, forms=True,
                                                     conversation=f"slack:{body.get('team', {}).get('id', '')}:form"))
        errors = {f.id: f.error for f in answer.form.fields if f.error} if answer.form else {}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        for blocks in render(answer):
            await client.chat_postMessage(channel=body.get("user", {}).get("id", ""), blocks=blocks,
                                          text=fallback_text(blocks))

    async def _claim(self, key: str, ttl: float) -> bool:
        try:
            return await self.state.call(self.state.claim, f"slack:{key}", ttl)
        except Exception as e:  # better a rare second answer than a candidate left unanswered
            _log.warning("could not check whether a Slack event was answered: %s", e)
            return True

    async def _remembered(self, key: str) -> bool:
        try:
            return await self.state.call(self.state.seen, f"slack:{key}")
        except Exception as e:
            _log.warning("could not check a Slack thread: %s", e)
            return False

    async def _on_error(self, error: Exception, body: dict) -> None:
        _log.error("Slack listener failed for %s", body.get("type", "?"), exc_info=error)

    # --- delivery -------------------------------------------------------------------------

    async def _deliver(self, question: Question, post, *, live: LiveMessage | None = None, replace=None) -> None:
        try:
            answer = await self.assistant.reply(question, on_partial=live.update if live else None)
            await deliver(render(answer), live, send=post, replace=replace)
        except Exception:
            _log.exception("could not answer a Slack message from %s", question.user)
            try:
                await post(render(self.assistant.apology(question.text))[0])
            except Exception:
                _log.exception("could not send the apology either")


def _conversation(team: str, channel: str, user: str, thread_ts: str | None, *, dm: bool) -> str:
    """Follow-up memory is per DM (outside threads) or per thread."""
    return f"slack:{team}:dm:{user}" if dm and not thread_ts else f"slack:{team}:{channel}:{thread_ts}"


def _user(body: dict) -> str:
    return f"slack:{body.get('team', {}).get('id', '')}/{body.get('user', {}).get('id', '')}"


def _language(body: dict) -> str:
    return nlp.language((body.get("message") or {}).get("text", ""))


def _used(body: dict, note: str) -> dict:
    """The clicked message with its buttons replaced by `note`, so the click cannot be repeated."""
    message = body.get("message") or {}
    blocks = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]})
    return {"blocks": blocks, "text": message.get("text", "")}


# --- running -------------------------------------------------------------------------------

def _signed_only(verifier: SignatureVerifier):
    """401 for a request to /slack/events without a valid, fresh signature, before Bolt parses it
    (Bolt parses first: a body that is not JSON gave a 500). Nothing of the body is logged."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.path == EVENTS_PATH and request.method == "POST":
            body = await request.read()
            if not verifier.is_valid_request(body, dict(request.headers)):
                _log.warning("rejected a Slack request without a valid signature (%d bytes from %s)", len(body),
                             request.remote)
                return web.Response(status=401, text="invalid request signature")
        return await handler(request)
    return middleware


def http_app(bot: SlackBot) -> web.Application:
    """Events, commands and button clicks on /slack/events (signatures checked); /healthz for load balancers."""
    server = AsyncSlackAppServer(port=0, path=EVENTS_PATH, app=bot.app)
    if bot.signing_secret:
        server.web_app.middlewares.append(_signed_only(SignatureVerifier(bot.signing_secret)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})
    server.web_app.router.add_get("/healthz", healthz)
    return server.web_app


async def serve(assistant: Assistant, settings: Settings, *, bot_token: str, app_token: str = "",
                signing_secret: str = "") -> None:
    """Socket Mode when an app token is given, else HTTP on [slack] host/port. Runs until cancelled."""
    bot = SlackBot(assistant, settings, bot_token=bot_token, signing_secret=signing_secret or None)
    await bot.check_credentials()
    if app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(bot.app, app_token)
        try:
            await handler.connect_async()
        except SlackApiError as e:
            raise BotError(f"Slack rejected SLACK_APP_TOKEN ({e.response.get('error')}); create an app-level token "
                           "with the connections:write scope (Basic Information → App-Level Tokens)") from e
        _log.info("connected to Slack in Socket Mode")
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
        return
    runner = web.AppRunner(http_app(bot))
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.slack.host, settings.slack.port).start()
        _log.info("listening for Slack on http://%s:%s%s", settings.slack.host, settings.slack.port, EVENTS_PATH)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
