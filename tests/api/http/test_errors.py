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
    # Probe M1: a date that is not a string was a 500 (AttributeError), on every route that takes dates.
    ("int as_of", "/v1/ask", {"json": {"question": "q", "filters": {"as_of": 1656633600}}}, 422, ["not a date"]),
    ("list since", "/v1/search", {"json": {"query": "q", "filters": {"since": [2022]}}}, 422, ["expected a string"]),
    ("bool until", "/v1/chat", {"json": {"messages": [USER], "filters": {"until": True}}}, 422, ["not a date"]),
    ("int published", "/v1/articles", {"json": {"text": "x " * 100, "published": 12345}}, 422, ["body.published"]),
    # Probe M2: a time-zone offset beyond ±24 h was a 500 (ValueError).
    (
        "offset +25:00",
        "/v1/ask",
        {"json": {"question": "q", "filters": {"since": "2022-06-01T00:00:00+25:00"}}},
        422,
        ["within ±24 h"],
    ),
    # Probe L5: lenient parses are refused (dateutil read "1-1-1" as 2001-01-01); numbers and flags are typed.
    ("since 1-1-1", "/v1/ask", {"json": {"question": "q", "filters": {"since": "1-1-1"}}}, 422, ["not a date"]),
    ("negative year", "/v1/ask", {"json": {"question": "q", "filters": {"since": "-2022-01-01"}}}, 422, ["not a date"]),
    ("date with NUL", "/v1/ask", {"json": {"question": "q", "filters": {"until": "2022-06-01\u0000"}}}, 422, ["date"]),
    ("top_k as string", "/v1/ask", {"json": {"question": "q", "top_k": "5"}}, 422, ["body.top_k", "integer"]),
    ("top_k as bool", "/v1/ask", {"json": {"question": "q", "top_k": True}}, 422, ["body.top_k"]),
    ("k as string", "/v1/search", {"json": {"query": "q", "k": "3"}}, 422, ["body.k"]),
    ("stream as string", "/v1/chat", {"json": {"messages": [USER], "stream": "yes"}}, 422, ["body.stream"]),
    # Probe M3: a lone surrogate in a chat message was a 500 (TypeError from the tokenizer).
    (
        "lone surrogate in chat",
        "/v1/chat",
        {"content": b'{"messages": [{"role": "user", "content": "x\\ud800"}]}', "headers": JSON},
        422,
        ["lone surrogate", "messages.0.content"],
    ),
    (
        "lone surrogate in a stream",
        "/v1/chat",
        {"content": b'{"stream": true, "messages": [{"role": "user", "content": "x\\ud800"}]}', "headers": JSON},
        422,
        ["lone surrogate"],
    ),
    (
        "openai: lone surrogate",
        "/v1/chat/completions",
        {"content": b'{"model": "newsqa", "messages": [{"role": "user", "content": "x\\ud800"}]}', "headers": JSON},
        422,
        ["lone surrogate"],
    ),
    # Probe L2: earlier turns are bounded too (a 99,000-character turn cost 4 s of CPU).
    (
        "long earlier turn",
        "/v1/chat",
        {
            "json": {
                "messages": [{"role": "user", "content": "y " * 49_500}, {"role": "assistant", "content": "y"}, USER]
            }
        },
        422,
        ["message 0 (user) is too long", "99,000"],
    ),
    (
        "openai: long earlier assistant turn",
        "/v1/chat/completions",
        {"json": {"model": "newsqa", "messages": [{"role": "assistant", "content": "y" * 30_000}, USER]}},
        422,
        ["message 0 (assistant) is too long", "20,000"],
    ),
    (
        "nested 700 deep in a field",
        "/v1/ask",
        {"content": b'{"question": "q", "filters": {"sources": ' + b"[" * 700 + b"]" * 700 + b"}}", "headers": JSON},
        422,
        ["body.filters.sources.0", "valid string"],
    ),
    # Probe L1: a URL httpx cannot parse was a 500 (InvalidURL); credentials are refused without being echoed.
    ("octal IPv4 URL", "/v1/articles", {"json": {"url": "http://0177.0.0.1:8771/"}}, 422, ["not a valid URL"]),
    ("circled-digit URL", "/v1/articles", {"json": {"url": "http://①②⑦.⓪.⓪.①/"}}, 422, ["not a valid URL"]),
    ("URL with password", "/v1/articles", {"json": {"url": "https://u:pw@news.example/a"}}, 422, ["user name"]),
    # Probe L4: deep nesting said "must be UTF-8 encoded JSON".
    ("deeply nested JSON", "/v1/ask", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": JSON}, 400, ["nested"]),
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
    # Probe M2 and L5 on the query string: a 500 (ValueError) and a lenient guess before.
    far = client.get("/v1/articles", params={"since": "2022-01-01T00:00:00+30:00"})
    assert far.status_code == 422 and "within ±24 h" in far.json()["error"]["message"]
    assert client.get("/v1/articles", params={"until": "1-1-1"}).status_code == 422
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
