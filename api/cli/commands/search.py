"""``newsqa search QUERY``: ranked passages (or articles with ``--articles``) for a query, or a batch of them."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.batch import run_batch
from api.cli.commands import add_filters, filters, open_engine, print_json
from rag.errors import InputError
from rag.types import Filters, Passage


def register(sub: Any) -> None:
    p = sub.add_parser("search", help="ranked passages (or articles) for a query")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=None, help="number of results")
    p.add_argument("--articles", action="store_true", help="rank articles, each with its best passage")
    add_filters(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.cli.render import print_passages

    engine = open_engine(args)

    def search(query: str, given: Filters) -> list[Passage]:
        return engine.search(query, k=args.k, filters=given, group_by_article=args.articles)

    def one(query: str, given: Filters, item: dict[str, Any]) -> Any:
        hits = search(query, given)
        return {"id": item.get("id"), "query": query, "results": [h.model_dump(mode="json") for h in hits]}

    if args.batch:
        return run_batch(args, "query", one)
    if not args.query:
        raise InputError('give a query, e.g. newsqa search "Supermicro xAI", or --batch FILE')
    if args.json:
        print_json(one(args.query, filters(args), {}))
    else:
        print_passages(search(args.query, filters(args)))
    return 0
