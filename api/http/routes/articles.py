"""``/v1/articles``: add one article (JSON, or a URL to fetch), list, get and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.http.deps import EngineDep, RuntimeDep
from api.http.schemas import ERROR_RESPONSES, ArticleIn, ArticlePage, ArticleSummary, Deleted, IngestResult
from ingest.engine import Engine
from ingest.pipeline import build_article
from ingest.readers import RawDocument
from ingest.web import fetch_article
from rag.errors import InputError
from rag.store import build_where
from rag.text.dates import parse_date
from rag.text.ids import text_hash
from rag.types import Article

router = APIRouter(prefix="/v1/articles", tags=["articles"], responses=ERROR_RESPONSES)


def ingest_one(engine: Engine, raw: RawDocument) -> IngestResult:
    """Index one raw document and say whether it was new, an update or a duplicate."""
    article = build_article(raw, engine.settings)  # rejects (422) before anything is written
    report = engine.ingest_documents([raw])
    if report.failed:
        raise InputError(f"article rejected: {report.failed[0].reason}")
    if report.ingested:
        return IngestResult(id=article.id, status="new", chunks=report.chunks)
    if report.updated:
        return IngestResult(id=article.id, status="updated", chunks=report.chunks)
    existing = engine.store.find_text(text_hash(article.text)) or article.id
    return IngestResult(id=existing, status="duplicate", chunks=0)


@router.post(
    "",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    summary="Add one article (JSON), or fetch one by URL",
    responses={200: {"model": IngestResult, "description": "Updated, or a duplicate of an indexed article"}},
)
async def add_article(body: ArticleIn, engine: EngineDep, runtime: RuntimeDep, response: Response) -> IngestResult:
    """`{text, title?, source?, authors?, published?, url?}` indexes that text; `{url}` alone fetches the page.
    201 for a new article, 200 for an update (same id, changed content) or a duplicate (same text)."""
    if body.text is None:
        assert body.url is not None  # the schema requires text or url
        raw = await runtime.run(fetch_article, body.url, runtime.settings)  # SSRF-guarded, size/time-capped
    else:
        raw = RawDocument(
            text=body.text,
            origin=body.url or "POST /v1/articles",
            title=body.title,
            source=body.source,
            authors=body.authors,
            published=body.published,
            url=body.url,
        )
    result = await runtime.run(ingest_one, engine, raw)
    runtime.metrics.ingested.labels(result.status).inc()
    if result.status != "new":
        response.status_code = status.HTTP_200_OK
    return result


@router.get("", response_model=ArticlePage, summary="List indexed articles (paged, newest first)")
async def list_articles(
    engine: EngineDep,
    runtime: RuntimeDep,
    source: Annotated[list[str] | None, Query(description="Only this outlet (repeatable).")] = None,
    since: Annotated[str | None, Query(description="Published on or after (YYYY-MM-DD or ISO time).")] = None,
    until: Annotated[str | None, Query(description="Published on or before (a bare date = its end).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ArticlePage:
    where = build_where(
        since=parse_date(since, strict=True),
        until=parse_date(until, end_of_day=True, strict=True),
        sources=[s for s in source or [] if s.strip()],
    )
    rows = await runtime.run(engine.store.list_articles, where)
    items = [
        ArticleSummary(**a.model_dump(exclude={"text", "content_hash"}), chunks=n)
        for a, n in rows[offset : offset + limit]
    ]
    return ArticlePage(total=len(rows), limit=limit, offset=offset, items=items)


@router.get("/{article_id}", response_model=Article, summary="One article with its full text")
async def get_article(article_id: str, engine: EngineDep, runtime: RuntimeDep) -> Article:
    return await runtime.run(engine.store.get_article, article_id)


@router.delete("/{article_id}", response_model=Deleted, summary="Remove an article and all its chunks")
async def delete_article(article_id: str, engine: EngineDep, runtime: RuntimeDep) -> Deleted:
    removed = await runtime.run(engine.store.delete_article, article_id)
    return Deleted(id=article_id, deleted_chunks=removed)
