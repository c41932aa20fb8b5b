"""The lexical+embedding support judge, with the real bundled model."""

from __future__ import annotations

from evals.judge import LexicalEmbeddingJudge

PASSAGE = (
    "Dell and Supermicro used to supply Musk's companies, including xAI and Tesla. "
    "After the Department of Justice began to probe Supermicro, its stock plummeted 35% in one day."
)


def test_judge_accepts_quotes_and_close_paraphrases(embedder):
    judge = LexicalEmbeddingJudge(embedder)
    assert judge(PASSAGE, "Supermicro's stock plummeted 35% in one day.")  # verbatim
    assert judge(PASSAGE, "Supermicro stock plummeted 35% in a single day after the Department of Justice probe.")
    assert "lexical+embedding" in judge.name and "0.6" in judge.name


def test_judge_rejects_wrong_numbers_unrelated_text_and_empty_input(embedder):
    judge = LexicalEmbeddingJudge(embedder)
    assert not judge(PASSAGE, "Supermicro's stock plummeted 53% in one day.")  # number not in the passage
    assert not judge(PASSAGE, "Wistron expands its factories in Hsinchu and Mexico.")
    assert not judge(PASSAGE, "")
    assert not judge("", "Supermicro's stock plummeted.")
