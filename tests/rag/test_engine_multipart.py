"""Two-part questions through the real engine (real Chroma, real MiniLM) over the seed article."""

from __future__ import annotations

from ingest.engine import Engine

TWO_PART = (
    "Which company did xAI shift its AI server orders to, and which company makes motherboards for Dell's AI servers?"
)


def test_each_part_is_answered_from_its_own_evidence_with_citations_that_resolve(seeded_engine: Engine) -> None:
    answered = seeded_engine.answer(TWO_PART)
    answer = answered.answer
    assert not answer.abstained
    assert "Dell" in answer.answer and "Wistron" in answer.answer
    numbers = sorted({c.n for c in answer.citations})
    assert numbers == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
    assert {c.chunk_id for c in answer.citations} <= {p.chunk_id for p in answered.passages}


def test_a_part_the_article_does_not_answer_is_named_while_the_other_is_answered(seeded_engine: Engine) -> None:
    answer = seeded_engine.ask(
        "Which company did xAI reportedly shift its AI server orders to, and who won the 2022 World Cup final?"
    )
    assert not answer.abstained
    assert "Dell" in answer.answer
    assert "do not answer “Who won the 2022 World Cup final?”" in answer.answer


def test_streaming_a_two_part_question_sends_the_same_answer(seeded_engine: Engine) -> None:
    events = list(seeded_engine.stream(TWO_PART))
    assert [e.kind for e in events] == ["sources", "delta", "done"]
    final = events[-1].answer
    assert final is not None and events[1].text == final.answer == seeded_engine.ask(TWO_PART).answer
