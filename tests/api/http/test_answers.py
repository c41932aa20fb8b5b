"""/v1/ask, /v1/search and /v1/chat (JSON and SSE) in process, over the real seeded store and model."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.api.http.conftest import FLAGSHIP


def _sse(client: TestClient, body: dict) -> list[tuple[str, dict]]:
    """(event, data) pairs of a /v1/chat stream."""
    events: list[tuple[str, dict]] = []
    with client.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind:
                events.append((kind, json.loads(line.split(":", 1)[1])))
                kind = None
    return events


def test_ask_returns_a_cited_answer_with_verbatim_quotes(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": FLAGSHIP})
    assert response.status_code == 200
    answer = response.json()
    assert not answer["abstained"] and answer["mode"] == "extractive"
    assert "Dell" in answer["answer"]
    article_text = client.get(f"/v1/articles/{answer['citations'][0]['article_id']}").json()["text"]
    for citation in answer["citations"]:
        assert f"[{citation['n']}]" in answer["answer"]
        assert article_text[citation["start"] : citation["end"]] == citation["quote"]
    assert set(answer["timings"]) >= {"retrieve_ms", "answer_ms", "total_ms"}


def test_ask_filters_apply(client: TestClient) -> None:
    """The seed article is undated: a `since` filter excludes it, so the engine abstains."""
    response = client.post("/v1/ask", json={"question": FLAGSHIP, "filters": {"since": "2020-01-01"}})
    assert response.status_code == 200
    assert response.json()["abstained"] and response.json()["citations"] == []


def test_search_ranks_passages_and_articles(client: TestClient) -> None:
    hits = client.post("/v1/search", json={"query": "Wistron motherboards", "k": 2}).json()["results"]
    assert len(hits) == 2
    assert "Wistron" in hits[0]["text"]
    assert hits[0]["score"] >= hits[1]["score"]
    assert {"article_id", "title", "source", "published", "url", "text"} <= set(hits[0])
    grouped = client.post("/v1/search", json={"query": "Wistron", "group_by_article": True}).json()["results"]
    assert len(grouped) == 1 and grouped[0]["source"] == "Tom’s Hardware"


def test_chat_follow_up_is_answered_in_context(client: TestClient) -> None:
    body = {
        "messages": [
            {"role": "user", "content": FLAGSHIP},
            {"role": "assistant", "content": "Dell benefits [1]"},
            {"role": "user", "content": "and who loses?"},
        ]
    }
    answer = client.post("/v1/chat", json=body).json()
    # The standalone question carries the topic of the earlier turn, and the answer is about Supermicro.
    assert answer["question"].startswith("and who loses?") and "Supermicro" in answer["question"]
    assert "Supermicro" in answer["answer"] and answer["citations"]


def test_chat_stream_event_order(client: TestClient) -> None:
    events = _sse(client, {"messages": [{"role": "user", "content": FLAGSHIP}], "stream": True})
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    assert kinds.count("sources") == 1 and kinds.count("done") == 1
    assert set(kinds[1:-1]) == {"delta"}
    sources, done = events[0][1], events[-1][1]
    assert sources["question"] == FLAGSHIP and sources["passages"]
    assert "".join(data["text"] for kind, data in events if kind == "delta") == done["answer"]
    assert done["citations"] and done["abstained"] is False
    cited = {c["chunk_id"] for c in done["citations"]}
    assert cited <= {p["chunk_id"] for p in sources["passages"]}


def test_chat_stream_follow_up_condenses_before_retrieval(client: TestClient) -> None:
    events = _sse(
        client,
        {
            "stream": True,
            "messages": [
                {"role": "user", "content": FLAGSHIP},
                {"role": "assistant", "content": "Dell benefits [1]"},
                {"role": "user", "content": "and who loses?"},
            ],
        },
    )
    assert "Supermicro" in events[0][1]["question"]
    assert events[-1][0] == "done" and "Supermicro" in events[-1][1]["answer"]


def test_web_page_is_served(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "/v1/chat" in response.text and "<script" in response.text
    assert "http://" not in response.text and "https://" not in response.text  # nothing fetched from elsewhere
