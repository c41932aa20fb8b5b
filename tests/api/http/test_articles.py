"""/v1/articles: add (new, updated, duplicate), list (paged, filtered), get, delete; metrics count them."""

from __future__ import annotations

from fastapi.testclient import TestClient

TEXT = (
    "The city council of Northport approved a new light-rail line on Tuesday after two years of debate. "
    "The line will connect the harbour district with the university campus and open in 2027. "
    "Council member Ada Reyes said the vote was the most important transport decision in a generation."
)
ARTICLE = {
    "title": "Northport approves light rail",
    "source": "Northport Herald",
    "authors": ["Sam Lee"],
    "published": "2024-05-07",
    "url": "https://northport.example/rail",
    "text": TEXT,
}


def test_add_update_duplicate_get_delete(client: TestClient) -> None:
    created = client.post("/v1/articles", json=ARTICLE)
    assert created.status_code == 201, created.text
    result = created.json()
    assert result["status"] == "new" and result["chunks"] >= 1
    article_id = result["id"]

    again = client.post("/v1/articles", json=ARTICLE)
    assert again.status_code == 200 and again.json() == {"id": article_id, "status": "duplicate", "chunks": 0}

    # Same text under another URL: a duplicate of the indexed article, reported with its id.
    copy = client.post("/v1/articles", json={**ARTICLE, "url": "https://mirror.example/rail"})
    assert copy.json()["status"] == "duplicate" and copy.json()["id"] == article_id

    changed = client.post("/v1/articles", json={**ARTICLE, "text": TEXT + " Construction starts next spring."})
    assert changed.status_code == 200 and changed.json()["status"] == "updated" and changed.json()["id"] == article_id

    got = client.get(f"/v1/articles/{article_id}").json()
    assert got["text"].endswith("Construction starts next spring.")
    assert got["source"] == "Northport Herald" and got["published"].startswith("2024-05-07")

    # The new article is searchable and answerable right away.
    hits = client.post("/v1/search", json={"query": "light-rail Northport council vote", "k": 1}).json()["results"]
    assert hits[0]["article_id"] == article_id

    deleted = client.delete(f"/v1/articles/{article_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted_chunks"] >= 1
    assert client.get(f"/v1/articles/{article_id}").status_code == 404
    hits = client.post("/v1/search", json={"query": "light-rail Northport council vote", "k": 3}).json()["results"]
    assert all(h["article_id"] != article_id for h in hits)

    metrics = client.get("/metrics").text
    assert 'newsqa_ingested_articles_total{status="new"} 1.0' in metrics
    assert 'newsqa_ingested_articles_total{status="duplicate"} 2.0' in metrics
    assert 'newsqa_ingested_articles_total{status="updated"} 1.0' in metrics


def test_list_pages_and_filters(client: TestClient) -> None:
    for i, (source, day) in enumerate(
        [("Northport Herald", "2024-05-07"), ("Harbour Times", "2024-06-01"), ("Northport Herald", "2024-07-15")]
    ):
        text = TEXT.replace("Tuesday", f"day {i}") + f" Story number {i}."
        body = {**ARTICLE, "source": source, "published": day, "url": f"https://n.example/{i}", "text": text}
        assert client.post("/v1/articles", json=body).status_code == 201
    everything = client.get("/v1/articles").json()
    assert everything["total"] == 4  # three posted and the seed article
    dates = [a["published"] for a in everything["items"] if a["published"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    page = client.get("/v1/articles", params={"limit": 2, "offset": 1}).json()
    assert [a["id"] for a in page["items"]] == [a["id"] for a in everything["items"][1:3]]
    herald = client.get("/v1/articles", params={"source": "northport herald"}).json()
    assert herald["total"] == 2 and {a["source"] for a in herald["items"]} == {"Northport Herald"}
    june = client.get("/v1/articles", params={"since": "2024-06-01", "until": "2024-06-30"}).json()
    assert [a["published"][:10] for a in june["items"]] == ["2024-06-01"]
    assert "text" not in june["items"][0]


def test_url_ingest_refuses_private_addresses(client: TestClient) -> None:
    """`{url}` goes through ingest.web's guarded fetch: a loopback URL is a 422, not a request to it.
    (A real fetch from a local page server: tests/e2e/test_http_server.py::test_url_ingest.)"""
    response = client.post("/v1/articles", json={"url": "http://127.0.0.1:9/article.html"})
    assert response.status_code == 422
    assert "127.0.0.1" in response.json()["error"]["message"]
