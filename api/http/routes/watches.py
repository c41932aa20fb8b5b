"""``/v1/watches``: create, list, get and delete watches (standing queries delivered to Slack or a webhook).

The request and response schemas are this router's own: ``WatchIn`` (``ingest.watches``) checks a new watch
(exactly one target, a well-formed webhook URL, dates in order: 422 otherwise), ``WatchCreated`` adds the
generated webhook secret, shown this once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from api.http.deps import EngineDep, RuntimeDep
from api.http.schemas import ERROR_RESPONSES
from ingest.watches import Watch, WatchIn

router = APIRouter(prefix="/v1/watches", tags=["watches"], responses=ERROR_RESPONSES)


class WatchCreated(Watch):
    secret: str | None = Field(
        None, description="The generated webhook signing secret: returned only here, store it to verify digests."
    )


class WatchDeleted(BaseModel):
    id: str
    deleted: bool = True


class WatchDetail(Watch):
    deliveries: list[dict[str, Any]] = Field(
        default_factory=list, description="Delivery rows: story, article, score, status, attempts, last error."
    )


@router.post(
    "", response_model=WatchCreated, status_code=status.HTTP_201_CREATED, summary="Create a watch"
)  # fmt: skip
async def create_watch(body: WatchIn, engine: EngineDep, runtime: RuntimeDep) -> WatchCreated:
    """`{query, sources?, since?, until?}` plus exactly one of `channel` (Slack) or `webhook_url` (with an
    optional `secret`). New stories matching the query are delivered once each, after the ingest that adds them."""
    watch, secret = await runtime.run(engine.watches.add, body, "http")
    return WatchCreated(**watch.model_dump(), secret=secret)


@router.get("", response_model=list[Watch], summary="List watches with their delivery state")
async def list_watches(engine: EngineDep, runtime: RuntimeDep) -> list[Watch]:
    return await runtime.run(engine.watches.list)


@router.get("/{watch_id}", response_model=WatchDetail, summary="One watch with its deliveries")
async def get_watch(watch_id: str, engine: EngineDep, runtime: RuntimeDep) -> WatchDetail:
    watch = await runtime.run(engine.watches.get, watch_id)
    rows = await runtime.run(engine.watches.db.deliveries, watch_id)
    keep = ("story_id", "article_id", "score", "status", "attempts", "matched_at", "sent_at", "last_error")
    return WatchDetail(**watch.model_dump(), deliveries=[{k: r[k] for k in keep} for r in rows])


@router.delete("/{watch_id}", response_model=WatchDeleted, summary="Delete a watch")
async def delete_watch(watch_id: str, engine: EngineDep, runtime: RuntimeDep) -> WatchDeleted:
    await runtime.run(engine.watches.remove, watch_id)
    return WatchDeleted(id=watch_id)
