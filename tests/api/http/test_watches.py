"""/v1/watches: create (422 for bad input), list, get with deliveries, delete (404 after); POST /v1/articles
triggers a watch's signed webhook."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from tests.fakes.webhook_receiver import WebhookReceiver

HOOK = {"query": "light rail Northport", "webhook_url": "https://hooks.example/newsqa"}


def test_create_list_get_delete(client: TestClient) -> None:
    created = client.post("/v1/watches", json={**HOOK, "sources": ["Northport Herald"], "since": "2024-05-01"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("w_") and body["query"] == "light rail Northport"
    assert body["sources"] == ["Northport Herald"] and body["since"].startswith("2024-05-01")
    assert len(body["secret"]) >= 40 and body["has_secret"]  # generated and shown this once
    listed = client.get("/v1/watches").json()
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    got = client.get(f"/v1/watches/{body['id']}").json()
    assert got["deliveries"] == [] and got["delivered"] == 0 and "secret" not in got
    assert client.delete(f"/v1/watches/{body['id']}").json() == {"id": body["id"], "deleted": True}
    missing = client.get(f"/v1/watches/{body['id']}")
    assert missing.status_code == 404 and "no watch" in missing.json()["error"]["message"]
    assert client.delete(f"/v1/watches/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"query": "x"}, "exactly one target"),
        ({**HOOK, "channel": "C1"}, "exactly one target"),
        ({**HOOK, "query": "   "}, "query is empty"),
        ({**HOOK, "webhook_url": "file:///etc/passwd"}, "only http and https"),
        ({**HOOK, "webhook_url": "https://user:pw@hooks.example/"}, "user name or password"),
        ({**HOOK, "since": "2024-05-02", "until": "2024-05-01"}, "since is after until"),
        ({**HOOK, "secret": "short"}, "at least 16 characters"),
        ({**HOOK, "colour": "red"}, "unknown field 'colour'"),
        ({"query": "x", "channel": "C1"}, "NEWSQA_SLACK_BOT_TOKEN"),
    ],
)
def test_bad_watches_are_422_with_the_reason(client: TestClient, payload: dict[str, object], says: str) -> None:
    response = client.post("/v1/watches", json=payload)
    assert response.status_code == 422 and says in response.text, response.text
    assert client.get("/v1/watches").json() == []


@pytest.mark.slow
def test_posting_an_article_delivers_to_the_watch(seeded_engine: Engine) -> None:
    receiver = WebhookReceiver("a-secret-for-this-test-only").start()
    settings = seeded_engine.settings.model_copy(update={"allow_private_urls": True})  # the receiver is local
    try:
        client = TestClient(create_app(settings, Engine(settings, embedder=seeded_engine.embedder))).__enter__()
        watch = client.post(
            "/v1/watches",
            json={"query": "Northport light rail", "webhook_url": receiver.url, "secret": receiver.secret},
        ).json()
        text = (
            "The city council of Northport approved a new light-rail line on Tuesday after two years of debate. "
            "The line will connect the harbour district with the university campus and open in 2027."
        )
        article = {"title": "Northport approves light rail", "text": text, "source": "Northport Herald"}
        posted = client.post("/v1/articles", json={**article, "published": "2024-05-07"})
        assert posted.status_code == 201
        # The receiver records the call before it answers, and the sender marks the row sent only once it has
        # the 200: wait for both (checking the row as soon as the call arrived raced the sender).
        deadline = time.monotonic() + 30
        while True:
            rows = client.get(f"/v1/watches/{watch['id']}").json()["deliveries"]
            if (receiver.calls and [r["status"] for r in rows] == ["sent"]) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [s["title"] for s in receiver.calls[0]["stories"]] == ["Northport approves light rail"]
        [row] = rows
        assert (row["article_id"], row["status"]) == (posted.json()["id"], "sent") and row["score"] >= 0.6
        client.__exit__(None, None, None)
    finally:
        receiver.stop()
