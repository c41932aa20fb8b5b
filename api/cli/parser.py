"""The ``newsqa`` argument parser: the global flags, then each command module registers its own subcommand."""

from __future__ import annotations

import argparse

from api.cli.commands import ask, demo, feedback, feeds, ingest, search, serve, slack, store, timeline


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsqa", description="Question answering over news, with cited sources.")
    parser.add_argument("--data-dir", help="store location (overrides NEWSQA_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (ingest, search, ask, timeline, store, demo, serve, slack, feedback):
        command.register(sub)
    from evals.command import add_eval_parser  # the evaluation suite (evals/)

    add_eval_parser(sub)
    feeds.register(sub)
    from api.cli.commands import watch  # watches (ingest/watches/)

    watch.register(sub)
    return parser
