"""Feeds against a real HTTP server on 127.0.0.1: RSS and Atom, conditional GET, fallbacks, failures, state."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from ingest.engine import Engine
from ingest.feeds import FeedPoller, FeedRegistry, start_feed_poller
from ingest.readers.feeds import html_to_text, parse_feed
from rag.errors import ArticleRejected, InputError, NotFound
from rag.settings import Settings
from tests.fakes.site import (
    BRIEF,
    HARBOR,
    RAIL,
    TURBINE,
    Site,
    atom_feed,
    rss_feed,
    site_fixture,  # noqa: F401 (the `site` fixture)
)


@pytest.fixture
def feed_engine(tmp_path, embedder) -> Engine:
    settings = Settings(data_dir=tmp_path / "data", allow_private_urls=True, fetch_timeout_s=3)
    return Engine(settings, embedder=embedder)


def _articles(engine: Engine) -> dict[str, object]:
    return {a.title: engine.store.get_article(a.id) for a, _ in engine.store.list_articles()}


# ---- parsing ---------------------------------------------------------------------------------------------
def test_parse_rss_and_atom() -> None:
    rss = parse_feed(rss_feed("http://x").encode(), "rss")
    assert rss.title == "The Daily Ledger"
    assert [e.key for e in rss.entries] == ["ledger-4411", "ledger-4415"]
    assert rss.broken == ["entry 3: no link and no content"]
    assert rss.entries[0].authors == ["Jane Porter"]
    assert rss.entries[1].content is not None and RAIL[0] in rss.entries[1].content
    atom = parse_feed(atom_feed("http://x").encode(), "atom")
    first = atom.entries[0]
    assert first.published == datetime(2024, 2, 12, 14, 0, tzinfo=UTC)  # published, not updated
    assert first.link == "http://x/news/harbor-market" and first.authors == ["Omar Haddad"]
    assert atom.entries[1].summary == BRIEF


def test_not_a_feed_is_rejected() -> None:
    with pytest.raises(ArticleRejected, match="not an RSS or Atom feed"):
        parse_feed(b"this is plain text, not XML at all {", "junk")


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<p>One.</p><p>Two <b>bold</b>.</p>") == "One.\n\nTwo bold."


# ---- registry --------------------------------------------------------------------------------------------
def test_registry_add_list_remove(tmp_path) -> None:
    reg = FeedRegistry(Settings(data_dir=tmp_path))
    state, created = reg.add("https://example.com/feed.xml?utm_source=x")
    assert created and state.url == "https://example.com/feed.xml?utm_source=x" and state.last_poll is None
    assert reg.add("https://EXAMPLE.com/feed.xml")[1] is False  # the same feed (canonical URL)
    assert [s.url for s in reg.list()] == ["https://example.com/feed.xml?utm_source=x"]
    reg.remove("https://example.com/feed.xml")
    assert reg.list() == []
    with pytest.raises(NotFound):
        reg.remove("https://example.com/feed.xml")
    with pytest.raises(InputError, match="only http and https"):
        reg.add("file:///etc/passwd")


# ---- polling into a real engine -------------------------------------------------------------------------
def test_poll_rss_atom_failing_feed_and_304(site: Site, feed_engine: Engine) -> None:
    reg = FeedRegistry(feed_engine.settings)
    for path in ("/feeds/broken.xml", "/feeds/ledger.rss", "/feeds/harbor.atom"):
        reg.add(site.url(path))
    poller = FeedPoller(feed_engine, feed_engine.settings, reg)

    results = {r.url.rsplit("/", 1)[-1]: r for r in poller.poll_all()}
    # the failing feed (listed first) did not stop the others
    assert results["broken.xml"].status == "error" and "HTTP 500" in results["broken.xml"].error
    rss, atom = results["ledger.rss"], results["harbor.atom"]
    assert (rss.status, rss.new_entries, rss.ingested, rss.partial) == ("ok", 2, 2, 1)
    assert any("no link and no content" in f.reason for f in rss.failures)
    assert (atom.status, atom.new_entries, atom.ingested, atom.partial) == ("ok", 2, 2, 1)

    arts = _articles(feed_engine)
    wind = arts["Offshore wind farm delivers first power two months early"]
    assert not wind.partial and wind.source == "The Daily Ledger" and wind.authors == ["Jane Porter"]
    assert wind.url == site.url("/2024/03/wind-farm-first-power/")  # canonical: no utm_* from the feed link
    assert TURBINE[3] in wind.text and wind.provenance["published"] == "feed:published"
    rail = arts["Rail workers accept pay offer, calling off holiday strikes"]  # page 404 -> content:encoded
    assert rail.partial and RAIL[2] in rail.text and rail.provenance["text"] == "feed:content"
    assert rail.published == datetime(2024, 3, 7, 18, 0, tzinfo=UTC) and rail.source == "The Daily Ledger"
    assert "HTTP 404" in rail.provenance["partial_because"]
    harbor = arts["Council approves plan to turn old harbor into public market"]
    assert harbor.published == datetime(2024, 2, 12, 14, 0, tzinfo=UTC) and not harbor.partial  # published
    assert all(p in harbor.text for p in HARBOR)
    museum = arts["Museum reopens after renovation"]  # link is a PDF -> the entry's summary
    assert museum.partial and museum.text == BRIEF and museum.provenance["text"] == "feed:summary"
    assert "not an HTML page" in museum.provenance["partial_because"]

    states = {s.url.rsplit("/", 1)[-1]: s for s in reg.list()}
    assert states["broken.xml"].last_status == "error" and states["broken.xml"].errors == 1
    assert states["ledger.rss"].etag == '"rss-v1"' and states["ledger.rss"].articles_partial == 1
    assert states["harbor.atom"].title == "Harbor Times" and states["harbor.atom"].entries_seen == 2

    # second poll: conditional GET answered 304, nothing else fetched
    page_hits = sum(n for p, n in site.hits.items() if not p.startswith("/feeds/"))
    results = {r.url.rsplit("/", 1)[-1]: r for r in poller.poll_all()}
    assert results["ledger.rss"].status == "not_modified" and results["harbor.atom"].status == "not_modified"
    assert sum(n for p, n in site.hits.items() if not p.startswith("/feeds/")) == page_hits
    sent = [h for p, h in site.requests if p == "/feeds/ledger.rss"][-1]
    assert sent["If-None-Match"] == '"rss-v1"' and sent["If-Modified-Since"] == "Wed, 14 Feb 2024 08:00:00 GMT"
    assert reg.get(site.url("/feeds/ledger.rss")).polls == 2
    assert reg.get(site.url("/feeds/broken.xml")).errors == 2
    assert feed_engine.store.counts()["articles"] == 4


def test_only_new_entries_are_fetched(site: Site, feed_engine: Engine) -> None:
    reg = FeedRegistry(feed_engine.settings)
    reg.add(site.url("/feeds/harbor.atom"))
    poller = FeedPoller(feed_engine, feed_engine.settings, reg)
    assert poller.poll_all()[0].new_entries == 2
    extra = """<entry><title>Rail workers accept pay offer</title><link rel="alternate" href="{}"/>
<id>urn:harbor-times:103</id><published>2024-02-14T07:00:00Z</published></entry></feed>"""
    site.feed(
        "/feeds/harbor.atom",
        atom_feed(site.base).replace("</feed>", extra.format(site.url("/undated/rail"))),
        "application/atom+xml",
        '"atom-v2"',
    )
    before = site.hits["/news/harbor-market"]
    [result] = poller.poll_all()
    assert (result.status, result.new_entries, result.ingested) == ("ok", 1, 1)
    assert site.hits["/news/harbor-market"] == before and site.hits["/undated/rail"] == 1
    rail = _articles(feed_engine)["Rail workers accept pay offer"]
    assert rail.published == datetime(2024, 2, 14, 7, 0, tzinfo=UTC)  # the page has no date: the entry's


def test_background_poller_polls_and_stops(site: Site, feed_engine: Engine) -> None:
    reg = FeedRegistry(feed_engine.settings)
    reg.add(site.url("/feeds/harbor.atom"))
    handle = start_feed_poller(feed_engine, feed_engine.settings, first_delay=0)
    try:
        deadline = time.monotonic() + 60
        while reg.list()[0].last_poll is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert reg.list()[0].last_status == "ok" and feed_engine.store.counts()["articles"] == 2
    finally:
        handle.stop()
    assert not handle.running


GAZETTE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>The Probe Gazette</title><link>{base}/</link><description>News</description>
<item><title>Rail workers accept pay offer</title><link>{base}/second.html?utm_source=rss&amp;utm_medium=feed</link>
<guid>gazette-2</guid><pubDate>Thu, 07 Mar 2024 18:00:00 +0000</pubDate></item>
<item><title>Rail strike called off</title><link>{base}/gone.html?utm_source=rss&amp;id=7</link>
<guid>gazette-3</guid><pubDate>Fri, 08 Mar 2024 18:00:00 +0000</pubDate>
<content:encoded><![CDATA[{body}]]></content:encoded></item>
</channel></rss>"""


def test_feed_articles_cite_the_canonical_url_and_the_feed_title(site: Site, feed_engine: Engine) -> None:
    """Probe item 6: the stored url kept ?utm_source=rss, and the outlet was the host:port of the test server."""
    from tests.fakes.site import paragraphs, undated_page

    site.html("/second.html", undated_page("Rail workers accept pay offer", RAIL))  # names no outlet
    body = paragraphs([p.replace("Rail", "Tram") for p in RAIL])
    site.feed("/feeds/gazette.rss", GAZETTE.format(base=site.base, body=body), "application/rss+xml", '"g1"')
    reg = FeedRegistry(feed_engine.settings)
    reg.add(site.url("/feeds/gazette.rss"))
    [result] = FeedPoller(feed_engine, feed_engine.settings, reg).poll_all()
    assert (result.status, result.ingested, result.partial) == ("ok", 2, 1)
    arts = _articles(feed_engine)
    page = arts["Rail workers accept pay offer"]
    assert page.url == site.url("/second.html") and page.source == "The Probe Gazette"
    assert page.provenance["source"] == "feed:title" and not page.partial
    gone = arts["Rail strike called off"]  # page 404: the entry's own content, under the canonical URL too
    assert gone.partial and gone.url == site.url("/gone.html?id=7") and gone.source == "The Probe Gazette"


def test_feed_urls_with_credentials_are_refused_and_never_listed(tmp_path) -> None:
    """Probe L8: `feeds add https://user:secretpw@...` was stored and listed, and echoed in poll errors."""
    reg = FeedRegistry(Settings(data_dir=tmp_path / "data"))
    with pytest.raises(InputError, match="user name or password") as refused:
        reg.add("https://user:secretpw@news.example/feed.xml")
    assert "secretpw" not in str(refused.value)
    # One registered before the check: listed without its credentials.
    with reg._db() as db:
        db.execute(
            "INSERT INTO feeds (key, url, added_at) VALUES (?, ?, ?)",
            ("k", "https://user:secretpw@old.example/feed.xml", "2026-01-01T00:00:00+00:00"),
        )
    assert [s.url for s in reg.list()] == ["https://***@old.example/feed.xml"]
