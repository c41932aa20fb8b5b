"""RSS and Atom feeds (feedparser): bytes of a feed -> its entries, and an entry -> a partial raw document.

An entry's article is stored and cited under its canonical URL: the page's own canonical link, else
``rag.text.ids.canonical_url`` of the link (the URL its id is computed from), never the feed link with
``?utm_source=rss&utm_medium=feed``. Its outlet is the feed's
title (``<channel><title>``) unless the page names its publication (og:site_name, JSON-LD publisher, ...):
a page that names none used to show its host and port, e.g. ``127.0.0.1:8771``.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ingest.readers import RawDocument
from rag.errors import ArticleRejected
from rag.text.ids import canonical_url

_BLOCK = re.compile(r"(?i)</?(p|div|br|li|h[1-6]|blockquote|tr|section|article)\b[^>]*>")


@dataclass
class FeedEntry:
    """One entry: where its article lives, and what the feed itself says about it."""

    key: str  # stable identity across polls: guid/id, else link, else a hash of title + content
    link: str | None
    title: str | None
    published: datetime | None  # the entry's `published`, never its `updated`
    authors: list[str] = field(default_factory=list)
    content: str | None = None  # full content (content:encoded / atom:content), as text
    summary: str | None = None  # description / atom:summary, as text


@dataclass
class Feed:
    title: str | None
    entries: list[FeedEntry]
    broken: list[str] = field(default_factory=list)  # why entries were left out


def html_to_text(markup: str) -> str:
    """Text of an HTML fragment (feed content), paragraphs kept as blank-line-separated blocks."""
    import lxml.html

    if "<" not in markup:
        return markup.strip()
    try:
        root = lxml.html.fromstring(f"<div>{_BLOCK.sub(lambda m: chr(10) * 2 + m.group(0), markup)}</div>")
    except (ValueError, lxml.etree.ParserError):
        return re.sub(r"<[^>]+>", " ", markup).strip()
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    text = root.text_content()
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed")  # feedparser: RSS pubDate / Atom published (not updated)
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _entry(entry: Any) -> FeedEntry | None:
    link = (entry.get("link") or "").strip() or None
    if link and not re.match(r"(?i)^https?://", link):
        link = None  # e.g. feedparser's link from a non-URL <guid>: nothing to fetch
    title = (entry.get("title") or "").strip() or None
    content = None
    for item in entry.get("content") or []:
        if value := html_to_text(item.get("value") or ""):
            content = value
            break
    summary = html_to_text(entry.get("summary") or "") or None
    if summary and content and summary == content:
        summary = None
    if not link and not content and not summary:
        return None
    key = (entry.get("id") or entry.get("guid") or link or "").strip()
    if not key:
        key = "sha:" + hashlib.sha256(f"{title}\x1f{content or summary}".encode()).hexdigest()[:32]
    authors = [a.get("name", "").strip() for a in entry.get("authors") or [] if a.get("name", "").strip()]
    if not authors and entry.get("author"):
        authors = [str(entry["author"]).strip()]
    return FeedEntry(key, link, title, _published(entry), authors, content, summary)


def parse_feed(data: bytes, origin: str) -> Feed:
    """Entries of an RSS 2.0/1.0 or Atom feed; ArticleRejected when the bytes are not a feed at all."""
    import feedparser

    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries and not parsed.feed.get("title"):
        reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: None)() or parsed.get("bozo_exception")
        raise ArticleRejected(f"{origin}: not an RSS or Atom feed ({reason})")
    entries: list[FeedEntry] = []
    broken: list[str] = []
    for i, raw in enumerate(parsed.entries):
        if (entry := _entry(raw)) is None:
            broken.append(f"entry {i + 1}: no link and no content")
        else:
            entries.append(entry)
    return Feed(title=(parsed.feed.get("title") or "").strip() or None, entries=entries, broken=broken)


def entry_document(entry: FeedEntry, feed: Feed, origin: str) -> RawDocument:
    """The entry's own content (else summary) as a *partial* article: used when its page cannot be fetched."""
    text = entry.content or entry.summary
    if not text:
        raise ArticleRejected(f"{origin}: the entry has no content or summary to fall back on")
    provenance = {"text": "feed:content" if entry.content else "feed:summary", "url": "feed:link"}
    if entry.title:
        provenance["title"] = "feed:title"
    if entry.published:
        provenance["published"] = "feed:published"
    if entry.authors:
        provenance["authors"] = "feed:author"
    if feed.title:
        provenance["source"] = "feed:title"
    return RawDocument(
        text=text,
        origin=origin,
        title=entry.title,
        source=feed.title,
        authors=entry.authors,
        published=entry.published,
        url=canonical_url(entry.link) if entry.link else None,
        partial=True,
        provenance=provenance,
    )


def _names_no_outlet(doc: RawDocument) -> bool:
    """True when the page's ``source`` is only its address (the host, or a site name that is the host)."""
    how = doc.provenance.get("source", "")
    if not doc.source or how == "url:host":
        return True
    if how != "trafilatura:sitename":
        return False
    parts = urlsplit(doc.url or doc.origin or "")
    hosts = {h.lower().removeprefix("www.") for h in (parts.netloc, parts.hostname or "") if h}
    return doc.source.strip().lower().removeprefix("www.") in hosts


def with_entry_metadata(doc: RawDocument, entry: FeedEntry, feed_title: str | None = None) -> RawDocument:
    """The fetched page's document, with the entry's ``published`` winning over the page's date, its canonical
    URL, and the feed's title as the outlet when the page names none."""
    if doc.url and doc.provenance.get("url") == "http:final-url":  # the page names no canonical link of its own
        doc.url = canonical_url(doc.url)
    if feed_title and _names_no_outlet(doc):
        doc.source, doc.provenance["source"] = feed_title, "feed:title"
    if entry.published:
        doc.published = entry.published
        doc.provenance["published"] = "feed:published"
    if not doc.title and entry.title:
        doc.title, doc.provenance["title"] = entry.title, "feed:title"
    if not doc.authors and entry.authors:
        doc.authors, doc.provenance["authors"] = entry.authors, "feed:author"
    return doc
