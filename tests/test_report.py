"""`python -m bot report` over a seeded history of 220 questions asked through the real assistant; the HTML
page opened in headless Chromium (when installed) and its screenshot checked for the charts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import numpy as np
import pytest

from conftest import config_toml, fresh_assistant, run_cli
from history import UNANSWERED, seed


@pytest.fixture(scope="module")
def report_dir(kb_assistant, tmp_path_factory):
    assistant = fresh_assistant(kb_assistant, chat={"rate_limit_messages": 0})
    asked = asyncio.run(seed(assistant, total=220))
    tmp = tmp_path_factory.mktemp("report")
    config_toml(tmp, f'[interest]\ndb = "{assistant.records.path}"\n')
    made = run_cli("--config", str(tmp / "config.toml"), "report", "--since", "30d", "--out", str(tmp / "out"), cwd=tmp)
    assert made.returncode == 0, made.stderr
    return tmp / "out", asked, made.stderr


def test_report_counts_and_groups_the_unanswered_questions(report_dir):
    out, asked, printed = report_dir
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "per_day.png", "topics.png", "unanswered.png"}
    assert "220 questions" in printed
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "220 questions recorded from" in md
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in md.splitlines()
            if line.startswith(("| 1 | ", "| 2 | "))]
    topics, groups = rows[:2], rows[2:]
    # Every salary question is refused (the documents give no figures), in English and in Chinese alike.
    assert topics[0][1:3] == ["salary or pay", f"{asked['salary']}"]
    assert topics[1][1:3] == ["visas or work permits", f"{asked['visa']}"]
    assert groups[0][1] == str(asked["salary"]) and "salary" in groups[0][2]
    assert "博士后工资多少？" in groups[0][3], "a Chinese wording joins its English group"
    assert groups[1][1] == str(asked["visa"]) and "visa" in groups[1][2]
    for name in ("salary", "visa"):
        assert all(wording in md for wording in UNANSWERED[name][1])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(f'src="{png}"' in html for png in ("per_day.png", "topics.png", "unanswered.png"))


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium package is not installed")
def test_report_page_shows_its_charts_in_headless_chromium(report_dir, tmp_path):
    from PIL import Image

    out, _, _ = report_dir
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1000,1800", f"--screenshot={shot}", (out / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    # The charts' bars, answered and refused: the images loaded and were drawn.
    colors = {name: int((pixels == rgb).all(axis=-1).sum()) for name, rgb in (("answered", (0x2b, 0x6c, 0xb0)),
                                                                              ("refused", (0xdd, 0x6b, 0x20)))}
    assert all(count > 2000 for count in colors.values()), colors


def test_report_digest_is_posted_to_the_handoff_destination(report_dir, tmp_path):
    from aiosmtpd.controller import Controller

    from loopback import free_port
    from test_handoff import Inbox, text_of

    out, asked, _ = report_dir
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        config = tmp_path / "config.toml"
        db = (out.parent / "config.toml").read_text(encoding="utf-8")
        config.write_text(db + f'[handoff]\nemail = "team@lab.example"\nsmtp_host = "127.0.0.1"\n'
                               f'smtp_port = {controller.port}\nsmtp_security = "none"\n', encoding="utf-8")
        posted = run_cli("--config", str(config), "report", "--out", str(tmp_path / "out"), "--post", cwd=tmp_path)
    finally:
        controller.stop()
    assert posted.returncode == 0, posted.stderr
    [mail] = inbox.mail
    body = text_of(mail)
    assert "unanswered candidate questions" in body and "220 asked" in body
    assert f"1. What is the salary for a postdoc? (x{asked['salary']})" in body
