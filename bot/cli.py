"""python -m bot [--config FILE] COMMAND ..."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from bot import config as config_mod
from bot.config import Settings
from bot.errors import BotError, ConfigError

_log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Recruitment assistant for the lab.")
    p.add_argument("--config", help="config file (default: $BOT_CONFIG or ./config.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    store_help = "use this folder as the embedded index instead of the configured store"
    ing = sub.add_parser("ingest", help="index documents (default: the knowledge folders in config)")
    ing.add_argument("paths", nargs="*", metavar="SOURCE",
                     help="files or folders (.md .txt .html .pdf), or web pages (https://lab.example.org/join/): "
                          "their site's pages below them are read too (default: [knowledge] paths and urls)")
    ing.add_argument("--store", type=Path, help=store_help)
    ing.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    ing.add_argument("--explain", action="store_true",
                     help="index nothing: show what each file yields (whose page it is, sections, quotable sentences)")
    ing.add_argument("--every", metavar="INTERVAL", type=_interval,
                     help="keep running: read the sources again every INTERVAL (e.g. 30m, 6h, 1d); running bots "
                          "follow each new index")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--store", type=Path, help=store_help)
    ask.add_argument("--no-llm", action="store_true", help="extractive answer even when [llm] is configured")

    chat = sub.add_parser("chat", help="interactive console conversation")
    chat.add_argument("--store", type=Path, help=store_help)
    chat.add_argument("--no-llm", action="store_true", help="extractive answers even when [llm] is configured")

    pos = sub.add_parser("positions", help="list the open positions and programmes in the records")
    pos.add_argument("--area", default="", help="only this research area (words or meaning, e.g. robotics)")
    pos.add_argument("--level", default="", help="only this level, e.g. researcher, postdoc, 'PhD student', intern")
    pos.add_argument("--all", action="store_true", help="closed and paused records too")
    pos.add_argument("--json", action="store_true", help="print one JSON object")
    pos.add_argument("--store", type=Path, help=store_help)

    mt = sub.add_parser("match", help="suggest the openings that fit a candidate's background")
    mt.add_argument("background", help="the candidate's background in free text (English or Chinese)")
    mt.add_argument("--json", action="store_true", help="print one JSON object")
    mt.add_argument("--store", type=Path, help=store_help)

    hc = sub.add_parser("health", help="exit 0 when the index is reachable and not empty (for container health checks)")
    hc.add_argument("--store", type=Path, help=store_help)

    dc = sub.add_parser("discord", help="run the Discord bot (token from DISCORD_TOKEN)")
    dc.add_argument("--invite-url", action="store_true", help="print the URL that adds the bot to a server, and exit")
    dc.add_argument("--store", type=Path, help=store_help)

    sl = sub.add_parser("slack", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    sl.add_argument("--store", type=Path, help=store_help)

    it = sub.add_parser("interest", help="candidates' registered interest (recruiters)")
    its = it.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = its.add_parser("list", help="every registration, oldest first")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ex = its.add_parser("export", help="write the registrations to a CSV file (owner-only)")
    ex.add_argument("--csv", type=Path, required=True, metavar="FILE")
    fg = its.add_parser("forget", help="delete everything kept about a candidate (an email request, say)")
    fg.add_argument("who", metavar="USER_ID", help="a user ID as `interest list` shows it (discord:123, slack:T1/U2) "
                                                   "or an email address")
    its.add_parser("handoffs", help="conversations handed to a person, with whether they were delivered")

    rp = sub.add_parser("report", help="what candidates asked that the documents could not answer")
    rp.add_argument("--since", default="30d", help="how far back: 30d, 12w, 6m (default 30d)")
    rp.add_argument("--out", type=Path, default=Path("reports/unanswered"),
                    help="folder for report.md, report.html and the charts (default reports/unanswered)")
    rp.add_argument("--post", action="store_true", help="also post a short digest to the [handoff] destination "
                                                        "(run it weekly from cron for a weekly digest)")

    ev = sub.add_parser("eval", help="measure retrieval and answer quality on a question set")
    ev.add_argument("--set", choices=("knowledge", "raw", "groups", "realdocs"), default="knowledge",
                    help="knowledge: the configured index and tests/eval/questions.yaml (default); raw: the "
                         "raw-document corpus tests/eval/raw/, indexed into --store or a temporary index, "
                         "and tests/eval/raw_questions.yaml; groups: fictional groups' pages, "
                         "tests/eval/groups/; realdocs: the real-document development set "
                         "(see --realdocs), with rows per fold")
    ev.add_argument("--realdocs", type=Path, metavar="DIR",
                    help="the real-document set's folder: corpus/, questions.jsonl, folds.json "
                         "(default: ../shared/realdocs beside the project)")
    ev.add_argument("--questions", type=Path, help="question file (default: the set's)")
    ev.add_argument("--store", type=Path, help=store_help)
    ev.add_argument("--report", type=Path, help="markdown report path (default: reports/eval.md)")
    ev.add_argument("--no-llm", action="store_true", help="measure the extractive answers even when [llm] is configured")
    tr = sub.add_parser("train", help="fit the answer decision to the evaluation sets' labelled questions "
                                      "(needs the train extra: pip install -e '.[train]')")
    tr.add_argument("--harvest", action="store_true",
                    help="ask every set's questions again and record their candidates' features first "
                         "(default: fit the recorded features in tests/eval/decision_features.npz)")
    tr.add_argument("--stores", type=Path, metavar="DIR",
                    help="with --harvest: keep each set's index in DIR/<set> and reuse it next time "
                         "(default: throw-away indexes)")
    tr.add_argument("--intents", action="store_true",
                    help="fit the intent model instead, to tests/eval/intents/examples.jsonl and the sets' questions "
                         "(with --harvest: embed them again first)")
    return p


def _settings(args: argparse.Namespace) -> Settings:
    settings = config_mod.load(args.config)
    store = getattr(args, "store", None)
    return settings.with_store_path(store) if store else settings


def _interval(text: str) -> float:
    """"90s", "30m", "6h", "1d" or a number of seconds -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except ValueError:
        seconds = 0.0
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"expected an interval such as 30m, 6h or 1d, got {text!r}")
    return seconds


def _sources(settings: Settings, given: list[str]) -> tuple[list[Path] | None, list[str]]:
    """The files and folders, and the web pages, to index: those given, else the configured ones."""
    if not given:
        return (settings.knowledge_paths if settings.knowledge.urls else None), list(settings.knowledge.urls)
    urls = [g for g in given if "://" in g]
    return [Path(g) for g in given if "://" not in g], urls


def _ingest(settings: Settings, paths: list[Path] | None, *, urls: list[str] = (), rebuild: bool = False) -> int:
    from bot.core.embeddings import load_embedder
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from bot.recruiting import register_records

    register_records()  # position records are read as records, not prose
    crawled = None
    if urls:  # read the web pages into their sites' folders first; those are indexed with the files
        from bot.core.crawl import Crawler

        crawled = Crawler(settings).run(urls)
        for url, why in crawled.failed:
            print(f"web: {url}: {why}", file=sys.stderr)
        for url, why in crawled.skipped:
            _log.info("web: skipped %s: %s", url, why)
        print(crawled.summary(), file=sys.stderr)
        paths = [*(paths or []), *crawled.folders]
    embedder = load_embedder(settings.embeddings)
    store = Store(settings, writing=True)
    print(f"embedding model: {embedder.name}; index: {store.location}", file=sys.stderr)
    try:
        report = ingest(settings, store=store, embedder=embedder, paths=paths, rebuild=rebuild)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was published; the next ingest carries on without embedding again the "
              "files finished so far", file=sys.stderr)
        return 130
    _print_report(report)
    read = report.indexed or report.unchanged or (crawled and (crawled.unchanged or crawled.fetched))
    return 0 if read or not (report.failed or (crawled and crawled.failed)) else 1


def _ingest_every(settings: Settings, paths: list[Path] | None, urls: list[str], seconds: float) -> int:
    """Index, then again every `seconds`, until stopped (a bad run is reported; the next one tries again)."""
    while True:
        started = time.monotonic()
        try:
            if _ingest(settings, paths, urls=urls) == 130:  # interrupted
                return 130
        except BotError as e:
            print(f"error: {e}", file=sys.stderr)
        pause = max(0.0, seconds - (time.monotonic() - started))
        print(f"next ingest in {pause / 60:.0f} min", file=sys.stderr, flush=True)
        try:
            time.sleep(pause)
        except KeyboardInterrupt:
            return 0


def _explain(settings: Settings, given: list[str]) -> int:
    """What each file (or web page) yields, for a person deciding why a page answers or not: its profile
    (whose page it is, and where each name was found), then each chunk's heading and quotable sentences."""
    import tempfile

    if not given:
        raise BotError("ingest --explain needs the files, folders or web pages to explain")
    paths, urls = _sources(settings, given)
    with tempfile.TemporaryDirectory() as scratch:
        failed = 0
        if urls:  # each page alone, read into a throw-away folder
            from bot.core.crawl import Crawler

            knowledge = settings.knowledge.model_copy(update={"crawl_dir": scratch})
            crawled = Crawler(settings.model_copy(update={"knowledge": knowledge}), follow=False).run(urls)
            for url, why in crawled.failed + crawled.skipped:
                print(f"{url}: {why}")
                failed += 1
            paths = [*paths, *crawled.folders]
        unread = _explain_files(settings, paths)
    return 1 if failed or unread else 0


def _explain_files(settings: Settings, paths: list[Path]) -> int:
    """Print what the files under `paths` yield; 1 when one could not be read."""
    from bot.core import chunking, loaders
    from bot.core.ingest import discover, index_key, read

    roots = [p.resolve() for p in paths]
    files, missing = discover(roots)
    for p, why in missing:
        print(f"{p}: {why}")
    failed = len(missing)
    for path in files:
        key = index_key(path, settings.root)
        try:
            doc, owner = read(path, key, roots)
        except (OSError, loaders.LoadError) as e:
            print(f"== {key}\nskipped: {e}\n")
            failed += 1
            continue
        print(f"== {key}" + (f"\nurl: {doc.url}" if doc.url else "")
              + f"\ntitle: {doc.title}\nsubject: {owner.subject or '(none)'}\nnames: {owner.text() or '(none)'}"
              + ("  (the page speaks as I/we: they are the subject)" if owner.first_person else ""))
        for where, name in owner.found:
            print(f"  from {where}: {name}")
        for i, piece in enumerate(chunking.split(doc.text, title=doc.title, chunk_chars=settings.retrieval.chunk_chars)):
            print(f"-- chunk {i}: {piece.heading(doc.title, owner=owner.subject)}")
            for sentence in piece.sentences:
                print(f"   * {sentence}")
        print()
    return 1 if failed else 0


def _print_report(report) -> None:
    if report.rebuilt_from:
        print(f"the index was built with '{report.rebuilt_from}': rebuilt it with '{report.model}'", file=sys.stderr)
    for path, why in report.failed:
        print(f"skipped {path}: {why}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)


def _assistant(settings: Settings, *, auto_index: bool, use_llm: bool = True):
    """Open the assistant; on the configured store, (re)index the knowledge folders first when stale."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.embeddings import load_embedder
    from bot.core.ingest import is_stale
    from bot.core.store import Store

    embedder = load_embedder(settings.embeddings)
    store = Store(settings)
    if auto_index and is_stale(settings, store, embedder.name):
        print("the index is missing or out of date: indexing the knowledge folders first", file=sys.stderr)
        from bot.core.ingest import ingest
        _print_report(ingest(settings, store=Store(settings, writing=True), embedder=embedder))
    from bot.core.llm import load_llm

    llm = load_llm(settings) if use_llm else None
    if llm:
        print(f"answers generated by {settings.llm.provider}:{settings.llm.model}, checked against the documents",
              file=sys.stderr)
    from bot.adapters.notifiers import PlatformNotifier

    return Assistant(settings, store=store, embedder=embedder, llm=llm, notifier=PlatformNotifier(settings))


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console import render
    from bot.core.types import Question

    assistant = _assistant(settings, auto_index=not args.store, use_llm=not args.no_llm)
    answer = asyncio.run(assistant.reply(Question(text=args.question, user="cli:local", conversation="cli",
                                                  platform="cli")))
    if args.json:
        print(json.dumps({
            "answer": answer.text,
            "route": answer.route,
            "grounded": answer.grounded,
            "language": answer.language,
            "generator": answer.generator,
            "sources": [{"n": s.n, "title": s.title, "path": s.path, "snippet": s.snippet, "score": s.score}
                        for s in answer.sources],
            "timings": answer.timings,
        }, ensure_ascii=False, indent=2))
    else:
        print(render(answer))
    return 0


def _positions(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.adapters.console import render
    from bot.core.nlp import language
    from bot.recruiting.replies import as_json

    assistant = _assistant(settings, auto_index=not args.store, use_llm=False)
    answer, records = assistant.positions(area=args.area, level=args.level, include_all=args.all,
                                          language=language(args.area))
    if args.json:
        today = dt.date.today()
        print(json.dumps({"positions": [as_json(p, settings=settings, today=today) for p in records],
                          "language": answer.language}, ensure_ascii=False, indent=2))
    else:
        print(render(answer))
    return 0


def _match(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console import render
    from bot.recruiting.replies import fit_json

    assistant = _assistant(settings, auto_index=not args.store, use_llm=False)
    answer, fits = assistant.match(args.background)
    if args.json:
        print(json.dumps({"matches": [fit_json(f) for f in fits], "language": answer.language,
                          "grounded": answer.grounded}, ensure_ascii=False, indent=2))
    else:
        print(render(answer))
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console import chat

    assistant = _assistant(settings, auto_index=not args.store, use_llm=not args.no_llm)
    try:
        asyncio.run(chat(assistant, verbose=args.verbose))
    except KeyboardInterrupt:
        print()
    return 0


def _health(settings: Settings) -> int:
    from bot.core.store import Store

    quick = settings.model_copy(update={"store": settings.store.model_copy(update={"connect_timeout_s": 0.0})})
    store = Store(quick)
    model = store.indexed_model()
    if not model:
        print(f"unhealthy: the index at {store.location} is empty", file=sys.stderr)
        return 1
    store.open_for_query(model)
    print(f"ok: {store.count()} chunks in {store.generation} at {store.location}")
    return 0


def _env_secret(name: str, purpose: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise BotError(f"{name} is not set: {purpose}. Put it in the environment (or the .env file "
                       f"docker compose reads), never in config.toml")
    return value


def _serve(service) -> int:
    """Run a bot until Ctrl-C or SIGTERM (docker stop), then shut it down cleanly."""
    async def main() -> None:
        task = asyncio.current_task()
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError):  # platforms without signal support
            pass
        await service

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    return 0


def _discord(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters import discord_adapter

    token = _env_secret("DISCORD_TOKEN", "the bot token from the Discord Developer Portal (your application → Bot)")
    if args.invite_url:
        print(discord_adapter.invite_url(settings, token))
        return 0
    assistant = _assistant(settings, auto_index=not args.store)
    assistant.records.purge()  # past retention; then at most a day apart while it runs
    print("connecting to Discord… (Ctrl-C to stop)", file=sys.stderr)
    return _serve(discord_adapter.serve(assistant, settings, token))


def _slack(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters import slack_adapter

    bot_token = _env_secret("SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-…) from your Slack app's "
                                               "OAuth & Permissions page")
    app_token = os.environ.get("SLACK_APP_TOKEN", "").strip()
    signing_secret = "" if app_token else _env_secret(
        "SLACK_SIGNING_SECRET", "HTTP mode needs the Signing Secret from your Slack app's Basic Information page "
                                "(or set SLACK_APP_TOKEN to use Socket Mode instead)")
    if not bot_token.startswith("xoxb-"):
        raise BotError("SLACK_BOT_TOKEN should be a bot token starting with xoxb-")
    if app_token and not app_token.startswith("xapp-"):
        raise BotError("SLACK_APP_TOKEN should be an app-level token starting with xapp-")
    assistant = _assistant(settings, auto_index=not args.store)
    assistant.records.purge()  # past retention; then at most a day apart while it runs
    return _serve(slack_adapter.serve(assistant, settings, bot_token=bot_token, app_token=app_token,
                                      signing_secret=signing_secret))


def _records(settings: Settings):
    from bot.candidates.records import CandidateRecords

    return CandidateRecords(settings.resolve(settings.interest.db), retention_days=settings.interest.retention_days)


def _interest(settings: Settings, args: argparse.Namespace) -> int:
    records = _records(settings)
    if args.action == "list":
        rows = records.interest()
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        for r in [] if args.json else rows:
            print(f"{r['registered']}  {r['name']} <{r['email']}>  {r['areas']}  ({r['user']}, consent "
                  f"{r['consent_version']})" + (f"\n    {r['note']}" if r["note"] else ""))
        if not rows and not args.json:
            print("no registrations", file=sys.stderr)
    elif args.action == "export":
        print(f"{records.export_csv(args.csv)} registration(s) written to {args.csv}", file=sys.stderr)
    elif args.action == "handoffs":
        for h in records.handoffs():
            print(f"{h['at']}  {h['status']:6}  {h['platform']} {h['user']} -> {h['destination']}"
                  + (f" ({h['topic']})" if h["topic"] else ""))
    else:
        return _forget(settings, records, args.who)
    return 0


def _forget(settings: Settings, records, who: str) -> int:
    from bot import messages
    from bot.core.conversation import ConversationMemory
    from bot.core.state import open_state

    counts, users = records.forget(who)
    print("deleted " + ", ".join(messages.counted(kind, n, "en") for kind, n in counts.items()))
    if settings.state.url:  # conversations are in Redis: forgotten for every replica now
        memory = ConversationMemory(state=open_state(settings.state.url))
        for user in users | ({who} if "@" not in who else set()):
            memory.forget(user)
        print("conversations forgotten in " + settings.state.url.split("@")[-1])
    else:
        print("conversations are kept only in each running bot's memory, and forgotten after an hour without "
              "messages (set [state] url to delete them at once)", file=sys.stderr)
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.candidates import report
    from bot.core.embeddings import load_embedder

    since = report.parse_since(args.since)
    made = report.write(_records(settings), load_embedder(settings.embeddings), args.out, since=since,
                        lab=settings.lab.name)
    print(f"{made.questions} questions, {made.unanswered} unanswered: report written to {args.out / 'report.md'} "
          f"and {args.out / 'report.html'}", file=sys.stderr)
    if args.post:
        from bot.adapters.notifiers import PlatformNotifier

        return asyncio.run(report.post_digest(settings, made, PlatformNotifier(settings)))
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    import tempfile

    from bot import evaluation

    eval_set = evaluation.EVAL_SETS[args.set]
    if args.set == "realdocs" and args.realdocs:
        eval_set = evaluation.EvalSet(str(args.realdocs / "questions.jsonl"), corpus=str(args.realdocs / "corpus"))
    if eval_set.corpus and not settings.resolve(eval_set.corpus).is_dir():
        raise BotError(f"the {args.set} corpus is not at {settings.resolve(eval_set.corpus)}"
                       + (" (give its folder with --realdocs DIR)" if args.set == "realdocs" else ""))
    questions = evaluation.load_questions(args.questions or settings.resolve(eval_set.questions))
    with tempfile.TemporaryDirectory(prefix="bot-eval-") as scratch:
        if eval_set.corpus:  # a fixed corpus: indexed into --store, or a throw-away index
            settings = settings.with_store_path(args.store or Path(scratch))
            if _ingest(settings, [settings.resolve(eval_set.corpus)]):
                return 1
        assistant = _assistant(settings, auto_index=not args.store and not eval_set.corpus,
                               use_llm=not args.no_llm)
        results = evaluation.run(assistant, questions)
        matching = None
        if eval_set.backgrounds and not args.questions and assistant.openings():  # needs position records
            matching = evaluation.run_matching(assistant, evaluation.load_backgrounds(settings.resolve(eval_set.backgrounds)))
    summary = evaluation.summarize(results)
    corpus = eval_set.corpus or str(args.store or assistant.store.location)
    print(evaluation.table(summary))
    if matching is not None:
        print("\n" + evaluation.matching_table(evaluation.summarize_matching(matching)))
    path = args.report or settings.resolve("reports/eval.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(evaluation.report(results, summary, corpus=corpus, model=assistant.embedder.name, matching=matching),
                    encoding="utf-8")
    print(f"\nreport written to {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # No model hub is ever needed; without this a stray hub lookup can hang for a minute.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        settings = _settings(args)
        if args.command in ("discord", "slack") or args.verbose:  # long-running: say what happens
            from bot import logs
            level = "debug" if args.verbose else settings.logging.level
            logs.setup(getattr(logging, level.upper()), settings.logging.format,
                       extra_secret_names=(settings.llm.api_key_env, settings.handoff.smtp_password_env))
        if args.command == "ingest" and args.explain:
            return _explain(settings, args.paths)
        if args.command == "ingest":
            paths, urls = _sources(settings, args.paths)
            if args.every:
                return _ingest_every(settings, paths, urls, args.every)
            return _ingest(settings, paths, urls=urls, rebuild=args.rebuild)
        if args.command == "ask":
            return _ask(settings, args)
        if args.command == "chat":
            return _chat(settings, args)
        if args.command == "positions":
            return _positions(settings, args)
        if args.command == "match":
            return _match(settings, args)
        if args.command == "eval":
            return _eval(settings, args)
        if args.command == "train":
            if args.intents:
                from bot import training_intents
                return training_intents.main(settings, harvest_first=args.harvest)
            from bot import training
            return training.main(settings, harvest_first=args.harvest, stores=args.stores)
        if args.command == "interest":
            return _interest(settings, args)
        if args.command == "report":
            return _report(settings, args)
        if args.command == "health":
            return _health(settings)
        if args.command == "discord":
            return _discord(settings, args)
        if args.command == "slack":
            return _slack(settings, args)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    except BotError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 2
