"""rag.markup: article text cannot pose as citation markers or links; article URLs are http(s) only (probe M5, M6)."""

from __future__ import annotations

from datetime import UTC, datetime

from rag.markup import has_credentials, neutralise, web_url
from rag.types import Article, Citation, Passage

SPOOF = "Designed in Oslo [3][12]. Uses crumbs [1](https://evil.example) and [1, 2; 4]. See [docs] (fine)."


def test_neutralise_turns_markers_into_parentheses_and_breaks_markdown_links() -> None:
    assert neutralise(SPOOF) == (
        "Designed in Oslo (3)(12). Uses crumbs (1)(https://evil.example) and (1, 2; 4). See [docs] (fine)."
    )
    assert neutralise("[a link](https://evil.example)") == "[a link] (https://evil.example)"
    assert neutralise("no markers here") == "no markers here"


def test_web_url_keeps_http_and_drops_other_schemes_and_credentials() -> None:
    assert web_url("https://news.example/a?b=1#c") == "https://news.example/a?b=1#c"
    assert web_url(" HTTP://news.example/a ") == "http://news.example/a"
    assert web_url("https://user:pw@news.example:8443/a") == "https://news.example:8443/a"
    for bad in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//news.example/a", "http:x", ""):
        assert web_url(bad) is None, bad
    assert has_credentials("https://user:pw@news.example/") and not has_credentials("https://news.example/@x")


def passage(text: str, url: str | None = "https://news.example/a") -> Passage:
    return Passage(chunk_id="a:0", article_id="a", index=0, text=text, start=100, end=100 + len(text), url=url)


def test_citation_quotes_are_neutralised_and_offsets_stay_verbatim() -> None:
    p = passage(SPOOF)
    citation = Citation.quoting(p, 1, 100, 100 + len("Designed in Oslo [3][12]."))
    assert citation.quote == "Designed in Oslo (3)(12)."
    assert SPOOF[citation.start - 100 : citation.end - 100] == "Designed in Oslo [3][12]."  # article offsets


def test_models_drop_non_web_urls_from_files_and_feeds() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    article = Article(id="a", text="t", ingested_at=when, url="javascript:alert(document.cookie)")
    assert article.url is None
    assert passage("t", url="vbscript:msgbox").url is None
    assert Article(id="a", text="t", ingested_at=when, url="https://u:p@news.example/x").url == "https://news.example/x"
