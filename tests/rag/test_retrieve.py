"""Hybrid retrieval over a real store, on BOTH dense paths: exact search over cached vectors in memory (the
default, stores up to ``memory_dense_max_chunks``) and Chroma's own vector search (larger stores; forced
here with ``memory_dense_max_chunks=0``). Same corpus, same expectations."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.engine import Engine
from rag.embedders import Embedder
from rag.settings import Settings
from rag.store import build_where
from rag.types import Filters, Passage
from tests.conftest import FIXTURES
from tests.fakes.hash_embedder import hash_embedder

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


# ---- Chroma's dense path filters in the process (rag.retrieve.Retriever._chroma_dense) --------------------------
# Chroma's filtered vector query is slow on a large store, so above ``memory_dense_max_chunks`` the retriever asks
# it unfiltered for ``dense_overfetch`` x ``candidates`` and filters by the view's columns, and asks it filtered
# only when too few pass. A small store with small numbers (5 candidates, 2x over-fetch) takes both branches.

OUTLETS = ("Reuters", "AP", "BBC")
DAYS = 30  # one article a day in January 2024, outlets in turn
OVERFETCH = {"memory_dense_max_chunks": 0, "candidates": 5, "dense_overfetch": 2}
WORD_QUERY = "harbour ferry terminal council vote"


def _dated_corpus(path: Path) -> Path:
    """``DAYS`` articles of distinct random words (no near-duplicates), each mentioning the query's words."""
    rng = random.Random(15)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pe", "dra", "gu", "zen"]
    vocabulary = ["".join(rng.choices(syllables, k=3)) for _ in range(400)]
    records = []
    for day in range(DAYS):
        sentences = [" ".join(rng.choices(vocabulary, k=12)).capitalize() + "." for _ in range(30)]
        sentences[day % 30] = f"The {WORD_QUERY} was reported on day {day}."
        records.append(
            {
                "title": f"Report {day}",
                "url": f"https://example.com/r/{day}",
                "source": OUTLETS[day % len(OUTLETS)],
                "published": f"2024/01/{day + 1:02d}",
                "text": " ".join(sentences),
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def _dated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("dated") / "data"
    engine = Engine(Settings(data_dir=data_dir, **OVERFETCH), embedder=hash_embedder())
    report = engine.ingest_paths([_dated_corpus(data_dir.parent / "dated.jsonl")])
    assert (report.ingested, report.failed) == (DAYS, [])
    return data_dir


@pytest.fixture
def dated_engine(_dated_dir: Path, tmp_path: Path) -> tuple[Engine, list[dict[str, Any] | None]]:
    """An engine on the Chroma dense path over the dated corpus (a private copy), and the ``where`` of every
    dense query it sends to Chroma (None: unfiltered)."""
    data_dir = tmp_path / "data"
    shutil.copytree(_dated_dir, data_dir)
    engine = Engine(Settings(data_dir=data_dir, **OVERFETCH), embedder=hash_embedder())
    wheres: list[dict[str, Any] | None] = []
    send = engine.store.dense_search

    def spy(vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        wheres.append(where)
        return send(vector, n, where)

    engine.store.dense_search = spy  # type: ignore[method-assign]
    return engine, wheres


def _day(d: int) -> datetime:
    return datetime(2024, 1, d, tzinfo=UTC)


FILTERS = {
    "as-of": Filters(as_of=_day(20)),
    "since": Filters(since=_day(10)),
    "until": Filters(until=_day(12)),
    "since-until": Filters(since=_day(5), until=_day(25)),
    "sources": Filters(sources=["AP", "bbc"]),
    "all": Filters(as_of=_day(28), since=_day(3), sources=["Reuters"]),
}


def _within(p: Passage, f: Filters) -> bool:
    until = min(x for x in (f.as_of, f.until) if x) if f.as_of or f.until else None
    dated_ok = (until is None or p.published <= until) and (f.since is None or p.published >= f.since)
    return dated_ok and (not f.sources or p.source.lower() in {s.lower() for s in f.sources})


def _chroma_filtered(engine: Engine, query: str, f: Filters) -> dict[str, float]:
    """What the dense side returned before: Chroma's filtered query for the top ``candidates``."""
    until = min(x for x in (f.as_of, f.until) if x) if f.as_of or f.until else datetime.now(UTC)
    where = build_where(since=f.since, until=until, sources=f.sources)
    vector = engine.embedder.embed([query])[0]
    return dict(engine.store.dense_search(vector, engine.settings.candidates, where))


@pytest.mark.parametrize("name", list(FILTERS))
def test_overfetched_dense_hits_never_leave_the_filters(dated_engine: tuple[Engine, list[Any]], name: str):
    engine, wheres = dated_engine
    f = FILTERS[name]
    dense = engine.retriever.search(WORD_QUERY, k=50, filters=f, signals=("dense",))
    hybrid = engine.search(WORD_QUERY, k=50, filters=f)
    assert dense and hybrid and wheres
    assert [p.chunk_id for p in dense + hybrid if not _within(p, f)] == []


@pytest.mark.parametrize("name", ["none", "since", "sources"])
def test_overfetch_returns_the_filtered_querys_top_candidates(dated_engine: tuple[Engine, list[Any]], name: str):
    engine, wheres = dated_engine
    f = FILTERS.get(name, Filters())
    got = engine.retriever.search(WORD_QUERY, k=50, filters=f, signals=("dense",))
    assert wheres == [None]  # one unfiltered query sufficed
    assert {p.chunk_id: p.dense for p in got} == pytest.approx(_chroma_filtered(engine, WORD_QUERY, f))
    assert len(got) == engine.settings.candidates


def test_too_few_passing_hits_fall_back_to_chromas_filter(dated_engine: tuple[Engine, list[Any]]):
    engine, wheres = dated_engine
    f = Filters(as_of=_day(3))  # before 27 of the 30 articles: the nearest 10 chunks hold fewer than 5 passing
    got = engine.retriever.search(WORD_QUERY, k=50, filters=f, signals=("dense",))
    assert wheres[0] is None and wheres[1] is not None and len(wheres) == 2  # over-fetched, then filtered
    assert got and all(_within(p, f) for p in got)
    assert {p.chunk_id: p.dense for p in got} == pytest.approx(_chroma_filtered(engine, WORD_QUERY, f))


def test_a_filter_nothing_passes_asks_chroma_nothing(dated_engine: tuple[Engine, list[Any]]):
    engine, wheres = dated_engine
    assert engine.retriever.search(WORD_QUERY, filters=Filters(as_of=_day(1) - timedelta(days=1))) == []
    assert wheres == []
