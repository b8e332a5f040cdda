"""One base exception and the few kinds the CLI and adapters tell apart."""


class BotError(Exception):
    """Base class: the message is written for the person running the bot."""


class ConfigError(BotError):
    """The configuration is missing, unreadable, or a key has a wrong value."""


class StoreError(BotError):
    """The vector store cannot be opened or reached."""


class IndexMismatchError(StoreError):
    """The index was built with a different embedding model than the one configured."""


class EmptyIndexError(StoreError):
    """There is nothing indexed to answer from."""


class EmbeddingError(BotError):
    """No embedding backend could be loaded."""


class RecordError(ValueError):
    """A record file (a position) with a field that cannot be used: the file is skipped and reported."""
