"""Multi-part questions are split into parts; later parts borrow the first part's content words."""

from __future__ import annotations

import pytest

from rag.answer.parts import split_parts

TABLE = [
    ("Who caught the ball, and which pitcher gave it up?", ["Who caught the ball?", "Which pitcher gave it up? (caught ball)"]),
    ("Which company bought Twitter and how much did it pay?",
     ["Which company bought Twitter?", "How much did it pay? (company bought Twitter)"]),
    ("When is the deadline? Who set it?", ["When is the deadline?", "Who set it? (deadline)"]),
    ("Who benefits if Supermicro loses xAI?", ["Who benefits if Supermicro loses xAI?"]),
    ("Who are Dell and Wistron?", ["Who are Dell and Wistron?"]),
    ("What did the Fed do, and why?", ["What did the Fed do, and why?"]),  # a one-word part is not split off
    ("and who loses? (Supermicro xAI)", ["and who loses? (Supermicro xAI)"]),  # condensed follow-up
]


@pytest.mark.parametrize(("question", "parts"), TABLE)
def test_split_parts(question, parts):
    assert split_parts(question) == parts
