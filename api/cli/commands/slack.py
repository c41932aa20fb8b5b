"""``newsqa slack``: the Slack bot, in Socket Mode (``--socket``) or as an HTTP server for ``/slack/events``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.cli.commands import open_engine
from rag.errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser("slack", help="run the Slack bot (HTTP server for /slack/events, or --socket)")
    p.add_argument("--socket", action="store_true", help="Socket Mode (needs NEWSQA_SLACK_APP_TOKEN); no public URL")
    p.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to listen on")
    p.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.slack.serve import check_token, create_slack_app, socket_mode_handler

    settings = args.settings
    if args.socket and not settings.slack_app_token:
        raise InputError("--socket needs NEWSQA_SLACK_APP_TOKEN (an app-level xapp-... token with connections:write)")
    if not settings.slack_bot_token:
        raise InputError("the Slack bot needs NEWSQA_SLACK_BOT_TOKEN (the app's xoxb-... bot token)")
    if not args.socket and not settings.slack_signing_secret:
        raise InputError("HTTP mode needs NEWSQA_SLACK_SIGNING_SECRET (or run with --socket)")
    engine = open_engine(args)
    if args.socket:
        identity = check_token(settings)  # a bad token fails here, in one line, not inside the socket loop
        handler = socket_mode_handler(settings, engine)
        engine.warm_up()
        print(f"newsqa Slack bot @{identity.get('user', '?')}: Socket Mode starting; Ctrl-C to stop", file=sys.stderr)
        handler.start()
        return 0
    import uvicorn

    app = create_slack_app(settings, engine)
    engine.warm_up()
    print(
        f"newsqa Slack bot: Slack's request URL is POST http://{args.host}:{args.port}/slack/events "
        "(behind your public address)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower())
    return 0
