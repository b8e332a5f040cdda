"""Neutral types exchanged between the adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    text: str
    user: str = "console:local"   # platform-qualified, e.g. "discord:1234"
    conversation: str = "console"  # thread / DM key for follow-up memory
    platform: str = "console"
    command: str = ""              # "positions" or "match" from a slash command; "" reads the text
    language: str = ""             # the platform's locale ("zh", "en") for a command with little text


@dataclass(frozen=True)
class Source:
    n: int          # the [n] used in the answer text
    title: str
    path: str       # file in knowledge/, or the document's URL when it has one
    snippet: str
    score: float
    url: str = ""


@dataclass(frozen=True)
class Answer:
    text: str                       # neutral markdown with [n] citation markers
    sources: tuple[Source, ...]
    grounded: bool                  # False: refusal / hand-off, no facts asserted
    language: str                   # "en", "zh"
    notice: bool = False            # the bot's own message (help, rate limit, error), not an answer
    generator: str = "extractive"   # "extractive", "llm", or "fallback" (the LLM's answer was not usable)
    timings: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document as stored in the index."""

    id: str
    text: str
    path: str
    title: str
    section: str = ""
    topic: str = ""
    url: str = ""
    updated: str = ""
    doc_hash: str = ""
    handoff: bool = False   # from a page that says where to ask, not facts to quote
    organisation: str = ""  # whose document it is, when it says (front matter, the site's name)
    lead: str = ""          # the document's opening paragraph: whom "it" and "the lab" refer to
    record: str = ""        # a position record (JSON, bot.recruiting.positions) when the file is one
