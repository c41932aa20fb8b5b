"""``newsqa ask QUESTION``: an answer with cited sources, or a batch of them."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.batch import run_batch
from api.cli.commands import add_filters, filters, open_engine, print_json
from rag.errors import InputError
from rag.types import Filters


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer a question with cited sources")
    p.add_argument("question", nargs="?")
    p.add_argument("--top-k", dest="top_k", type=int, default=None, help="passages to read")
    add_filters(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.cli.render import print_answer

    engine = open_engine(args)

    def one(question: str, given: Filters, item: dict[str, Any]) -> Any:
        answer = engine.ask(question, filters=given, top_k=args.top_k)
        answer.id = None if item.get("id") is None else str(item["id"])
        return answer.model_dump(mode="json")

    if args.batch:
        return run_batch(args, "question", one)
    if not args.question:
        raise InputError('give a question, e.g. newsqa ask "Who benefits if Supermicro loses xAI?", or --batch FILE')
    answer = engine.ask(args.question, filters=filters(args), top_k=args.top_k)
    if args.json:
        print_json(answer.model_dump(mode="json"))
    else:
        print_answer(answer)
    return 0
