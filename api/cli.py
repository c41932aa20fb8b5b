"""The ``newsqa`` command line: ingest, search, ask, articles, delete, stats."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.errors import InputError, NewsqaError
from rag.settings import Settings
from rag.text.dates import parse_date
from rag.types import Filters, Passage

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "samples"
FLAGSHIP_QUESTION = "Who benefits if Supermicro loses xAI?"


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        since=parse_date(args.since),
        until=parse_date(args.until, end_of_day=True),
        as_of=parse_date(args.as_of, end_of_day=True),
        sources=args.source or [],
    )


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ingest.engine import Engine

    return Engine(args.settings)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


# ---- commands -------------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.render import print_ingest_report

    engine = _engine(args)
    from ingest.web import is_url, read_urls  # URLs among the PATH args are fetched (web ingest)

    docs = engine.ingestor.read([Path(p) for p in args.paths if not is_url(p)])
    if urls := [p for p in args.paths if is_url(p)]:
        docs += read_urls(urls, args.settings)
    quiet = args.json or not sys.stderr.isatty()
    with Progress(
        TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=quiet, transient=True
    ) as bar:
        task = bar.add_task("ingest", total=len(docs))
        report = engine.ingest_documents(docs, progress=lambda n: bar.advance(task, n))
    if args.json:
        _print_json(report.as_dict())
    else:
        print_ingest_report(report)
    return 1 if report.failed and not (report.ingested or report.updated or report.skipped or report.grouped) else 0


def _read_batch(path: str, text_field: str) -> Iterator[dict[str, Any]]:
    source = sys.stdin if path == "-" else Path(path).open(encoding="utf-8")  # noqa: SIM115
    with source:
        for lineno, line in enumerate(source, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield {"_error": f"line {lineno}: invalid JSON: {exc.msg}", "id": None}
                    continue
                if not isinstance(item.get(text_field), str) or not item[text_field].strip():
                    yield {"_error": f"line {lineno}: missing {text_field!r} field", "id": item.get("id")}
                    continue
                yield item
            else:
                yield {text_field: line, "id": lineno}


def _run_batch(args: argparse.Namespace, text_field: str, run: Callable[[str, Filters, dict[str, Any]], Any]) -> int:
    if not Path(args.batch).exists() and args.batch != "-":
        raise InputError(f"batch file not found: {args.batch}")
    failures = 0
    for item in _read_batch(args.batch, text_field):
        if "_error" in item:
            failures += 1
            _print_json({"id": item["id"], "error": item["_error"]})
            continue
        try:
            filters = Filters(
                since=parse_date(item.get("since")) or parse_date(args.since),
                until=parse_date(item.get("until"), end_of_day=True) or parse_date(args.until, end_of_day=True),
                as_of=parse_date(item.get("as_of"), end_of_day=True) or parse_date(args.as_of, end_of_day=True),
                sources=item.get("sources") or args.source or [],
            )
            result = run(item[text_field], filters, item)
        except (NewsqaError, ValidationError) as exc:
            failures += 1
            _print_json({"id": item.get("id"), "error": str(exc).splitlines()[0]})
            continue
        _print_json(result)
        sys.stdout.flush()
    if failures:
        print(f"error: {failures} line(s) of {args.batch} failed; see their 'error' fields", file=sys.stderr)
    return 1 if failures else 0


def cmd_search(args: argparse.Namespace) -> int:
    from api.render import print_passages

    engine = _engine(args)

    def search(query: str, filters: Filters) -> list[Passage]:
        return engine.search(query, k=args.k, filters=filters, group_by_article=args.articles)

    def run(query: str, filters: Filters, item: dict[str, Any]) -> Any:
        hits = search(query, filters)
        return {"id": item.get("id"), "query": query, "results": [h.model_dump(mode="json") for h in hits]}

    if args.batch:
        return _run_batch(args, "query", run)
    if not args.query:
        raise InputError('give a query, e.g. newsqa search "Supermicro xAI", or --batch FILE')
    if args.json:
        _print_json(run(args.query, _filters(args), {}))
    else:
        print_passages(search(args.query, _filters(args)))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from api.render import print_answer

    engine = _engine(args)

    def run(question: str, filters: Filters, item: dict[str, Any]) -> Any:
        answer = engine.ask(question, filters=filters, top_k=args.top_k)
        answer.id = None if item.get("id") is None else str(item["id"])
        return answer.model_dump(mode="json")

    if args.batch:
        return _run_batch(args, "question", run)
    if not args.question:
        raise InputError('give a question, e.g. newsqa ask "Who benefits if Supermicro loses xAI?", or --batch FILE')
    answer = engine.ask(args.question, filters=_filters(args), top_k=args.top_k)
    if args.json:
        _print_json(answer.model_dump(mode="json"))
    else:
        print_answer(answer)
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    from api.render import print_articles

    engine = _engine(args)
    rows = engine.store.list_articles()
    if args.json:
        _print_json([{**a.model_dump(mode="json", exclude={"text"}), "chunks": n} for a, n in rows])
    else:
        print_articles(rows)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    engine = _engine(args)
    removed = engine.store.delete_article(args.id)
    print(f"deleted article {args.id} ({removed} chunks)")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    engine = _engine(args)
    stats = {
        **engine.store.counts(),
        "data_dir": str(args.settings.data_dir),
        "chroma_url": args.settings.chroma_url,
        "embed_model": args.settings.embed_model,
        "generation": engine.store.generation(),
    }
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key:12} {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``make run``: index the bundled sample if the store is empty, then answer the flagship question."""
    from api.render import print_answer

    engine = _engine(args)
    if engine.store.counts()["articles"] == 0:
        report = engine.ingest_paths([SAMPLE_DIR])
        print(f"indexed the bundled sample: {report.ingested} article(s), {report.chunks} chunks\n")
    print(f"Q: {FLAGSHIP_QUESTION}\n")
    print_answer(engine.ask(FLAGSHIP_QUESTION))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The HTTP API and the chat page (``api.http``) under uvicorn."""
    import os

    import uvicorn

    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    base = f"http://{args.host}:{args.port}"
    print(f"newsqa: chat page at {base}/  (API docs at {base}/docs; ready when {base}/readyz says so)", file=sys.stderr)
    auth = ' -H "Authorization: Bearer $KEY"' if args.settings.api_keys else ""
    print(
        f"try:    curl -s {base}/v1/ask -H 'Content-Type: application/json'{auth} "
        f"-d '{json.dumps({'question': FLAGSHIP_QUESTION})}'",
        file=sys.stderr,
    )
    log_level = args.settings.log_level.lower()
    if args.workers == 1:
        from api.http.app import create_app

        uvicorn.run(create_app(args.settings), host=args.host, port=args.port, log_level=log_level)
        return 0
    # Several workers re-create the app in each process from the environment: hand --data-dir down.
    if args.data_dir:
        os.environ["NEWSQA_DATA_DIR"] = str(Path(args.data_dir).resolve())
    uvicorn.run(
        "api.http.app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=log_level,
    )
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    """The Slack bot: Socket Mode with --socket, otherwise an HTTP server for ``POST /slack/events``."""
    from api.slack.serve import check_token, create_slack_app, socket_mode_handler

    settings = args.settings
    if args.socket and not settings.slack_app_token:
        raise InputError("--socket needs NEWSQA_SLACK_APP_TOKEN (an app-level xapp-... token with connections:write)")
    if not settings.slack_bot_token:
        raise InputError("the Slack bot needs NEWSQA_SLACK_BOT_TOKEN (the app's xoxb-... bot token)")
    if not args.socket and not settings.slack_signing_secret:
        raise InputError("HTTP mode needs NEWSQA_SLACK_SIGNING_SECRET (or run with --socket)")
    engine = _engine(args)
    if args.socket:
        identity = check_token(settings)  # a bad token fails here, in one line, not inside the socket loop
        handler = socket_mode_handler(settings, engine)
        engine.warm_up()
        print(f"newsqa Slack bot @{identity.get('user', '?')}: Socket Mode starting; Ctrl-C to stop", file=sys.stderr)
        handler.start()
        return 0
    import uvicorn

    app = create_slack_app(settings, engine)
    engine.warm_up()
    print(
        f"newsqa Slack bot: Slack's request URL is POST http://{args.host}:{args.port}/slack/events "
        "(behind your public address)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower())
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Slack feedback votes as an eval set (JSONL) on stdout or in --out FILE."""
    from api.slack.feedback import FeedbackStore, export_evalset

    store = FeedbackStore.for_data_dir(args.settings.data_dir)
    if args.out:
        with Path(args.out).open("w", encoding="utf-8") as out:
            count = export_evalset(store, out)
        print(f"wrote {count} eval case(s) to {args.out}", file=sys.stderr)
    else:
        count = export_evalset(store, sys.stdout)
        print(f"wrote {count} eval case(s)", file=sys.stderr)
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    """``newsqa feeds add|list|remove URL`` and ``newsqa feeds poll`` (once; ``serve`` polls on its own)."""
    from ingest.feeds import FeedPoller, FeedRegistry

    registry = FeedRegistry(args.settings)
    if args.feeds_command == "add":
        state, created = registry.add(args.url)
        print(f"{'added' if created else 'already registered'}: {state.url}")
    elif args.feeds_command == "remove":
        registry.remove(args.url)
        print(f"removed: {args.url}")
    elif args.feeds_command == "list":
        states = registry.list()
        if args.json:
            _print_json([s.model_dump(mode="json") for s in states])
        for s in [] if args.json else states:
            last = f"{s.last_status} at {s.last_poll:%Y-%m-%d %H:%M}" if s.last_poll else "never polled"
            print(
                f"{s.url}  [{s.title or '-'}]  {last}; {s.articles_ingested} article(s) "
                f"({s.articles_partial} partial)" + (f"; error: {s.last_error}" if s.last_error else "")
            )
        if not states and not args.json:
            print("no feeds; add one with `newsqa feeds add URL`")
    else:
        results = FeedPoller(_engine(args), args.settings, registry).poll_all()
        if args.json:
            _print_json([r.as_dict() for r in results])
        for r in [] if args.json else results:
            detail = r.error or f"{r.new_entries} new entries, {r.ingested} indexed ({r.partial} partial)"
            print(f"{r.status:12} {r.url}: {detail}")
            for f in r.failures:
                print(f"             failed: {f.origin}: {f.reason}")
        if results and all(r.status == "error" for r in results):
            return 1
    return 0


# ---- parser -------------------------------------------------------------------------------------
def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="only articles published on or after DATE")
    p.add_argument("--until", help="only articles published on or before DATE")
    p.add_argument("--as-of", dest="as_of", help="as of DATE: later articles are excluded, recency measured from it")
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--batch", metavar="FILE", help="one query per line (text or JSONL); JSON lines out")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsqa", description="Question answering over news, with cited sources.")
    parser.add_argument("--data-dir", help="store location (overrides NEWSQA_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index article files, directories and http(s) URLs")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="ranked passages (or articles) for a query")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=None, help="number of results")
    p.add_argument("--articles", action="store_true", help="rank articles, each with its best passage")
    _add_filters(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with cited sources")
    p.add_argument("question", nargs="?")
    p.add_argument("--top-k", dest="top_k", type=int, default=None, help="passages to read")
    _add_filters(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("articles", help="list indexed articles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser("delete", help="remove an article and all its chunks")
    p.add_argument("id")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("stats", help="store statistics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("demo", help="index the bundled sample if needed and answer the flagship question")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the HTTP API and the web chat page")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--workers", type=int, default=1, help="worker processes (each loads the model once)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("slack", help="run the Slack bot (HTTP server for /slack/events, or --socket)")
    p.add_argument("--socket", action="store_true", help="Socket Mode (needs NEWSQA_SLACK_APP_TOKEN); no public URL")
    p.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to listen on")
    p.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on")
    p.set_defaults(func=cmd_slack)

    p = sub.add_parser("feedback", help="Slack feedback votes")
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    p = fsub.add_parser("export", help="write the voted answers as an eval set (JSONL)")
    p.add_argument("--format", choices=["evalset"], default="evalset", help="output format (evalset: issue 4 JSONL)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_feedback_export)

    from evals.command import add_eval_parser  # the evaluation suite (evals/)

    add_eval_parser(sub)
    p = sub.add_parser("feeds", help="RSS/Atom feeds: add, list, remove, poll")
    fsub = p.add_subparsers(dest="feeds_command", required=True)
    for name, text in (("add", "register a feed URL"), ("remove", "unregister a feed URL")):
        fp = fsub.add_parser(name, help=text)
        fp.add_argument("url")
    fp = fsub.add_parser("list", help="registered feeds and their poll state")
    fp.add_argument("--json", action="store_true")
    fp = fsub.add_parser("poll", help="poll every feed once and index new entries")
    fp.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
        args.settings = Settings(**overrides)  # type: ignore[arg-type]
        logging.basicConfig(level=args.settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        for noisy in ("bm25s", "chromadb", "sentence_transformers", "httpx"):
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
        return int(args.func(args))
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"error: invalid setting {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
    except NewsqaError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for the user; the log has details at NEWSQA_LOG_LEVEL=DEBUG
        logging.getLogger("newsqa").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
