"""Citation verification: every sentence of an LLM answer is checked against the passages it cites.

For each sentence (``Dell gains the orders [2].``):

1. markers pointing at no passage (``[9]`` with 5 passages) are removed;
2. the sentence is scored against each passage it cites by a *support test* (``rag/answer/support.py``); the
   markers of passages that do not support it are removed, and if none supports it the sentence is
   ``unsupported``: kept and listed in ``Answer.unsupported`` (``NEWSQA_UNSUPPORTED=flag``) or dropped
   (``drop``), never with a citation;
3. a sentence without markers is scored against every passage; if one supports it, it gets that marker;
4. citations are renumbered 1..k in order of first use, each quoting the passage sentence that best
   supports it (verbatim article text with its offsets) and carrying its support score.

Sentences are checked one at a time, so a streamed reply is verified as it arrives. The caller
(``rag/answer/llm.py``) falls back to the extractive answerer when no supported sentence survives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer.markers import is_abstention, split_markers, with_markers
from rag.answer.support import SupportTest
from rag.types import Citation, Passage


@dataclass
class VerifiedSentence:
    """One verified sentence: ``text`` as it goes to the user (renumbered markers; None = dropped)."""

    text: str | None
    claim: str
    supported: bool
    abstention: bool = False
    cited: list[int] = field(default_factory=list)  # 0-based passage indexes kept


@dataclass
class _Citing:
    n: int
    score: float
    start: int
    end: int


class CitationVerifier:
    """Checks sentences one at a time (so a stream can be verified as it arrives) and builds the citations."""

    def __init__(self, passages: list[Passage], test: SupportTest, threshold: float, mode: str = "flag") -> None:
        self.passages = passages
        self.test = test
        self.threshold = threshold
        self.mode = mode
        self._cites: dict[int, _Citing] = {}  # passage index -> citation so far
        self.unsupported: list[str] = []
        self.supported = 0
        self.removed_markers = 0
        self.repaired = 0

    def check(self, sentence: str) -> VerifiedSentence:
        """Verify one sentence as written by the model."""
        claim, numbers = split_markers(sentence)
        if not claim:
            return VerifiedSentence(None, claim, supported=False)
        valid = [n - 1 for n in numbers if 1 <= n <= len(self.passages)]
        self.removed_markers += len(numbers) - len(valid)
        if not valid and is_abstention(claim):
            return VerifiedSentence(claim, claim, supported=False, abstention=True)
        candidates = valid or list(range(len(self.passages)))
        scores = self.test.support(claim, [self.passages[i] for i in candidates]) if candidates else []
        backing = [(i, s) for i, s in zip(candidates, scores, strict=True) if s.score >= self.threshold]
        if not valid and backing:  # no marker: the best supporting passage's marker is added
            backing = [max(backing, key=lambda pair: pair[1].score)]
            self.repaired += 1
        if not backing:
            self.unsupported.append(claim)
            return VerifiedSentence(claim if self.mode == "flag" else None, claim, supported=False)
        self.supported += 1
        marks = []
        for i, s in backing:
            cite = self._cites.get(i)
            if cite is None:
                cite = self._cites[i] = _Citing(len(self._cites) + 1, s.score, s.start, s.end)
            elif s.score > cite.score:
                cite.score, cite.start, cite.end = s.score, s.start, s.end
            marks.append(cite.n)
        cited = [i for i, _ in backing]
        return VerifiedSentence(with_markers(claim, sorted(marks)), claim, supported=True, cited=cited)

    def citations(self) -> list[Citation]:
        """One citation per passage that supports a kept sentence, numbered as in the text."""
        out = []
        for i, c in sorted(self._cites.items(), key=lambda item: item[1].n):
            p = self.passages[i]
            out.append(Citation.quoting(p, c.n, p.start + c.start, p.start + c.end, support=c.score))
        return out
