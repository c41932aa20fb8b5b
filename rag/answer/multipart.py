"""Questions that ask two things: split into parts, answer each from its own evidence, join with citations.

"How many men were arrested near the Pride event, and which group were they linked to?" asks for a number
and a name that usually sit in different sentences, often in different articles. Answered whole, one
retrieval and one best sentence serve the dominant part and the other is lost (the first build answered 0 of
5 such questions on a 60-question news set). Each part here gets its own retrieval and its own answer; the
answer joins them in order, renumbering each part's ``[n]`` so every marker still resolves, and says which
part the articles do not answer instead of abstaining on the whole question.

A later part that leans on the first ("and when was she arrested?") is made standalone the way a chat
follow-up is (``condense_question``): the first part's topic words are borrowed, at reduced weight.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.condense import split_condensed, with_topic
from rag.answer.markers import split_markers, split_sentences, with_markers
from rag.text.sentences import sentence_spans
from rag.types import Answer, Citation, Passage

# A second question starts after ", and" / "; and" / " and" with a question word or an auxiliary verb.
_WH = r"(?:who|whom|whose|what|which|when|where|why|how|did|does|do|is|are|was|were|will|would|can|could|has|have|had)"
_WH_WORD = r"(?:who|whom|whose|what|which|when|where|why|how)"
_PREPOSITION = r"(?:(?:in|at|on|near|since|from|for|by|to|with|of|under|after|before|until|during)\s+)"
# After a comma or semicolon, a question word or an auxiliary starts a new question ("..., and did it ...?");
# after a bare "and", only a question word does ("dropping a single and will reunite" is one question).
_JOINT = re.compile(
    rf"\s*[,;]\s*(?:and|but)\s+(?={_PREPOSITION}?{_WH}\b)|\s+and\s+(?={_PREPOSITION}?{_WH_WORD}\b)", re.IGNORECASE
)
MIN_PART_WORDS = 3
MAX_PARTS = 3
Span = tuple[str, str, int | None, int | None]  # (article id, "text" or "title", start, end) of a quote


def _as_question(text: str) -> str:
    text = text.strip().rstrip("?.!,; ").strip()
    return text[:1].upper() + text[1:] + "?" if text else ""


def split_question(question: str) -> list[str]:
    """The parts of ``question`` as questions of their own, in order; ``[question]`` when it asks one thing.

    Context sentences before the question ("A court ruled on Monday. How long ...?") stay with the first
    part. Only the question sentence is split, at a conjunction followed by a question word, and only when
    each piece is a question of at least three words (so "Who benefits if X loses Y?" stays whole).
    """
    text = question.strip()
    sentences = [text[start:end].strip() for start, end in sentence_spans(text)]
    asked = [s for s in sentences if s.endswith("?")]
    if not asked:
        return [question]
    context = " ".join(s for s in sentences[: sentences.index(asked[0])])
    pieces: list[str] = []
    for sentence in asked:
        for piece in _JOINT.split(sentence):
            pieces.append(piece)
    parts = [_as_question(p) for p in pieces]
    if len(parts) < 2 or len(parts) > MAX_PARTS or any(len(p.split()) < MIN_PART_WORDS for p in parts):
        return [question]
    if context:
        parts[0] = f"{context} {parts[0]}"
    return parts


def standalone_parts(parts: list[str]) -> list[str]:
    """Each later part with the first part's topic words borrowed: it is asked about the same story even when
    it does not say so ("What was the episode titled?"). The answerer weighs borrowed words below asked ones."""
    return [parts[0]] + [with_topic(p, parts[0]) for p in parts[1:]]


def not_answered_text(part: str) -> str:
    return f"The indexed articles do not answer “{part}”"


def join_answers(question: str, parts: list[str], answers: list[Answer]) -> Answer:
    """One answer: each part's sentences in order with renumbered markers; an unanswered part is named.

    A sentence that quotes only what an earlier part already quoted is not repeated (it answers both)."""
    texts: list[str] = []
    citations: list[Citation] = []
    number_of: dict[Span, int] = {}
    for part, answer in zip(parts, answers, strict=True):
        if answer.abstained:
            texts.append(not_answered_text(split_condensed(part)[0]) + ".")
            continue
        local = {c.n: c for c in answer.citations}
        for sentence in split_sentences(answer.answer):
            claim, numbers = split_markers(sentence)
            renumbered, repeated = [], True
            for n in numbers:
                cited = local.get(n)
                if cited is None:
                    continue
                key = _span(cited)
                if key not in number_of:
                    repeated = False
                    number_of[key] = len(citations) + 1
                    citations.append(cited.model_copy(update={"n": number_of[key]}))
                renumbered.append(number_of[key])
            if numbers and repeated:
                continue
            texts.append(with_markers(claim, renumbered) if numbers else claim)
    answered = [a for a in answers if not a.abstained]
    return Answer(
        question=question,
        answer=" ".join(texts),
        citations=citations,
        abstained=not answered,
        mode=answered[0].mode if answered else answers[0].mode,
        unsupported=[s for a in answers for s in a.unsupported],
        notice=next((a.notice for a in answers if a.notice), None),
    )


def _span(citation: Citation) -> Span:
    return (citation.article_id, citation.part, citation.start, citation.end)


def _quoted(answer: Answer) -> set[Span]:
    return set() if answer.abstained else {_span(c) for c in answer.citations}


def _holds(passage: Passage, span: Span) -> bool:
    """Whether ``passage`` can yield the quote ``span`` again (any passage of the article can yield its title)."""
    article_id, part, start, _ = span
    return article_id == passage.article_id and (part == "title" or passage.start <= (start or 0) < passage.end)


def answer_in_parts(
    question: str,
    parts: list[str],
    search: Callable[[str], list[Passage]],
    answer: Callable[[str, list[Passage]], Answer],
) -> tuple[Answer, list[Passage]]:
    """Retrieve and answer each part on its own; the joined answer and every part's passages (deduplicated).

    A later part whose answer only repeats what an earlier part quoted ("Who is its director?" answered again
    with "Netflix ... green lit ... a second season") is answered once more from the passages that do not hold
    those quotes, so it either finds its own evidence or is named as not answered."""
    answers: list[Answer] = []
    passages: dict[str, Passage] = {}
    quoted: set[Span] = set()
    standalone = standalone_parts(parts)
    for part in standalone:
        found = search(part)
        answered = answer(part, found)
        spans = _quoted(answered)
        if answers and spans and spans <= quoted:
            rest = [p for p in found if not any(_holds(p, span) for span in spans)]
            answered = answer(part, rest) if rest else answered.model_copy(update={"abstained": True})
        quoted |= _quoted(answered)
        answers.append(answered)
        for p in found:
            passages.setdefault(p.chunk_id, p)
    return join_answers(question, standalone, answers), list(passages.values())
