"""Bad input gets a 4xx with a precise message, never a 500; size limit and per-request timeout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.http.conftest import FLAGSHIP

JSON = {"content-type": "application/json"}
USER = {"role": "user", "content": FLAGSHIP}

CASES = [
    # (name, path, request kwargs, status, words in the message)
    ("empty question", "/v1/ask", {"json": {"question": ""}}, 422, ["body.question", "at least 1"]),
    ("blank question", "/v1/ask", {"json": {"question": "   "}}, 422, ["question is empty"]),
    ("10 kB question", "/v1/ask", {"json": {"question": "why " * 2500}}, 422, ["too long", "10,000", "2,000"]),
    ("missing question", "/v1/ask", {"json": {}}, 422, ["missing required field 'question'"]),
    ("unknown field", "/v1/ask", {"json": {"question": "q", "topk": 3}}, 422, ["unknown field 'topk'"]),
    (
        "unknown filter key",
        "/v1/ask",
        {"json": {"question": "q", "filters": {"outlet": "CNN"}}},
        422,
        ["body.filters.outlet", "unknown field 'outlet'"],
    ),
    (
        "bad date",
        "/v1/ask",
        {"json": {"question": "q", "filters": {"since": "last tuesday-ish"}}},
        422,
        ["body.filters.since", "not a date"],
    ),
    ("bad top_k", "/v1/ask", {"json": {"question": "q", "top_k": 0}}, 422, ["body.top_k"]),
    ("malformed JSON", "/v1/ask", {"content": b'{"question": ', "headers": JSON}, 400, ["malformed JSON"]),
    ("non-UTF-8 body", "/v1/ask", {"content": b'{"question": "caf\xe9"}', "headers": JSON}, 400, ["UTF-8"]),
    (
        "wrong content type",
        "/v1/ask",
        {"content": b"question=hi", "headers": {"content-type": "text/plain"}},
        415,
        ["application/json"],
    ),
    ("JSON array body", "/v1/ask", {"json": ["q"]}, 422, ["body"]),
    ("empty messages", "/v1/chat", {"json": {"messages": []}}, 422, ["body.messages", "at least 1"]),
    (
        "ends with assistant",
        "/v1/chat",
        {"json": {"messages": [USER, {"role": "assistant", "content": "x"}]}},
        422,
        ["last message must be the user's question", "'assistant'"],
    ),
    ("bad role", "/v1/chat", {"json": {"messages": [{"role": "robot", "content": "x"}]}}, 422, ["role"]),
    (
        "openai: ends with assistant",
        "/v1/chat/completions",
        {"json": {"model": "newsqa", "messages": [USER, {"role": "assistant", "content": "x"}]}},
        422,
        ["last message"],
    ),
    (
        "openai: unknown model",
        "/v1/chat/completions",
        {"json": {"model": "gpt-4o", "messages": [USER]}},
        404,
        ["'gpt-4o' not found"],
    ),
    ("article without text or url", "/v1/articles", {"json": {"title": "t"}}, 422, ["`text`", "`url`"]),
    ("article too short", "/v1/articles", {"json": {"text": "tiny"}}, 422, ["too short"]),
    (
        "article bad date",
        "/v1/articles",
        {"json": {"text": "x " * 100, "published": "soonish"}},
        422,
        ["body.published", "not a date"],
    ),
]


@pytest.mark.parametrize(("name", "path", "kwargs", "status", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_precise_4xx(
    client: TestClient, name: str, path: str, kwargs: dict, status: int, words: list[str]
) -> None:
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    for word in words:
        assert word in message, message


def test_get_errors(client: TestClient) -> None:
    missing = client.get("/v1/articles/does-not-exist")
    assert missing.status_code == 404 and "does-not-exist" in missing.json()["error"]["message"]
    assert client.delete("/v1/articles/does-not-exist").status_code == 404
    assert client.get("/v1/articles", params={"since": "not a date"}).status_code == 422
    assert client.get("/v1/articles", params={"limit": 0}).status_code == 422
    assert client.get("/v1/nowhere").status_code == 404
    wrong = client.get("/v1/ask")
    assert wrong.status_code == 405 and "GET" in wrong.json()["error"]["message"]


def test_body_size_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2048)
    response = client.post("/v1/articles", json={"text": "word " * 1000})
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "too_large"
    assert "NEWSQA_MAX_BODY_BYTES" in response.json()["error"]["message"]

    def chunked():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b'{"text": "' + b"x" * 1000

    streamed = client.post("/v1/articles", content=chunked(), headers=JSON)
    assert streamed.status_code == 413 and streamed.json()["error"]["type"] == "too_large"


def test_per_request_timeout(make_client: Callable[..., TestClient]) -> None:
    client = make_client(request_timeout_s=0.001)
    response = client.post("/v1/ask", json={"question": FLAGSHIP})
    assert response.status_code == 504
    assert "NEWSQA_REQUEST_TIMEOUT_S" in response.json()["error"]["message"]
    # A stream that runs out of time ends with an `error` event instead of hanging.
    with client.stream("POST", "/v1/chat", json={"messages": [USER], "stream": True}) as stream:
        body = stream.read().decode()
    if stream.status_code == 200:
        assert "event: error" in body and "NEWSQA_REQUEST_TIMEOUT_S" in body
    else:  # the condense step itself timed out, before the stream started
        assert stream.status_code == 504
