"""``newsqa ingest PATH...``: index article files, directories and http(s) URLs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.cli.commands import open_engine, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("ingest", help="index article files, directories and http(s) URLs")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.cli.render import print_ingest_report

    engine = open_engine(args)
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
        print_json(report.as_dict())
    else:
        print_ingest_report(report)
    return 1 if report.failed and not (report.ingested or report.updated or report.skipped or report.grouped) else 0
