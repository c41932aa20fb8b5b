"""The attribution detector names the original source a sentence credits, and an answer counts originals."""

from __future__ import annotations

import pytest

from rag.answer.attribution import (
    attribute,
    attributions,
    independent_sources,
    is_outlet,
    outlet_label,
    reported_by,
    sources_summary,
)
from rag.types import Answer
from tests.builders import citation

CASES = [
    ("xAI has shifted all AI server orders from troubled Supermicro to Dell, reports UDN.com.", "UDN.com"),
    ("The company is cutting 10% of its staff, according to Reuters.", "Reuters"),
    ("“We are not leaving,” the mayor told CNN on Tuesday.", "CNN"),
    ("Bloomberg reported that the deal was worth $2 billion.", "Bloomberg"),
    ("The talks have stalled, citing people familiar with the matter.", "people familiar with the matter"),
    ("A spokesperson said in a statement to The Verge that the feature is paused.", "The Verge"),
    ("Musk has told engineers to reboot Vine, Axios reported Monday.", "Axios"),
    ("The Missoulian reports the treatments were designed for forest health.", "The Missoulian"),
    ("Four new cases were reported Monday by the Vermont Department of Health.", "Vermont Department of Health"),
    ("A report by the Colorado Fourteeners Initiative says summits are crowded.", "Colorado Fourteeners Initiative"),
    ("UDN says Musk’s companies decided to shift orders away from the company.", "UDN"),
    ('Biden made controversial statements in an interview with "60 Minutes" that aired Sunday.', "60 Minutes"),
    ("Americans are opposed, according to a new CNN poll conducted by SSRS.", "CNN"),
    ("Paul Pelosi called 911, according to a law enforcement source and another source.", "a law enforcement source"),
    # not attributions: a plain statement, unnamed sources, people who are not outlets
    ("“We respect the ruling,” Macron said on Friday.", None),
    ("Salazar told reporters he will be working with federal agencies.", None),
    ("Davis became nervous and told Wright to burn the barn.", None),
    ("Other lawmakers are at the resort, according to news reports.", None),
    ("The deal cannot be signed until Thursday, per league rules.", None),
    ("Carter is averaging 18.2 points per game.", None),
    ("Subway says people can order the sandwiches by their new names.", None),
    ("Students make ornaments, according to a news release from Gov.", None),
]


@pytest.mark.parametrize(("sentence", "source"), CASES)
def test_the_detector_names_the_credited_source_or_none(sentence: str, source: str | None) -> None:
    assert reported_by(sentence) == source


def test_anonymous_sources_are_marked_anonymous_with_their_cue() -> None:
    [found] = attributions("The talks have stalled, citing people familiar with the matter.")
    assert (found.source, found.cue, found.anonymous) == ("people familiar with the matter", "citing", True)


def test_outlet_names_are_recognised_by_list_domain_and_press_word() -> None:
    assert [is_outlet(n) for n in ("CNN Business", "UDN.com", "The Sacramento Bee", "Wright", "Americans")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_citations_relaying_one_report_count_once_and_show_who_they_cite() -> None:
    relay = "xAI has shifted all AI server orders to Dell, reports UDN.com."
    answer = Answer(
        question="q",
        answer="a [1] b [2] c [3]",
        citations=[
            citation(1, "a1", relay, source="Tom's Hardware"),
            citation(2, "a2", "Dell benefits from the decision, UDN.com reported.", source="DigiTimes"),
            citation(3, "a3", "Dell shares rose 4% on Monday.", source="CNBC"),
        ],
    )
    attribute(answer)
    assert [c.reported_by for c in answer.citations] == ["UDN.com", "UDN.com", None]
    assert answer.independent_sources == 2
    assert outlet_label([answer.citations[0]]) == "Tom's Hardware, citing UDN.com"
    assert sources_summary(answer.citations) == "3 articles, 2 independent sources"


def test_a_quote_crediting_its_own_outlet_is_not_a_relay() -> None:
    own = citation(1, "a1", "Netflix told CNN in October that it was the biggest series.", source="CNN")
    attribute(Answer(question="q", answer="a [1]", citations=[own]))
    assert own.reported_by is None
    assert independent_sources([own]) == 1
    assert sources_summary([own]) is None  # nothing relayed: the source list says all there is


def test_an_article_relaying_a_report_counts_as_that_report_and_anonymous_sources_as_its_own() -> None:
    relayed = [
        citation(1, "a1", "xAI shifted its orders to Dell, reports UDN.com.", source="Tom's Hardware"),
        citation(2, "a1", "Dell shares rose 4% on Monday.", source="Tom's Hardware"),
        citation(3, "a2", "The talks stalled, citing people familiar with the matter.", source="Bloomberg"),
        citation(4, "a3", "The talks stalled, citing people familiar with the matter.", source="Reuters"),
    ]
    attribute(Answer(question="q", answer="", citations=relayed))
    assert independent_sources(relayed) == 3  # UDN.com, Bloomberg, Reuters
    assert sources_summary(relayed) == "3 articles, 3 independent sources"
