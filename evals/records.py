"""What an eval run records per question: one typed record, read by the reports and written to report.json.

``QuestionRecord.model_json_schema()`` is the schema of each entry of report.json's ``questions``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from rag.types import Citation


class Gold(BaseModel):
    """What a question's answer and retrieval are scored against."""

    article_ids: list[str] = Field(default_factory=list, description="Gold article ids as the store knows them.")
    titles: list[str] = Field(default_factory=list)
    all_of: list[str] = Field(default_factory=list)
    any_of: list[list[str]] = Field(default_factory=list)
    choices: list[str] | None = None
    answer_index: int | None = None

    def expected(self, unanswerable: bool) -> str:
        """The expected answer in words: ``abstain``, the correct choice, or the required strings."""
        if unanswerable:
            return "abstain"
        if self.choices and self.answer_index is not None:
            return self.choices[self.answer_index]
        return "; ".join(self.all_of + [" or ".join(g) for g in self.any_of])


class QuestionRecord(BaseModel):
    """One question of a run: what was asked, what came back, what it was scored against, and the scores."""

    id: str
    type: str
    question: str
    as_of: str | None = None
    unanswerable: bool = False
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    retrieved_article_ids: list[str] = Field(default_factory=list, description="Ranked, best passage per article.")
    retrieved_chunk_ids: list[str] = Field(default_factory=list)
    gold: Gold = Field(default_factory=Gold)
    latency_ms: float
    metrics: dict[str, float | None] = Field(default_factory=dict, description="Per-question metric -> score.")

    def metric(self, name: str) -> float | None:
        """A metric's score; None when it does not apply to this question."""
        return self.metrics.get(name)
