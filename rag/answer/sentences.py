"""The sentence-level extractive answerer: every sentence of the retrieved articles scored by the learned
model, and whether to answer at all decided by the evidence check (``rag.answer.evidence``), which weighs the
hand-weighted ranking's signals with the learned model's best probability (multi-part questions are split
before, by ``rag.answer.multipart``, which calls :meth:`answer` once per part).

Two ways to pick the quoted sentences: ``pick_by="hand"`` (``NEWSQA_ANSWER_SCORER=hybrid``, the default) quotes
the hand-weighted answerer's best sentence and its further picks from the same article (:func:`one_story`),
once its thresholds and then the check pass, plus the learned model's best sentence when they do not already say
it (:meth:`SentenceAnswerer.with_learned_best`); ``pick_by="learned"`` quotes the learned model's selection plus
the hand-weighted best. Held-out figures (sample + RealTime QA store, both models fitted without each question's
fold, session 9): hybrid RealTime QA correct 0.655 (0.524 before session 6), false abstention 0.044, same-topic
unanswerable abstention 0.597, sample 1.0 / abstention 0.75, two-part 0.85, and the flagship; learned 0.607 /
0.039 / 0.597 / 0.917 / 0.75, and the flagship. A "how many X?" question needs a sentence that counts X
(:meth:`SentenceAnswerer.counted`); a best sentence that only refers to the answer is led by the sentence of its
article that names it (``rag.answer.leads``: an antecedent, a full name, a country named instead of its demonym);
a recent report's sentence leads over a month-old one that scores not much higher (:func:`prefer_recent`), and
one that other retrieved articles also report gains on one only its article has (``rag.answer.corroboration``).
Details in docs/measurements.md.

It is an ``ExtractiveAnswerer`` (``answer``/``stream``; ``score`` is the hand-weighted ranking, ``rank`` the
learned one) and is what ``load_answerer`` returns when a sentence index is available (``Engine`` provides one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from rag.answer.answer_type import counted_noun, expected_type, quantifies
from rag.answer.base import ABSTAIN_TEXT
from rag.answer.condense import split_condensed
from rag.answer.corroboration import corroborated
from rag.answer.evidence import evidence_features, load_evidence_check
from rag.answer.extractive import MAX_SENTENCES, ExtractiveAnswerer, by_place, cosine, redundant, render
from rag.answer.extractive import Candidate as HandCandidate
from rag.answer.features import Candidate, candidates, featurize, focus_terms, term_weights
from rag.answer.leads import LeadSentences
from rag.answer.scorer import Scorer, hand_scorer, load_scorer
from rag.answer.sentence_index import ArticleSentences
from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Answer, Citation, Passage

STALE_DAYS, RECENT_DAYS = 30, 7  # a best sentence this much older than the newest article yields to a recent one
RECENT_RATIO, RECENT_LOOKAHEAD = 0.7, 10  # ... scoring within this share of it, among this many
COUNT_LOOKAHEAD = 10  # sentences of each ranking searched for one that counts what a "how many" question asks
ChunkLocator = Callable[[str, int, int], tuple[str, int] | None]  # (article, start, end) -> (chunk id, index)


def select(cands: list[Candidate], probs: np.ndarray, scorer: Scorer) -> list[Candidate]:
    """The best sentence, then up to ``max_sentences - 1`` more within ``join_ratio`` of it, not redundant."""
    order = np.argsort(-probs, kind="stable")
    chosen: list[Candidate] = []
    for i in order:
        c = cands[int(i)]
        c.score = float(probs[int(i)])
        if len(chosen) == scorer.max_sentences or (chosen and c.score < scorer.join_ratio * chosen[0].score):
            break
        if any(redundant(c.tokens, o.tokens) for o in chosen):
            continue
        chosen.append(c)
    return chosen


def abstains(question: str, best: Candidate | None, p_best: float, scorer: Scorer) -> bool:
    """Abstain when the best probability is low, or when the question's names are not in the evidence."""
    if best is None or p_best < scorer.abstain_below:
        return True
    need = float(scorer.meta.get("require_entity_article", 0.0))
    return bool(best.features.get("has_entity")) and best.features.get("entity_article", 1.0) < need


def prefer_recent(ranked: list[HandCandidate]) -> list[HandCandidate]:
    """``ranked`` with a recent article's sentence first when the best comes from an article more than
    ``STALE_DAYS`` older than the newest retrieved one and a sentence of an article at most ``RECENT_DAYS`` older
    scores within ``RECENT_RATIO`` of it among the top ``RECENT_LOOKAHEAD``. A news question asks about the latest
    report: a best sentence from an article over a month older than the question was right for 9 of 28 RealTime
    QA questions, from one at most a week older for 108 of 160 ("Which high-ranking US official tested positive
    for Covid-19 this week?" was answered from May's Susan Rice story in July). Only the order of the quoted
    sentences changes, not whether to answer. Measured held-out: RealTime QA +3 / -1 questions (dev +1 / test +1;
    the same with 30/7/0.6-0.8 and 60/14/0.5), nothing else changed."""
    dates = [c.passage.published for c in ranked if c.passage.published is not None]
    if not ranked or not dates or ranked[0].passage.published is None:
        return ranked
    newest = max(dates)

    def age_days(c: HandCandidate) -> float | None:
        published = c.passage.published
        return None if published is None else (newest - published).total_seconds() / 86400

    best_age = age_days(ranked[0])
    if best_age is None or best_age <= STALE_DAYS:
        return ranked
    floor = RECENT_RATIO * ranked[0].score
    for i, c in enumerate(ranked[1:RECENT_LOOKAHEAD], start=1):
        age = age_days(c)
        if age is not None and age <= RECENT_DAYS and c.score >= floor:
            return [c, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def _says_same(a: Candidate | HandCandidate, b: HandCandidate) -> bool:
    """Whether ``a`` (either ranking's) says what the hand-form ``b`` says: the same span of the same article (a
    learned-ranking candidate is never a title), or mostly the same words (a syndicated copy, a near repeat)."""
    same_span = a.passage.article_id == b.passage.article_id and a.start == b.start
    if same_span and getattr(a, "in_title", False) == b.in_title:
        return True
    return redundant(a.tokens, b.tokens)


def one_story(chosen: list[HandCandidate]) -> list[HandCandidate]:
    """The best sentence and the chosen sentences of its article. Close-scoring sentences of other articles were
    mostly other events on the same topic (last year's Covid emergency under "which virus ... this week?"); the
    learned ranking's best sentence (:meth:`SentenceAnswerer.with_learned_best`) is the one quote that may come
    from another article."""
    return [c for c in chosen if c.passage.article_id == chosen[0].passage.article_id] if chosen else chosen


def _safe(text: str) -> str:
    """Article text quoted in our own words: no citation markers, links or brackets."""
    return re.sub(r"[\[\]<>]|https?://\S+", "", text).strip()


def _asked_about(question: str) -> str:
    asked, _ = split_condensed(question)
    return asked.strip().rstrip("?").strip()


def _label(c: Candidate | HandCandidate, max_words: int = 14) -> str:
    """How an abstention names a close article: its title, else the opening words of its closest sentence;
    then its outlet and date."""
    p = c.passage
    if p.title:
        what = f"“{_safe(p.title)}”"
    else:
        words = _safe(c.text).split()
        what = "“" + " ".join(words[:max_words]) + ("…”" if len(words) > max_words else "”")
    where = ", ".join(x for x in (_safe(p.source or ""), p.published.date().isoformat() if p.published else "") if x)
    return f"{what} ({where})" if where else what


def abstention_text(question: str, ranked: Sequence[Candidate | HandCandidate]) -> str:
    """Say what the closest articles do cover, and what they do not."""
    labels: list[str] = []
    seen: set[str] = set()
    for c in ranked:
        if c.passage.article_id not in seen:
            seen.add(c.passage.article_id)
            labels.append(_label(c))
        if len(labels) == 2:
            break
    if not labels:
        return ABSTAIN_TEXT
    return (
        f"{ABSTAIN_TEXT} The closest articles report {' and '.join(labels)}, but not this: "
        f"{_safe(_asked_about(question))}?"
    )


class SentenceAnswerer(ExtractiveAnswerer):
    """Extractive answers from every sentence of the retrieved articles (precomputed sentence vectors)."""

    def __init__(
        self,
        embedder: Embedder,
        settings: Settings,
        idf=None,  # type: ignore[no-untyped-def]
        sentences_of: Callable[[str], ArticleSentences | None] | None = None,
        locate_chunk: ChunkLocator | None = None,
        scorer: Scorer | None = None,
        vector_embedder: Embedder | None = None,
        pick_by: str = "learned",
    ) -> None:
        self.vector_embedder = vector_embedder or embedder  # the embedder of the sentence vectors
        # The evidence check weighs the hand-weighted ranking's signals too, from the same sentence vectors.
        super().__init__(embedder, settings, idf=idf, sentence_embedder=self.vector_embedder)
        self.sentences_of = sentences_of or (lambda _aid: None)
        self.locate_chunk = locate_chunk
        self.leads = LeadSentences(self.sentences_of, self._span)
        self.scorer = scorer or load_scorer() or hand_scorer()
        # "hand": the hand-weighted answerer picks the sentences (it keeps answers the learned scorer loses, such
        # as the flagship over a one-article store) and this class only decides whether to answer.
        self.pick_by = pick_by
        # Whether the evidence answers at all (``evidence``); without the model file, the threshold rules.
        self.evidence_check = load_evidence_check("hybrid" if pick_by == "hand" else "learned")
        self._qcache: tuple[str, np.ndarray] | None = None

    def _qvec(self, question: str) -> np.ndarray:
        asked, context = split_condensed(question)
        text = f"{asked} {context}".strip()
        if self._qcache is None or self._qcache[0] != text:
            self._qcache = (text, self.vector_embedder.embed([text])[0])
        return self._qcache[1]

    def rank(self, question: str, passages: list[Passage]) -> tuple[list[Candidate], np.ndarray]:
        """Candidates best first, with their probabilities."""
        cands = candidates(passages, self.sentences_of)
        if not cands:
            return [], np.zeros(0)
        x = featurize(question, cands, self._qvec(question), self.idf)
        probs = self.scorer.probabilities(x)
        order = np.argsort(-probs, kind="stable")
        for c, p in zip(cands, probs, strict=True):
            c.score = float(p)
        return [cands[int(i)] for i in order], probs[order]

    def evidence(self, question: str, hand: list[HandCandidate], learned_p: float) -> dict[str, float]:
        """The evidence check's signals: the hand-weighted ranking ``hand`` (non-empty) and the learned
        scorer's best probability."""
        weights = self.term_weights(question)
        missing = self.missing_share(question, hand)
        return evidence_features(
            question, hand, weights, missing, learned_p, lambda a, b: cosine(self.sentence_embedder, a, b)
        )

    def _evidence_answers(self, question: str, hand: list[HandCandidate], probs: np.ndarray) -> bool:
        """The check's verdict; True when there is no check, or no learned probability (passages with no
        indexed sentences, such as an eval's gold context, which is not stored)."""
        if self.evidence_check is None or not len(probs) or not hand:
            return True
        return self.evidence_check.answers(self.evidence(question, hand, float(probs[0])))

    def _answer_one(
        self, question: str, passages: list[Passage]
    ) -> tuple[list[Candidate], list[Candidate], list[HandCandidate]]:
        """The learned selection (empty: abstain), the learned ranking and the hand-weighted one."""
        ranked, probs = self.rank(question, passages)
        if not ranked:
            return [], ranked, []
        hand = self.score(question, passages)
        if self.evidence_check is not None:
            if not self._evidence_answers(question, hand, probs):
                return [], ranked, hand
        elif abstains(question, ranked[0], float(probs[0]), self.scorer):
            return [], ranked, hand
        return select(ranked, probs, self.scorer), ranked, hand

    def answer(self, question: str, passages: list[Passage], as_of: datetime | None = None) -> Answer:
        if self.pick_by == "hand":
            return self._answer_by_hand(question, passages)
        chosen, ranked, hand = self._answer_one(question, passages)
        if not chosen:
            return Answer(
                question=question, answer=abstention_text(question, ranked), abstained=True, mode="extractive"
            )
        if not hand:
            return self._render(question, chosen)
        # The mirror of the hybrid answer: the learned selection, and the hand-weighted best sentence when the
        # selection does not already say it.
        picked = [self._as_hand(c) for c in chosen]
        best = hand[0]
        if not any(_says_same(best, c) for c in picked):
            picked = [*picked[: MAX_SENTENCES - 1], best]
        picked = self.leads.lead(question, self.counted(question, picked, hand, ranked))
        if not picked:
            return Answer(
                question=question, answer=abstention_text(question, ranked), abstained=True, mode="extractive"
            )
        return render(question, picked)

    def _answer_by_hand(self, question: str, passages: list[Passage]) -> Answer:
        """The hybrid answerer: hand-weighted sentences, sent when the threshold rules and then the evidence
        check pass. The thresholds catch evidence off the topic (and hold on a one-article store, where idf
        signals are degenerate); the check catches evidence on the topic that misses what is asked."""
        hand = self.score(question, passages)
        if byline := self.byline(question, hand):
            return byline
        if self.abstains(question, hand):
            return Answer(question=question, answer=abstention_text(question, hand), abstained=True, mode="extractive")
        # The learned ranking is only needed once the thresholds pass (it is the costly part).
        learned, probs = self.rank(question, passages)
        if not self._evidence_answers(question, hand, probs):
            return Answer(question=question, answer=abstention_text(question, hand), abstained=True, mode="extractive")
        hand = corroborated(by_place(question, hand), self.sentences_of, self.sentence_embedder)
        chosen = one_story(self.select(prefer_recent(hand)))
        picked = self.counted(
            question, self.with_learned_best(chosen, learned[0]) if learned else chosen, hand, learned
        )
        picked = self.leads.lead(question, picked)
        if not picked:
            return Answer(question=question, answer=abstention_text(question, hand), abstained=True, mode="extractive")
        return render(question, picked)

    def counted(
        self, question: str, picked: list[HandCandidate], hand: list[HandCandidate], learned: list[Candidate]
    ) -> list[HandCandidate]:
        """A "how many X?" question is answered only by a sentence that puts a number on X ("31 men", "10,000
        monkeypox cases"): ``picked`` when one of its sentences does, else the best such sentence among the top
        ``COUNT_LOOKAHEAD`` of either ranking, else nothing (abstain). Measured held-out: same-topic unanswerable
        abstention 0.468 -> 0.597 (+4 questions on each half of the stories), sample abstention 0.625 -> 0.75,
        RealTime QA correct unchanged, one more false abstention; before, every right answer to a RealTime QA
        "how many" question put its number on the noun and 5 of the 6 wrong ones did not."""
        noun = counted_noun(split_condensed(question)[0])
        if noun is None or any(quantifies(c.text, noun) for c in picked):
            return picked
        pool = [*hand[:COUNT_LOOKAHEAD], *(self._as_hand(c) for c in learned[:COUNT_LOOKAHEAD])]
        return next(([c] for c in pool if quantifies(c.text, noun)), [])

    def with_learned_best(self, chosen: list[HandCandidate], best: Candidate) -> list[HandCandidate]:
        """The hand-weighted selection, with the learned ranking's best sentence in its last place when the
        selection does not already say it. The two rankings err on different questions: their two best sentences
        hold a right one for 120 of 206 RealTime QA questions, either one alone for 101-102 (held-out folds)."""
        if any(_says_same(best, c) for c in chosen):
            return chosen
        return [*chosen[: MAX_SENTENCES - 1], self._as_hand(best)]

    def _as_hand(self, c: Candidate) -> HandCandidate:
        """A learned-ranking candidate in the hand-weighted answerer's form (its passage located), for ``render``."""
        located = self._span(c.passage, c.start, c.end, c.text)
        out = HandCandidate(passage=located, rank=c.rank, start=c.start, end=c.end, text=c.text, tokens=c.tokens)
        out.score = c.score
        return out

    def _span(self, passage: Passage, start: int, end: int, text: str) -> Passage:
        """``passage``'s article narrowed to ``text`` at ``start:end`` and placed in the chunk that holds it, so
        its citation quotes the span (``Citation.quoting`` slices the passage) from the right chunk."""
        located = self.locate_chunk(passage.article_id, start, end) if self.locate_chunk else None
        chunk_id, index = located or (passage.chunk_id, passage.index)
        return passage.model_copy(
            update={"chunk_id": chunk_id, "index": index, "text": text, "start": start, "end": end}
        )

    def _render(self, question: str, chosen: list[Candidate]) -> Answer:
        """One ``[n]`` per quoted sentence, each a verbatim slice of its article."""
        citations = [
            Citation.quoting(
                self._span(c.passage, c.start, c.end, c.text), n, c.start, c.end, support=round(c.score, 4)
            )
            for n, c in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(chosen, start=1))
        return Answer(question=question, answer=text, citations=citations, mode="extractive")


def answer_type_of(question: str) -> str:
    """Exposed for displays/debugging: the expected answer type of the question."""
    return expected_type(split_condensed(question)[0])


__all__ = ["SentenceAnswerer", "abstains", "abstention_text", "focus_terms", "select", "term_weights"]
