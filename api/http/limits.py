"""Request limits: the body size (NEWSQA_MAX_BODY_BYTES, a JSON 413) and the length of every chat turn.

A declared ``Content-Length`` over the limit is refused before any byte is read; a body without one
(chunked) is counted as it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.errors import error_response
from rag.errors import InputError
from rag.types import ChatMessage

ASSISTANT_TURN_FACTOR = 10
"""An earlier assistant turn may be this many times NEWSQA_MAX_QUESTION_CHARS: a client sends back newsqa's
own answers, source list and quotes included (a 5-source answer is about 3,000 characters)."""


def check_turns(messages: Sequence[ChatMessage], limit: int) -> None:
    """Earlier turns are bounded too, not only the question: a user or system turn by ``limit``
    (NEWSQA_MAX_QUESTION_CHARS), an assistant turn by ``ASSISTANT_TURN_FACTOR * limit``. Without this, a
    99,000-character earlier turn became a 98,000-character condensed question (4 s of CPU per request)."""
    for i, m in enumerate(messages):
        most = limit * ASSISTANT_TURN_FACTOR if m.role == "assistant" else limit
        if len(m.content) > most:
            raise InputError(
                f"message {i} ({m.role}) is too long ({len(m.content):,} characters; the limit is {most:,}, "
                "from NEWSQA_MAX_QUESTION_CHARS)"
            )


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: int | None) -> str:
        got = f"{size:,} bytes; " if size is not None else ""
        return f"request body too large ({got}the limit is {self.max_bytes:,} bytes, NEWSQA_MAX_BODY_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await error_response(413, self._message(int(length)))(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading: the app's handler answers 413.
                    raise HTTPException(413, self._message(None))
            return message

        await self.app(scope, counted, send)
