"""Questions about who wrote an article, answered from its byline."""

from __future__ import annotations

import pytest

from rag.answer.byline import asks_for_author, byline_answer
from rag.answer.extractive import ExtractiveAnswerer
from rag.settings import Settings
from tests.builders import passage
from tests.fakes.hash_embedder import hash_embedder


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Who wrote the Tom's Hardware article about xAI shifting its server order?", True),
        ("Who is the author of the report on the Nasdaq deadline?", True),
        ("Who reported record profits this quarter?", False),  # a company reporting, not a byline
        ("Who authored the piece on Wistron?", True),
        ("Who wrote the new law on fast-food wages?", True),  # a law's author: no byline matches, see below
        ("Who benefits if Supermicro loses xAI?", False),
        ("Which outlet reported the xAI order shift?", False),
    ],
)
def test_questions_that_ask_who_wrote_an_article(question: str, asks: bool) -> None:
    assert asks_for_author(question) is asks


def _story(article: str, source: str, authors: list[str]) -> object:
    return passage(
        "xAI shifted its AI server orders from Supermicro to Dell this week.",
        article=article,
        source=source,
        title=f"xAI shifts server orders ({source})",
        authors=authors,
    )


def test_the_best_ranked_article_with_a_byline_of_the_named_outlet_answers() -> None:
    wire = _story("a1", "Wire", ["Ann Lee"])
    hardware = _story("a2", "Tom’s Hardware", ["Anton Shilov", "Bo Chen"])
    unsigned = _story("a3", "Daily", [])
    answer = byline_answer("Who wrote the Tom's Hardware article on xAI?", [unsigned, wire, hardware])
    assert answer is not None
    assert (
        answer.answer
        == "Anton Shilov and Bo Chen wrote “xAI shifts server orders (Tom’s Hardware)” (Tom’s Hardware). [1]"
    )
    [citation] = answer.citations
    assert (citation.part, citation.quote, citation.article_id) == ("byline", "Anton Shilov, Bo Chen", "a2")
    assert byline_answer("Who wrote the article on xAI?", [unsigned, wire, hardware]).citations[0].article_id == "a1"
    assert byline_answer("Who wrote the article on xAI?", [unsigned]) is None


def test_the_extractive_answerer_gives_the_byline_only_for_evidence_on_the_topic() -> None:
    answerer = ExtractiveAnswerer(hash_embedder(), Settings())
    story = _story("a1", "Wire", ["Ann Lee"])
    on_topic = answerer.answer("Who wrote the article about xAI shifting its AI server orders to Dell?", [story])
    assert on_topic.answer.startswith("Ann Lee wrote ") and on_topic.citations[0].part == "byline"
    off_topic = answerer.answer("Who wrote the new California law on fast-food wages?", [story])
    assert off_topic.abstained and off_topic.citations == []
