"""Ways to serve the Slack bot: ``POST /slack/events`` in the main HTTP app or on its own, or Socket Mode.

One route factory (:func:`events_router`) makes the ``POST /slack/events`` route (Events API, slash
commands, interactivity) for both web apps: :data:`router`, which ``api.http.app`` includes when
``NEWSQA_SLACK_BOT_TOKEN`` is set (the same FastAPI app and engine, taken from ``app.state.runtime``; Slack's
own signatures instead of the API keys), and :func:`create_slack_app` (``newsqa slack``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.concurrency import run_in_threadpool

from api.slack.bolt import api_url, build_app
from api.slack.bot import UPDATE_INTERVAL_S
from rag.errors import ConfigError
from rag.settings import Settings, reveal

if TYPE_CHECKING:
    from ingest.engine import Engine

log = logging.getLogger("newsqa.slack")


async def dispatch(bolt_app: App, request: Request) -> Response:
    """One Slack HTTP request through Bolt (signature check, ack; the work continues on Bolt's threads)."""
    # Bolt's FastAPI adapter dispatches on the event loop; a worker thread keeps the loop free while Bolt
    # verifies, acks and (first time only) calls auth.test
    body = await request.body()
    bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
    return to_starlette_response(bolt_response)


def events_router(bolt_app_for: Callable[[Request], App]) -> APIRouter:
    """A router with ``POST /slack/events``, dispatched to the Bolt app ``bolt_app_for(request)`` returns.

    ``bolt_app_for`` runs on a worker thread (it may build the app); a ConfigError from it is a 503 that
    names the missing setting, for the operator, rather than a 500.
    """
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        """Slack's Events API, slash commands and interactivity."""
        try:
            bolt_app = await run_in_threadpool(bolt_app_for, request)
        except ConfigError as err:  # e.g. the signing secret is missing
            log.error("Slack bot is misconfigured: %s", err)
            return JSONResponse({"error": {"type": "config_error", "message": str(err)}}, status_code=503)
        return await dispatch(bolt_app, request)

    return router


_shared_lock = threading.Lock()


def _shared_bolt_app(request: Request) -> App:
    """The Bolt app of the main HTTP app, built once from its runtime's settings and engine."""
    app: FastAPI = request.app
    with _shared_lock:
        bolt_app: App | None = getattr(app.state, "slack_bolt_app", None)
        if bolt_app is None:
            runtime = app.state.runtime
            bolt_app, _bot = build_app(runtime.settings, runtime.engine)
            app.state.slack_bolt_app = bolt_app
        return bolt_app


# Included by ``api.http.app`` when NEWSQA_SLACK_BOT_TOKEN is set.
router = events_router(_shared_bolt_app)


def create_slack_app(settings: Settings, engine: Engine, update_interval_s: float = UPDATE_INTERVAL_S) -> FastAPI:
    """A web app serving only the Slack bot (``newsqa slack``): ``POST /slack/events`` and ``GET /healthz``."""
    app = FastAPI(title="newsqa Slack bot")
    bolt_app, _bot = build_app(settings, engine, update_interval_s=update_interval_s)
    app.include_router(events_router(lambda _request: bolt_app))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def check_token(settings: Settings) -> dict[str, Any]:
    """auth.test with the bot token; a readable ConfigError when Slack rejects it or cannot be reached."""
    client = WebClient(token=reveal(settings.slack_bot_token), base_url=api_url(settings), timeout=15)
    try:
        return dict(client.auth_test().data)  # type: ignore[arg-type]
    except SlackApiError as err:
        raise ConfigError(f"Slack rejected NEWSQA_SLACK_BOT_TOKEN: {err.response.get('error')}") from err
    except OSError as err:
        raise ConfigError(f"cannot reach Slack at {settings.slack_api_url}: {err}") from err


def socket_mode_handler(settings: Settings, engine: Engine, **kwargs: Any) -> Any:
    """A Socket Mode handler for the bot (call ``.start()`` to run); needs the app-level token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not settings.slack_app_token:
        raise ConfigError(
            "Socket Mode needs NEWSQA_SLACK_APP_TOKEN (an app-level xapp-... token with connections:write)"
        )
    app, _bot = build_app(settings, engine, socket_mode=True, **kwargs)
    web_client = WebClient(token=reveal(settings.slack_app_token), base_url=api_url(settings))
    return SocketModeHandler(app, app_token=reveal(settings.slack_app_token), web_client=web_client)
