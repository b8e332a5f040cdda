"""Neutral types exchanged between the adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    text: str
    user: str = "console:local"   # platform-qualified, e.g. "discord:1234"
    conversation: str = "console"  # thread / DM key for follow-up memory
    platform: str = "console"
    command: str = ""              # a slash command ("positions", "match", "interest", ...); "" reads the text
    language: str = ""             # the platform's locale ("zh", "en") for a command with little text
    choice: str = ""               # the id of a Choice the candidate clicked (or typed)
    values: dict | None = field(default=None, compare=False)  # a submitted Form: field id -> text
    forms: bool = False            # the surface shows a Form as a whole (a modal), not a field a message
    shared: bool = False           # asked where others read along (a server channel, a channel thread)


@dataclass(frozen=True)
class Choice:
    """A button (Discord, Slack) or a numbered option (console) offered with a reply."""

    id: str
    label: str
    style: str = ""  # "primary" or "danger"; "" for a plain button


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    required: bool = True
    long: bool = False   # several lines (a note)
    hint: str = ""       # placeholder / example
    value: str = ""      # filled in already (a resubmitted form)
    error: str = ""      # why the submitted value was refused


@dataclass(frozen=True)
class Form:
    """Fields a platform with forms shows at once (a Discord or Slack modal); elsewhere the core asks
    for them one message at a time and the reply's text is the next question."""

    id: str
    title: str
    fields: tuple[Field, ...]
    submit: str


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
    choices: tuple[Choice, ...] = ()  # buttons to offer with it (consent, confirmation)
    form: Form | None = None          # a form to show, where the platform can (see Form)
    ref: int | None = None            # the recorded answer's id, for helpful / not helpful buttons
    best: tuple[str, str, float] = ("", "", 0.0)  # the closest document found: path, title, similarity
    unanswered: bool = False          # refused only because no sentence was good enough: an LLM may read on
    route: str = ""                   # what the message was taken for (bot.core.intents: question, positions, ...)


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
    sentences: int = -1     # how many sentences are stored for it (-1: not recorded, an older index)
    subject: str = ""       # whose page it is: its document profile's names, "A | B" (bot.core.profile)


# A chunk's id is "<document>:<n>": its document's key and its place in it.
def chunk_id(document: str, n: int) -> str:
    return f"{document}:{n}"


def document_of(chunk_id: str) -> str:
    return chunk_id.rpartition(":")[0]


def opens_document(chunk_id: str) -> bool:
    return chunk_id.rpartition(":")[2] == "0"


def notice(text: str, language: str, **extra) -> Answer:
    """The bot's own message (help, a limit, a step of a conversation), not an answer from the documents."""
    return Answer(text, (), grounded=False, language=language, notice=True, **extra)
