"""The HTTP service end to end: `newsqa serve` as a real uvicorn process on 127.0.0.1 over a real Chroma store.

API keys are on for this server (auth-off is covered in process, tests/api/http/test_auth.py).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openai
import pytest

from tests.api.http.server import live_server
from tests.builders import FLAGSHIP

pytestmark = pytest.mark.slow
# "Sources:" or, when a quote relays another outlet's report, "Sources (1 article, 1 independent source):"
SOURCES = re.compile(r"\nSources(?: \([^)\n]*\))?:\n\[1\]")

KEY = "e2e-secret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def base(_seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("http-e2e")
    shutil.copytree(_seeded_dir, root / "data")
    with live_server(
        root / "data",
        root / "server.log",
        NEWSQA_API_KEYS=KEY,
        NEWSQA_ALLOW_PRIVATE_URLS="true",
        NEWSQA_MAX_BODY_BYTES="200000",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
        yield client


def test_health_is_open_and_v1_needs_the_key(base: str) -> None:
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["status"] == "ready" and ready["articles"] == 1
    denied = httpx.post(f"{base}/v1/ask", json={"question": FLAGSHIP})
    assert denied.status_code == 401 and denied.json()["error"]["type"] == "unauthorized"
    assert httpx.get(f"{base}/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_ask_and_search(http: httpx.Client) -> None:
    answer = http.post("/v1/ask", json={"question": FLAGSHIP, "top_k": 4}).json()
    assert "Dell" in answer["answer"] and answer["citations"] and not answer["abstained"]
    article = http.get(f"/v1/articles/{answer['citations'][0]['article_id']}").json()
    for c in answer["citations"]:
        assert article["text"][c["start"] : c["end"]] == c["quote"]
    hits = http.post("/v1/search", json={"query": "Inventec Dell assembly partner", "k": 2}).json()["results"]
    assert len(hits) == 2 and "Inventec" in hits[0]["text"]


def test_chat_sse_order_and_follow_up(http: httpx.Client) -> None:
    body = {
        "stream": True,
        "messages": [
            {"role": "user", "content": FLAGSHIP},
            {"role": "assistant", "content": "Dell benefits [1]"},
            {"role": "user", "content": "and who loses?"},
        ],
    }
    kinds, datas = [], []
    with http.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                kinds.append(line[6:].strip())
            elif line.startswith("data:"):
                datas.append(json.loads(line[5:]))
    assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"} and len(kinds) >= 3
    assert "Supermicro" in datas[0]["question"]  # the follow-up was condensed with the earlier turn's topic
    done = datas[-1]
    assert "".join(d["text"] for d in datas[1:-1]) == done["answer"]
    assert "Supermicro" in done["answer"] and done["citations"] and done["abstained"] is False
    plain = http.post("/v1/chat", json={**body, "stream": False}).json()
    assert plain["answer"] == done["answer"]


def test_openai_client_plain_and_streaming(base: str) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
    assert [m.id for m in client.models.list()] == ["newsqa"]
    completion = client.chat.completions.create(model="newsqa", messages=[{"role": "user", "content": FLAGSHIP}])
    text = completion.choices[0].message.content or ""
    assert "Dell" in text and "[1]" in text and SOURCES.search(text)
    citations = (completion.model_extra or {})["citations"]
    assert citations[0]["n"] == 1 and citations[0]["quote"] in text
    assert completion.choices[0].finish_reason == "stop" and completion.usage and completion.usage.total_tokens > 0

    chunks = list(
        client.chat.completions.create(
            model="newsqa",
            stream=True,
            messages=[
                {"role": "user", "content": FLAGSHIP},
                {"role": "assistant", "content": text},
                {"role": "user", "content": "and who loses?"},
            ],
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Supermicro" in streamed and SOURCES.search(streamed)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"] and (last.model_extra or {})["abstained"] is False

    with pytest.raises(openai.NotFoundError, match="not found"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()


def test_articles_crud(http: httpx.Client) -> None:
    text = (
        "Harbourside bakery Lumen won the national bread prize on Friday for its rye sourdough. "
        "The owners, Mia and Tom Berg, said they will open a second shop in the old ferry terminal next year."
    )
    created = http.post(
        "/v1/articles",
        json={"title": "Lumen wins bread prize", "source": "Harbour Gazette", "published": "2024-03-01", "text": text},
    )
    assert created.status_code == 201 and created.json()["status"] == "new"
    article_id = created.json()["id"]
    assert (
        http.post(
            "/v1/articles",
            json={
                "text": text,
                "title": "Lumen wins bread prize",
                "source": "Harbour Gazette",
                "published": "2024-03-01",
            },
        ).json()["status"]
        == "duplicate"
    )
    listed = http.get("/v1/articles", params={"source": "Harbour Gazette"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == article_id
    answer = http.post("/v1/ask", json={"question": "Which bakery won the national bread prize?"}).json()
    assert "Lumen" in answer["answer"] and answer["citations"][0]["article_id"] == article_id
    assert http.delete(f"/v1/articles/{article_id}").json()["id"] == article_id
    assert http.get(f"/v1/articles/{article_id}").status_code == 404


def test_bad_requests_over_the_wire(http: httpx.Client) -> None:
    cases = [
        (http.post("/v1/ask", content=b"{nope", headers={"content-type": "application/json"}), 400),
        (http.post("/v1/ask", content=b'{"question": "\xff"}', headers={"content-type": "application/json"}), 400),
        (http.post("/v1/ask", content=b"question", headers={"content-type": "text/plain"}), 415),
        (http.post("/v1/ask", json={"question": "x" * 10_000}), 422),
        (http.post("/v1/ask", json={"question": "q", "filters": {"since": "2024-13-45"}}), 422),
        (http.post("/v1/ask", json={"question": "q", "filters": {"from": "2024-01-01"}}), 422),
        (http.post("/v1/chat", json={"messages": []}), 422),
        (http.post("/v1/chat", json={"messages": [{"role": "assistant", "content": "hi"}]}), 422),
        (http.post("/v1/articles", json={"text": "y " * 150_000}), 413),
        (http.get("/v1/articles/unknown-id"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["message"]


class _Page(BaseHTTPRequestHandler):
    HTML = b"""<html><head><title>Ferry line reopens</title>
    <meta property="og:site_name" content="Harbour Gazette">
    <meta property="article:published_time" content="2024-04-02T08:00:00Z"></head>
    <body><article><h1>Ferry line reopens</h1>
    <p>The North Sound ferry line reopened on Tuesday after a three-month repair of the harbour pier.</p>
    <p>The operator said crossings will run every forty minutes, and tickets cost the same as last year.</p>
    <p>Local shops near the pier expect the return of weekend visitors to lift their sales this spring.</p>
    </article></body></html>"""

    def do_GET(self) -> None:  # http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.HTML)))
        self.end_headers()
        self.wfile.write(self.HTML)

    def log_message(self, *args: object) -> None:
        pass


def test_url_ingest(http: httpx.Client) -> None:
    page = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{page.server_address[1]}/2024/04/02/ferry.html"
        created = http.post("/v1/articles", json={"url": url})
        assert created.status_code == 201, created.text
        article = http.get(f"/v1/articles/{created.json()['id']}").json()
        assert "ferry line reopened" in article["text"] and article["title"] == "Ferry line reopens"
    finally:
        page.shutdown()


def test_metrics(http: httpx.Client, base: str) -> None:
    http.post("/v1/ask", json={"question": FLAGSHIP})
    text = httpx.get(f"{base}/metrics").text
    assert 'newsqa_http_requests_total{endpoint="/v1/ask",method="POST",status="200"}' in text
    assert 'newsqa_answers_total{abstained="false",endpoint="/v1/ask"}' in text
    assert "newsqa_http_request_duration_seconds_bucket" in text


def test_serve_rejects_bad_arguments(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.api.http.server import ROOT
    from tests.conftest import cli_env

    run = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--workers", "0"],
        cwd=ROOT,
        env=cli_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert run.stderr.strip() == "error: --workers must be at least 1"
