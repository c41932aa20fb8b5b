"""ChromaStore's crash clean-up and write lock: repair removes only what a dead writer left (issue 12, H1)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from rag.settings import Settings
from rag.store import ChromaStore, Committed
from rag.types import Article, Chunk

DIM = 8


def article(i: int) -> tuple[Article, list[Chunk], np.ndarray]:
    text = f"Article {i} says the harbour reopened. It cost {i} million."
    art = Article(id=f"a{i}", title=f"T{i}", text=text, ingested_at=datetime(2024, 1, 1, tzinfo=UTC))
    chunks = [Chunk(id=f"a{i}:0", article_id=art.id, index=0, text=text, start=0, end=len(text))]
    return art, chunks, np.ones((1, DIM), dtype=np.float32)


def orphan(store: ChromaStore, i: int) -> None:
    """What a writer killed between its chunks and its article record leaves: chunks with no record."""
    art, chunks, vectors = article(i)
    store.chunks.upsert(
        ids=[c.id for c in chunks],
        documents=[c.text for c in chunks],
        embeddings=vectors,  # type: ignore[arg-type]
        metadatas=[{"article_id": art.id, "index": 0, "start": 0, "end": c.end} for c in chunks],
    )


@pytest.fixture
def store(tmp_path: Path) -> ChromaStore:
    s = ChromaStore(Settings(data_dir=tmp_path / "data"))
    s.repair()  # a new store: the one scan of a store that predates writer sessions
    return s


def dead_writer(store: ChromaStore) -> Path:
    """A writer session file nobody holds: its process was killed."""
    path = store._sessions / "4242-dead.lock"
    path.write_text("")
    return path


def test_repair_leaves_orphans_alone_while_every_writer_is_alive(store: ChromaStore) -> None:
    with store.writer_session():
        orphan(store, 1)  # as if a live writer were between its chunks and its record
        assert store.repair() == 0
    assert store.counts() == {"articles": 0, "chunks": 1}


def test_repair_removes_a_dead_writers_orphans_and_forgets_the_writer(store: ChromaStore) -> None:
    store.write_article(*article(2))
    orphan(store, 3)
    session = dead_writer(store)
    assert store.repair() == 1
    assert store.counts() == {"articles": 1, "chunks": 1}
    assert not session.exists()
    assert store.repair() == 0


def test_repair_waits_for_a_writer_that_is_mid_article(store: ChromaStore) -> None:
    dead_writer(store)
    written, commit = threading.Event(), threading.Event()

    def writer() -> None:
        with store.write_lock():
            orphan(store, 4)  # chunks written, record not yet
            written.set()
            commit.wait(30)
            store.write_article(*article(4))

    removed: list[int] = []
    w = threading.Thread(target=writer)
    w.start()
    assert written.wait(30)
    r = threading.Thread(target=lambda: removed.append(store.repair()))
    r.start()
    r.join(0.5)
    assert r.is_alive()  # blocked on the write lock, not deleting the live writer's chunks
    commit.set()
    w.join(30)
    r.join(30)
    assert removed == [0]
    assert store.counts() == {"articles": 1, "chunks": 1}


def test_the_write_lock_excludes_another_process(store: ChromaStore, tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
        "except OSError:\n    print('held')\n"
    )
    lock_file = str(store._write_lock.path)
    with store.write_lock(), store.write_lock():  # reentrant in one thread
        held = subprocess.run([sys.executable, "-c", probe, lock_file], capture_output=True, text=True)
    free = subprocess.run([sys.executable, "-c", probe, lock_file], capture_output=True, text=True)
    assert (held.stdout.strip(), free.stdout.strip()) == ("held", "free")


def test_committed_says_whether_the_chunks_are_all_there(store: ChromaStore) -> None:
    store.write_article(*article(5))
    assert store.committed("a5") == Committed(content_hash="", complete=True)
    store.chunks.delete(ids=["a5:0"])
    state = store.committed("a5")
    assert state is not None and not state.complete
    assert store.committed_hash("a5") is None
    assert store.committed("nope") is None
