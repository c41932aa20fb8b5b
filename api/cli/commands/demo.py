"""``newsqa demo`` (``make run``): index the bundled sample if the store is empty, then answer the flagship
question."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.commands import FLAGSHIP_QUESTION, SAMPLE_DIR, open_engine


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="index the bundled sample if needed and answer the flagship question")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.cli.render import print_answer

    engine = open_engine(args)
    if engine.store.counts()["articles"] == 0:
        report = engine.ingest_paths([SAMPLE_DIR])
        print(f"indexed the bundled sample: {report.ingested} article(s), {report.chunks} chunks\n")
    print(f"Q: {FLAGSHIP_QUESTION}\n")
    print_answer(engine.ask(FLAGSHIP_QUESTION))
    return 0
