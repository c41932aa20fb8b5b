"""Safe fetching and extraction against a real HTTP server on 127.0.0.1 (tests/fakes/site.py)."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from ingest.readers import Failure, RawDocument
from ingest.web import FetchError, UnsafeURL, blocked_reason, fetch, fetch_article, read_urls
from rag.errors import InputError
from rag.settings import Settings
from rag.text.dates import parse_date
from rag.text.ids import canonical_url
from tests.fakes.site import (
    BUDGET,
    HARBOR,
    TURBINE,
    Site,
    site_fixture,  # noqa: F401 (the `site` fixture)
)

web_fetch = importlib.import_module("ingest.web.fetch")  # the module: `ingest.web.fetch` is the re-exported function


@pytest.fixture
def web_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allow_private_urls=True, fetch_timeout_s=2.0, fetch_max_bytes=1_000_000)


# ---- extraction: the right text, title, author, outlet and date, and where each came from ---------------
def test_wordpress_page(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/2024/03/wind-farm-first-power/"), web_settings)
    assert doc.title == "Offshore wind farm delivers first power two months early"
    assert doc.authors == ["Jane Porter"]
    assert doc.source == "The Daily Ledger"
    assert parse_date(doc.published) == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)  # not the 'updated' time
    assert TURBINE[0] in doc.text and TURBINE[-1] in doc.text
    assert "newsletter" not in doc.text and "All rights reserved" not in doc.text
    assert doc.url == site.url("/2024/03/wind-farm-first-power/")
    assert doc.provenance == {
        "text": "trafilatura",
        "url": "link:canonical",
        "title": "meta:og:title",
        "authors": "meta:author",
        "source": "meta:og:site_name",
        "published": "meta:article:published_time",
    }
    assert not doc.partial


def test_jsonld_only_page(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/news/harbor-market"), web_settings)
    assert doc.title == "Council approves plan to turn old harbor into public market"
    assert doc.authors == ["Omar Haddad", "Lena Ortiz"]
    assert doc.source == "Harbor Times"
    assert parse_date(doc.published) == datetime(2024, 2, 12, 14, 0, tzinfo=UTC)  # not dateModified
    assert doc.provenance["published"] == "json-ld:datePublished"
    assert doc.provenance["title"] == "json-ld:headline"
    assert doc.provenance["authors"] == "json-ld:author"
    assert doc.provenance["source"] == "json-ld:publisher"
    assert all(p in doc.text for p in HARBOR)


def test_date_only_in_the_url(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/2023/11/20/county-budget-committee-approves-plan/"), web_settings)
    assert parse_date(doc.published).date().isoformat() == "2023-11-20"
    assert doc.provenance["published"] == "url:path"
    assert doc.title == "County budget committee approves spending plan"
    assert BUDGET[1] in doc.text


def test_no_date_means_none_never_the_crawl_time(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/undated/rail"), web_settings)
    assert doc.published is None and "published" not in doc.provenance
    assert doc.source.startswith("127.0.0.1") and doc.provenance["source"] in {"url:host", "trafilatura:sitename"}


def test_redirect_is_followed_and_recorded_url_is_the_final_one(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/moved"), web_settings)
    assert doc.url == site.url("/news/harbor-market") and doc.provenance["url"] == "http:final-url"
    assert doc.origin == site.url("/moved")


def test_gzip_body_and_user_agent(site: Site, web_settings: Settings) -> None:
    doc = fetch_article(site.url("/gzip"), web_settings)
    assert TURBINE[2] in doc.text
    path, headers = site.requests[-1]
    assert path == "/gzip" and headers["User-Agent"] == web_settings.user_agent


def test_canonical_link_on_another_site_is_ignored(site: Site, web_settings: Settings) -> None:
    markup = (
        site.routes["/2024/03/wind-farm-first-power/"]
        .body.decode()
        .replace(  # type: ignore[union-attr]
            f'href="{site.base}/2024/03/wind-farm-first-power/"', 'href="https://wire.example/story/123"'
        )
    )
    site.html("/syndicated/wind", markup)
    doc = fetch_article(site.url("/syndicated/wind"), web_settings)
    assert doc.url == site.url("/syndicated/wind") and doc.provenance["url"] == "http:final-url"


# ---- safety: every refusal has a clear reason ---------------------------------------------------------
def test_loopback_refused_without_the_flag(site: Site, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, allow_private_urls=False)
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1, a loopback address.*NEWSQA_ALLOW_PRIVATE_URLS"):
        fetch_article(site.url("/news/harbor-market"), settings)
    assert site.hits["/news/harbor-market"] == 0  # refused before connecting
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch_article(f"http://localhost:{site.server.server_address[1]}/news/harbor-market", settings)
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch_article(f"http://[::ffff:127.0.0.1]:{site.server.server_address[1]}/", settings)


@pytest.mark.parametrize(
    "address, reason",
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.53", "loopback"),
        ("::1", "loopback"),
        ("fd00::1", "private"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_blocked_addresses(address: str, reason: str) -> None:
    assert blocked_reason(address) == reason


def test_public_addresses_pass() -> None:
    assert blocked_reason("93.184.216.34") is None and blocked_reason("2606:4700::1111") is None


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let 127.0.0.1 stand in for a public site, so a redirect *from* it to a private address can be tested."""
    original = web_fetch.blocked_reason
    monkeypatch.setattr(web_fetch, "blocked_reason", lambda a: None if a == "127.0.0.1" else original(a))


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize("path, target", [("/to-private", "10.0.0.7"), ("/to-metadata", "169.254.169.254")])
def test_redirect_to_a_private_address_is_refused(site: Site, tmp_path, path: str, target: str) -> None:
    settings = Settings(data_dir=tmp_path, allow_private_urls=False, fetch_timeout_s=2)
    with pytest.raises(UnsafeURL, match=rf"resolves to {target}.*redirected to http://{target}/"):
        fetch_article(site.url(path), settings)
    assert site.hits[path] == 1  # the first hop was fetched; the second was refused before connecting


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a", "gopher://x/", "javascript:alert(1)"])
def test_only_http_and_https(url: str, web_settings: Settings) -> None:
    with pytest.raises(UnsafeURL, match="only http and https"):
        fetch_article(url, web_settings)


def test_redirect_to_another_scheme_is_refused(site: Site, web_settings: Settings) -> None:
    with pytest.raises(UnsafeURL, match="only http and https"):
        fetch_article(site.url("/to-file"), web_settings)


def test_redirect_loop(site: Site, web_settings: Settings) -> None:
    with pytest.raises(FetchError, match="redirect loop"):
        fetch_article(site.url("/loop-a"), web_settings)


def test_at_most_five_redirects(site: Site, web_settings: Settings) -> None:
    site.html("/hop/7", "<html><body>" + "<p>Five hops away is fine.</p>" * 30 + "</body></html>")
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        fetch(site.url("/hop/1"), web_settings)  # 6 redirects
    assert fetch(site.url("/hop/2"), web_settings).url == site.url("/hop/7")  # 5 redirects


def test_timeout(site: Site, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, allow_private_urls=True, fetch_timeout_s=0.5)
    with pytest.raises(FetchError, match="timed out"):
        fetch_article(site.url("/slow"), settings)


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_oversize(site: Site, web_settings: Settings, path: str) -> None:
    with pytest.raises(FetchError, match=r"too large \(over 1,000,000 bytes"):
        fetch_article(site.url(path), web_settings)


def test_pdf_is_not_html(site: Site, web_settings: Settings) -> None:
    with pytest.raises(FetchError, match="not an HTML page: content type 'application/pdf'"):
        fetch_article(site.url("/files/museum.pdf"), web_settings)


def test_http_error_and_bad_url(site: Site, web_settings: Settings) -> None:
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch_article(site.url("/error"), web_settings)
    with pytest.raises(InputError, match="no host"):
        fetch_article("http:///nohost", web_settings)


def test_a_batch_goes_on_past_failures(site: Site, web_settings: Settings) -> None:
    urls = [site.url(p) for p in ("/big", "/files/museum.pdf", "/loop-a", "/news/harbor-market", "/slow")]
    out = read_urls(urls, web_settings)
    docs = [d for d in out if isinstance(d, RawDocument)]
    reasons = {f.origin: f.reason for f in out if isinstance(f, Failure)}
    assert [d.title for d in docs] == ["Council approves plan to turn old harbor into public market"]
    assert reasons[urls[0]].startswith("too large")
    assert reasons[urls[1]].startswith("not an HTML page")
    assert reasons[urls[2]].startswith("redirect loop")
    assert reasons[urls[4]].startswith("timed out")


# ---- canonical URLs -------------------------------------------------------------------------------------
def test_canonical_url_variants_are_one() -> None:
    variants = [
        "https://News.Example.com/2024/03/story/?utm_source=rss&utm_medium=feed",
        "https://news.example.com/2024/03/story#comments",
        "HTTPS://news.example.com:443/2024/03/story/index.html?fbclid=x&mkt_tok=y",
        "https://news.example.com/2024/03/story/?gclid=1&_hsenc=2",
    ]
    assert {canonical_url(v) for v in variants} == {"https://news.example.com/2024/03/story"}
    assert canonical_url("https://e.com/a?id=2&page=1") == canonical_url("https://e.com/a?page=1&id=2&utm_x=1")
    assert canonical_url("https://e.com/a?id=2") != canonical_url("https://e.com/a?id=3")
