"""The expected answer type of a question, and new instances of it in a sentence (table-driven)."""

from __future__ import annotations

import pytest

from rag.answer.answer_type import (
    anaphor,
    asked_noun,
    asked_sentence,
    counted_noun,
    describes,
    expected_type,
    instances,
    quantifies,
    refers_to,
    refers_to_figure,
    type_match,
)

TYPE_TABLE = [
    ("When is Supermicro's delisting deadline?", "date"),
    ("What is the deadline for the 10-K filing?", "date"),
    ("How much was the AI server order worth?", "amount"),
    ("What share of the market does Dell hold?", "amount"),
    ("What was the record high average price for a gallon of gas?", "amount"),
    ("How many people were evacuated?", "count"),
    ("Who benefits if Supermicro loses xAI?", "name"),
    ("Which outlet first reported the shift?", "name"),
    ("Which regulator opened the probe?", "name"),
    ("What is the mission called?", "name"),
    ("Where is the glacier located?", "place"),
    ("Where was the singer born?", "place"),
    ("Which country won the final?", "place"),
    ("Why did Supermicro's stock fall?", "reason"),
    ("What's behind the rise in egg prices?", "reason"),
    ("Is the company profitable?", "yesno"),
    ("What did he say?", "other"),
    # background sentence first, the asking sentence decides
    ("NASA launched a rocket from a commercial spaceport. Where did the launch occur?", "place"),
    ("Most Americans disagree with Roe v. Wade being overturned. What percentage disapprove?", "amount"),
    ("A raging wildfire forced evacuations near which national park?", "name"),
]


@pytest.mark.parametrize(("question", "kind"), TYPE_TABLE)
def test_expected_type(question, kind):
    assert expected_type(question) == kind


INSTANCE_TABLE = [
    ("date", "The final deadline is November 18.", "When is the deadline?", True),
    ("date", "Supermicro needed to submit a plan.", "When is the deadline?", False),
    ("amount", "xAI shifted a $6 billion order.", "How much was the order worth?", True),
    ("amount", "Its stock plummeted 35% in one day.", "By how much did the stock fall?", True),
    ("amount", "xAI shifted a $6 billion order to Dell.", "Who got the $6 billion order?", False),
    ("count", "Forty people were hurt.", "How many people were hurt?", True),
    (
        "name",
        "Dell benefits, just like its suppliers, Inventec and Wistron.",
        "Who benefits if Supermicro loses xAI?",
        True,
    ),
    ("name", "Supermicro loses xAI.", "Who benefits if Supermicro loses xAI?", False),
    ("place", "The launch took place in Australia.", "Where did the launch occur?", True),
    ("reason", "The stock fell because of the probe.", "Why did the stock fall?", True),
    ("reason", "The stock fell sharply.", "Why did the stock fall?", False),
]


@pytest.mark.parametrize(("kind", "sentence", "question", "found"), INSTANCE_TABLE)
def test_instances_not_in_the_question(kind, sentence, question, found):
    assert bool(instances(kind, sentence, question)) is found


def test_type_match_is_neutral_without_a_type():
    assert type_match("other", "Anything at all.", "What did he say?") == 0.5
    assert type_match("date", "On November 18.", "When?") == 1.0


def test_asked_sentence_keeps_abbreviations_together():
    assert asked_sentence("Roe v. Wade fell. What percentage of adults disapprove of Roe v. Wade?") == (
        "What percentage of adults disapprove of Roe v. Wade?"
    )


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many dinosaur tracks were uncovered in the Texas riverbed?", "tracks"),
        ("How many GPUs are in the server order that xAI shifted to Dell?", "gpus"),
        ("Approximately how many positive monkeypox cases are in the United States as of this week?", "cases"),
        ("A Russian court ruled this week. How many months was her detention extended?", "months"),
        ("How old is he?", None),
        ("How much did Dell's stock price rise?", None),
    ],
)
def test_a_how_many_question_names_what_it_counts(question: str, noun: str | None) -> None:
    assert counted_noun(question) == noun


@pytest.mark.parametrize(
    ("sentence", "noun", "expected"),
    [
        ("Police arrested 31 men near a Pride event in Coeur d'Alene.", "men", True),
        ("With more than 10,000 monkeypox cases in the United States, Jynneos is short.", "cases", True),
        ("That marks the 50th consecutive day of falling prices.", "days", True),
        ("The season will have six new episodes.", "episodes", True),
        ("Netflix renewed the show for a second season of episodes.", "episodes", False),
        ("Dell shipped 5 servers to xAI, which ordered GPUs from Nvidia.", "gpus", False),
        ("Putin claims Russia was threatened, but no one threatened Russians.", "russians", False),
        ("Only one Russian was detained.", "russians", True),
    ],
)
def test_a_sentence_counts_the_noun_only_with_a_number_right_before_it(
    sentence: str, noun: str, expected: bool
) -> None:
    assert quantifies(sentence, noun) is expected


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("Which wildly popular show was recently green lit for a new season?", "show"),
        ("Which band announced this week it’s dropping a new single?", "band"),
        ("Which team won the 2022 NHL Stanley Cup Finals?", "team"),
        ("Grocery prices rose 13% this year. What country announced a crackdown on toys?", "country"),
        ("Who benefits if Supermicro loses xAI?", None),
    ],
)
def test_a_which_question_names_the_noun_it_asks_for(question: str, noun: str | None) -> None:
    assert asked_noun(question) == noun


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Netflix announced Sunday that the wildly popular South Korean show is green lit for a second season.", True),
        ("The show, which follows the Roy family, leads the Emmy race with 25 nominations.", True),
        ("That is how many reports the popular streaming show Night Harbor received.", False),  # named right after
        ("Netflix renewed “Squid Game” for a second season.", False),
    ],
)
def test_a_sentence_describes_the_asked_thing_instead_of_naming_it(sentence: str, expected: bool) -> None:
    assert describes(sentence, "show") is expected


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ("But those supermarket shelves are now empty, sparking outrage.", ["supermarket", "shelves"]),
        ("These measures take effect on Monday.", ["measures", "take", "effect"]),
        ("This week, the company cut its forecast.", []),  # says when, not what
        ("That year’s harvest was poor.", []),
        ("The company cut its forecast.", []),
        ("This is a turning point.", []),
        ("That said, the election is set for May.", []),  # pronouns, not descriptions
        ("This means prices will rise.", []),
        ("Those who voted were few.", []),
        ("This Sunday, voters go to the polls.", []),
    ],
)
def test_a_sentence_that_refers_back_gives_the_words_of_its_description(sentence: str, words: list[str]) -> None:
    assert anaphor(sentence) == words


def test_an_antecedent_holds_a_word_of_the_description_in_any_number() -> None:
    words = ["supermarket", "shelves"]
    assert refers_to("Most French mustard is sold in supermarkets.", words)
    assert not refers_to("France is the largest consumer of mustard in the world.", words)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("That’s how much a 1952 Mickey Mantle card sold for at auction on Sunday.", True),
        ("That's the percentage of Ukraine's power stations destroyed since October 10.", True),
        ("This is the number of people who fled the city.", True),
        ("That is how the deal came together.", False),
        ("The card sold for $12.6 million.", False),
    ],
)
def test_a_sentence_that_refers_back_to_a_figure(sentence: str, expected: bool) -> None:
    assert refers_to_figure(sentence) is expected
