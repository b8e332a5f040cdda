"""Recruiting on top of the core: position records, listing them, and research-fit matching.

Platform-neutral: it uses bot.core and returns neutral `Answer`s; adapters only render them.
Importing it registers the position records' reader with ingest.
"""

from bot.core.ingest import register_record_reader
from bot.recruiting import positions


def _read_position(meta: dict, body: str, key: str) -> str:
    return positions.parse(meta, body, key).to_json()


def register_records() -> None:
    """Ingest reads position records (files in a `positions` folder) with their own parser."""
    register_record_reader(positions.is_record, _read_position)


register_records()
