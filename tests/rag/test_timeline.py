"""Timeline questions are recognised, and matching stories come out oldest first with one cited sentence each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rag.timeline import (
    NO_STORIES,
    Timeline,
    build_timeline,
    quoted_span,
    since_date,
    timeline_answer,
    timeline_request,
)
from rag.types import Article, Filters, OutletCopy, Passage

AS_OF = datetime(2024, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "query", "since"),
    [
        ("What has happened with Supermicro since October?", "Supermicro", datetime(2024, 10, 1, tzinfo=UTC)),
        ("timeline of the Itaewon crowd crush", "the Itaewon crowd crush", None),
        ("Give me a timeline of the Uvalde shooting?", "the Uvalde shooting", None),
        ("What's been happening with Twitter since 2022-10-27?", "Twitter", datetime(2022, 10, 27, tzinfo=UTC)),
        ("What happened with monkeypox since May 2022?", "monkeypox", datetime(2022, 5, 1, tzinfo=UTC)),
        ("How has the Artemis launch unfolded?", "the Artemis launch", None),
    ],
)
def test_timeline_questions_are_read_as_a_query_and_a_start_date(
    question: str, query: str, since: datetime | None
) -> None:
    asked = timeline_request(question, AS_OF)
    assert asked is not None
    assert (asked.query, asked.since) == (query, since)


@pytest.mark.parametrize(
    "question",
    ["Who benefits if Supermicro loses xAI?", "What happened at the Oscars?", "When did the history museum open?"],
)
def test_other_questions_are_not_timeline_questions(question: str) -> None:
    assert timeline_request(question, AS_OF) is None


def test_since_a_month_without_a_year_means_the_latest_such_month_before_as_of() -> None:
    assert since_date("December", datetime(2024, 11, 5, tzinfo=UTC)) == datetime(2023, 12, 1, tzinfo=UTC)
    assert since_date("Oct 5, 2022", AS_OF) == datetime(2022, 10, 5, tzinfo=UTC)
    assert since_date("the war began", AS_OF) is None


def _article(aid: str, text: str, published: datetime | None, source: str, **fields: object) -> Article:
    return Article(
        id=aid,
        title=f"Title {aid}",
        source=source,
        published=published,
        text=text,
        ingested_at=AS_OF,
        **fields,  # type: ignore[arg-type]
    )


ARTICLES = {
    "late": _article(
        "late",
        "Dell shares rose on Monday after the news broke. Supermicro lost the xAI server order to Dell, "
        "reports UDN.com.",
        datetime(2024, 11, 20, tzinfo=UTC),
        "Tom's Hardware",
        also_in=[OutletCopy(article_id="copy", source="Yahoo Finance")],
    ),
    "early": _article(
        "early",
        "Supermicro delayed its annual report filing in August this year. The stock fell sharply afterwards.",
        datetime(2024, 8, 28, tzinfo=UTC),
        "Reuters",
    ),
    "undated": _article("undated", "Supermicro builds liquid-cooled servers for big AI customers.", None, "Blog"),
    "other": _article("other", "The weather in Seattle was rainy all week long.", AS_OF, "KOMO"),
}


def _passage(aid: str) -> Passage:
    a = ARTICLES[aid]
    return Passage(
        chunk_id=f"{aid}:0", article_id=aid, index=0, text=a.text, start=0, end=len(a.text), published=a.published
    )


def _build(query: str) -> Timeline:
    def search(q: str, k: int, filters: Filters) -> list[Passage]:
        return [_passage(a) for a in ("late", "undated", "other", "early")]  # best first, not date order

    return build_timeline(query, Filters(), search, ARTICLES.__getitem__, lambda t: 1.0)


def test_matching_stories_are_listed_oldest_first_and_undated_ones_apart() -> None:
    timeline = _build("Supermicro")
    assert [e.citation.article_id for e in timeline.entries] == ["early", "late"]
    assert [e.citation.article_id for e in timeline.undated] == ["undated"]
    assert [e.citation.n for e in [*timeline.entries, *timeline.undated]] == [1, 2, 3]


def test_each_story_quotes_its_best_matching_sentence_verbatim_with_outlets() -> None:
    timeline = _build("Supermicro xAI")  # "early" never mentions xAI: half the query is not a match
    assert [e.citation.article_id for e in timeline.entries] == ["late"]
    late = timeline.entries[0]
    assert late.citation.quote == "Supermicro lost the xAI server order to Dell, reports UDN.com."
    text = ARTICLES["late"].text
    assert text[late.citation.start : late.citation.end] == late.citation.quote  # type: ignore[misc]
    assert (late.outlets, late.outlet_count, late.citation.reported_by) == (
        ["Tom's Hardware", "Yahoo Finance"],
        2,
        "UDN.com",
    )


def test_the_timeline_as_an_answer_has_one_cited_line_per_story() -> None:
    answer = timeline_answer("q", _build("Supermicro"))
    assert answer.answer.splitlines() == [
        "2024-08-28 — Reuters: Supermicro delayed its annual report filing in August this year. [1]",
        "2024-11-20 — Tom's Hardware, citing UDN.com (in 2 outlets): Supermicro lost the xAI server order to "
        "Dell, reports UDN.com. [2]",
        "Undated:",
        "undated — Blog: Supermicro builds liquid-cooled servers for big AI customers. [3]",
    ]
    assert timeline_answer("q", Timeline(query="x")).answer == NO_STORIES


def test_a_sentence_quoted_for_one_story_is_not_quoted_again_for_another() -> None:
    text = "Supermicro filed late on Monday this week. Supermicro shares fell ten percent after the news."
    first = quoted_span(text, {"supermicro": 1.0})
    assert first == (0, 42)
    assert quoted_span(text, {"supermicro": 1.0}, used={"supermicro filed late on monday this week"}) == (43, 93)
