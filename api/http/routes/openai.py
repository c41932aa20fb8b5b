"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``, so OpenAI clients and chat UIs work unchanged.

The answer text keeps its ``[n]`` markers and ends with a numbered source list. The structured sources also
travel in two extra top-level fields: ``citations`` (a list of ``Citation``) and ``abstained``; in a stream
they ride on the last chunk, the one with ``finish_reason: "stop"``. With the official Python client read
them as ``completion.citations`` / ``chunk.citations`` (or ``model_extra["citations"]``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.http.deps import EngineDep, Runtime, RuntimeDep
from api.http.limits import check_turns
from api.http.routes.answers import stream_error
from api.http.schemas import (
    ERROR_RESPONSES,
    ChatCompletion,
    ChatCompletionRequest,
    CompletionChoice,
    CompletionMessage,
    ModelCard,
    ModelList,
    Usage,
)
from rag.answer import AnswerEvent
from rag.answer.attribution import outlet_label, sources_summary
from rag.answer.sources import group_by_article
from rag.errors import NotFound
from rag.types import Answer, Citation

MODEL = "newsqa"
_CREATED = int(time.time())

router = APIRouter(prefix="/v1", tags=["openai-compatible"], responses=ERROR_RESPONSES)


def source_list(citations: list[Citation]) -> str:
    """The numbered source list appended to the answer text (empty when nothing is cited)."""
    if not citations:
        return ""
    summary = sources_summary(citations)  # "3 articles, 1 independent source" when quotes relay a report
    lines = ["", "", f"Sources ({summary}):" if summary else "Sources:"]
    for group in group_by_article(citations):  # an article cited several times is listed once
        c = group.first
        when = c.published.date().isoformat() if c.published else None
        meta = ", ".join(x for x in (outlet_label(group.quotes, unknown=""), when) if x)
        head = f"{group.markers} {c.title or c.article_id}" + (f" ({meta})" if meta else "")
        lines.append(head + (f" {c.url}" if c.url else ""))
        labelled = len(group.quotes) > 1
        lines += [f'    {f"[{q.n}] " if labelled else ""}"{q.quote}"' for q in group.quotes]
    return "\n".join(lines)


def _tokens(text: str) -> int:
    return len(text.split())  # word counts: there is no LLM tokenizer in the extractive default


def _check_model(model: str) -> None:
    if model != MODEL:
        raise NotFound(f"model {model!r} not found; this server serves {MODEL!r}")


@router.get("/models", response_model=ModelList, summary="Models (OpenAI-compatible): just `newsqa`")
async def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL, created=_CREATED)])


@router.get("/models/{model}", response_model=ModelCard, summary="One model (OpenAI-compatible)")
async def get_model(model: str) -> ModelCard:
    _check_model(model)
    return ModelCard(id=MODEL, created=_CREATED)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat completions (plain or stream=true)",
    description=__doc__,
)
async def chat_completions(body: ChatCompletionRequest, engine: EngineDep, runtime: RuntimeDep) -> Any:
    _check_model(body.model)
    messages = body.chat_messages()
    runtime.check_question(messages[-1].content)
    check_turns(messages, runtime.settings.max_question_chars)
    question = await runtime.run(engine.condense, messages)
    prompt_tokens = sum(_tokens(m.content) for m in messages)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if not body.stream:
        answer = await runtime.run(engine.ask, question)
        runtime.metrics.answered("/v1/chat/completions", answer.abstained)
        return _completion(completion_id, answer, prompt_tokens)
    events = runtime.iterate(engine.stream(question))
    return StreamingResponse(
        _chunks(runtime, completion_id, events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _completion(completion_id: str, answer: Answer, prompt_tokens: int) -> ChatCompletion:
    content = answer.answer + source_list(answer.citations)
    usage = Usage(
        prompt_tokens=prompt_tokens, completion_tokens=_tokens(content), total_tokens=prompt_tokens + _tokens(content)
    )
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=MODEL,
        usage=usage,
        choices=[CompletionChoice(message=CompletionMessage(content=content))],
        citations=answer.citations,
        abstained=answer.abstained,
    )


def _chunk(completion_id: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _chunks(runtime: Runtime, completion_id: str, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[str]:
    """``chat.completion.chunk`` lines: role, text deltas, the source list, a final chunk with citations, [DONE]."""
    yield _chunk(completion_id, {"role": "assistant", "content": ""})
    try:
        async for event in events:
            if event.kind == "delta" and event.text:
                yield _chunk(completion_id, {"content": event.text})
            elif event.kind == "done" and event.answer is not None:
                answer = event.answer
                runtime.metrics.answered("/v1/chat/completions", answer.abstained)
                if sources := source_list(answer.citations):
                    yield _chunk(completion_id, {"content": sources})
                yield _chunk(
                    completion_id,
                    {},
                    "stop",
                    abstained=answer.abstained,
                    citations=[c.model_dump(mode="json") for c in answer.citations],
                )
    except Exception as exc:
        # Headers are sent: report in OpenAI's in-stream error shape, which the official client raises.
        error = stream_error(exc)
        if error["type"] == "error":
            error["type"] = "server_error"
        yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"
