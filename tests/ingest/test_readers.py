import json
from datetime import UTC, datetime

from ingest.pipeline import build_article
from ingest.readers import Failure, RawDocument, read_file
from rag.settings import Settings
from tests.conftest import FIXTURES


def _read(path, max_bytes=10_000_000):
    return list(read_file(path, max_bytes))


def test_realtimeqa_style_records(tmp_path):
    record = {
        "doc_id": "x",
        "url": "https://www.cnn.com/2022/06/12/media/a/index.html",
        "title": "None",
        "text": "New York CNN —\n\n" + "Squid Game is officially coming back for a second season, Netflix said. " * 3,
        "publish_date": "2022/06/12",
        "authors": "['Ramishah Maruf', 'Jane Roe']",
        "origin": "gold",
    }
    path = tmp_path / "corpus.json"
    path.write_text(json.dumps([record]))
    [doc] = _read(path)
    assert isinstance(doc, RawDocument)
    assert doc.title is None
    assert doc.authors == ["Ramishah Maruf", "Jane Roe"]
    article = build_article(doc, Settings(data_dir=tmp_path))
    assert article.published == datetime(2022, 6, 12, tzinfo=UTC)
    assert article.url == record["url"]


def test_jsonl_bad_line_is_reported_and_the_rest_read(tmp_path):
    path = tmp_path / "a.jsonl"
    good = {"title": "T", "body": "Body text " * 20}
    path.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({"title": "no text"}) + "\n")
    docs = _read(path)
    assert isinstance(docs[0], RawDocument)
    assert isinstance(docs[1], Failure) and docs[1].origin.endswith(":2") and "invalid JSON" in docs[1].reason
    assert isinstance(docs[2], Failure) and "no 'text' or 'body'" in docs[2].reason


def test_html_extracted_with_metadata(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Ignored</title>
      <meta property="og:title" content="Port strike ends after three days">
      <meta property="og:site_name" content="Harbor Times">
      <meta name="author" content="Sam Lee">
      <meta property="article:published_time" content="2024-04-02T09:00:00Z"></head>
      <body><nav>Home | World | Sign in</nav><article><h1>Port strike ends after three days</h1>
      <p>Dock workers returned to work on Tuesday after union leaders accepted a new contract that raises wages by
      twelve percent over four years.</p><p>The three-day strike had stranded hundreds of containers and delayed
      deliveries of fresh produce across the region, officials said.</p></article>
      <footer>Subscribe to our newsletter</footer></body></html>""")
    [doc] = _read(path)
    assert doc.title == "Port strike ends after three days"
    assert doc.source == "Harbor Times"
    assert doc.authors == ["Sam Lee"]
    assert str(doc.published).startswith("2024-04-02")
    assert "twelve percent" in doc.text and "Sign in" not in doc.text and "newsletter" not in doc.text


def test_latin1_file_is_decoded(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(
        "Le café de la gare a rouvert ses portes après des années de travaux, disent les habitants.".encode("latin-1")
    )
    [doc] = _read(path)
    assert "café" in doc.text


def test_binary_and_oversize_and_missing_files_fail_with_reasons(tmp_path):
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    [f1] = _read(binary)
    [f2] = _read(big, max_bytes=1000)
    assert isinstance(f1, Failure) and "binary" in f1.reason
    assert isinstance(f2, Failure) and f2.reason.startswith("too large")


def test_sample_fixture_reads_as_clean_article():
    [doc] = _read(FIXTURES / "aggregator_page.txt")
    assert doc.source == "The Coastal Ledger" and doc.published == "March 3, 2025"
