"""Ingestion through the engine: real files into a real Chroma in a temp dir (cleaning, re-ingest, deletes,
bad input). Retrieval itself is tested in tests/rag/test_retrieve.py."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.engine import Engine
from rag.embedders import Embedder
from rag.errors import NotFound
from rag.settings import Settings
from tests.builders import FLAGSHIP
from tests.conftest import FIXTURES, SEED


def test_seed_article_is_cleaned_and_found(seeded_engine: Engine):
    [(article, n_chunks)] = seeded_engine.store.list_articles()
    full = seeded_engine.store.get_article(article.id)
    assert full.title.startswith("Elon Musk's xAI reportedly shifts $6 billion")
    assert full.authors == ["Anton Shilov"]
    assert full.text.startswith("xAI, Elon Musk’s AI startup") and "Sign up to read" not in full.text
    assert n_chunks >= 2
    hits = seeded_engine.search(FLAGSHIP, k=3)
    assert hits and hits[0].article_id == article.id
    for hit in hits:
        assert full.text[hit.start : hit.end] == hit.text
        assert hit.dense is not None or hit.bm25 is not None


def test_reingest_skips_update_replaces_delete_removes(engine: Engine, tmp_path):
    corpus = tmp_path / "c.jsonl"
    shutil.copy(FIXTURES / "mini_corpus.jsonl", corpus)
    first = engine.ingest_paths([corpus])
    again = engine.ingest_paths([corpus])
    assert (again.ingested, again.updated, again.skipped) == (0, 0, 3)

    lines = corpus.read_text().splitlines()
    record = json.loads(lines[2])
    record["text"] = (
        "Northwind Airlines cancelled its order for jets from Skyward Aerospace on Friday, citing delays. "
        "The airline will lease used aircraft instead while it reviews its fleet plans for the decade."
    )
    corpus.write_text("\n".join([*lines[:2], json.dumps(record)]) + "\n")
    updated = engine.ingest_paths([corpus])
    assert (updated.updated, updated.skipped) == (1, 2)
    northwind_id = updated.article_ids[0]
    chunks = engine.store.chunks.get(where={"article_id": northwind_id}, include=["documents"])
    assert chunks["documents"] and all("cancelled" in d or "lease" in d for d in chunks["documents"])
    hits = engine.search("Northwind 40 narrow-body jets 4.8 billion", k=10)
    assert not any("4.8 billion" in h.text for h in hits)  # old chunks gone from both indexes

    engine.store.delete_article(northwind_id)
    assert all(h.article_id != northwind_id for h in engine.search("Northwind Airlines jets", k=10))
    assert engine.bm25.current().ids and northwind_id not in {m["article_id"] for m in engine.bm25.current().metas}
    with pytest.raises(NotFound):
        engine.store.delete_article(northwind_id)
    assert len(first.article_ids) == 3


def test_bad_articles_are_reported_and_the_batch_goes_on(settings: Settings, embedder: Embedder, tmp_path):
    # a 10,000-character limit, so "too large" needs 11 kB rather than 2 MB of text to clean (13 s -> under 3 s)
    engine = Engine(settings.model_copy(update={"max_article_chars": 10_000}), embedder=embedder)
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(SEED, batch / "seed.txt")
    (batch / "empty.txt").write_text("")
    (batch / "binary.md").write_bytes(b"\x00\xff" * 500)
    (batch / "broken.json").write_text('{"title": "x", "text": ')
    (batch / "huge.txt").write_text("Lorem ipsum dolor sit amet. " * 400)
    report = engine.ingest_paths([batch])
    assert report.ingested == 1
    reasons = {f.origin.rsplit("/", 1)[-1]: f.reason for f in report.failed}
    assert reasons["empty.txt"].startswith("empty after cleaning")
    assert "binary" in reasons["binary.md"]
    assert "invalid JSON" in reasons["broken.json"]
    assert reasons["huge.txt"].startswith("too large")
