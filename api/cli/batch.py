"""``--batch FILE`` for ``search`` and ``ask``: one query per line (plain text or JSONL) in, JSON lines out.

A bad line becomes ``{"id", "error"}`` on stdout and the batch goes on; the exit code is 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.cli.commands import print_json
from rag.errors import InputError, NewsqaError
from rag.text.dates import parse_date
from rag.types import Filters


def read_batch(path: str, text_field: str) -> Iterator[dict[str, Any]]:
    """Each line of ``path`` (``-``: stdin) as a dict with ``text_field``, or with ``_error`` saying why not."""
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


def run_batch(args: argparse.Namespace, text_field: str, run: Callable[[str, Filters, dict[str, Any]], Any]) -> int:
    """``run(text, filters, item)`` for every line of ``args.batch``; a line's own filters override the flags."""
    if not Path(args.batch).exists() and args.batch != "-":
        raise InputError(f"batch file not found: {args.batch}")
    failures = 0
    for item in read_batch(args.batch, text_field):
        if "_error" in item:
            failures += 1
            print_json({"id": item["id"], "error": item["_error"]})
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
            print_json({"id": item.get("id"), "error": str(exc).splitlines()[0]})
            continue
        print_json(result)
        sys.stdout.flush()
    if failures:
        print(f"error: {failures} line(s) of {args.batch} failed; see their 'error' fields", file=sys.stderr)
    return 1 if failures else 0
