"""The BM25 snapshot cache is data, never code, and a damaged one costs a rebuild, not the service (issue 12, M4).

Before: one flipped byte in the cache pickle made every search fail and `newsqa serve` exit at start-up until
someone deleted the file. Each case damages the cache of a real store, then a fresh engine (a restart) must
answer and leave a valid cache behind.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ingest.engine import Engine
from rag.bm25 import _FORMAT, load_snapshot, manifest_path
from rag.embedders import load_embedder
from rag.settings import Settings
from tests.ingest.test_concurrent_ingest import town


class RunsCode:
    """A pickle that would create a file when loaded: loading the cache must never run it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def new_engine(data_dir: Path) -> Engine:
    return Engine(Settings(data_dir=data_dir, embed_model="hash:384"), embedder=load_embedder("hash:384"))


@pytest.fixture(scope="module")
def cached_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("bm25cache") / "data"
    engine = new_engine(data_dir)
    engine.ingest_documents([town(i) for i in range(3)])
    engine.bm25.current()  # builds and saves the snapshot
    return data_dir


@pytest.fixture
def data_dir(cached_store: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(cached_store, copy)
    return copy


def snapshot_folder(data_dir: Path) -> Path:
    cache = data_dir / "cache"
    return cache / json.loads(manifest_path(cache, "newsqa").read_text())["folder"]


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE: dict[str, Callable[[Path], object]] = {
    "a flipped byte in the chunk texts": lambda d: flip_byte(snapshot_folder(d) / "texts.npy"),
    "a flipped byte in the chunk ids": lambda d: flip_byte(snapshot_folder(d) / "chunks.json"),
    "a flipped byte in the BM25 scores": lambda d: flip_byte(snapshot_folder(d) / "chunk_bm25/data.csc.index.npy"),
    "a truncated vector file": lambda d: truncate(snapshot_folder(d) / "vectors.npy"),
    "a truncated manifest": lambda d: truncate(manifest_path(d / "cache", "newsqa")),
    "a garbage pickle frame as manifest": lambda d: manifest_path(d / "cache", "newsqa").write_bytes(
        b"\x80\x05\x95" + b"\xff" * 200
    ),
    "a foreign file among the snapshot's": lambda d: (snapshot_folder(d) / "extra.npy").write_bytes(b"\x00" * 64),
    "an older format version": lambda d: manifest_path(d / "cache", "newsqa").write_text(
        json.dumps({**json.loads(manifest_path(d / "cache", "newsqa").read_text()), "format": _FORMAT - 1})
    ),
    "the snapshot folder missing": lambda d: __import__("shutil").rmtree(snapshot_folder(d)),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_cache_is_discarded_and_rebuilt_and_search_works(
    damage: str, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    DAMAGE[damage](data_dir)
    engine = new_engine(data_dir)
    with caplog.at_level(logging.WARNING, logger="rag.bm25"):
        engine.warm_up()  # what `newsqa serve` does at start-up
        hits = engine.search(town(1).text[:120], k=1)
    assert [p.title for p in hits] == ["Testville1"]
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"discarding the unreadable BM25 cache in {data_dir / 'cache'}"
    ]
    generation = engine.store.generation()
    rebuilt = load_snapshot(data_dir / "cache", "newsqa", generation)
    assert rebuilt is not None and len(rebuilt.ids) == len(engine.bm25.current().ids)


def test_a_pickle_in_place_of_the_cache_is_never_loaded(data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    manifest_path(data_dir / "cache", "newsqa").write_bytes(pickle.dumps(RunsCode(marker)))
    (data_dir / "cache" / "bm25-newsqa-v4.pkl").write_bytes(pickle.dumps(RunsCode(marker)))  # the old cache name
    engine = new_engine(data_dir)
    assert [p.title for p in engine.search(town(2).text[:120], k=1)] == ["Testville2"]
    assert not marker.exists()
    assert not (data_dir / "cache" / "bm25-newsqa-v4.pkl").exists()  # the rebuild removed the old pickle
    files = [p for p in (data_dir / "cache").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".npy", ".npz"}  # data only: JSON and numpy arrays


def test_an_intact_cache_is_loaded_without_a_rebuild(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = new_engine(data_dir)
    generation = engine.store.generation()
    saved = load_snapshot(data_dir / "cache", "newsqa", generation)
    assert saved is not None
    with caplog.at_level(logging.DEBUG, logger="rag.bm25"):
        snap = engine.bm25.current()
    assert snap.ids == saved.ids and snap.doc_freq == saved.doc_freq
    assert list(snap.texts) == list(saved.texts) and list(snap.metas) == list(saved.metas)
    assert snap.vectors is not None and snap.vectors.shape == (len(snap.ids), 384)
    assert isinstance(saved.vectors, np.memmap) and not saved.vectors.flags.writeable  # mapped, never written
    assert isinstance(saved.retriever.scores["data"], np.memmap)  # BM25 scores too
    assert caplog.records == []
    assert load_snapshot(data_dir / "cache", "newsqa", "another generation") is None  # stale: rebuild quietly
