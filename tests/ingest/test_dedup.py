from rag.text.ids import article_id, canonical_url, content_hash


def test_canonical_url_drops_tracking_fragment_and_case():
    a = canonical_url("HTTPS://Example.COM/news/story/?utm_source=x&id=3&fbclid=abc#comments")
    assert a == "https://example.com/news/story?id=3"
    assert canonical_url("https://example.com:443/a/") == "https://example.com/a"


def test_article_id_is_stable_and_url_based():
    assert article_id("https://example.com/a?utm_medium=rss", None, None, "x") == article_id(
        "https://EXAMPLE.com/a/", "S", "T", "y"
    )
    assert article_id(None, "S", "T", "text") == article_id(None, "S", "T", "text")
    assert article_id(None, "S", "T", "text") != article_id(None, "S", "T", "text2")
    assert content_hash("t", "a") != content_hash("t", "b")
