"""QueryEngine.answer: the one consumer of the engine's stream, over a real store with the seed article."""

from __future__ import annotations

from ingest.engine import Engine
from tests.builders import FLAGSHIP


def test_answer_returns_the_final_answer_with_the_passages_it_was_drawn_from(seeded_engine: Engine):
    answered = seeded_engine.answer(FLAGSHIP)
    assert not answered.answer.abstained
    assert [p.chunk_id for p in answered.passages] == [p.chunk_id for p in seeded_engine.search(FLAGSHIP)]
    drawn_from = {p.chunk_id for p in answered.passages}
    assert {c.chunk_id for c in answered.answer.citations} <= drawn_from
    assert answered.answer.as_of is not None and answered.answer.timings["total_ms"] > 0


def test_ask_is_the_answer_of_answer(seeded_engine: Engine):
    assert seeded_engine.ask(FLAGSHIP).answer == seeded_engine.answer(FLAGSHIP).answer.answer


def test_answer_with_on_delta_streams_text_that_adds_up_to_the_same_answer(seeded_engine: Engine):
    question = "What happened to Supermicro's stock?"  # answered with two sentences: two deltas
    deltas: list[str] = []
    streamed = seeded_engine.answer(question, on_delta=deltas.append)
    assert len(deltas) > 1 and "".join(deltas) == streamed.answer.answer
    assert streamed.answer.answer == seeded_engine.answer(question).answer.answer
    assert [p.chunk_id for p in streamed.passages] == [p.chunk_id for p in seeded_engine.answer(question).passages]


def test_stream_yields_sources_then_deltas_then_one_done(seeded_engine: Engine):
    kinds = [event.kind for event in seeded_engine.stream(FLAGSHIP)]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("done") == 1
    assert set(kinds[1:-1]) == {"delta"}
