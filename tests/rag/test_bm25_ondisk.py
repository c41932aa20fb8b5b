"""Texts and metadata of a saved snapshot are read from disk per item, and read back exactly as written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.bm25.ondisk import Chained, Picked, load_column, save_column

TEXTS = ["Acme Motors recalls 120,000 sedans", "", "Zürich: naïve café — 東京 🚗", "last"]


def test_a_column_reads_back_every_item_by_index_slice_and_iteration(tmp_path: Path) -> None:
    save_column(tmp_path, "texts", (t.encode("utf-8") for t in TEXTS))
    column = load_column(tmp_path, "texts", bytes.decode)
    assert len(column) == 4 and list(column) == TEXTS
    assert [column[i] for i in range(-4, 4)] == TEXTS + TEXTS
    assert column[1:3] == TEXTS[1:3] and column[::-1] == TEXTS[::-1]
    with pytest.raises(IndexError):
        column[4]
    with pytest.raises(IndexError):
        column[-5]


def test_metadata_comes_back_as_fresh_dicts(tmp_path: Path) -> None:
    metas = [{"article_id": "a", "index": 0, "partial": False, "published_ts": -1}, {}]
    save_column(tmp_path, "metas", (json.dumps(m).encode() for m in metas))
    column = load_column(tmp_path, "metas", json.loads)
    column[0]["index"] = 7  # a caller's edit stays the caller's
    assert list(column) == metas


def test_an_empty_column_and_offsets_that_do_not_cover_the_bytes(tmp_path: Path) -> None:
    save_column(tmp_path, "empty", [])
    assert list(load_column(tmp_path, "empty", bytes.decode)) == []
    save_column(tmp_path, "texts", [b"abc"])
    np.save(tmp_path / "texts_offsets.npy", np.array([0, 5], dtype=np.int64))
    with pytest.raises(ValueError, match="offsets"):
        load_column(tmp_path, "texts", bytes.decode)


def test_chained_and_picked_rows_read_through() -> None:
    rows = Chained(["a", "b"], ["c"])
    assert len(rows) == 3 and list(rows) == ["a", "b", "c"] and rows[-1] == "c" and rows[1:] == ["b", "c"]
    picked = Picked(rows, [2, 0])
    assert list(picked) == ["c", "a"] and picked[-1] == "a" and picked[:1] == ["c"]
