"""A real OpenAI-compatible chat-completions server on 127.0.0.1 whose replies each test scripts.

It speaks the protocol the OpenAI SDK speaks: ``POST /v1/chat/completions`` answered with a JSON completion,
or, when the request says ``"stream": true``, with server-sent ``chat.completion.chunk`` events over chunked
transfer encoding, ending with ``data: [DONE]``. A script is a list of steps consumed one per request (the
last one repeats); a step is a reply text, a callable building the text from the request (so a test can
cite the passage that really holds a fact), an HTTP error, a stream cut in half, or a hang.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Error:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Cut:
    """Stream this text's first half, then drop the connection without finishing."""

    text: str


@dataclass
class Hang:
    seconds: float


Step = str | Callable[[dict[str, Any]], str] | Error | Cut | Hang


def passages_in(request: dict[str, Any]) -> dict[int, str]:
    """Passage number -> text, parsed from the fenced prompt the answerer sent."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return {int(n): text for n, text in re.findall(r'<passage-\w+ n="(\d+)"[^>]*>\n(.*?)\n</passage-\w+>', user, re.S)}


def cite(request: dict[str, Any], needle: str) -> int:
    """The number of the first passage containing ``needle``."""
    return next(n for n, text in sorted(passages_in(request).items()) if needle in text)


class FakeLLM:
    """Start with ``with FakeLLM([...]) as llm:``; ``llm.base_url`` goes into NEWSQA_LLM_BASE_URL."""

    def __init__(self, script: list[Step] | None = None, chunk_chars: int = 7) -> None:
        self.script: list[Step] = list(script or [])
        self.requests: list[dict[str, Any]] = []
        self.chunk_chars = chunk_chars
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_step(self, request: dict[str, Any]) -> Step:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                step = fake.next_step(body)
                if isinstance(step, Hang):
                    time.sleep(step.seconds)
                    return self._json(200, _completion(body, "Too late."))
                if isinstance(step, Error):
                    return self._json(step.status, {"error": {"message": f"scripted {step.status}"}}, step.headers)
                if isinstance(step, Cut):
                    return self._stream(body, step.text[: len(step.text) // 2], finish=False)
                text = step(body) if callable(step) else step
                if body.get("stream"):
                    return self._stream(body, text, finish=True)
                return self._json(200, _completion(body, text))

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self, body: dict[str, Any], text: str, finish: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [text[i : i + fake.chunk_chars] for i in range(0, len(text), fake.chunk_chars)]
                for i, piece in enumerate(pieces):
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    self._chunk(_sse(_chunk_payload(body, delta, None)))
                if not finish:  # drop the connection mid-body: no final chunk, no [DONE]
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._chunk(_sse(_chunk_payload(body, {}, "stop")))
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test) or a stream cut on purpose is expected here, not an error."""


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _chunk_payload(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
