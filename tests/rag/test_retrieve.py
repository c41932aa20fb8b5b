"""Hybrid retrieval over a real store, on BOTH dense paths: exact search over cached vectors in memory (the
default, stores up to ``memory_dense_max_chunks``) and Chroma's own vector search (larger stores; forced
here with ``memory_dense_max_chunks=0``). Same corpus, same expectations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.engine import Engine
from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Filters
from tests.conftest import FIXTURES

DENSE_PATHS = {"in-memory": {}, "chroma": {"memory_dense_max_chunks": 0}}
QUERY = "Acme Motors recall vehicles"


def _settings(data_dir: Path, dense_path: str) -> Settings:
    return Settings(data_dir=data_dir, **DENSE_PATHS[dense_path])


@pytest.fixture(params=list(DENSE_PATHS))
def dense_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mini_engine(tmp_path: Path, embedder: Embedder, dense_path: str) -> Engine:
    """An engine over the three-article mini corpus, searching on ``dense_path``."""
    engine = Engine(_settings(tmp_path / "data", dense_path), embedder=embedder)
    report = engine.ingest_paths([FIXTURES / "mini_corpus.jsonl"])
    assert (report.ingested, report.failed) == (3, [])
    return engine


def test_the_dense_path_is_the_one_asked_for(mini_engine: Engine, dense_path: str):
    hits = mini_engine.search(QUERY, k=3)
    assert hits and all(h.dense is not None for h in hits[:2])
    cached_vectors = mini_engine.bm25.current().vectors
    assert (cached_vectors is None) == (dense_path == "chroma")


def test_filters_by_date_and_source(mini_engine: Engine):
    early = mini_engine.search(QUERY, filters=Filters(until=datetime(2024, 2, 1, tzinfo=UTC)), group_by_article=True)
    assert {p.title for p in early} == {"Acme Motors recalls 120,000 sedans over faulty brake sensors"}
    late = mini_engine.search(QUERY, filters=Filters(since=datetime(2024, 6, 1, tzinfo=UTC)), group_by_article=True)
    assert {p.source for p in late} == {"AP"}
    reuters = mini_engine.search(QUERY, filters=Filters(sources=["reuters"]), group_by_article=True)
    assert {p.source for p in reuters} == {"Reuters"} and len(reuters) == 2
    as_of = mini_engine.search(QUERY, filters=Filters(as_of=datetime(2024, 3, 10, tzinfo=UTC)), group_by_article=True)
    assert all(p.published <= datetime(2024, 3, 10, tzinfo=UTC) for p in as_of)


def test_dense_hits_respect_the_filters(mini_engine: Engine):
    cutoff = datetime(2024, 2, 1, tzinfo=UTC)
    early = mini_engine.search(QUERY, k=10, filters=Filters(until=cutoff))
    assert early and all(p.published <= cutoff for p in early)
    assert any(p.dense is not None for p in early)
    ap = mini_engine.search(QUERY, k=10, filters=Filters(sources=["AP"]))
    assert ap and {p.source for p in ap} == {"AP"} and any(p.dense is not None for p in ap)
    nothing = mini_engine.search(QUERY, filters=Filters(sources=["No Such Outlet"]))
    assert nothing == []


def test_both_dense_paths_give_the_same_dense_scores(tmp_path: Path, embedder: Embedder):
    results = {}
    for path in DENSE_PATHS:
        engine = Engine(_settings(tmp_path / path, path), embedder=embedder)
        engine.ingest_paths([FIXTURES / "mini_corpus.jsonl"])
        hits = engine.retriever.search(QUERY, k=10, signals=("dense",))
        results[path] = {h.chunk_id: h.dense for h in hits}
    memory, chroma = results["in-memory"], results["chroma"]
    assert memory.keys() == chroma.keys() and memory
    for chunk_id, score in memory.items():
        assert chroma[chunk_id] == pytest.approx(score, abs=1e-4)


def test_another_engines_ingest_is_found_on_the_same_store(tmp_path: Path, embedder: Embedder, dense_path: str):
    settings = _settings(tmp_path / "data", dense_path)
    engine = Engine(settings, embedder=embedder)
    assert engine.search("ferry terminal Harbor City") == []
    other = Engine(settings, embedder=embedder)
    other.ingest_paths([FIXTURES / "aggregator_page.txt"])
    hits = engine.search("ferry terminal Harbor City")
    assert hits and hits[0].title.startswith("Harbor City approves")
    assert hits[0].dense is not None and hits[0].bm25 is not None  # both indexes caught up


def test_recency_prior_reorders_only_near_ties_in_an_old_archive(tmp_path: Path, embedder: Embedder):
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    engine.ingest_paths([FIXTURES / "mini_corpus.jsonl"])
    query = "Northwind Airlines orders jets Skyward Aerospace"
    now = engine.search(query, k=3, group_by_article=True)
    assert now[0].title.startswith("Northwind Airlines orders 40 new jets")  # years old, still ranked by relevance
    flat_settings = engine.settings.model_copy(update={"recency_weight": 0.0})
    flat = Engine(flat_settings, embedder=embedder).search(query, k=3, group_by_article=True)
    assert [p.article_id for p in flat] == [p.article_id for p in now]
