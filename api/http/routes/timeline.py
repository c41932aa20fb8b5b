"""``POST /v1/timeline``: the stories matching a query in date order, one cited verbatim sentence each.

The body is ``{query, since?, until?, as_of?, sources?}`` (dates ISO 8601, checked like every filter of the API:
a bad date or ``since`` after ``until`` is a 422 naming the field); the response is ``rag.timeline.Timeline``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field, model_validator

from api.http.deps import EngineDep, RuntimeDep
from api.http.schemas import ERROR_RESPONSES, MAX_TEXT_FIELD, FiltersIn, valid_unicode
from rag.timeline import Timeline
from rag.types import Filters

router = APIRouter(prefix="/v1", tags=["timeline"], responses=ERROR_RESPONSES)


class TimelineRequest(FiltersIn):
    """What to follow, and the date window (undated matching stories are listed apart, whatever the window)."""

    query: str = Field(min_length=1, max_length=MAX_TEXT_FIELD, examples=["Itaewon crowd crush"])

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "Itaewon crowd crush", "since": "2022-10-01"}]},
    )

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return valid_unicode(data)

    @model_validator(mode="after")
    def _window(self) -> TimelineRequest:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since.date()}) is after until ({self.until.date()}); swap them")
        return self


@router.post("/timeline", response_model=Timeline, summary="Matching stories in date order, one cited sentence each")
async def timeline(body: TimelineRequest, engine: EngineDep, runtime: RuntimeDep) -> Timeline:
    """`entries`: dated stories oldest first, each with its outlets (syndicated copies counted) and one
    `citation` (the lede or the sentence best matching the query, verbatim); `undated`: matching stories
    with no publication date, never placed by guess."""
    runtime.check_question(body.query, "query")
    filters = Filters(since=body.since, until=body.until, as_of=body.as_of, sources=body.sources)
    return await runtime.run(engine.timeline, body.query, filters)
