"""``newsqa timeline QUERY [--since --until]``: the matching stories in date order, one cited sentence each."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.commands import filters, open_engine, print_json
from rag.errors import InputError
from rag.timeline import Timeline, TimelineEntry


def register(sub: Any) -> None:
    p = sub.add_parser("timeline", help="the stories matching a query in date order, one cited sentence each")
    p.add_argument("query", nargs="?")
    p.add_argument("--since", help="only stories published on or after DATE")
    p.add_argument("--until", help="only stories published on or before DATE")
    p.add_argument("--as-of", dest="as_of", help="as of DATE: later articles are excluded")
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.query or not args.query.strip():
        raise InputError('give a query, e.g. newsqa timeline "Itaewon crowd crush" --since 2022-10-01')
    given = filters(args)
    if given.since and given.until and given.since > given.until:
        raise InputError(f"--since {args.since} is after --until {args.until}; give an earlier --since")
    timeline = open_engine(args).timeline(args.query, given)
    if args.json:
        print_json(timeline.model_dump(mode="json"))
    else:
        print_timeline(timeline)
    return 0


def _entry(e: TimelineEntry) -> list[str]:
    from rich.markup import escape

    when = e.published.date().isoformat() if e.published else "undated"
    outlet = e.source or (e.outlets[0] if e.outlets else "unknown outlet")
    if e.citation.reported_by:
        outlet += f", citing {e.citation.reported_by}"
    also = f" [dim](in {e.outlet_count} outlets: {escape(', '.join(e.outlets))})[/dim]" if e.outlet_count > 1 else ""
    lines = [f"[bold]{when}[/bold] [{e.citation.n}] {escape(e.title or '(untitled)')} — {escape(outlet)}{also}"]
    lines.append(f"    [italic]“{escape(e.citation.quote)}”[/italic]")
    if e.url:
        lines.append(f"    {escape(e.url)}")
    return lines


def print_timeline(timeline: Timeline) -> None:
    from api.cli.render import console

    if not timeline.entries and not timeline.undated:
        console.print(f"no indexed stories match {timeline.query!r}")
        return
    for e in timeline.entries:
        for line in _entry(e):
            console.print(line)
    if timeline.undated:
        console.print("\n[bold]Undated[/bold] (no publication date: not placed in the timeline)")
        for e in timeline.undated:
            for line in _entry(e):
                console.print(line)
