"""The ``newsqa`` commands, one module each; every module has ``register(sub)`` adding its subparser.

This module holds what the commands share: the engine, JSON output and the filter flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.text.dates import parse_date
from rag.types import Filters

if TYPE_CHECKING:
    from ingest.engine import Engine

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "samples"
FLAGSHIP_QUESTION = "Who benefits if Supermicro loses xAI?"


def open_engine(args: argparse.Namespace) -> Engine:
    """The engine over ``args.settings`` (imported here: ``newsqa --help`` stays fast)."""
    from ingest.engine import Engine

    return Engine(args.settings)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def filters(args: argparse.Namespace) -> Filters:
    """The filters given by ``--since``, ``--until``, ``--as-of`` and ``--source``."""
    return Filters(
        since=parse_date(args.since),
        until=parse_date(args.until, end_of_day=True),
        as_of=parse_date(args.as_of, end_of_day=True),
        sources=args.source or [],
    )


def add_filters(p: argparse.ArgumentParser) -> None:
    """The filter, ``--json`` and ``--batch`` flags shared by ``search`` and ``ask``."""
    p.add_argument("--since", help="only articles published on or after DATE")
    p.add_argument("--until", help="only articles published on or before DATE")
    p.add_argument("--as-of", dest="as_of", help="as of DATE: later articles are excluded, recency measured from it")
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--batch", metavar="FILE", help="one query per line (text or JSONL); JSON lines out")
