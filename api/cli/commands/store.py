"""``newsqa articles``, ``newsqa delete ID`` and ``newsqa stats``: look at the store and prune it."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.commands import open_engine, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("articles", help="list indexed articles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=articles)

    p = sub.add_parser("delete", help="remove an article and all its chunks")
    p.add_argument("id")
    p.set_defaults(func=delete)

    p = sub.add_parser("stats", help="store statistics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=stats)


def articles(args: argparse.Namespace) -> int:
    from api.cli.render import print_articles

    engine = open_engine(args)
    rows = engine.store.list_articles()
    if args.json:
        print_json([{**a.model_dump(mode="json", exclude={"text"}), "chunks": n} for a, n in rows])
    else:
        print_articles(rows)
    return 0


def delete(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    removed = engine.store.delete_article(args.id)
    print(f"deleted article {args.id} ({removed} chunks)")
    return 0


def stats(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    counts = {
        **engine.store.counts(),
        "data_dir": str(args.settings.data_dir),
        "chroma_url": args.settings.chroma_url,
        "embed_model": args.settings.embed_model,
        "generation": engine.store.generation(),
    }
    if args.json:
        print_json(counts)
    else:
        for key, value in counts.items():
            print(f"{key:12} {value}")
    return 0
