"""Web ingest end to end: the `newsqa` CLI in real subprocesses and the HTTP app, against a real local site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from rag.settings import Settings
from tests.conftest import cli_env
from tests.fakes.hash_embedder import HASH_ENV
from tests.fakes.site import (
    Site,
    site_fixture,  # noqa: F401 (the `site` fixture)
)

NEWSQA = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(NEWSQA + args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_cli_ingest_urls_batch_goes_on_past_failures(site: Site, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", NEWSQA_ALLOW_PRIVATE_URLS="true", NEWSQA_FETCH_MAX_BYTES="1000000", **HASH_ENV)
    urls = [
        site.url(p)
        for p in (
            "/2024/03/wind-farm-first-power/?utm_source=x",
            "/files/museum.pdf",
            "/loop-a",
            "/big",
            "/news/harbor-market",
        )
    ]
    done = run(["ingest", *urls, "--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["ingested"], summary["failed"]) == (2, 3)
    reasons = {f["origin"]: f["reason"] for f in summary["failures"]}
    assert reasons[urls[1]].startswith("not an HTML page: content type 'application/pdf'")
    assert reasons[urls[2]].startswith("redirect loop")
    assert reasons[urls[3]].startswith("too large")

    listed = json.loads(run(["articles", "--json"], env).stdout)
    by_title = {a["title"]: a for a in listed}
    wind = by_title["Offshore wind farm delivers first power two months early"]
    assert wind["url"] == site.url("/2024/03/wind-farm-first-power/") and wind["published"].startswith("2024-03-05")
    assert wind["provenance"]["published"] == "meta:article:published_time"
    assert by_title["Council approves plan to turn old harbor into public market"]["authors"] == [
        "Omar Haddad",
        "Lena Ortiz",
    ]


def test_cli_refuses_loopback_without_the_flag(site: Site, tmp_path: Path) -> None:
    done = run(
        ["ingest", site.url("/news/harbor-market"), "file:///etc/passwd", "--json"], cli_env(tmp_path / "d", **HASH_ENV)
    )
    assert done.returncode == 1
    reasons = [f["reason"] for f in json.loads(done.stdout)["failures"]]
    assert "a loopback address" in reasons[1 - reasons.index(next(r for r in reasons if "only http" in r))]
    assert site.hits["/news/harbor-market"] == 0


def test_cli_feeds_add_list_poll_remove(site: Site, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", NEWSQA_ALLOW_PRIVATE_URLS="true", **HASH_ENV)
    rss, broken = site.url("/feeds/ledger.rss"), site.url("/feeds/broken.xml")
    assert run(["feeds", "add", rss], env).stdout.strip() == f"added: {rss}"
    assert run(["feeds", "add", broken], env).returncode == 0
    assert "already registered" in run(["feeds", "add", rss], env).stdout
    bad = run(["feeds", "add", "ftp://example.com/feed"], env)
    assert bad.returncode != 0 and "only http and https" in bad.stderr and len(bad.stderr.splitlines()) == 1

    polled = run(["feeds", "poll", "--json"], env)
    assert polled.returncode == 0, polled.stderr
    results = {r["url"]: r for r in json.loads(polled.stdout)}
    assert results[broken]["status"] == "error" and "HTTP 500" in results[broken]["error"]
    assert (results[rss]["status"], results[rss]["ingested"], results[rss]["partial"]) == ("ok", 2, 1)

    again = {r["url"]: r for r in json.loads(run(["feeds", "poll", "--json"], env).stdout)}
    assert again[rss]["status"] == "not_modified"

    states = {s["url"]: s for s in json.loads(run(["feeds", "list", "--json"], env).stdout)}
    assert states[rss]["polls"] == 2 and states[rss]["etag"] == '"rss-v1"' and states[rss]["articles_ingested"] == 2
    assert states[broken]["last_status"] == "error"
    assert run(["feeds", "remove", broken], env).returncode == 0
    missing = run(["feeds", "remove", broken], env)
    assert missing.returncode != 0 and "no feed" in missing.stderr
    assert [s["url"] for s in json.loads(run(["feeds", "list", "--json"], env).stdout)] == [rss]


def test_http_feeds_and_post_url(site: Site, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "data", allow_private_urls=True, feed_interval=0)
    engine = Engine(settings, embedder=embedder)
    from ingest.feeds import FeedPoller, FeedRegistry

    FeedRegistry(settings).add(site.url("/feeds/harbor.atom"))
    FeedPoller(engine, settings).poll_all()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        [feed] = client.get("/v1/feeds").json()
        assert feed["url"] == site.url("/feeds/harbor.atom") and feed["last_status"] == "ok"
        assert (feed["articles_ingested"], feed["articles_partial"], feed["etag"]) == (2, 1, '"atom-v1"')

        made = client.post("/v1/articles", json={"url": site.url("/2024/03/wind-farm-first-power/")})
        assert made.status_code == 201, made.text
        article = client.get(f"/v1/articles/{made.json()['id']}").json()
        assert article["source"] == "The Daily Ledger" and article["published"].startswith("2024-03-05")

        pdf = client.post("/v1/articles", json={"url": site.url("/files/museum.pdf")})
        assert 400 <= pdf.status_code < 500 and "not an HTML page" in pdf.text
    hits = site.hits["/news/harbor-market"]  # once, by the feed poll above
    strict = settings.model_copy(update={"allow_private_urls": False})
    with TestClient(create_app(strict, Engine(strict, embedder=embedder)), raise_server_exceptions=False) as client:
        refused = client.post("/v1/articles", json={"url": site.url("/news/harbor-market")})
        assert 400 <= refused.status_code < 500 and "loopback" in refused.text
        assert client.post("/v1/articles", json={"url": "file:///etc/passwd"}).status_code in range(400, 500)
    assert site.hits["/news/harbor-market"] == hits  # refused before connecting


def test_app_lifespan_runs_the_feed_poller(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    import threading

    def pollers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "newsqa-feed-poller" and t.is_alive()]

    before = len(pollers())
    settings = Settings(data_dir=tmp_path / "data", feed_interval=3600)
    with TestClient(create_app(settings, Engine(settings, embedder=embedder))) as client:
        assert client.get("/v1/feeds").json() == []
        assert len(pollers()) == before + 1  # started by the lifespan once the engine is ready
    assert len(pollers()) == before  # and stopped at shutdown
