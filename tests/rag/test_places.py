"""Questions that ask for a country, a US state or a continent, and the places a sentence names."""

from __future__ import annotations

import pytest

from rag.answer.extractive import W_CUE, by_place
from rag.answer.extractive import Candidate as HandCandidate
from rag.answer.places import asked_place, demonym_kinds, demonym_places, named_places, place_cue
from tests.builders import passage


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which country declared victory against the Covid-19 pandemic this week?", "country"),
        ("Which island nation plunged into chaos in recent days?", "country"),
        ("Which country’s lawmakers have urged officials to show no leniency to protesters?", "country"),
        ("Lawmakers met this week. In which key state did Democrats flip a Senate seat?", "state"),
        ("Which state announced it is legalizing jaywalking?", "state"),
        ("To reduce waste, which continent will require a common charging standard?", "continent"),
        ("Which company cut its forecast?", None),
        ("What is the state of the economy after the rate rise?", None),
        ("Which Islamic State leader was killed?", None),
        ("Which head of state announced his resignation?", None),
        ("What state media reported the launch?", None),
        ("Which state-run outlet reported it?", None),
        ("What state of emergency was declared?", None),
        ("Which United States senator spoke?", None),
        ("Which United Nations agency warned of famine?", None),
        ("Which U.S. state passed the law?", "state"),
        ("Where did the director revolutionize cinema?", None),
    ],
)
def test_the_place_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_place(question) == kind


def test_a_demonym_stands_for_a_country_or_continent_only_where_one_is_asked_for() -> None:
    assert demonym_kinds("Which country elected a leftist leader?") == ("country",)
    assert demonym_kinds("Where did he revolutionize cinema in the 1960s?") == ("country", "continent")
    assert demonym_kinds("Which state approved the measure?") == ()
    assert demonym_kinds("What is the state of the economy?") == ()  # no place asked, no "where"
    assert demonym_kinds("Which city hosted the summit?") == ()
    assert demonym_kinds("Which company cut its forecast?") == ()


@pytest.mark.parametrize(
    ("sentence", "question", "named"),
    [
        ("North Korea has reported no new cases since July 29.", "Which country declared victory?", ["North Korea"]),
        # "North Korean" is a demonym: no country is named, and "Korea" is not found inside it.
        ("North Korean leader Kim Jong Un declared victory.", "Which country declared victory?", []),
        ("Iran’s parliament signed the letter.", "Which country's lawmakers wrote?", ["Iran"]),
        (
            "Liz Truss resigned, pitching Britain into turmoil.",
            "Which country saw its leader resign?",
            ["United Kingdom"],
        ),
        # A country the question already names is no answer.
        ("The US and Canada signed the deal.", "Which country signed a deal with the US?", ["Canada"]),
        ("Prices rose 5% in Japan on Monday.", "Which country saw prices rise?", ["Japan"]),
        ("Officials from Georgia met in Tbilisi.", "Which country hosted the talks?", ["Georgia"]),
        # A place name after another capitalised word is part of a longer name, unless that word opens the
        # sentence.
        ("Protests spread across Latin America.", "Which country saw protests?", []),
        ("Michael Jordan bought the team.", "Which country bought it?", []),
        ("In Mexico, prices rose.", "Which country saw prices rise?", ["Mexico"]),
        ("Property firm Cric China said sales fell.", "Which country's sales fell?", []),
    ],
)
def test_the_countries_a_sentence_names(sentence: str, question: str, named: list[str]) -> None:
    assert named_places("country", sentence, question) == named


def test_states_and_continents_come_from_their_own_lists() -> None:
    sentence = "Jaywalking is arbitrarily enforced in California, the assemblyman said in Europe."
    assert named_places("state", sentence, "Which state legalized jaywalking?") == ["California"]
    assert named_places("continent", sentence, "Which continent requires USB-C?") == ["Europe"]


def test_a_demonym_points_at_its_country_unless_the_question_has_it() -> None:
    assert demonym_places("Iranian lawmakers have urged the judiciary.", "Which country's lawmakers?") == ["Iran"]
    assert demonym_places("Saudi Arabian officials seized toys.", "Which country seized toys?") == ["Saudi Arabia"]
    assert demonym_places("European regulators agreed.", "Which continent agreed?") == ["Europe"]
    assert demonym_places("Iranian lawmakers have urged the judiciary.", "Did Iran's parliament act?") == []


@pytest.mark.parametrize(
    ("kind", "sentence", "cue"),
    [
        ("country", "7.0-magnitude earthquake shook parts of the Philippines today.", 1.0),
        ("country", "Iranian lawmakers have urged the judiciary to show no leniency.", 0.5),
        ("country", "President Donald Trump declared a premature victory over COVID-19.", 0.0),
        ("state", "A ticket was sold in Altadena, California, officials said.", 1.0),
        ("state", "Californian officials said a ticket was sold.", 0.0),  # no state demonyms
        ("continent", "European regulators agreed on a common charger.", 0.5),
        ("continent", "Iranian lawmakers have urged the judiciary.", 0.0),  # a country's demonym
        ("country", "European regulators agreed on a common charger.", 0.0),  # a continent's
    ],
)
def test_the_place_cue_of_a_sentence(kind: str, sentence: str, cue: float) -> None:
    assert place_cue(kind, sentence, "Which place is it?") == cue  # type: ignore[arg-type]


def test_the_place_cue_re_ranks_only_questions_that_ask_for_a_place() -> None:
    def cand(text: str, score: float, cue: float) -> HandCandidate:
        return HandCandidate(passage=passage(text), rank=0, start=0, end=len(text), text=text, cue=cue, score=score)

    named = cand("Assemblyman Phil Ting of the Freedom Caucus wrote the bill.", 0.60, 1.0)
    state = cand("The state of Oregon is legalizing jaywalking.", 0.55, 0.5)
    ranked = by_place("Which state is legalizing jaywalking?", [named, state])
    assert [c.text for c in ranked] == [state.text, named.text]
    assert (state.cue, named.cue) == (1.0, 0.0)
    assert abs(state.score - (0.55 + W_CUE * 0.5)) < 1e-9 and abs(named.score - (0.60 - W_CUE)) < 1e-9
    other = [cand("Phil Ting wrote the bill.", 0.6, 1.0), cand("Oregon legalized it.", 0.5, 0.5)]
    assert by_place("Who wrote the jaywalking bill?", other) == other
