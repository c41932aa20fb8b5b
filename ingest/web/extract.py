"""Article extraction from HTML: the text from trafilatura, each metadata field from the most explicit source.

:func:`extract_article` records where every field came from in ``RawDocument.provenance``. The publication
date comes from the page or its URL (``article:published_time``, JSON-LD ``datePublished``, ``<time>``,
the URL's ``/YYYY/MM/DD/``, then htmldate without its extensive text search); the crawl time is never used.
Fetched pages (``url`` is where they were fetched from) and saved ``.html`` files (no ``url``: the page's
own same-document canonical link, if any, stands in) go through this one function.

Extracted text is data: it is stored and quoted, never interpreted as instructions or settings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest.clean import split_authors
from ingest.readers import RawDocument
from ingest.web.fetch import is_url
from rag.errors import ArticleRejected, InputError
from rag.text.dates import parse_date

_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?=/|$|[^\d])")
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.issued",
    "parsely-pub-date",
    "sailthru.date",
    "date",
)
_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "blogposting",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "report",
    "webpage",
    "liveblogposting",
}


@dataclass
class _PageMeta:
    metas: dict[str, str]
    jsonld: list[dict[str, Any]]
    canonical: str | None
    times: list[tuple[str, str]]  # (datetime attribute, how the element marks itself)


def _read_markup(markup: str) -> _PageMeta:
    """Meta tags, JSON-LD objects, the canonical link and <time> elements of a page."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(markup)
    except (ValueError, lxml.etree.ParserError):
        return _PageMeta({}, [], None, [])
    metas: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = (el.get("content") or "").strip()
        if key and value:
            metas.setdefault(key, value)
    jsonld: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            jsonld.extend(_flatten_jsonld(json.loads(script.text_content() or "null")))
        except (json.JSONDecodeError, RecursionError):
            continue  # a broken JSON-LD block is common; the page's other sources still count
    links = tree.xpath('//link[@rel="canonical"]/@href')
    times = []
    for el in tree.xpath("//time[@datetime]"):
        marks = " ".join(
            filter(
                None,
                [
                    el.get("itemprop"),
                    el.get("class"),
                    "pubdate" if el.get("pubdate") is not None else None,
                    el.getparent().get("class") if el.getparent() is not None else None,
                ],
            )
        )
        times.append((el.get("datetime"), marks.lower()))
    return _PageMeta(metas, jsonld, links[0].strip() if links else None, times)


def _flatten_jsonld(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten_jsonld(item)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten_jsonld(data["@graph"])
        types = data.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
            yield data


def _jsonld_field(page: _PageMeta, key: str) -> Any:
    for obj in page.jsonld:
        if obj.get(key):
            return obj[key]
    return None


def _names(value: Any) -> list[str]:
    """Author names from JSON-LD (a string, an object with ``name``, or a list of either)."""
    if isinstance(value, str):
        return split_authors(value)
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


def _same_site(a: str, b: str) -> bool:
    def host(u: str) -> str:
        return (urlsplit(u).netloc or "").lower().removeprefix("www.")

    return bool(host(a)) and host(a) == host(b)


def _valid_date(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return value.strip() if parse_date(value) else None
    except InputError:
        return None


def _published(page: _PageMeta, markup: str, url: str | None) -> tuple[str | None, str | None]:
    """(date, where it came from): explicit markup first, then the URL, then htmldate's markup rules."""
    for key in _PUBLISHED_META:
        if value := _valid_date(page.metas.get(key)):
            return value, f"meta:{key}"
    if value := _valid_date(_jsonld_field(page, "datePublished")):
        return value, "json-ld:datePublished"
    marked = [t for t, marks in page.times if re.search(r"publish|pubdate|posted", marks)]
    unmarked = [t for t, marks in page.times if not re.search(r"modif|updat", marks)]
    for value in (*marked, *unmarked[:1]):
        if value := _valid_date(value):
            return value, "html:time"
    if url and (m := _URL_DATE.search(urlsplit(url).path)):
        return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", "url:path"
    from htmldate import find_date

    # extensive_search=False: markup rules only, no guessing from dates that appear in the text
    found = find_date(markup, url=url, extensive_search=False, original_date=True)
    return (found, "htmldate") if found else (None, None)


def _first(*candidates: tuple[Any, str]) -> tuple[Any, str | None]:
    for value, where in candidates:
        if value:
            return value, where
    return None, None


def _canonical(page: _PageMeta, url: str | None, found_by_trafilatura: str | None) -> tuple[str | None, str | None]:
    """(the article's address, where it came from): the page's canonical link when it is on the same site
    as ``url``; for a saved file (no ``url``) the page's own absolute canonical link, else trafilatura's."""
    candidates = ((page.canonical, "link:canonical"), (page.metas.get("og:url"), "meta:og:url"))
    if url is None:
        for candidate, where in (*candidates, (found_by_trafilatura, "trafilatura:url")):
            if candidate and is_url(candidate):
                return candidate.strip(), where
        return None, None
    for candidate, where in candidates:
        if candidate:
            absolute = str(httpx.URL(url).join(candidate))
            # A canonical link on another site is a syndication pointer, not this copy's address.
            if _same_site(absolute, url):
                return absolute, where
    return url, "http:final-url"


def extract_article(markup: str, url: str | None = None, origin: str | None = None) -> RawDocument:
    """The article in an HTML page fetched from ``url`` (None for a saved file): text, metadata, and where
    each field came from."""
    import trafilatura

    origin = origin or url or "page"
    doc = trafilatura.bare_extraction(
        markup,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        raise ArticleRejected(f"{origin}: no article text found in the page")
    page = _read_markup(markup)
    m = page.metas
    headline = _jsonld_field(page, "headline")
    title, title_from = _first(
        (headline if isinstance(headline, str) else None, "json-ld:headline"),
        (m.get("og:title"), "meta:og:title"),
        (m.get("twitter:title"), "meta:twitter:title"),
        (doc.title, "trafilatura:title"),
    )
    meta_author = m.get("author") or (m.get("article:author") if not is_url(m.get("article:author", "")) else None)
    authors, authors_from = _first(
        (_names(_jsonld_field(page, "author")), "json-ld:author"),
        (split_authors(meta_author) if meta_author else [], "meta:author"),
        (split_authors(doc.author) if doc.author else [], "trafilatura:author"),
    )
    canonical, url_from = _canonical(page, url, doc.url)
    publisher = _jsonld_field(page, "publisher")
    source, source_from = _first(
        (m.get("og:site_name"), "meta:og:site_name"),
        (publisher.get("name") if isinstance(publisher, dict) else None, "json-ld:publisher"),
        (m.get("application-name"), "meta:application-name"),
        (doc.sitename, "trafilatura:sitename"),
        (urlsplit(url or canonical or "").hostname, "url:host"),
    )
    published, published_from = _published(page, markup, url or canonical)
    provenance = {"text": "trafilatura"}
    for name, found in (
        ("url", url_from),
        ("title", title_from),
        ("authors", authors_from),
        ("source", source_from),
        ("published", published_from),
    ):
        if found:
            provenance[name] = found
    return RawDocument(
        text=doc.text or "",
        origin=origin,
        title=title,
        source=source,
        authors=list(authors or []),
        published=published,
        url=canonical,
        provenance=provenance,
    )
