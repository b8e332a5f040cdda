"""Log lines in every format keep their timestamps, ids and versions; personal data is masked."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot import logs

MESSAGE = ("run 20250105-123456 on 192.168.100.200, bot 1.4.2, index generation 2026-12-06T03-59-08; "
           "candidate wrote from ada@example.org, phone +86 571 8800 1234, mobile 13812345678, office (0571) 8800-1234")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_log_format_keeps_times_and_ids_and_masks_personal_data(fmt, capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.setup(logging.INFO, fmt)
    try:
        logging.getLogger("bot.test").info(MESSAGE)
    finally:
        root.handlers[:], root.level = handlers, level
    line = capsys.readouterr().err.strip()
    if fmt == "json":
        entry = json.loads(line)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"]), entry
        line = entry["message"]
    else:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot.test: run", line), line
    for kept in ("20250105-123456", "192.168.100.200", "1.4.2", "2026-12-06T03-59-08"):
        assert kept in line, line
    for masked in ("ada@example.org", "8800 1234", "13812345678", "8800-1234"):
        assert masked not in line, line
    assert line.count("[phone]") == 3 and "[email]" in line, line
