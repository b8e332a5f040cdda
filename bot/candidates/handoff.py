"""Handing a conversation to a person: where it goes (by topic), and what is sent.

Destinations are a Slack channel, a Discord channel or an email address (`[handoff]`, with
`[[handoff.routes]]` sending some topics elsewhere, e.g. pay and visas to HR). A `Notifier` sends it;
a failure raises, and the caller tells the candidate and keeps the request on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.config import Settings
from bot.core.compose import SENSITIVE


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


class Notifier(Protocol):
    """Sends a handed-off conversation (or the report's digest) to a destination. Implemented at the
    edges, where the platforms' APIs are: bot.adapters.notifiers."""

    async def send(self, destination: Destination, subject: str, text: str) -> None: ...


class HandoffError(Exception):
    pass
