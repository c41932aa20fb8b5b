"""A real local web server on 127.0.0.1 serving pages and feeds written in the styles of different publishers.

Used by tests/ingest/test_web*.py, test_feeds*.py, test_neardup*.py and tests/e2e/test_web_ingest*.py; tests
taking its ``site`` fixture are in the slow tier (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# ---- article bodies (invented news, several paragraphs each so extraction has real text to find) ----------
TURBINE = [
    "The regional grid operator said on Tuesday that a new offshore wind farm off the northern coast delivered "
    "its first power to the network, two months ahead of the schedule agreed with the energy ministry.",
    "The project, built by a consortium of three utilities, will eventually comprise 84 turbines with a combined "
    "capacity of 1.2 gigawatts, enough to supply roughly one million homes according to the operator.",
    "Engineers connected the first twelve turbines over the weekend after weeks of calm weather allowed crews to "
    "finish laying the export cable, a task that had been delayed by storms throughout the winter.",
    "Consumer groups welcomed the news but warned that household bills would only fall if the savings from cheaper "
    "wholesale power were passed on by retailers, something the regulator has promised to monitor closely.",
    "The operator expects all 84 turbines to be running by the end of next year, when the consortium will also "
    "begin work on a battery storage site intended to smooth out the farm's output on windless days.",
]
HARBOR = [
    "City officials approved a plan on Monday to dredge the old harbor and turn its disused warehouses into a "
    "public market, ending a decade of debate over the future of the waterfront district.",
    "The council voted seven to two for the proposal, which will cost an estimated 48 million dollars and is to be "
    "paid for by a mix of municipal bonds, a state grant and rent from the market's future tenants.",
    "Residents who spoke at the four-hour meeting were divided, with fishermen worried about losing moorings while "
    "shop owners said the market would bring visitors back to streets that have been quiet for years.",
    "The mayor said the first phase, repairing the sea wall and clearing silt from the basin, would begin in the "
    "spring, and that fishing boats would keep their berths along the northern quay during the works.",
    "An independent study commissioned last year estimated the market could create about 300 jobs and draw more "
    "than half a million visitors a year once all of the warehouses are restored and let.",
]
BUDGET = [
    "The county budget committee approved a spending plan late on Sunday that raises library and park funding "
    "while freezing most other departments for the second year in a row.",
    "Committee members said rising pension costs left little room for new programs, and that the freeze was the "
    "only way to avoid a property tax increase in an election year.",
    "Librarians had lobbied for months to restore weekend opening hours that were cut during the pandemic, and the "
    "plan sets aside 2.4 million dollars to reopen all branches on Saturdays from March.",
    "The full county board is expected to vote on the budget next week, and the chair said she did not expect "
    "major changes to the committee's version after two public hearings drew few objections.",
]
RAIL = [
    "Rail workers at the national operator voted to accept a new pay offer on Thursday, calling off a series of "
    "strikes that had been planned for the busy holiday period next month.",
    "The union said 71 percent of members who took part in the ballot backed the deal, which raises pay by 5 "
    "percent this year and guarantees no compulsory redundancies until the end of the decade.",
    "Management had warned that the strikes would have cancelled about half of all long-distance services, "
    "affecting an estimated two million journeys over the holidays.",
    "Passenger groups said they were relieved but urged the operator to use the calmer period to fix the signal "
    "failures that have caused months of delays on the main northern line.",
]
BRIEF = (
    "A short brief from the wire: the museum reopens on Friday after a two-year renovation of its galleries, "
    "with free entry for the first weekend and extended opening hours until the end of the month."
)


def paragraphs(items: list[str]) -> str:
    return "\n".join(f"<p>{p}</p>" for p in items)


def wordpress_page(base: str) -> str:
    """WordPress style: OpenGraph/article meta tags, a byline, sidebar widgets, an 'updated' time."""
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>Offshore wind farm delivers first power early &#8211; The Daily Ledger</title>
<link rel="canonical" href="{base}/2024/03/wind-farm-first-power/">
<meta property="og:site_name" content="The Daily Ledger">
<meta property="og:title" content="Offshore wind farm delivers first power two months early">
<meta property="article:published_time" content="2024-03-05T09:30:00+00:00">
<meta property="article:modified_time" content="2024-03-07T16:00:00+00:00">
<meta name="author" content="Jane Porter">
<meta name="generator" content="WordPress 6.4.3">
</head><body class="post-template-default single">
<header id="masthead"><nav><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a></li></ul></nav></header>
<main id="primary"><article id="post-4411" class="post type-post">
<header class="entry-header"><h1 class="entry-title">Offshore wind farm delivers first power two months early</h1>
<div class="entry-meta"><span class="byline">By <a href="/author/jporter/">Jane Porter</a></span>
<time class="updated" datetime="2024-03-07T16:00:00+00:00">March 7, 2024</time></div></header>
<div class="entry-content">{paragraphs(TURBINE)}</div>
</article></main>
<aside id="secondary" class="widget-area"><section class="widget"><h2>Subscribe to our newsletter</h2>
<p>Get the Ledger in your inbox every morning.</p></section></aside>
<footer id="colophon"><p>&copy; 2024 The Daily Ledger. All rights reserved.</p></footer>
</body></html>"""


def jsonld_page() -> str:
    """A page whose only metadata is JSON-LD (no meta tags, no <time>)."""
    return f"""<!doctype html><html><head><title>Harbor plan approved</title>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@graph": [
  {{"@type": "WebSite", "name": "Harbor Times Online"}},
  {{"@type": "NewsArticle", "headline": "Council approves plan to turn old harbor into public market",
    "datePublished": "2024-02-12T14:00:00Z", "dateModified": "2024-02-13T08:00:00Z",
    "author": [{{"@type": "Person", "name": "Omar Haddad"}}, {{"@type": "Person", "name": "Lena Ortiz"}}],
    "publisher": {{"@type": "Organization", "name": "Harbor Times"}}}}]}}
</script></head><body>
<div class="story"><h1>Council approves plan to turn old harbor into public market</h1>
{paragraphs(HARBOR)}</div><div class="promo">Read more stories</div></body></html>"""


def url_dated_page() -> str:
    """No date anywhere in the markup: the only date is the /YYYY/MM/DD/ of its URL."""
    return f"""<html><head><title>County budget committee approves spending plan</title></head><body>
<div id="content"><h1>County budget committee approves spending plan</h1>{paragraphs(BUDGET)}</div>
</body></html>"""


def undated_page(title: str, body: list[str], site: str | None = None) -> str:
    site_meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    return f"""<html><head><title>{title}</title>{site_meta}</head><body>
<article><h1>{title}</h1>{paragraphs(body)}</article></body></html>"""


def rss_feed(base: str) -> str:
    """RSS 2.0: a full entry, an entry whose page is gone (content:encoded fallback) and a broken entry."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>The Daily Ledger</title><link>{base}/</link><description>News</description>
<item><title>Offshore wind farm delivers first power two months early</title>
<link>{base}/2024/03/wind-farm-first-power/?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">ledger-4411</guid><pubDate>Tue, 05 Mar 2024 09:30:00 +0000</pubDate>
<dc:creator>Jane Porter</dc:creator><description>The first turbines are connected.</description></item>
<item><title>Rail workers accept pay offer, calling off holiday strikes</title>
<link>{base}/gone/rail-deal</link><guid>ledger-4415</guid><pubDate>Thu, 07 Mar 2024 18:00:00 +0000</pubDate>
<description>Rail workers accepted a pay offer.</description>
<content:encoded><![CDATA[{paragraphs(RAIL)}]]></content:encoded></item>
<item><title>Broken entry with neither link nor content</title><guid>ledger-4416</guid></item>
</channel></rss>"""


def atom_feed(base: str) -> str:
    """Atom: `published` and `updated` differ (published must win); one entry links to a PDF (summary fallback)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbor Times</title><id>urn:harbor-times</id>
<updated>2024-02-14T08:00:00Z</updated>
<entry><title>Council approves plan to turn old harbor into public market</title>
<link rel="alternate" href="{base}/news/harbor-market"/><id>urn:harbor-times:101</id>
<published>2024-02-12T14:00:00Z</published><updated>2024-02-14T08:00:00Z</updated>
<author><name>Omar Haddad</name></author><summary>The council voted seven to two.</summary></entry>
<entry><title>Museum reopens after renovation</title><link rel="alternate" href="{base}/files/museum.pdf"/>
<id>urn:harbor-times:102</id><published>2024-02-13T10:00:00Z</published><updated>2024-02-13T10:00:00Z</updated>
<summary type="html">&lt;p&gt;{BRIEF}&lt;/p&gt;</summary></entry>
</feed>"""


# ---- the server ------------------------------------------------------------------------------------------
@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


Route = Callable[[BaseHTTPRequestHandler], Response]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-body (size cap, timeout tests) are expected


class Site:
    """Routes -> responses; records every request (path, headers) so tests can assert what was fetched."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Response] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.hits[self.path] += 1
                site.requests.append((self.path, dict(self.headers)))
                route = site.routes.get(self.path) or site.routes.get(self.path.split("?")[0])
                resp = (route(self) if callable(route) else route) if route else Response(404, b"not found")
                time.sleep(resp.delay)
                self.send_response(resp.status)
                for key, value in resp.headers.items():
                    self.send_header(key, value)
                if resp.send_length:
                    self.send_header("Content-Length", str(len(resp.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                # the client may give up (size cap, timeout): expected in those tests
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(resp.body)
                if not resp.send_length:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def html(self, path: str, markup: str, **headers: str) -> None:
        self.routes[path] = Response(200, markup.encode(), {"Content-Type": "text/html; charset=utf-8", **headers})

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Response(status, b"", {"Location": location})

    def feed(self, path: str, xml: str, content_type: str, etag: str) -> None:
        """A feed answering 304 to a matching If-None-Match."""
        body = xml.encode()

        def route(handler: BaseHTTPRequestHandler) -> Response:
            if handler.headers.get("If-None-Match") == etag:
                return Response(304, b"", {"ETag": etag})
            return Response(
                200,
                body,
                {"Content-Type": content_type, "ETag": etag, "Last-Modified": "Wed, 14 Feb 2024 08:00:00 GMT"},
            )

        self.routes[path] = route

    def url(self, path: str) -> str:
        return self.base + path


def publisher_site() -> Site:
    """Every page and feed the web-ingest tests use."""
    site = Site()
    b = site.base
    site.html("/2024/03/wind-farm-first-power/", wordpress_page(b))
    site.html("/news/harbor-market", jsonld_page())
    site.html("/2023/11/20/county-budget-committee-approves-plan/", url_dated_page())
    site.html("/undated/rail", undated_page("Rail workers accept pay offer", RAIL))
    site.routes["/files/museum.pdf"] = Response(200, b"%PDF-1.7\n" + b"0" * 2000, {"Content-Type": "application/pdf"})
    site.routes["/big"] = Response(
        200, b"<html><body>" + b"<p>x</p>" * 400_000 + b"</body></html>", {"Content-Type": "text/html"}
    )
    site.routes["/big-unannounced"] = Response(
        200, b"<html><body>" + b"<p>y</p>" * 400_000, {"Content-Type": "text/html"}, send_length=False
    )
    site.routes["/slow"] = Response(200, b"<html><body>late</body></html>", {"Content-Type": "text/html"}, delay=3)
    site.routes["/gzip"] = Response(
        200, gzip.compress(wordpress_page(b).encode()), {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    )
    site.redirect("/loop-a", "/loop-b")
    site.redirect("/loop-b", "/loop-a")
    for i in range(1, 8):
        site.redirect(f"/hop/{i}", f"/hop/{i + 1}")
    site.redirect("/moved", "/news/harbor-market", status=301)
    site.redirect("/to-private", "http://10.0.0.7/admin")
    site.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    site.redirect("/to-file", "file:///etc/passwd")
    site.routes["/error"] = Response(500, b"oops", {"Content-Type": "text/html"})
    site.feed("/feeds/ledger.rss", rss_feed(b), "application/rss+xml; charset=utf-8", '"rss-v1"')
    site.feed("/feeds/harbor.atom", atom_feed(b), "application/atom+xml", '"atom-v1"')
    site.routes["/feeds/broken.xml"] = Response(500, b"internal error", {"Content-Type": "text/plain"})
    return site


@pytest.fixture(name="site")
def site_fixture() -> Iterator[Site]:
    """The publisher site, served on 127.0.0.1 for one test (import ``site_fixture`` to use ``site``)."""
    s = publisher_site()
    s.thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()
