"""The conversations that are not questions: registering interest (consent first), forget me, and
handoff to a person. Written once, as neutral replies (text, choices, a form); each adapter renders
them (buttons, modals, console prompts). Where a step is in a conversation is kept per user in the
shared state, so any replica can take the next message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import messages
from bot.candidates import handoff
from bot.candidates.handoff import Notifier
from bot.candidates.privacy import EMAIL, remember
from bot.candidates.records import CandidateRecords
from bot.config import Settings
from bot.core import nlp
from bot.core.conversation import ConversationMemory
from bot.core.intents import FLOWS, SURE, Intent
from bot.core.types import Answer, Choice, Field, Form, Question, notice

_log = logging.getLogger(__name__)

_FLOW_TTL = 1800.0  # a consent or form left unanswered this long is dropped (nothing stored)
_FLOW_KEY = "flow:{user}"

_YES = re.compile(r"^\s*(?:y|yes|yeah|yep|ok|okay|sure|i agree|agree|i do|send it|please do|同意|是|是的|好|好的|可以|发送)"
                  r"\s*[.!。！]*\s*$", re.I)
_NO = re.compile(r"^\s*(?:n|no|nope|no thanks|no, thanks|i don'?t agree|don'?t|不|不用|不用了|不同意|否)\s*[.!。！]*\s*$", re.I)
_CANCEL = re.compile(r"^\s*(?:cancel|stop|quit|never mind|nevermind|取消|停止|算了)\s*[.!。！]*\s*$", re.I)
_SKIP = re.compile(r"^\s*(?:skip|none|no|n/a|-|跳过|无|没有)\s*[.!。！]*\s*$", re.I)

_LIMITS = {"name": 100, "email": 254, "areas": 300, "note": 1000}


def consent_version() -> str:
    """Changes whenever the consent text does: stored with each registration."""
    texts = json.dumps([messages.say("consent", lang, platform="{platform}", lab="{lab}", days="{days}") for lang in ("en", "zh")])
    return hashlib.sha256(texts.encode()).hexdigest()[:12]


class Flows:
    """`reply(question, language, intent)` answers a message that belongs to a flow, or returns None
    (a question). A slash command starts its flow; in a flow, the step's own choices (buttons, a typed
    yes or no, the form's next value) come first; otherwise the message's intent may start one."""

    def __init__(self, settings: Settings, *, state, records: CandidateRecords, memory: ConversationMemory,
                 open_areas: Callable[[str], Awaitable[list[str]]], notifier: Notifier | None):
        self.settings = settings
        self.state = state  # where each user's step is kept (shared by replicas with Redis)
        self.records = records
        self.memory = memory
        self.open_areas = open_areas  # examples for the interest form, in a language
        self.notifier = notifier

    async def reply(self, question: Question, language: str, intent: Intent) -> Answer | None:
        text = " ".join(nlp.printable(question.text).split())
        language = language if text else (question.language or "en")
        if question.command in FLOWS:  # its intent is the command, exact
            return await self._start(intent, question, text, language)
        flow = await self._flow(question.user)
        if question.values is not None:
            return await self._submitted(question, flow)
        if flow is None:
            if question.choice:
                return notice(messages.say("flow_expired", language), language)
            return await self._start(intent, question, text, language)
        lang = flow["lang"]
        choice = question.choice or self._typed_choice(text, flow)
        if flow["step"] == "consent":
            if choice == "consent_yes" and question.shared and not question.forms:
                # Typed in a channel, the answers would be read by everyone there: the button opens a
                # private form, and a direct message is private too.
                return notice(messages.say("private_please", lang), lang)
            if choice == "consent_yes":
                # Shown as a modal (forms), the form is answered there, and messages meanwhile are questions.
                flow.update(step="form", consent_at=time.time(), values=flow.get("values", {}), modal=question.forms)
                await self._save_flow(question.user, flow)
                return self._form_reply(flow, "")
            if choice == "consent_no":
                await self._end(question.user)
                return notice(messages.say("consent_declined", lang), lang)
        elif flow["step"] == "form":
            if choice in ("interest_edit", "consent_yes"):  # a second click shows the form again
                flow["modal"] = question.forms
                await self._save_flow(question.user, flow)
                return self._form_reply(flow, "")
            if _CANCEL.match(text):
                await self._end(question.user)
                return notice(messages.say("flow_cancelled", lang), lang)
            # Typed, the next value of the form; unless it surely asks to be forgotten or for a person.
            leaves = intent.name in ("forget", "handoff") and intent.confidence >= SURE
            if text and not question.choice and not leaves:
                return None if flow.get("modal") else await self._next_field(question, flow, text)
        elif flow["step"] == "forget":
            if choice in ("forget_yes", "forget_no"):
                await self._end(question.user)
                if choice == "forget_yes":
                    return await self._forget(question, lang)
                return notice(messages.say("forget_declined", lang), lang)
        elif flow["step"] == "handoff":
            if choice == "handoff_yes":
                await self._end(question.user)
                return await self._send_handoff(question, flow)
            if choice == "handoff_no":
                await self._end(question.user)
                return notice(messages.say("handoff_declined", lang), lang)
        if question.choice:  # a button of an earlier step
            return notice(messages.say("flow_expired", lang), lang)
        await self._end(question.user)  # anything else leaves the flow: a question, or another flow
        return await self._start(intent, question, text, language)

    async def _start(self, intent: Intent, question: Question, text: str, language: str) -> Answer | None:
        name = intent.name
        if name == "forget" and intent.exact:
            return await self._forget(question, language)
        if name == "forget":  # read by the model: deleting is asked first, a misreading costs nothing
            await self._save_flow(question.user, {"flow": "forget", "step": "forget", "lang": language})
            return notice(messages.say("forget_confirm", language), language, choices=(
                Choice("forget_yes", messages.say("forget_yes", language), "danger"),
                Choice("forget_no", messages.say("forget_no", language))))
        if name == "interest":
            return await self._ask_consent(question, language)
        if name == "handoff":
            return await self._offer_handoff(question, text, language)
        return None

    # --- registering interest ---------------------------------------------------------------

    async def _ask_consent(self, question: Question, language: str) -> Answer:
        areas = await self.open_areas(language)
        hint = messages.say("field_areas_hint", language, example=("、" if language == "zh" else ", ").join(areas[:3])) if areas else ""
        flow = {"flow": "interest", "step": "consent", "lang": language, "hint": hint[:100], "values": {}}
        await self._save_flow(question.user, flow)
        lab = self.settings.lab
        consent = messages.say("consent", language, platform=messages.PLATFORMS.get(question.platform, question.platform),
                        lab=lab.display_name(language), days=self.settings.interest.retention_days)
        return notice(consent, language, choices=(Choice("consent_yes", messages.say("consent_yes", language), "primary"),
                                                        Choice("consent_no", messages.say("consent_no", language))))

    def _form(self, flow: dict, errors: dict[str, str] | None = None) -> Form:
        lang, values, errors = flow["lang"], flow.get("values", {}), errors or {}
        fields = (Field("name", messages.say("field_name", lang)),
                  Field("email", messages.say("field_email", lang), hint="name@example.org"),
                  Field("areas", messages.say("field_areas", lang), hint=flow.get("hint", "")),
                  Field("note", messages.say("field_note", lang), required=False, long=True))
        fields = tuple(replace(f, value=values.get(f.id, ""), error=errors.get(f.id, "")) for f in fields)
        return Form("interest", messages.say("interest_title", lang), fields, messages.say("interest_submit", lang))

    def _form_reply(self, flow: dict, prefix: str, errors: dict[str, str] | None = None) -> Answer:
        """The form, for platforms that show one; its text asks for the first missing field."""
        form = self._form(flow, errors)
        missing = _pending(form, flow)
        lang = flow["lang"]
        hint = f" ({missing.hint})" if missing.id == "areas" and missing.hint else ""
        space = "" if lang == "zh" else " "
        ask = f"{messages.say('ask_' + missing.id, lang)}{hint}{space}{messages.say('ask_cancel', lang)}"
        text = f"{prefix}\n\n{ask}" if prefix else ask
        choices = (Choice("interest_edit", messages.say("edit", lang)),) if errors else ()
        return notice(text, lang, choices=choices, form=form)

    async def _next_field(self, question: Question, flow: dict, text: str) -> Answer:
        field = _pending(self._form(flow), flow)
        value = "" if not field.required and _SKIP.match(text) else text
        error = _invalid(field, value, flow["lang"])
        if error:
            return self._form_reply(flow, error)
        flow["values"][field.id] = value
        if _pending(self._form(flow), flow) is not None:
            await self._save_flow(question.user, flow)
            return self._form_reply(flow, "")
        return await self._register(question, flow)

    async def _submitted(self, question: Question, flow: dict | None) -> Answer:
        language = (flow or {}).get("lang") or question.language or "en"
        if flow is None or flow.get("step") != "form":  # consent is checked here, not trusted to the platform
            return notice(messages.say("flow_expired", language), language)
        values = {k: " ".join(str(v).split()) if k != "note" else str(v).strip() for k, v in question.values.items()}
        fields = self._form(flow).fields
        flow["values"] = {f.id: values.get(f.id, "") for f in fields}
        errors = {f.id: e for f in fields if (e := _invalid(f, flow["values"][f.id], language))}
        if errors:
            await self._save_flow(question.user, flow)
            return self._form_reply(flow, "\n".join(errors.values()), errors)
        return await self._register(question, flow)

    async def _register(self, question: Question, flow: dict) -> Answer:
        values, lang = flow["values"], flow["lang"]
        remember(values["name"])  # masked in every log line from now on
        await self.records.run(
            self.records.add_interest, platform=question.platform, user=question.user, name=values["name"],
            email=values["email"], areas=values["areas"], note=values.get("note", ""), language=lang,
            consent_version=consent_version(), consent_at=flow["consent_at"])
        await self._end(question.user)
        _log.info("interest registered on %s", question.platform)
        return notice(messages.say("interest_saved", lang, name=values["name"], areas=values["areas"], email=values["email"],
                                  lab=self.settings.lab.display_name(lang)), lang)

    # --- forget me ----------------------------------------------------------------------------

    async def _forget(self, question: Question, language: str) -> Answer:
        # The user's records (and those of anyone who registered their email), and every conversation of theirs.
        counts, users = await self.records.run(self.records.forget, question.user)
        for each in users | {question.user}:
            await self.state.call(self.memory.forget, each)
        await self._end(question.user)
        what = [messages.counted(kind, n, language) for kind, n in counts.items() if n]
        if not what:
            return notice(messages.say("forgotten_none", language), language)
        joined = ("、" if language == "zh" else ", ").join(what)
        return notice(messages.say("forgotten", language, what=joined), language)

    # --- handoff ------------------------------------------------------------------------------

    async def _offer_handoff(self, question: Question, text: str, language: str) -> Answer:
        transcript = self.memory.transcript(question.conversation)
        destination = handoff.route(self.settings, [t["q"] for t in transcript] + [text])
        contact = self.settings.lab.contact_email
        if destination is None:
            return notice(messages.say("handoff_unset", language, contact=contact), language)
        flow = {"flow": "handoff", "step": "handoff", "lang": language, "request": text,
                "conversation": question.conversation}
        await self._save_flow(question.user, flow)
        who, how = self._who_and_how(destination, question.platform, language)
        offer = messages.say("handoff_offer", language, questions=len(transcript), who=who, how=how)
        return notice(offer, language, choices=(Choice("handoff_yes", messages.say("handoff_yes", language), "primary"),
                                                      Choice("handoff_no", messages.say("handoff_no", language))))

    async def _send_handoff(self, question: Question, flow: dict) -> Answer:
        lang = flow["lang"]
        transcript = self.memory.transcript(flow["conversation"])
        destination = handoff.route(self.settings, [t["q"] for t in transcript] + [flow["request"]])
        who, how = self._who_and_how(destination, question.platform, lang)
        contact = self._contact(destination)
        subject, body = handoff.message(flow["request"], question.platform, question.user, transcript, destination.topic)
        status = "sent"
        try:
            if self.notifier is None:
                raise handoff.HandoffError("no notifier was given to send handoffs with")
            await self.notifier.send(destination, subject, body)
        except Exception as e:
            status = "failed"
            _log.error("could not hand a conversation off to %s: %s", destination, f"{type(e).__name__}: {e}"[:300])
        # Kept either way: a failed one is still there for the team (`python -m bot interest handoffs`).
        await self.records.run(self.records.add_handoff, platform=question.platform, user=question.user,
                               topic=destination.topic, destination=str(destination), status=status,
                               transcript=[*transcript, {"q": flow["request"], "a": ""}])
        key = "handoff_sent" if status == "sent" else "handoff_failed"
        return notice(messages.say(key, lang, who=who, how=how, contact=contact), lang)

    def _who_and_how(self, destination: handoff.Destination, platform: str, language: str) -> tuple[str, str]:
        who = destination.name or messages.say("recruitment_team", language)
        if platform in ("discord", "slack"):
            how = messages.say("how_here", language, platform=messages.PLATFORMS[platform])
        else:
            how = messages.say("how_email", language, contact=self._contact(destination))
        return who, how

    def _contact(self, destination: handoff.Destination) -> str:
        return destination.address if destination.kind == "email" else self.settings.lab.contact_email

    # --- state --------------------------------------------------------------------------------

    async def _flow(self, user: str) -> dict | None:
        raw = await self.state.call(self.state.get, _FLOW_KEY.format(user=user))
        return json.loads(raw) if raw else None

    async def _save_flow(self, user: str, flow: dict) -> None:
        await self.state.call(self.state.put, _FLOW_KEY.format(user=user), json.dumps(flow, ensure_ascii=False),
                              _FLOW_TTL)

    async def _end(self, user: str) -> None:
        await self.state.call(self.state.delete, _FLOW_KEY.format(user=user))

    @staticmethod
    def _typed_choice(text: str, flow: dict) -> str:
        """A yes or no typed instead of clicked."""
        prefix = flow["step"]
        if prefix not in ("consent", "handoff", "forget"):
            return ""
        typed = text.casefold()  # a button's own text typed counts as clicking it
        if _YES.match(text) or typed == messages.say(f"{prefix}_yes", flow["lang"]).casefold():
            return f"{prefix}_yes"
        if _NO.match(text) or _CANCEL.match(text) or typed == messages.say(f"{prefix}_no", flow["lang"]).casefold():
            return f"{prefix}_no"
        return ""


def _pending(form: Form, flow: dict) -> Field | None:
    """The first field still to fill in: missing, or refused."""
    values = flow.get("values", {})
    return next((f for f in form.fields if f.id not in values or _invalid(f, values[f.id], flow["lang"])), None)


def _invalid(field: Field, value: str, language: str) -> str:
    if field.required and not value:
        return messages.say("invalid_required", language, label=field.label)
    if len(value) > _LIMITS[field.id]:
        return messages.say("invalid_length", language, label=field.label, limit=_LIMITS[field.id])
    if field.id == "email" and not EMAIL.fullmatch(value):
        return messages.say("invalid_email", language, label=field.label)
    return ""
