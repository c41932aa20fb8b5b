"""Eval metrics. Each function's docstring states its exact definition; per-question values are floats in
[0, 1] (or None when the metric does not apply), and set-level values are means over the questions where
the metric applies unless the docstring says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.answer.markers import split_markers, split_sentences
from rag.markup import neutralise
from rag.text.normalize import normalize_text
from rag.types import Answer, Article, Citation

MARKER = re.compile(r"\[(\d+)\]")


# ---- retrieval ----------------------------------------------------------------------------------
def _dedup(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def hits_at_k(retrieved: Sequence[str], gold: set[str], k: int) -> float | None:
    """Hits@k: 1.0 if any gold article id is among the first ``k`` distinct retrieved article ids, else 0.0.
    None when the question has no gold article."""
    if not gold:
        return None
    return float(any(a in gold for a in _dedup(retrieved)[:k]))


def mrr_at_k(retrieved: Sequence[str], gold: set[str], k: int = 10) -> float | None:
    """MRR@k: 1/r for the rank r (1-based, over distinct article ids) of the first gold article if r <= k,
    else 0.0. None when the question has no gold article."""
    if not gold:
        return None
    for rank, a in enumerate(_dedup(retrieved)[:k], start=1):
        if a in gold:
            return 1.0 / rank
    return 0.0


def recall_at_k(retrieved: Sequence[str], gold: set[str], k: int) -> float | None:
    """Recall@k: |gold ∩ first k distinct retrieved article ids| / |gold|. None without gold articles."""
    if not gold:
        return None
    return len(gold & set(_dedup(retrieved)[:k])) / len(gold)


def _squash(text: str) -> str:
    return " ".join(normalize_text(text).split()).casefold()


def multihop_official_hit(chunk_texts: Sequence[str], facts: Sequence[str], k: int) -> float | None:
    """MultiHop-RAG official Hits@k (Tang & Yang 2024): 1.0 when any gold evidence ``fact`` lies inside one of
    the first ``k`` retrieved chunks (substring test after whitespace/typography normalisation and
    case-folding), else 0.0. None without gold facts (null queries)."""
    if not facts:
        return None
    chunks = [_squash(c) for c in chunk_texts[:k]]
    return float(any(_squash(f) in c for f in facts for c in chunks))


# ---- answers ------------------------------------------------------------------------------------
def answer_text(answer: str) -> str:
    """The answer without its ``[n]`` markers, typography folded (curly quotes, dashes), case-folded."""
    text = normalize_text(MARKER.sub(" ", answer))
    text = text.replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'")
    return " ".join(text.split()).casefold()


def _phrase(s: str) -> str:
    s = answer_text(s).strip().strip("\"'").strip()
    return s.replace(" & ", " and ")


def _spans(needle: str, haystack: str) -> list[tuple[int, int]]:
    """Where ``needle`` occurs as a whole phrase: not inside a longer word or number ("$5" is not in "$5.02")."""
    if not needle:
        return []
    pattern = (r"(?<!\w)" if needle[0].isalnum() else "") + re.escape(needle) + r"(?!\w|[.,]\d)"
    return [m.span() for m in re.finditer(pattern, haystack)]


def contains(needle: str, answer: str) -> bool:
    """True when ``needle`` appears in ``answer`` as a whole phrase, case-insensitively, ignoring [n] markers,
    quote style and ``&``/``and``."""
    return bool(_spans(_phrase(needle), _phrase(answer)))


def choice_correct(choices: Sequence[str], index: int, answer: str) -> bool:
    """Multiple-choice rule: the correct choice appears in the answer (see :func:`contains`) and no other
    choice does, except inside an occurrence of the correct one ("Eggs" inside "Eggs and milk" does not
    count as naming "Eggs" separately)."""
    text = _phrase(answer)
    right = _spans(_phrase(choices[index]), text)
    if not right:
        return False
    for i, choice in enumerate(choices):
        if i == index:
            continue
        for s, e in _spans(_phrase(choice), text):
            if not any(rs <= s and e <= re_ for rs, re_ in right):
                return False
    return True


def correct(
    answer: Answer,
    *,
    unanswerable: bool = False,
    all_of: Sequence[str] = (),
    any_of: Sequence[Sequence[str]] = (),
    choices: Sequence[str] | None = None,
    answer_index: int | None = None,
) -> float | None:
    """Answer correctness, 1.0 or 0.0:

    - unanswerable question: correct iff the engine abstained;
    - answerable question and the engine abstained: incorrect;
    - multiple choice (``choices`` + ``answer_index``): :func:`choice_correct`;
    - otherwise: every ``all_of`` string and at least one alternative of every ``any_of`` group appear in the
      answer text (:func:`contains`). None when an answerable question has no gold at all.
    """
    if unanswerable:
        return float(answer.abstained)
    if answer.abstained:
        return 0.0
    if choices is not None and answer_index is not None:
        return float(choice_correct(choices, answer_index, answer.answer))
    if not all_of and not any_of:
        return None
    ok = all(contains(s, answer.answer) for s in all_of) and all(
        any(contains(alt, answer.answer) for alt in group) for group in any_of
    )
    return float(ok)


class Expected(Protocol):
    """What an eval item expects of its answer (``evals.sets.EvalItem`` has these fields)."""

    unanswerable: bool
    all_of: list[str]
    any_of: list[list[str]]
    choices: list[str] | None
    answer_index: int | None


def item_correct(answer: Answer, item: Expected) -> float | None:
    """:func:`correct` with the expectations of an eval item."""
    return correct(
        answer,
        unanswerable=item.unanswerable,
        all_of=item.all_of,
        any_of=item.any_of,
        choices=item.choices,
        answer_index=item.answer_index,
    )


@dataclass
class AbstentionCounts:
    """Counts behind the abstention metrics."""

    abstained_unanswerable: int = 0  # true positives
    abstained_answerable: int = 0  # false abstentions
    unanswerable: int = 0
    answerable: int = 0

    def add(self, unanswerable: bool, abstained: bool) -> None:
        if unanswerable:
            self.unanswerable += 1
            self.abstained_unanswerable += abstained
        else:
            self.answerable += 1
            self.abstained_answerable += abstained


def abstention_precision(c: AbstentionCounts) -> float | None:
    """Abstention precision: abstentions on unanswerable questions / all abstentions. None if none."""
    total = c.abstained_unanswerable + c.abstained_answerable
    return c.abstained_unanswerable / total if total else None


def abstention_recall(c: AbstentionCounts) -> float | None:
    """Abstention recall: abstentions on unanswerable questions / unanswerable questions. None if none."""
    return c.abstained_unanswerable / c.unanswerable if c.unanswerable else None


def false_abstention_rate(c: AbstentionCounts) -> float | None:
    """False-abstention rate: abstentions on answerable questions / answerable questions. None if none."""
    return c.abstained_answerable / c.answerable if c.answerable else None


# ---- citations ----------------------------------------------------------------------------------
def markers_resolve(answer: Answer) -> float | None:
    """1.0 when every ``[n]`` marker in the answer text names a returned citation (``Citation.n``), else
    0.0. None for an abstention; an answer with no marker at all counts as 0.0 (nothing is cited)."""
    if answer.abstained:
        return None
    numbers = {int(n) for n in MARKER.findall(answer.answer)}
    if not numbers:
        return 0.0
    return float(numbers <= {c.n for c in answer.citations})


def quote_verbatim(citation: Citation, article: Article | None) -> bool:
    """A quote is verbatim when its article exists and ``article.text[start:end]`` is the quote (offsets given;
    ``article.title[start:end]`` for a quote of the title, the authors joined by ", " for a byline);
    without offsets, when the quote occurs in ``article.text``. The quote sent is the article text with
    marker-like ``[n]`` and markdown links neutralised (``rag.markup``), so the article side is compared in that
    form too."""
    if article is None or not citation.quote:
        return False
    if citation.part == "byline":
        return neutralise(", ".join(article.authors)) == citation.quote
    if citation.part == "title":
        return neutralise((article.title or "")[citation.start or 0 : citation.end]) == citation.quote
    if citation.start is not None and citation.end is not None:
        return neutralise(article.text[citation.start : citation.end]) == citation.quote
    return citation.quote in neutralise(article.text)


def quotes_verbatim(answer: Answer, get_article: Callable[[str], Article | None]) -> float | None:
    """Share of the answer's citations whose quote is verbatim in its article (:func:`quote_verbatim`).
    None when the answer has no citations."""
    if not answer.citations:
        return None
    return sum(quote_verbatim(c, get_article(c.article_id)) for c in answer.citations) / len(answer.citations)


# ---- ALCE citation precision / recall -------------------------------------------------------------
SupportFn = Callable[[str, str], bool]  # (passage text, statement) -> supported?


def statements(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences, each with the citation numbers attached to it (markers right after a sentence's
    final punctuation belong to that sentence, as the answerers write them).

    Parsed with the product's own parser (``rag.answer.markers``), so the metric reads an answer exactly
    as the citation verifier does: the same sentence boundaries, the same ``[1][2]`` / ``[1, 2]`` markers."""
    out: list[tuple[str, list[int]]] = []
    for sentence in split_sentences(answer):
        claim, numbers = split_markers(sentence)
        if claim:
            out.append((" ".join(claim.split()), numbers))
    return out


@dataclass
class CitationScores:
    recall: float  # supported sentences / sentences
    precision: float | None  # precise citations / citations (None: no citations)
    sentences: int
    citations: int


def alce_citation_scores(
    answer: Answer, passage_of: Callable[[Citation], str | None], support: SupportFn
) -> CitationScores | None:
    """Citation recall and precision as defined by ALCE (Gao et al. 2023, ``compute_autoais``):

    - each answer sentence with citations C is *supported* when the concatenation of the cited passages
      supports it (``support``); a sentence with no citation, or citing a number with no source, is not.
      Citation recall = supported sentences / sentences.
    - a citation c of a supported sentence with |C| > 1 is *irrelevant* when c alone does not support the
      sentence and C without c still does; every other citation of a supported sentence is precise, and
      citations of unsupported sentences are not. Citation precision = precise citations / all citations.

    ``passage_of`` gives the cited passage's text (the cited chunk; None if it cannot be found). None for an
    abstention or an empty answer.
    """
    if answer.abstained or not answer.answer.strip():
        return None
    by_n = {c.n: c for c in answer.citations}
    sents = statements(answer.answer)
    if not sents:
        return None
    supported = precise = total = 0
    for text, refs in sents:
        total += len(refs)
        passages = [passage_of(by_n[n]) if n in by_n else None for n in refs]
        if not refs or any(p is None for p in passages):
            continue
        texts = [p for p in passages if p is not None]
        joint = support("\n".join(texts), text)
        supported += joint
        if joint and len(refs) > 1:
            for i, passage in enumerate(texts):
                alone = support(passage, text)
                rest = "\n".join(texts[:i] + texts[i + 1 :])
                precise += alone or not support(rest, text)
        else:
            precise += joint * len(refs)
    return CitationScores(
        recall=supported / len(sents),
        precision=precise / total if total else None,
        sentences=len(sents),
        citations=total,
    )


# ---- latency -----------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by linear interpolation between closest ranks (``numpy.percentile``), the one the
    eval reports and the benchmarks both print; None if empty."""
    return float(np.percentile(values, p)) if len(values) else None


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
