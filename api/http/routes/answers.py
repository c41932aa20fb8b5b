"""``/v1/ask``, ``/v1/search`` and ``/v1/chat`` (JSON or Server-Sent Events)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from api.http.deps import EngineDep, Runtime, RuntimeDep
from api.http.errors import status_of
from api.http.limits import check_turns
from api.http.schemas import ERROR_RESPONSES, AskRequest, ChatRequest, SearchRequest, SearchResponse
from rag.answer import AnswerEvent
from rag.errors import NewsqaError
from rag.types import Answer

log = logging.getLogger("newsqa.http")
router = APIRouter(prefix="/v1", tags=["answers"], responses=ERROR_RESPONSES)

_SSE_DOC = """Without `stream`: the `Answer` JSON. With `"stream": true`: `text/event-stream` with, in order,
one `sources` event (`{"question": <standalone question>, "passages": [Passage...]}`), `delta` events
(`{"text": ...}`, to append), then one `done` event carrying the final `Answer` (citations, abstained).
A failure after the stream has started arrives as an `error` event (`{"error": {"type", "message"}}`)."""


@router.post("/ask", response_model=Answer, summary="Answer a question with cited sources")
async def ask(body: AskRequest, engine: EngineDep, runtime: RuntimeDep) -> Answer:
    """The `Answer` of `newsqa ask --json`: text with `[n]` markers, citations with verbatim quotes, timings."""
    runtime.check_question(body.question)
    answer = await runtime.run(engine.ask, body.question, filters=body.filters, top_k=body.top_k)
    runtime.metrics.answered("/v1/ask", answer.abstained)
    return answer


@router.post("/search", response_model=SearchResponse, summary="Ranked passages (or articles) for a query")
async def search(body: SearchRequest, engine: EngineDep, runtime: RuntimeDep) -> SearchResponse:
    """Passages best first (score, article id, title, source, published, url, text); with `group_by_article`,
    one per article (its best passage)."""
    runtime.check_question(body.query, "query")
    hits = await runtime.run(
        engine.search, body.query, k=body.k, filters=body.filters, group_by_article=body.group_by_article
    )
    return SearchResponse(query=body.query, results=hits)


@router.post(
    "/chat",
    response_model=Answer,
    summary="Multi-turn chat, optionally streamed (SSE)",
    description=_SSE_DOC,
    responses={200: {"content": {"text/event-stream": {"example": 'event: sources\ndata: {"passages": []}\n\n'}}}},
)
async def chat(body: ChatRequest, engine: EngineDep, runtime: RuntimeDep) -> Any:
    runtime.check_question(body.messages[-1].content)
    check_turns(body.messages, runtime.settings.max_question_chars)
    # Condense first, before any byte is sent: an unanswerable history is still a clean 4xx.
    question = await runtime.run(engine.condense, body.messages)
    if not body.stream:
        answer = await runtime.run(engine.ask, question, filters=body.filters, top_k=body.top_k)
        runtime.metrics.answered("/v1/chat", answer.abstained)
        return answer
    events = engine.stream(question, filters=body.filters, top_k=body.top_k)
    return EventSourceResponse(_sse(runtime, question, runtime.iterate(events)), ping=10)


def _event(event: AnswerEvent, question: str) -> dict[str, str]:
    if event.kind == "sources":
        data: Any = {"question": question, "passages": [p.model_dump(mode="json") for p in event.passages]}
    elif event.kind == "delta":
        data = {"text": event.text}
    else:
        data = event.answer.model_dump(mode="json") if event.answer else {}
    return {"event": event.kind, "data": json.dumps(data, ensure_ascii=False)}


def stream_error(exc: Exception) -> dict[str, str]:
    """``{"type", "message"}`` for an error after the headers are sent: a newsqa error says what went wrong,
    anything else is logged with its traceback and reported as an internal error (as a 500 would be)."""
    if isinstance(exc, NewsqaError):
        return {"type": "timeout" if status_of(exc) == 504 else "error", "message": str(exc)}
    log.exception("unexpected error in a stream")
    return {"type": "error", "message": f"internal error ({type(exc).__name__}); the server log has details"}


async def _sse(runtime: Runtime, question: str, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[dict[str, str]]:
    """The engine's events as SSE; ANY error mid-stream becomes an ``error`` event (headers are already sent),
    never a cut connection."""
    try:
        async for event in events:
            if event.kind == "done" and event.answer is not None:
                runtime.metrics.answered("/v1/chat", event.answer.abstained)
            yield _event(event, question)
    except Exception as exc:
        yield {"event": "error", "data": json.dumps({"error": stream_error(exc)})}
