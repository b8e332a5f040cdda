"""The console adapter: `python -m bot chat` and the pretty output of `ask`."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot import messages
from bot.orchestrator.assistant import Assistant
from bot.core.types import Answer, Question



def render(answer: Answer) -> str:
    lines = [answer.text]
    if answer.sources:
        lines.append("")
        lines.append(messages.say("sources", answer.language) + ":")
        for s in answer.sources:
            where = f"{s.path} <{s.url}>" if s.url else s.path
            lines.append(f"  [{s.n}] {s.title} — {where}")
    if answer.choices:  # buttons elsewhere; here, answered by number (or by typing yes / no)
        lines.append("")
        lines.append("   ".join(f"[{n}] {c.label}" for n, c in enumerate(answer.choices, 1)))
    return "\n".join(lines)


def question_for(text: str, offered: tuple) -> Question:
    """A typed line as the core reads it: the number of an offered choice, or text (a command typed,
    "/positions robotics", is read by the core). Forms are asked one field a message by the core."""
    if text.isdigit() and 1 <= int(text) <= len(offered):
        return Question(text="", user="console:local", conversation="console", choice=offered[int(text) - 1].id)
    return Question(text=text, user="console:local", conversation="console")


async def chat(assistant: Assistant, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
               verbose: bool = False) -> None:
    """`verbose`: each answer says what the message was taken for (its route)."""
    lab = assistant.settings.lab
    print(messages.say("help", "en", lab=lab.name, contact=lab.contact_email), file=stdout)
    commands = "\n".join(f"  /{c.name}{''.join(f' [{o}]' for o, _ in c.options)}  {c.description['en']}"
                         for c in messages.COMMANDS)
    print(f"Ask in your own words, or type a command:\n{commands}\n  /quit  leave\n", file=stdout)
    offered: tuple = ()
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
        answer = await assistant.reply(question_for(text, offered))  # failures are apologies, never tracebacks
        offered = answer.choices
        route = f"  (route: {answer.route})" if verbose and answer.route else ""
        print(f"\nbot> {render(answer)}{route}\n", file=stdout, flush=True)
