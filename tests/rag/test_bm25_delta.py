"""The delta over a base snapshot (rag.bm25.delta): scored with the base's statistics, replacing rewritten
articles, tombstoning deletions. Pure: no store, no model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rag.bm25 import View, build_snapshot
from rag.bm25.delta import delta_chunks

TEXTS = {
    "a": ["Acme Motors recalls sedans over brake sensors.", "The recall covers 120,000 cars built in 2023."],
    "b": ["Northwind Airlines orders forty jets from Skyward.", "Deliveries start next year in Seattle."],
    "c": ["City council approves the new tram line.", "Construction of the tram begins in the spring."],
}


def meta(article: str, index: int, text: str, written_ns: int = 0, start: int = 0) -> dict[str, Any]:
    return {
        "article_id": article,
        "title": f"Title {article}",
        "source": "Wire",
        "index": index,
        "start": start,
        "end": start + len(text),
        "published_ts": 1_700_000_000,
        "written_ns": written_ns,
    }


def rows(article: str, texts: list[str], written_ns: int = 0) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    ids, metas, start = [], [], 0
    for i, text in enumerate(texts):
        ids.append(f"{article}:{i}")
        metas.append(meta(article, i, text, written_ns, start))
        start += len(text) + 1
    return ids, list(texts), metas


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def view() -> View:
    ids, texts, metas = [], [], []
    for article, body in TEXTS.items():
        i, t, m = rows(article, body, written_ns=100)
        ids += i
        texts += t
        metas += m
    vectors = np.stack([vec(n) for n in range(len(ids))])
    return View("g0", build_snapshot("g0", ids, texts, metas, vectors))


def written(article: str, texts: list[str], written_ns: int, seed: int = 50) -> list:
    ids, t, m = rows(article, texts, written_ns)
    return delta_chunks(ids, t, m, np.stack([vec(seed + n) for n in range(len(ids))]))


def test_a_delta_chunk_scores_exactly_as_the_same_text_in_the_base(view: View) -> None:
    new = view.changed("g1", written("d", [TEXTS["a"][0]], written_ns=200))
    scores = new.chunk_scores("brake sensors recall")
    row = new.locate("d:0")
    assert row == 6 and new.locate("a:0") == 0
    assert scores[row] == pytest.approx(scores[0], rel=1e-5) and scores[row] > 0  # same title token counts too


def test_a_term_the_base_never_saw_finds_only_the_new_chunk(view: View) -> None:
    new = view.changed("g1", written("d", ["Zyxcorp buys the tram operator."], written_ns=200))
    scores = new.chunk_scores("Zyxcorp")
    assert [new.row_ids[i] for i in np.flatnonzero(scores)] == ["d:0"]
    assert [j for j in np.flatnonzero(new.article_scores("Zyxcorp"))] == [3]  # the new whole article


def test_a_rewritten_article_replaces_all_its_base_chunks(view: View) -> None:
    new = view.changed("g1", written("a", ["Acme Motors cancels the recall."], written_ns=200))
    assert new.ids == ["b:0", "b:1", "c:0", "c:1", "a:0"]
    assert new.locate("a:1") is None  # the old second chunk is gone with the rewrite
    assert new.texts[-1] == "Acme Motors cancels the recall."
    scores = new.chunk_scores("brake sensors")
    assert float(scores.max()) == 0.0  # the old text no longer matches
    assert new.article_alive.tolist() == [False, True, True, True]


def test_deleted_chunks_are_tombstones_in_every_score(view: View) -> None:
    new = view.changed("g1", [], gone=["b:0", "b:1"])
    assert new.ids == ["a:0", "a:1", "c:0", "c:1"]
    assert new.locate("b:0") is None and view.locate("b:0") == 2  # the old view is untouched
    assert float(new.chunk_scores("Northwind jets Seattle").max()) == 0.0
    assert float(new.article_scores("Northwind jets Seattle").max()) == 0.0
    assert new.articles_any(new.alive).tolist() == [True, False, True]
    assert new.watermark == 100 and new.dead == frozenset({"b:0", "b:1"})


def test_a_delta_article_deleted_again_leaves_the_delta(view: View) -> None:
    added = view.changed("g1", written("d", ["Zyxcorp buys the tram operator."], written_ns=200))
    assert added.watermark == 200
    gone = added.changed("g2", [], gone=["d:0"])
    assert gone.delta == {} and gone.dead == frozenset() and gone.size == 6
    assert float(gone.chunk_scores("Zyxcorp").max()) == 0.0


def test_a_reader_between_a_rewrite_and_its_clean_up_keeps_only_the_newest_write(view: View) -> None:
    newest = written("a", ["Acme Motors cancels the recall."], written_ns=300)
    stale = written("a", ["x", "Leftover second chunk of the old version."], written_ns=100)[1:]
    new = view.changed("g1", [*newest, *stale])
    assert list(new.delta) == ["a:0"] and new.ids[-1] == "a:0"


def test_dense_scores_cover_base_and_delta_rows(view: View) -> None:
    new = view.changed("g1", written("d", ["Zyxcorp buys the tram operator."], written_ns=200, seed=99))
    sims = new.dense_scores(vec(99))
    assert sims is not None and sims.shape == (7,)
    assert int(np.argmax(sims)) == 6 and sims[6] == pytest.approx(1.0, abs=1e-6)


def test_tokens_of_an_unchanged_chunk_are_reused(view: View) -> None:
    first = view.changed("g1", written("d", ["Zyxcorp buys the tram operator."], written_ns=200))
    ids, texts, metas = rows("d", ["Zyxcorp buys the tram operator."], written_ns=200)
    again = delta_chunks(ids, texts, metas, None, known=first.delta)
    assert again[0].tokens is first.delta["d:0"].tokens
    changed = delta_chunks(ids, ["Zyxcorp sells the tram operator."], metas, None, known=first.delta)
    assert changed[0].tokens is not first.delta["d:0"].tokens and "sell" in changed[0].tokens


def test_a_delta_chunk_read_without_its_vector_has_no_dense_score_until_it_is_read(view: View) -> None:
    ids, texts, metas = rows("d", ["Zyxcorp buys the tram operator."], written_ns=200)
    new = view.changed("g1", delta_chunks(ids, texts, metas, None))
    sims = new.dense_scores(vec(99))
    assert sims is not None and sims.shape == (7,) and sims[6] == -np.inf and np.isfinite(sims[:6]).all()
    assert new.missing_vectors == ["d:0"] and float(new.chunk_scores("Zyxcorp")[6]) > 0  # lexically found now
    filled = new.changed("g1", written("d", texts, written_ns=200, seed=99))
    assert filled.missing_vectors == [] and filled.dense_scores(vec(99))[6] == pytest.approx(1.0, abs=1e-6)
