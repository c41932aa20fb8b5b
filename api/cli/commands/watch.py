"""``newsqa watch add QUERY (--channel C | --webhook URL)``, ``watch list``, ``watch remove ID``, ``watch deliver``.

New matching stories are delivered after every ingest (``ingest.watches``); ``deliver`` sends what is due now
(digests whose earlier attempts failed), e.g. from cron.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from api.cli.commands import open_engine, print_json
from rag.errors import InputError
from rag.settings import validation_message
from rag.text.dates import parse_date

if TYPE_CHECKING:
    from ingest.watches import Watches


def register(sub: Any) -> None:
    p = sub.add_parser("watch", help="watches: standing queries whose new stories are delivered to Slack or a webhook")
    wsub = p.add_subparsers(dest="watch_command", required=True)
    wp = wsub.add_parser("add", help="watch for new stories matching QUERY")
    wp.add_argument("query", nargs="+")
    target = wp.add_mutually_exclusive_group(required=True)
    target.add_argument("--channel", help="Slack channel id to post digests to (needs NEWSQA_SLACK_BOT_TOKEN)")
    target.add_argument("--webhook", metavar="URL", help="URL to POST signed JSON digests to")
    wp.add_argument("--secret", help="webhook signing secret (default: NEWSQA_WATCH_WEBHOOK_SECRET, else generated)")
    wp.add_argument("--source", action="append", help="only stories from this outlet (repeatable)")
    wp.add_argument("--since", help="only stories published on or after DATE")
    wp.add_argument("--until", help="only stories published on or before DATE")
    wp.add_argument("--json", action="store_true")
    wp.set_defaults(func=add)
    wp = wsub.add_parser("list", help="watches and their delivery state")
    wp.add_argument("--json", action="store_true")
    wp.set_defaults(func=list_watches)
    wp = wsub.add_parser("remove", help="remove a watch")
    wp.add_argument("id")
    wp.set_defaults(func=remove)
    wp = wsub.add_parser("deliver", help="send every digest that is due now (retries of failed ones)")
    wp.set_defaults(func=deliver)


def _watches(args: argparse.Namespace) -> Watches:
    return open_engine(args).watches


def add(args: argparse.Namespace) -> int:
    from ingest.watches import WatchIn

    try:
        spec = WatchIn(
            query=" ".join(args.query),
            sources=args.source or [],
            since=parse_date(args.since),
            until=parse_date(args.until, end_of_day=True),
            channel=args.channel,
            webhook_url=args.webhook,
            secret=args.secret,
        )
    except ValidationError as exc:
        raise InputError(validation_message(exc)) from None
    watch, secret = _watches(args).add(spec, created_by="cli")
    if args.json:
        print_json({**watch.model_dump(mode="json"), **({"secret": secret} if secret else {})})
        return 0
    print(f"added {watch.id}: {watch.query!r} -> {watch.channel or watch.webhook_url}")
    if secret:
        print(f"webhook signing secret (shown once): {secret}")
    return 0


def list_watches(args: argparse.Namespace) -> int:
    watches = _watches(args).list()
    if args.json:
        print_json([w.model_dump(mode="json") for w in watches])
        return 0
    for w in watches:
        filters = "".join(
            [f" sources={','.join(w.sources)}" if w.sources else "", f" since={w.since:%Y-%m-%d}" if w.since else "",
             f" until={w.until:%Y-%m-%d}" if w.until else ""]
        )  # fmt: skip
        last = f"last {w.last_delivery_at:%Y-%m-%d %H:%M}" if w.last_delivery_at else "none yet"
        error = f"; {w.failures} failure(s), last: {w.last_error}" if w.failures else ""
        print(f"{w.id}  {w.query!r}{filters} -> {w.channel or w.webhook_url}  {w.delivered} delivered ({last}){error}")
    if not watches:
        print("no watches; add one with `newsqa watch add QUERY --channel C` or `--webhook URL`")
    return 0


def remove(args: argparse.Namespace) -> int:
    _watches(args).remove(args.id)
    print(f"removed: {args.id}")
    return 0


def deliver(args: argparse.Namespace) -> int:
    print(f"delivered {_watches(args).deliver_now()} stor(ies)")
    return 0
