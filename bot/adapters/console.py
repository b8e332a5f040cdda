"""The console adapter: `python -m bot chat` and the pretty output of `ask`."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot import messages as M
from bot.core.assistant import Assistant
from bot.core.types import Answer, Question


def render(answer: Answer) -> str:
    lines = [answer.text]
    if answer.sources:
        lines.append("")
        lines.append(M.say("sources", answer.language) + ":")
        for s in answer.sources:
            where = f"{s.path} <{s.url}>" if s.url else s.path
            lines.append(f"  [{s.n}] {s.title} — {where}")
    return "\n".join(lines)


async def chat(assistant: Assistant, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    lab = assistant.settings.lab
    print(M.say("help", "en", lab=lab.name, contact=lab.contact_email), file=stdout)
    print("Type /help for help, /positions [area] for openings, /match <your background> for where you fit, "
          "/quit to leave.\n", file=stdout)
    while True:
        print("you> ", end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:  # end of input
            print(file=stdout)
            return
        text = line.strip()
        if text in ("/quit", "/exit", "/q"):
            return
        if not text:
            continue
        if text == "/help":
            text = "help"
        command, _, rest = text.partition(" ")
        if command in ("/positions", "/match"):  # the platforms' slash commands, typed
            question = Question(text=rest, user="console:local", conversation="console", command=command[1:])
        else:
            question = Question(text=text, user="console:local", conversation="console")
        answer = await assistant.reply(question)  # a failure is an apology or "unavailable", never a traceback
        print(f"\nbot> {render(answer)}\n", file=stdout, flush=True)
