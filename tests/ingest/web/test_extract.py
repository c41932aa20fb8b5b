"""One extraction for saved .html files and fetched pages (ingest.web.extract), without a server."""

from __future__ import annotations

from pathlib import Path

from ingest.readers import RawDocument, read_file
from ingest.web.extract import extract_article
from tests.fakes.site import BUDGET, jsonld_page, paragraphs


def test_a_saved_html_file_is_extracted_like_the_fetched_page(tmp_path: Path) -> None:
    path = tmp_path / "harbor.html"
    path.write_text(jsonld_page(), encoding="utf-8")
    [doc] = list(read_file(path, 1_000_000))
    assert isinstance(doc, RawDocument)
    assert doc == extract_article(jsonld_page(), origin=str(path))
    assert doc.title == "Council approves plan to turn old harbor into public market"
    assert doc.authors == ["Omar Haddad", "Lena Ortiz"]
    assert doc.source == "Harbor Times"  # the publisher, not the JSON-LD WebSite name
    assert doc.published == "2024-02-12T14:00:00Z"  # datePublished with its time, not dateModified
    assert doc.url is None
    assert doc.provenance == {
        "text": "trafilatura",
        "title": "json-ld:headline",
        "authors": "json-ld:author",
        "source": "json-ld:publisher",
        "published": "json-ld:datePublished",
    }


def test_a_saved_page_takes_its_address_and_url_date_from_its_own_canonical_link() -> None:
    markup = f"""<html><head><title>County budget committee approves spending plan</title>
<link rel="canonical" href="https://county.example/2023/11/20/budget-plan/"></head><body>
<div id="content"><h1>County budget committee approves spending plan</h1>{paragraphs(BUDGET)}</div></body></html>"""
    doc = extract_article(markup, url=None, origin="budget.html")
    assert doc.origin == "budget.html"
    assert doc.url == "https://county.example/2023/11/20/budget-plan/"
    assert doc.published == "2023-11-20"
    assert doc.source == "county.example"
    assert doc.provenance == {
        "text": "trafilatura",
        "url": "link:canonical",
        "title": "trafilatura:title",
        "source": "trafilatura:sitename",
        "published": "url:path",
    }
