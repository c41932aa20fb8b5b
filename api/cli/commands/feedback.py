"""``newsqa feedback export``: the Slack feedback votes as an eval set (JSONL)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("feedback", help="Slack feedback votes")
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    p = fsub.add_parser("export", help="write the voted answers as an eval set (JSONL)")
    p.add_argument("--format", choices=["evalset"], default="evalset", help="output format (evalset: issue 4 JSONL)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=export)


def export(args: argparse.Namespace) -> int:
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
