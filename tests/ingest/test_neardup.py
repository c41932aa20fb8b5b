"""Syndicated copies: signatures, and grouping into one story in a real Chroma store with the real model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.engine import Engine
from ingest.neardup import signature, similarity
from ingest.readers import RawDocument
from ingest.web import fetch_article
from rag.answer.syndication import cite_other_outlets
from rag.settings import Settings
from tests.fakes.site import (
    HARBOR,
    RAIL,
    TURBINE,
    Site,
    site_fixture,  # noqa: F401 (the `site` fixture)
)

DAY = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


def wire_copy(paragraphs: list[str]) -> str:
    """How a site runs a wire story: a dateline, a style edit, a dropped last paragraph, its own trailer."""
    body = [f"LONDON (AP) — {paragraphs[0]}", *paragraphs[1:-1]]
    body[1] = body[1].replace("according to the operator", "the operator said")
    return "\n\n".join([*body, "Copyright 2024 The Associated Press. All rights reserved."])


def doc(text: str, source: str, url: str, published: datetime = DAY, title: str | None = None) -> RawDocument:
    return RawDocument(
        text=text, origin=url, title=title or f"Wind farm story ({source})", source=source, url=url, published=published
    )


ORIGINAL = doc("\n\n".join(TURBINE), "The Daily Ledger", "https://ledger.example/wind")
COPY = doc(
    wire_copy(TURBINE),
    "Harbor Times",
    "https://harbortimes.example/world/wind-farm",
    DAY + timedelta(hours=3),
    title="Wind farm powers up early",
)


def test_signatures_separate_copies_from_other_stories() -> None:
    threshold = Settings().neardup_threshold
    original = signature(ORIGINAL.text)
    assert signature("Too short to judge.") is None
    assert similarity(original, signature(COPY.text)) >= threshold
    assert similarity(original, signature("\n\n".join(HARBOR))) < 0.1
    assert similarity(original, signature("\n\n".join(RAIL))) < 0.1


def _chunk_articles(engine: Engine) -> set[str]:
    _, _, metas, _ = engine.store.all_chunks()
    return {m["article_id"] for m in metas}


def test_copy_joins_the_story_and_search_returns_one_copy(engine: Engine) -> None:
    first = engine.ingest_documents([ORIGINAL])
    second = engine.ingest_documents([COPY])
    assert (first.ingested, second.ingested, second.grouped, second.chunks) == (1, 0, 1, 0)
    story_id, copy_id = first.article_ids[0], second.article_ids[0]
    copy = engine.store.get_article(copy_id)
    assert copy.story_id == story_id and copy.source == "Harbor Times"
    story = engine.store.get_article(story_id)
    assert [(c.article_id, c.source, c.url) for c in story.also_in] == [
        (copy_id, "Harbor Times", "https://harbortimes.example/world/wind-farm")
    ]
    assert _chunk_articles(engine) == {story_id}  # one set of chunks is searched
    hits = engine.search("How many homes will the offshore wind farm supply?", k=5)
    assert hits and {h.article_id for h in hits} == {story_id}
    assert hits[0].also_in[0].source == "Harbor Times"  # the passage names the other outlet
    # re-ingesting the copy changes nothing
    again = engine.ingest_documents([COPY])
    assert (again.skipped, again.grouped) == (1, 0)
    assert len(engine.store.get_article(story_id).also_in) == 1


def test_copies_in_one_batch_and_exact_copies_are_grouped(engine: Engine) -> None:
    exact = doc(ORIGINAL.text, "Valley News", "https://valley.example/wind", DAY + timedelta(hours=5))
    report = engine.ingest_documents([ORIGINAL, COPY, exact])
    assert (report.ingested, report.grouped, report.skipped) == (1, 2, 0)
    story = engine.store.get_article(report.article_ids[0])
    assert sorted(c.source for c in story.also_in) == ["Harbor Times", "Valley News"]
    assert engine.store.counts()["articles"] == 3 and _chunk_articles(engine) == {story.id}


def test_a_later_follow_up_is_a_new_story(engine: Engine) -> None:
    late = doc(COPY.text, "Harbor Times", "https://harbortimes.example/later", DAY + timedelta(days=10))
    report = engine.ingest_documents([ORIGINAL, late])
    assert (report.ingested, report.grouped) == (2, 0)


def test_updating_the_story_keeps_its_other_outlets(engine: Engine) -> None:
    engine.ingest_documents([ORIGINAL, COPY])
    revised = doc(
        ORIGINAL.text + "\n\nThis article was updated with the operator's full statement.",
        ORIGINAL.source,
        ORIGINAL.url,
    )
    report = engine.ingest_documents([revised])
    assert report.updated == 1
    story = engine.store.get_article(report.article_ids[0])
    assert [c.source for c in story.also_in] == ["Harbor Times"]
    assert {tuple(h.also_in) != () for h in engine.search("offshore wind farm turbines", k=3)} == {True}


def test_tracking_parameter_links_are_one_article(site: Site, engine: Engine) -> None:
    settings = Settings(data_dir=engine.settings.data_dir, allow_private_urls=True)
    links = [
        site.url("/undated/rail?utm_source=newsletter&utm_campaign=mar"),
        site.url("/undated/rail#top"),
        site.url("/undated/rail?fbclid=abc123"),
    ]
    docs = [fetch_article(link, settings) for link in links]
    report = engine.ingest_documents(docs)
    assert (report.ingested, report.skipped, report.grouped) == (1, 2, 0)
    [(article, _)] = engine.store.list_articles()
    assert article.url == site.url("/undated/rail?utm_source=newsletter&utm_campaign=mar")  # as first fetched
    assert article.provenance["url"] == "http:final-url"


@pytest.mark.parametrize("threshold, grouped", [(0.55, 1), (0.99, 0)])
def test_threshold_is_the_setting(engine: Engine, threshold: float, grouped: int) -> None:
    engine = Engine(engine.settings.model_copy(update={"neardup_threshold": threshold}), embedder=engine.embedder)
    assert engine.ingest_documents([ORIGINAL, COPY]).grouped == grouped


def test_the_answer_cites_one_copy_and_lists_the_other_outlets(engine: Engine) -> None:
    engine.ingest_documents([ORIGINAL, COPY])
    question = "How many homes will the offshore wind farm supply?"
    passages = engine.search(question, k=engine.settings.top_k)
    answer = cite_other_outlets(engine.answerer.answer(question, passages), passages)
    assert not answer.abstained and answer.citations
    story = engine.store.get_article(answer.citations[0].article_id)
    assert story.source == "The Daily Ledger" and story.story_id is None  # the indexed copy is cited
    assert {c.article_id for c in answer.citations} == {story.id}
    assert [(o.source, o.url) for o in answer.citations[0].also_in] == [
        ("Harbor Times", "https://harbortimes.example/world/wind-farm")
    ]


def test_a_deleted_story_is_not_joined(engine: Engine) -> None:
    first = engine.ingest_documents([ORIGINAL, COPY])
    engine.store.delete_article(first.article_ids[0])  # the story; its copy's record stays, chunkless
    again = doc(ORIGINAL.text, "Valley News", "https://valley.example/wind", DAY + timedelta(hours=5))
    report = engine.ingest_documents([again])
    assert (report.ingested, report.grouped, report.failed) == (1, 0, [])
    assert _chunk_articles(engine) == {report.article_ids[0]}  # indexed as the story now
