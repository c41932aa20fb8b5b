"""``newsqa feeds add|remove URL``, ``newsqa feeds list`` and ``newsqa feeds poll`` (once; ``serve`` polls
on its own every NEWSQA_FEED_INTERVAL)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from api.cli.commands import open_engine, print_json

if TYPE_CHECKING:
    from ingest.feeds import FeedRegistry


def register(sub: Any) -> None:
    p = sub.add_parser("feeds", help="RSS/Atom feeds: add, list, remove, poll")
    fsub = p.add_subparsers(dest="feeds_command", required=True)
    fp = fsub.add_parser("add", help="register a feed URL")
    fp.add_argument("url")
    fp.set_defaults(func=add)
    fp = fsub.add_parser("remove", help="unregister a feed URL")
    fp.add_argument("url")
    fp.set_defaults(func=remove)
    fp = fsub.add_parser("list", help="registered feeds and their poll state")
    fp.add_argument("--json", action="store_true")
    fp.set_defaults(func=list_feeds)
    fp = fsub.add_parser("poll", help="poll every feed once and index new entries")
    fp.add_argument("--json", action="store_true")
    fp.set_defaults(func=poll)


def _registry(args: argparse.Namespace) -> FeedRegistry:
    from ingest.feeds import FeedRegistry

    return FeedRegistry(args.settings)


def add(args: argparse.Namespace) -> int:
    state, created = _registry(args).add(args.url)
    print(f"{'added' if created else 'already registered'}: {state.url}")
    return 0


def remove(args: argparse.Namespace) -> int:
    _registry(args).remove(args.url)
    print(f"removed: {args.url}")
    return 0


def list_feeds(args: argparse.Namespace) -> int:
    states = _registry(args).list()
    if args.json:
        print_json([s.model_dump(mode="json") for s in states])
        return 0
    for s in states:
        last = f"{s.last_status} at {s.last_poll:%Y-%m-%d %H:%M}" if s.last_poll else "never polled"
        print(
            f"{s.url}  [{s.title or '-'}]  {last}; {s.articles_ingested} article(s) "
            f"({s.articles_partial} partial)" + (f"; error: {s.last_error}" if s.last_error else "")
        )
    if not states:
        print("no feeds; add one with `newsqa feeds add URL`")
    return 0


def poll(args: argparse.Namespace) -> int:
    """Poll every feed once; exit 1 when every feed failed."""
    from ingest.feeds import FeedPoller

    registry = _registry(args)
    results = FeedPoller(open_engine(args), args.settings, registry).poll_all()
    if args.json:
        print_json([r.as_dict() for r in results])
    else:
        for r in results:
            detail = r.error or f"{r.new_entries} new entries, {r.ingested} indexed ({r.partial} partial)"
            print(f"{r.status:12} {r.url}: {detail}")
            for f in r.failures:
                print(f"             failed: {f.origin}: {f.reason}")
    return 1 if results and all(r.status == "error" for r in results) else 0
