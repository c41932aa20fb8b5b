"""Watches end to end, against real servers on 127.0.0.1: a feed gains a story and its syndicated copy, a poll
delivers one digest entry to the (fake) Slack API and one signed webhook call; a restarted engine delivers
nothing twice; engines in threads and two ``newsqa watch deliver`` processes on one data dir deliver once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.engine import Engine
from ingest.feeds import FeedPoller, FeedRegistry
from ingest.watches import WatchIn
from rag.embedders import Embedder
from rag.settings import Settings
from tests.conftest import ROOT, cli_env
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.fakes.site import BUDGET, HARBOR, RAIL, TURBINE, Response, Site, undated_page
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow
SECRET = "receiver-and-newsqa-share-this-secret"
CHANNEL = "C0NEWS"
# the wire copy: another outlet, another headline, a dateline, a trailer; the same reporting
WIRE_COPY = ["LONDON (Wire) - " + TURBINE[0], *TURBINE[1:], "Reporting by the Wire news desk; editing by staff."]


def rss(base: str, items: list[tuple[str, str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{guid}</guid><pubDate>{date}</pubDate></item>"
        for guid, title, path, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire mix</title>{entries}</channel></rss>'


HARBOR_ITEM = ("h1", "Council approves harbor market", "/harbor", "Mon, 04 Mar 2024 10:00:00 +0000")
WIND_ITEM = ("w1", "Offshore wind farm delivers first power early", "/ledger/wind", "Tue, 05 Mar 2024 09:30:00 +0000")
COPY_ITEM = ("w2", "Wind farm powers up ahead of schedule", "/wire/wind", "Tue, 05 Mar 2024 11:00:00 +0000")
RAIL_ITEM = ("r1", "Rail workers accept pay offer", "/rail", "Thu, 07 Mar 2024 18:00:00 +0000")


class Feed:
    """One RSS feed whose items the test changes; its ETag changes with them."""

    def __init__(self, site: Site) -> None:
        self.site, self.items = site, [HARBOR_ITEM]
        site.routes["/feeds/mix.rss"] = self.route
        site.html("/harbor", undated_page("Council approves harbor market", HARBOR, "Harbor Times"))
        site.html("/ledger/wind", undated_page(WIND_ITEM[1], TURBINE, "The Daily Ledger"))
        site.html("/wire/wind", undated_page(COPY_ITEM[1], WIRE_COPY, "Wire Service"))
        site.html("/rail", undated_page("Rail workers accept pay offer", RAIL + BUDGET[:1], "Rail Gazette"))

    def route(self, handler: BaseHTTPRequestHandler) -> Response:
        etag = f'"v{len(self.items)}"'
        if handler.headers.get("If-None-Match") == etag:
            return Response(304, b"", {"ETag": etag})
        return Response(
            200, rss(self.site.base, self.items).encode(), {"Content-Type": "application/rss+xml", "ETag": etag}
        )


@pytest.fixture
def servers() -> Iterator[tuple[Site, FakeSlack, WebhookReceiver]]:
    site, slack, hook = Site(), FakeSlack().start(), WebhookReceiver(SECRET).start()
    site.thread.start()
    yield site, slack, hook
    site.server.shutdown()
    site.server.server_close()
    slack.stop()
    hook.stop()


def settings_for(data_dir: Path, slack: FakeSlack) -> Settings:
    return Settings(
        data_dir=data_dir, allow_private_urls=True, slack_bot_token=BOT_TOKEN, slack_api_url=slack.url,
        fetch_timeout_s=5, watch_backoff_s=0.2,
    )  # fmt: skip


def poll(engine: Engine) -> None:
    [result] = FeedPoller(engine, engine.settings).poll_all()
    assert result.status == "ok", result.error
    engine.watches.join()


def test_a_story_and_its_copy_reach_slack_and_the_webhook_once(servers, tmp_path, embedder: Embedder) -> None:
    site, slack, hook = servers
    feed = Feed(site)
    settings = settings_for(tmp_path / "data", slack)
    engine = Engine(settings, embedder=embedder)
    FeedRegistry(settings).add(site.url("/feeds/mix.rss"))
    poll(engine)  # the harbor story arrives before anyone watches: never delivered
    in_slack, _ = engine.watches.add(WatchIn(query="offshore wind farm", channel=CHANNEL))
    by_hook, generated = engine.watches.add(WatchIn(query="wind turbines power", webhook_url=hook.url, secret=SECRET))
    assert generated is None  # the secret was given

    feed.items = [HARBOR_ITEM, WIND_ITEM, COPY_ITEM]  # two new entries: a story and its syndicated copy
    poll(engine)

    posts = slack.calls_to("chat.postMessage", channel=CHANNEL)
    assert len(posts) == 1
    text = " ".join(b["text"]["text"] for b in posts[0]["blocks"] if b["type"] == "section")
    assert "1 new story for your watch _offshore wind farm_" in text
    assert WIND_ITEM[1] in text and "The Daily Ledger" in text and "2024-03-05" in text
    assert "also in 1 outlet" in text and TURBINE[0][:60] in text and site.url("/ledger/wind") in text
    assert "harbor" not in text.lower()
    assert hook.rejected == [] and len(hook.calls) == 1
    [story] = hook.calls[0]["stories"]
    assert (story["title"], story["source"], story["also_in"]) == (WIND_ITEM[1], "The Daily Ledger", 1)
    assert story["other_outlets"] == ["Wire Service"] and story["lede"] == TURBINE[0]
    assert hook.calls[0]["watch"] == {"id": by_hook.id, "query": "wind turbines power"}
    assert engine.watches.get(in_slack.id).delivered == 1 and engine.watches.get(by_hook.id).delivered == 1

    # a restart: a new engine on the same data dir, a new unrelated entry, the old matches offered again
    engine.watches.join()
    again = Engine(settings, embedder=embedder)
    feed.items = [HARBOR_ITEM, WIND_ITEM, COPY_ITEM, RAIL_ITEM]
    poll(again)
    stored = [a.id for a, _ in again.store.list_articles()]
    assert again.watches.queue_matches(stored) == 0  # every match is already queued (and sent)
    assert again.watches.deliver_now() == 0
    assert len(slack.calls_to("chat.postMessage", channel=CHANNEL)) == 1 and len(hook.calls) == 1


def test_a_failing_webhook_is_retried_and_never_fails_the_ingest(servers, tmp_path, embedder: Embedder) -> None:
    site, slack, _ = servers
    flaky = WebhookReceiver(SECRET, fail_first=2).start()
    try:
        feed = Feed(site)
        settings = settings_for(tmp_path / "data", slack)
        engine = Engine(settings, embedder=embedder)
        FeedRegistry(settings).add(site.url("/feeds/mix.rss"))
        watch, _ = engine.watches.add(WatchIn(query="offshore wind farm", webhook_url=flaky.url, secret=SECRET))
        feed.items = [HARBOR_ITEM, WIND_ITEM]
        [result] = FeedPoller(engine, settings).poll_all()
        assert (result.status, result.ingested) == ("ok", 2)  # the ingest is done whatever the webhook does
        engine.watches.join()
        assert flaky.attempts == 3 and len(flaky.calls) == 1  # 503, 503 (backoff 0.2 s, 0.4 s), then 200
        state = engine.watches.get(watch.id)
        assert (state.delivered, state.failures, state.last_error) == (1, 0, "webhook answered HTTP 503")
        [row] = engine.watches.db.deliveries(watch.id)
        assert (row["status"], row["attempts"]) == ("sent", 3)
    finally:
        flaky.stop()


def test_engines_in_threads_and_two_processes_deliver_once(servers, tmp_path, embedder: Embedder) -> None:
    _, slack, hook = servers
    settings = settings_for(tmp_path / "data", slack)
    engine = Engine(settings, embedder=embedder)
    docs = [
        (WIND_ITEM[1], TURBINE, "The Daily Ledger"),
        ("Turbines of the northern wind farm start", [TURBINE[2], TURBINE[4], TURBINE[1]], "Coast News"),
    ]
    from ingest.readers import RawDocument

    watch, _ = engine.watches.add(WatchIn(query="offshore wind farm turbines", webhook_url=hook.url, secret=SECRET))
    engine.watches.stop()  # this engine's own sender stays out: the threads below race for the rows
    report = engine.ingestor.ingest(
        [RawDocument(text="\n\n".join(b), origin=t, title=t, source=s, published="2024-03-05") for t, b, s in docs]
    )
    assert report.ingested == 2

    engines = [Engine(settings, embedder=embedder) for _ in range(4)]
    barrier = threading.Barrier(len(engines))

    def race(e: Engine) -> None:
        barrier.wait()
        e.watches.queue_matches(report.article_ids)
        e.watches.deliver_now()

    threads = [threading.Thread(target=race, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(hook.calls) == 1 and len(hook.calls[0]["stories"]) == 2

    # two processes: a new story queued, then `newsqa watch deliver` twice at once
    third = engine.ingestor.ingest(
        [RawDocument(text="\n\n".join(RAIL + TURBINE[3:]), origin="x", title="Wind farm savings and rail deal",
                     source="Mixed Post", published="2024-03-06")]
    )  # fmt: skip
    queued = engine.watches.db.enqueue(watch.id, [(third.article_ids[0], third.article_ids[0], 0.9)])
    assert queued == 1
    env = cli_env(settings.data_dir, NEWSQA_ALLOW_PRIVATE_URLS="true", NEWSQA_EMBED_MODEL="hash:384")
    cmd = [sys.executable, "-m", "api.cli", "watch", "deliver"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == ["delivered 0 stor(ies)", "delivered 1 stor(ies)"]
    assert len(hook.calls) == 2
    assert [s["title"] for s in hook.calls[1]["stories"]] == ["Wind farm savings and rail deal"]
