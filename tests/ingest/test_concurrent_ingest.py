"""Concurrent ingests into one store lose nothing and store each text once (issue 12 item 1, probe H1).

Threads share one engine, as the HTTP server, the feed poller and `POST /v1/articles` do. Each thread runs its
own ingest (one repair, one run), so a repair that deleted another run's uncommitted chunks shows up as an
article committed without its chunks. The deterministic ``hash:384`` embedder keeps this cheap.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.engine import Engine
from ingest.pipeline import IngestReport
from ingest.readers import RawDocument
from rag.embedders import load_embedder
from rag.settings import Settings
from tests.fakes.site import TURBINE

THREADS = 8
DAY = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


WORDS = (
    "bridge river council harbour ferry school budget library museum tram station market festival park tower "
    "canal airport stadium hospital factory vineyard orchard tunnel reservoir lighthouse quarry mill dock"
).split()


def town(i: int) -> RawDocument:
    """A distinct article per ``i``: no two share a 5-word shingle, so none is a near-copy of another."""
    rng = random.Random(i)
    body = " ".join(
        f"Testville{i} {rng.choice(WORDS)} {rng.choice(WORDS)} plan {j} approved by {rng.choice(WORDS)} "
        f"panel of Quillon{i} {rng.randrange(10**6)}."
        for j in range(12)
    )
    return RawDocument(text=body, origin=f"t{i}", title=f"Testville{i}", url=f"https://race.example/{i}")


def wire(i: int) -> RawDocument:
    """The same wire story as run by outlet ``i``: its own dateline and trailer."""
    text = "\n\n".join([f"OUTLET{i} — {TURBINE[0]}", *TURBINE[1:], f"Reporting by desk {i}."])
    return RawDocument(
        text=text,
        origin=f"w{i}",
        title=f"Wind farm ({i})",
        source=f"Outlet {i}",
        url=f"https://outlet{i}.example/wind",
        published=DAY + timedelta(hours=i),
    )


@pytest.fixture
def hash_engine(tmp_path: Path) -> Engine:
    return Engine(Settings(data_dir=tmp_path / "data", embed_model="hash:384"), embedder=load_embedder("hash:384"))


def ingest_at_once(engine: Engine, docs: list[RawDocument]) -> list[IngestReport]:
    """One ingest run per document, THREADS of them at a time."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda d: engine.ingest_documents([d]), docs))


def assert_consistent(engine: Engine) -> None:
    """Every record's chunk count is real, no chunk lacks its record, no text is stored twice."""
    articles = engine.store.list_articles()
    _, _, metas, _ = engine.store.all_chunks()
    per_article = Counter(m["article_id"] for m in metas)
    assert {a.id: n for a, n in articles if n} == dict(per_article)
    assert all(per_article[a.id] == n for a, n in articles)
    assert engine.store.counts()["chunks"] == sum(n for _, n in articles)  # no orphans
    indexed = Counter(engine.store.get_article(a.id).text for a, n in articles if n)
    assert set(indexed.values()) == {1}
    ids = {a.id for a, n in articles if n}
    assert all(a.story_id in ids for a, n in articles if not n)  # a chunkless record is a copy of a story


def test_threads_ingesting_different_articles_keep_every_chunk_and_each_is_found(hash_engine: Engine) -> None:
    docs = [town(i) for i in range(24)]
    reports = ingest_at_once(hash_engine, docs)
    assert sum(r.ingested for r in reports) == 24
    assert_consistent(hash_engine)
    assert len(hash_engine.store.list_articles()) == 24
    for i, doc in enumerate(docs):
        top = hash_engine.search(doc.text[:120], k=1)
        assert [p.title for p in top] == [f"Testville{i}"]
    again = ingest_at_once(hash_engine, docs)
    assert sum(r.skipped for r in again) == 24


def test_threads_ingesting_one_text_store_it_once(hash_engine: Engine) -> None:
    same_id = [town(0)] * 6
    other_ids = [replace(town(1), url=f"https://mirror{k}.example/x") for k in range(6)]
    reports = ingest_at_once(hash_engine, same_id + other_ids)
    assert sum(r.ingested for r in reports) == 2
    assert sum(r.skipped for r in reports) == 5  # the same article again
    assert sum(r.grouped for r in reports) == 5  # the same text elsewhere: a copy on the story
    articles = hash_engine.store.list_articles()
    assert len(articles) == 7 and len([a for a, n in articles if n]) == 2
    assert_consistent(hash_engine)


def test_threads_ingesting_copies_of_one_wire_story_make_one_story(hash_engine: Engine) -> None:
    reports = ingest_at_once(hash_engine, [wire(i) for i in range(8)])
    assert sum(r.ingested for r in reports) == 1
    assert sum(r.grouped for r in reports) == 7
    articles = hash_engine.store.list_articles()
    indexed = [a for a, n in articles if n]
    assert len(articles) == 8 and len(indexed) == 1
    story = indexed[0]
    assert {a.story_id for a, n in articles if not n} == {story.id}
    assert len(hash_engine.store.get_article(story.id).also_in) == 7
    assert_consistent(hash_engine)


def test_a_record_that_lost_its_chunks_is_indexed_again_not_called_a_duplicate(hash_engine: Engine) -> None:
    doc = town(3)
    hash_engine.ingest_documents([doc])
    (article, n_chunks), *_ = hash_engine.store.list_articles()
    hash_engine.store.chunks.delete(where={"article_id": article.id})  # what the old repair race left behind
    report = hash_engine.ingest_documents([doc])
    assert (report.updated, report.skipped, report.chunks) == (1, 0, n_chunks)
    assert_consistent(hash_engine)
    assert [p.article_id for p in hash_engine.search(doc.text[:120], k=1)] == [article.id]
