"""The FastAPI app: one Engine per process, loaded at startup; every way in over HTTP.

``create_app(settings, engine)`` builds it (``newsqa serve`` runs it with uvicorn). Routers:

- ``routes/answers.py``  ``/v1/ask``, ``/v1/search``, ``/v1/chat`` (JSON or SSE)
- ``routes/openai.py``   ``/v1/chat/completions``, ``/v1/models`` (OpenAI-compatible)
- ``routes/articles.py`` ``/v1/articles`` (add, list, get, delete)
- ``routes/health.py``   ``/healthz``, ``/readyz``, ``/metrics``
- ``routes/feeds.py``    ``/v1/feeds`` (feed state; the feeds themselves are polled in the background here)
- ``routes/watches.py``  ``/v1/watches`` (watches: standing queries delivered to Slack or a webhook)
- ``routes/timeline.py`` ``/v1/timeline`` (matching stories in date order, one cited sentence each)
- ``routes/web.py``      ``/`` (the chat page, ``api/web/index.html``)

Other ways in (see :func:`extra_routers`): the Slack bot's ``POST /slack/events`` is mounted from
``api.slack.serve.router`` when ``NEWSQA_SLACK_BOT_TOKEN`` is set; its handler reaches the shared engine
through ``request.app.state.runtime``. Slack signs its requests itself, so that router is not behind the
``/v1`` API keys.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from fastapi import APIRouter, Depends, FastAPI

from api.http import access_log, errors
from api.http.deps import Runtime, require_api_key
from api.http.limits import BodySizeLimit
from api.http.metrics import MetricsMiddleware
from api.http.routes import answers, articles, feeds, health, openai, timeline, web
from api.http.routes import watches as watch_routes
from api.slack import serve as slack
from ingest.engine import Engine
from rag.errors import NewsqaError
from rag.settings import Settings

if TYPE_CHECKING:
    from ingest.feeds import FeedPollerHandle

log = logging.getLogger("newsqa.http")

DESCRIPTION = """Question answering over news with cited sources.

Every `/v1` call needs `Authorization: Bearer <key>` when `NEWSQA_API_KEYS` is set. Errors are
`{"error": {"type", "message", "field"}}` with a 4xx code for anything wrong with the request.
`/v1/chat/completions` is OpenAI-compatible; its extra top-level `citations` field carries the sources."""


def v1_routers() -> list[APIRouter]:
    """The API-key-protected ``/v1`` routers."""
    return [answers.router, openai.router, articles.router, feeds.router, watch_routes.router, timeline.router]


def extra_routers(settings: Settings) -> list[APIRouter]:
    """Routers of other ways in that share this app (not under the API keys): Slack's ``/slack/events``."""
    return [slack.router] if settings.slack_bot_token else []


async def _start(runtime: Runtime) -> None:
    """Load the model, open the store and build the BM25 cache, on a worker thread (the loop stays free)."""
    try:
        await anyio.to_thread.run_sync(runtime.engine.warm_up)
        runtime.ready = True
        log.info("engine ready")
    except NewsqaError as exc:
        # Keep serving: /readyz says why, /v1 calls answer 503 with the same message.
        runtime.startup_error = str(exc)
        log.error("engine failed to start: %s", exc)


def _start_feed_poller(runtime: Runtime) -> FeedPollerHandle | None:
    """The background feed poller (``ingest.feeds``), unless the engine failed or NEWSQA_FEED_INTERVAL=0."""
    if not runtime.ready or runtime.settings.feed_interval <= 0:
        return None
    from ingest.feeds import start_feed_poller

    return start_feed_poller(runtime.engine, runtime.settings)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app over ``engine`` (built from ``settings`` if not given). Warm-up runs in the lifespan."""
    settings = settings or (engine.settings if engine else Settings())  # type: ignore[call-arg]
    runtime = Runtime(settings, engine or Engine(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _start(runtime)
        poller = _start_feed_poller(runtime)  # web ingest: registered feeds, every NEWSQA_FEED_INTERVAL
        try:
            yield
        finally:
            if poller is not None:
                await anyio.to_thread.run_sync(poller.stop)

    app = FastAPI(
        title="newsqa",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    access_log.install()  # no query strings (a key sent as ?api_key=) in uvicorn's access log
    for router in v1_routers():
        app.include_router(router, dependencies=[Depends(require_api_key)])
    for router in (health.router, web.router, *extra_routers(settings)):
        app.include_router(router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)  # outermost: sees every response
    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory api.http.app:app_factory`` (and ``newsqa serve --workers N``): settings from env."""
    return create_app(Settings())  # type: ignore[call-arg]
