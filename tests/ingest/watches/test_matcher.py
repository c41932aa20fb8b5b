"""The matcher over a real store and the real model: an on-topic story passes the calibrated threshold, an
off-topic one does not; filters apply to the story; a syndicated copy stands for its story, once."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ingest.engine import Engine
from ingest.readers import RawDocument
from ingest.watches.matcher import LEXICAL_WEIGHT, Matcher, Story, query_stems, score
from ingest.watches.store import Watch
from rag.types import Article
from tests.fakes.site import HARBOR, TURBINE


def watch(query: str, **kw: object) -> Watch:
    return Watch(id=f"w_{abs(hash(query)) % 10_000}", query=query, created_at=datetime.now(UTC), **kw)


@pytest.fixture
def stored(engine: Engine) -> tuple[Engine, dict[str, str]]:
    docs = {
        "wind": ("Offshore wind farm delivers first power", TURBINE, "The Daily Ledger", "2024-03-05"),
        "copy": ("Wind farm powers up early", ["LONDON (Wire) - " + TURBINE[0], *TURBINE[1:]], "Wire", "2024-03-05"),
        "harbor": ("Council approves harbor market", HARBOR, "Harbor Times", "2024-02-12"),
    }
    report = engine.ingest_documents(
        [RawDocument(text="\n\n".join(b), origin=k, title=t, source=s, published=d) for k, (t, b, s, d) in docs.items()]
    )
    assert (report.ingested, report.grouped) == (2, 1)
    ids = {a.title: a.id for a, _ in engine.store.list_articles()}
    return engine, {"wind": ids[docs["wind"][0]], "copy": ids[docs["copy"][0]], "harbor": ids[docs["harbor"][0]]}


def matcher(engine: Engine) -> Matcher:
    return Matcher(engine.store, engine.embedder.embed, engine.settings.watch_threshold)


def test_on_topic_matches_once_off_topic_does_not(stored: tuple[Engine, dict[str, str]]) -> None:
    engine, ids = stored
    found = matcher(engine).match([watch("offshore wind farm"), watch("harbor market")], ids.values())
    by_query = {w: [(h.story_id, h.article_id) for h in hits] for w, hits in found.items()}
    wind, harbor = watch("offshore wind farm").id, watch("harbor market").id
    assert by_query[wind] == [(ids["wind"], ids["wind"])]  # the copy is the same story: one hit
    assert by_query[harbor] == [(ids["harbor"], ids["harbor"])]
    assert all(h.score >= engine.settings.watch_threshold for hits in found.values() for h in hits)
    assert matcher(engine).match([watch("rail strike union pay offer")], ids.values()) == {}


def test_a_copy_alone_brings_its_story(stored: tuple[Engine, dict[str, str]]) -> None:
    engine, ids = stored
    [story] = matcher(engine).stories([ids["copy"]])
    assert story.story_id == ids["wind"] and story.source_keys == {"the daily ledger", "wire"}


def test_filters_apply_to_the_story(stored: tuple[Engine, dict[str, str]]) -> None:
    engine, ids = stored
    m = matcher(engine)
    assert m.match([watch("offshore wind farm", sources=["wire"])], ids.values())  # any outlet of the story
    assert m.match([watch("offshore wind farm", sources=["Harbor Times"])], ids.values()) == {}
    assert m.match([watch("offshore wind farm", since=datetime(2024, 3, 6, tzinfo=UTC))], ids.values()) == {}
    assert m.match([watch("offshore wind farm", until=datetime(2024, 3, 6, tzinfo=UTC))], ids.values())


def test_score_is_best_chunk_cosine_plus_weighted_word_coverage() -> None:
    art = Article(id="a", text="x", ingested_at=datetime.now(UTC), content_hash="h")
    vectors = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    story = Story("a", art, vectors, frozenset({"supermicro", "server"}), frozenset())
    stems = query_stems("Supermicro xAI")  # two content words, one present
    assert stems == {"supermicro", "xai"}
    assert score(np.array([0.0, 1.0], dtype=np.float32), stems, story) == pytest.approx(0.8 + LEXICAL_WEIGHT * 0.5)
    assert query_stems("what did the company do?") == {"compani"}  # question and stop words dropped
