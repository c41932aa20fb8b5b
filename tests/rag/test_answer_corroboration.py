"""Corroboration: a sentence other articles also report rises in the hand-weighted ranking."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ingest.engine import Engine
from rag.answer.corroboration import CORROBORATION_WEIGHT, SAME_TEXT, corroborated, corroboration
from rag.answer.extractive import Candidate
from rag.answer.sentence_index import ArticleSentences
from tests.builders import passage


class TableEmbedder:
    """Unit vectors from a fixed table (texts not in it embed to zero)."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in table.items()}

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table.get(t, np.zeros(3, dtype=np.float32)) for t in texts])


def _sentences(aid: str, texts: list[str], embedder: TableEmbedder) -> ArticleSentences:
    n = len(texts)
    return ArticleSentences(aid, "h", np.arange(n), np.arange(n) + 1, texts, embedder.embed(texts))


def _cand(aid: str, text: str, score: float) -> Candidate:
    c = Candidate(passage=passage(text, article=aid), rank=0, start=0, end=len(text), text=text)
    c.score = score
    return c


def test_the_sentence_another_article_reports_overtakes_one_only_its_own_article_has() -> None:
    embedder = TableEmbedder(
        {
            "aside": [1, 0, 0],
            "news": [0, 1, 0],
            "news retold": [0, 1, 0.5],  # cosine 0.89 with "news": another outlet's words
            "other topic": [0, 0, 1],
            "news copied": [0, 1, 0],  # the same sentence syndicated: not a second report
        }
    )
    articles = {
        "a": _sentences("a", ["aside", "news"], embedder),
        "b": _sentences("b", ["news retold", "other topic"], embedder),
    }
    ranked = [_cand("a", "aside", 0.50), _cand("a", "news", 0.45), _cand("b", "other topic", 0.30)]
    support = corroboration(ranked, articles.get, embedder)
    assert support == pytest.approx([0.0, 1 / np.sqrt(1.25), 0.0], abs=1e-6)
    out = corroborated(ranked, articles.get, embedder)
    assert [c.text for c in out] == ["news", "aside", "other topic"]
    assert out[0].score == pytest.approx(0.45 + CORROBORATION_WEIGHT * support[1])

    # A copy of the same sentence in another article does not count as another report.
    copies = {"a": articles["a"], "b": _sentences("b", ["news copied"], embedder)}
    again = [_cand("a", "aside", 0.50), _cand("a", "news", 0.45), _cand("b", "news copied", 0.1)]
    assert embedder.embed(["news"])[0] @ embedder.embed(["news copied"])[0] >= SAME_TEXT
    assert corroboration(again, copies.get, embedder)[1] == 0.0


def test_no_other_article_or_no_sentence_index_leaves_the_order() -> None:
    embedder = TableEmbedder({"x": [1, 0, 0], "y": [0, 1, 0]})
    ranked = [_cand("a", "x", 0.5), _cand("a", "y", 0.4)]
    assert [c.text for c in corroborated(ranked, lambda aid: None, embedder)] == ["x", "y"]
    assert corroboration([], lambda aid: None, embedder) == []


def test_corroboration_over_a_real_store_raises_the_sentence_two_outlets_report(engine: Engine, tmp_path) -> None:
    articles = [
        {
            "title": "Harbour board picks dredging contractor",
            "source": "Port Gazette",
            "published": "2024/05/06",
            "url": "https://example.com/port-gazette",
            "text": "The harbour board met on Monday to decide the dredging contract after a two-month tender. "
            "Nordvik Marine won the contract and will start dredging the harbour in June. "
            "Board members praised the quality of all five bids.",
        },
        {
            "title": "Dredging to start in June",
            "source": "Coastal Times",
            "published": "2024/05/07",
            "url": "https://example.com/coastal-times",
            "text": "Nordvik Marine was awarded the harbour dredging job and begins work in June. "
            "Fishermen have complained about silt in the channel for years.",
        },
    ]
    path = tmp_path / "harbour.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    engine.ingest_paths([path])
    question = "Which company won the harbour dredging contract?"
    answerer = engine.answerer
    passages = engine.search(question)
    ranked = answerer.score(question, passages)
    support = dict(
        zip(
            (c.text for c in ranked),
            corroboration(ranked, answerer.sentences_of, answerer.sentence_embedder),
            strict=False,
        )
    )
    won = "Nordvik Marine won the contract and will start dredging the harbour in June."
    unreported = "Board members praised the quality of all five bids."
    assert support[won] > support[unreported]  # the other outlet reports who won, not the praise
    before = {c.text: c.score for c in ranked}
    after = {c.text: c.score for c in corroborated(ranked, answerer.sentences_of, answerer.sentence_embedder)}
    assert after[won] - before[won] == pytest.approx(CORROBORATION_WEIGHT * support[won])
    answer = engine.ask(question)
    assert not answer.abstained and "Nordvik Marine" in answer.citations[0].quote
