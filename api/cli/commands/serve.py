"""``newsqa serve``: the HTTP API and the chat page (``api.http``) under uvicorn, in one or several workers."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from api.cli.commands import FLAGSHIP_QUESTION
from rag.errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP API and the web chat page")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--workers", type=int, default=1, help="worker processes (each loads the model once)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    base = f"http://{args.host}:{args.port}"
    print(f"newsqa: chat page at {base}/  (API docs at {base}/docs; ready when {base}/readyz says so)", file=sys.stderr)
    auth = ' -H "Authorization: Bearer $KEY"' if args.settings.api_keys else ""
    print(
        f"try:    curl -s {base}/v1/ask -H 'Content-Type: application/json'{auth} "
        f"-d '{json.dumps({'question': FLAGSHIP_QUESTION})}'",
        file=sys.stderr,
    )
    log_level = args.settings.log_level.lower()
    if args.workers == 1:
        from api.http.app import create_app

        uvicorn.run(create_app(args.settings), host=args.host, port=args.port, log_level=log_level)
        return 0
    # Several workers re-create the app in each process from the environment: hand --data-dir down.
    if args.data_dir:
        os.environ["NEWSQA_DATA_DIR"] = str(Path(args.data_dir).resolve())
    uvicorn.run(
        "api.http.app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=log_level,
    )
    return 0
