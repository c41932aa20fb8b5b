"""``GET /v1/feeds``: the registered feeds and what their polls did (state from ``ingest.feeds``)."""

from __future__ import annotations

from fastapi import APIRouter

from api.http.deps import RuntimeDep
from api.http.schemas import ERROR_RESPONSES
from ingest.feeds import FeedRegistry, FeedState

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[FeedState], summary="List registered feeds with their poll state")
async def list_feeds(runtime: RuntimeDep) -> list[FeedState]:
    """Each feed: URL, title, last poll (time, status `ok` / `not_modified` / `error`, error message),
    conditional-GET validators (ETag, Last-Modified) and counts (polls, entries seen, articles indexed,
    of which partial). Feeds are added with `newsqa feeds add URL` and polled by `newsqa serve`."""
    return await runtime.run(lambda: FeedRegistry(runtime.settings).list())
