import pytest

from rag.answer.multipart import answer_in_parts, join_answers, split_question, standalone_parts
from rag.types import Answer, Citation, Passage
from tests.builders import FLAGSHIP


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Who caught the home run ball, and which pitcher gave it up?",
            ["Who caught the home run ball?", "Which pitcher gave it up?"],
        ),
        (
            "What did the company add to its forecast, and what did it cut?",
            ["What did the company add to its forecast?", "What did it cut?"],
        ),
        (
            "What was the magnitude of the earthquake, and near which city did it strike?",
            ["What was the magnitude of the earthquake?", "Near which city did it strike?"],
        ),
        (
            "Who won the election and when will she take office?",
            ["Who won the election?", "When will she take office?"],
        ),
        (
            "Which show was renewed? Who directs it?",
            ["Which show was renewed?", "Who directs it?"],
        ),
        (
            "A court ruled on Monday. How long was her detention extended, and when was she arrested?",
            ["A court ruled on Monday. How long was her detention extended?", "When was she arrested?"],
        ),
        (
            "In the survey, what share of adults disapprove of the ruling (Roe v. Wade), and what share approve?",
            ["In the survey, what share of adults disapprove of the ruling (Roe v. Wade)?", "What share approve?"],
        ),
    ],
)
def test_questions_that_ask_two_things_are_split_into_standalone_parts(question: str, parts: list[str]) -> None:
    assert split_question(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        FLAGSHIP,
        "Which band announced this week it's dropping a new single and will reunite for a tour?",
        "What is the difference between stocks and bonds?",
        "A bipartisan group of senators announced a deal this week. Which measure did lawmakers leave out?",
        "Why did the Fed raise rates, and by?",
        "No question mark here and who knows",
    ],
)
def test_questions_that_ask_one_thing_stay_whole(question: str) -> None:
    assert split_question(question) == [question]


def test_later_parts_borrow_the_first_parts_topic() -> None:
    parts = standalone_parts(["Which show did Netflix renew?", "What was the episode titled?"])
    assert parts == ["Which show did Netflix renew?", "What was the episode titled? (show Netflix renew)"]


def _passage(chunk_id: str, text: str) -> Passage:
    return Passage(chunk_id=chunk_id, article_id=chunk_id.split(":")[0], index=0, text=text, start=0, end=len(text))


def _answer(question: str, passage: Passage | None) -> Answer:
    if passage is None:
        return Answer(question=question, answer="The indexed articles do not answer this question.", abstained=True)
    citation = Citation.quoting(passage, 1, 0, len(passage.text))
    return Answer(question=question, answer=f"{passage.text} [1]", citations=[citation])


def test_joined_answer_renumbers_each_parts_markers_so_every_marker_resolves() -> None:
    first, second = _passage("a:0", "Ann caught the ball."), _passage("b:0", "Bo gave it up.")
    joined = join_answers("q", ["Who caught it?", "Who gave it up?"], [_answer("1", first), _answer("2", second)])
    assert joined.answer == "Ann caught the ball. [1] Bo gave it up. [2]"
    assert [(c.n, c.chunk_id, c.quote) for c in joined.citations] == [
        (1, "a:0", "Ann caught the ball."),
        (2, "b:0", "Bo gave it up."),
    ]
    assert not joined.abstained


def test_a_part_the_articles_do_not_answer_is_named_and_the_rest_is_answered() -> None:
    first = _passage("a:0", "Ann caught the ball.")
    joined = join_answers(
        "q", ["Who caught it?", "Who gave it up? (caught)"], [_answer("1", first), _answer("2", None)]
    )
    assert joined.answer == "Ann caught the ball. [1] The indexed articles do not answer “Who gave it up?”."
    assert not joined.abstained
    both = join_answers("q", ["A b c?", "D e f?"], [_answer("1", None), _answer("2", None)])
    assert both.abstained


def test_a_sentence_that_already_answered_an_earlier_part_is_not_repeated() -> None:
    same = _passage("a:0", "Ann caught the ball that Bo threw.")
    joined = join_answers("q", ["Who caught it?", "Who threw it?"], [_answer("1", same), _answer("2", same)])
    assert joined.answer == "Ann caught the ball that Bo threw. [1]"
    assert [c.n for c in joined.citations] == [1]


def test_each_part_gets_its_own_retrieval_and_answer() -> None:
    found = {"Who caught it?": _passage("a:0", "Ann caught it."), "Who threw it?": _passage("b:0", "Bo threw it.")}
    searched: list[str] = []

    def search(q: str) -> list[Passage]:
        searched.append(q)
        return [found[k] for k in found if q.startswith(k)]

    answer, passages = answer_in_parts(
        "Who caught it, and who threw it?",
        ["Who caught it?", "Who threw it?"],
        search,
        lambda q, ps: _answer(q, ps[0] if ps else None),
    )
    assert searched == ["Who caught it?", "Who threw it? (caught)"]
    assert answer.answer == "Ann caught it. [1] Bo threw it. [2]"
    assert [p.chunk_id for p in passages] == ["a:0", "b:0"]


def test_a_part_answered_only_by_an_earlier_parts_quote_is_answered_from_its_other_passages() -> None:
    caught, threw = _passage("a:0", "Ann caught the ball at the game."), _passage("b:0", "Bo threw it.")
    found = {"Who caught it?": [caught], "Who threw it?": [caught, threw]}
    answered_from: list[list[str]] = []

    def answer(q: str, ps: list[Passage]) -> Answer:
        answered_from.append([p.chunk_id for p in ps])
        return _answer(q, ps[0] if ps else None)

    joined, _ = answer_in_parts(
        "Who caught it, and who threw it?",
        ["Who caught it?", "Who threw it?"],
        lambda q: next(v for k, v in found.items() if q.startswith(k)),
        answer,
    )
    assert answered_from == [["a:0"], ["a:0", "b:0"], ["b:0"]]
    assert joined.answer == "Ann caught the ball at the game. [1] Bo threw it. [2]"


def test_a_part_with_no_evidence_but_an_earlier_parts_quote_is_named_as_not_answered() -> None:
    caught = _passage("a:0", "Ann caught the ball at the game.")
    joined, _ = answer_in_parts(
        "Who caught it, and who threw it?",
        ["Who caught it?", "Who threw it?"],
        lambda q: [caught],
        lambda q, ps: _answer(q, ps[0] if ps else None),
    )
    assert joined.answer == "Ann caught the ball at the game. [1] The indexed articles do not answer “Who threw it?”."
    assert not joined.abstained and [c.n for c in joined.citations] == [1]


def test_a_part_answered_only_by_an_earlier_parts_headline_is_answered_from_other_articles() -> None:
    report = Passage(
        chunk_id="a:1", article_id="a", index=1, text="It was signed in May.", start=40, end=61, title="Acme buys Bolt"
    )
    other = _passage("b:0", "Bo threw it.")
    answered_from: list[list[str]] = []

    def answer(q: str, ps: list[Passage]) -> Answer:
        answered_from.append([p.chunk_id for p in ps])
        if ps and ps[0].article_id == "a":
            return Answer(question=q, answer="Acme buys Bolt [1]", citations=[Citation.quoting_title(ps[0], 1)])
        return _answer(q, ps[0] if ps else None)

    answer_in_parts(
        "Who bought Bolt, and who sold it?", ["Who bought Bolt?", "Who sold it?"], lambda q: [report, other], answer
    )
    assert answered_from == [["a:1", "b:0"], ["a:1", "b:0"], ["b:0"]]  # the headline's article is set aside
