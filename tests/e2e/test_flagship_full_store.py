"""The flagship question on the realistic store (the bundled sample + the whole RealTime QA corpus, 949
articles): the answer names Dell, Wistron and Inventec, each inside a cited verbatim quote.

The store is ``NEWSQA_FULL_STORE`` (e.g. the benchmarks' store); without it the test is skipped, since
building it takes 20-75 minutes on 2 cores. Every scorer answers it because an "if" clause's terms count in
the passage, not the sentence (before the learned scorer's features had that rule, the rare "Supermicro"/"xAI"
terms favoured "xAI ... shifted ... to Dell").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.engine import Engine
from rag.settings import Settings
from tests.conftest import SAMPLES, SHARED_DATA

pytestmark = pytest.mark.slow
CORPUS = SHARED_DATA / "realtimeqa" / "corpus.json"


@pytest.fixture(
    scope="module",
    params=["hybrid", "hand", "learned"],
)
def full_engine(request: pytest.FixtureRequest, embedder) -> Engine:  # type: ignore[no-untyped-def]
    given = os.environ.get("NEWSQA_FULL_STORE")
    if not given:
        pytest.skip("set NEWSQA_FULL_STORE to a store of the sample + the RealTime QA corpus (make bench builds one)")
    engine = Engine(Settings(data_dir=Path(given), answer_scorer=request.param), embedder=embedder)
    if engine.store.counts()["articles"] < 900:
        engine.ingest_paths([SAMPLES, CORPUS])
    engine.warm_up()
    return engine


def test_flagship_names_dell_wistron_and_inventec_in_cited_verbatim_quotes(full_engine: Engine) -> None:
    answer = full_engine.ask("Who benefits if Supermicro loses xAI?")
    assert not answer.abstained
    quotes = " ".join(c.quote for c in answer.citations)
    for name in ("Dell", "Wistron", "Inventec"):
        assert name in quotes
    for c in answer.citations:
        article = full_engine.store.get_article(c.article_id)
        assert article.text[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.answer
