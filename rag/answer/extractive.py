"""The extractive answerer: the best 1-4 evidence sentences, verbatim, each with its citation.

Each candidate sentence (from the retrieved passages, deduplicated across overlapping chunks and
syndicated copies) is scored in [0, 1]:

    score = 0.40 * coverage  (idf-weighted share of the question's terms in the sentence)
          + 0.10 * context   (the same share for the sentence's passage and title)
          + 0.35 * semantic  (cosine of question and sentence vectors; shortlist only)
          + 0.15 * cue       (the sentence carries what the question asks for: a new name, a date, a number)

The answer is the best sentence plus up to three more that score close to it and are not redundant.

The sentence vectors come from the static embedder distilled from MiniLM (``static_vectors``) when the
engine provides one: a table lookup instead of a transformer pass per question. Measured side by side on the
sample + RealTime QA store, same retrieved passages (benchmarks/answer_quality.py has the full run): answer
step p50 16 ms vs 324 ms on a loaded machine, RealTime QA correct 0.549 vs 0.544, false abstention 0.005 vs
0.029, same-topic unanswerable abstention 0.113 vs 0.048, sample 0.875 both, the flagship answered both ways.
Scoring every candidate semantically instead of a shortlist of 5 changed none of those figures and cost 3x.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from rag.answer import ABSTAIN_TEXT, AnswerEvent, IdfFn
from rag.answer.answer_type import expected_type, instances
from rag.answer.byline import asks_for_author, byline_answer
from rag.answer.condense import condense_question, split_condensed
from rag.answer.cues import Cue, cue_match, question_cue
from rag.answer.places import asked_place, place_cue
from rag.answer.sentence_index import TextEmbedder
from rag.embedders import Embedder
from rag.markup import neutralise
from rag.settings import Settings
from rag.text.lexicon import QUESTION_STEMS
from rag.text.normalize import is_call_to_action, words
from rag.text.sentences import sentence_spans
from rag.text.tokens import tokenize
from rag.types import Answer, ChatMessage, Citation, Passage

W_COVERAGE, W_CONTEXT, W_SEMANTIC, W_CUE = 0.40, 0.10, 0.35, 0.15
SHORTLIST = 5  # sentences compared semantically per question (all of them: same figures, 3x the time)
MAX_SENTENCES = 4
ECHO_COVERAGE = 0.80  # a question in an article holding this share of the asked terms is the question again
CLOSE_TO_BEST = 0.80  # a further sentence joins the answer only if it scores this close to the best
REDUNDANT = 0.6  # token-set overlap above which two sentences say the same thing
CONTEXT_TERM_WEIGHT = 0.3
CONDITION_TERM_WEIGHT = 0.5
SCENE_SHARE = 0.75  # idf-weighted share of an if-clause's terms a passage must hold to set its scene
_IF_CLAUSE = re.compile(r"\b(if|unless)\b[^,?]*", re.IGNORECASE)


def question_terms(question: str) -> set[str]:
    return set(tokenize([question])[0]) - QUESTION_STEMS


def term_weights(question: str, idf: IdfFn) -> dict[str, float]:
    """Idf of each question term; terms a condensed follow-up borrowed from earlier turns count less, so "and
    who loses? (Supermicro xAI)" looks for losers, not for the earlier answer again, and the terms of an "if"
    clause set the scene (the main clause says what the answer must be about). In sorted order: which of two
    equally rare terms is "the rarest" must not depend on the process's hash seed."""
    asked, context = split_condensed(question)
    condition = _IF_CLAUSE.search(asked)
    main = _IF_CLAUSE.sub(" ", asked) if condition else asked
    weights = {t: idf(t) for t in sorted(question_terms(main))}
    parts = ((condition[0] if condition else "", CONDITION_TERM_WEIGHT), (context, CONTEXT_TERM_WEIGHT))
    for part, factor in parts:
        for t in sorted(question_terms(part) - weights.keys()):
            weights[t] = factor * idf(t)
    return weights


def cosine(embedder: TextEmbedder, a: str, b: str) -> float:
    """Cosine of two texts under ``embedder`` (unit vectors), floored at 0."""
    vectors = embedder.embed([a, b])
    return max(float(vectors[0] @ vectors[1]), 0.0)


def main_clause(question: str) -> str:
    """The asked question without its "if"/"unless" clause ("Who benefits if X loses Y?" -> "Who benefits ?")."""
    asked, _ = split_condensed(question)
    return " ".join(_IF_CLAUSE.sub(" ", asked).split())


def condition_only_terms(question: str) -> set[str]:
    """Terms that only the question's "if"/"unless" clause holds (not its main clause)."""
    asked, _ = split_condensed(question)
    condition = _IF_CLAUSE.search(asked)
    if not condition:
        return set()
    return question_terms(condition[0]) - question_terms(_IF_CLAUSE.sub(" ", asked))


@dataclass
class Candidate:
    passage: Passage
    rank: int
    start: int  # offset in the article text
    end: int
    text: str
    tokens: set[str] = field(default_factory=set)
    coverage: float = 0.0
    context: float = 0.0
    semantic: float = 0.0
    cue: float = 0.0
    score: float = 0.0
    in_title: bool = False  # the article's title: start/end are offsets in the title, not the text


def redundant(a: set[str], b: set[str]) -> bool:
    """Two sentences' token sets that say the same thing (overlap above ``REDUNDANT`` of the smaller one)."""
    return len(a & b) / max(min(len(a), len(b)), 1) > REDUNDANT


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def quotable_title(title: str) -> bool:
    """A headline that can be quoted as evidence: a statement of five words or more, not cut short ("...")
    as feed titles often are."""
    return words(title) >= 5 and not title.rstrip().endswith(("...", "…"))


def _folded(text: str) -> str:
    return text.casefold().replace("’", "'").replace("‘", "'")


def adds_to_body(title: str, question: str, body: str) -> bool:
    """Whether a headline holds an instance of the answer type asked for (``answer_type.instances``: "$6",
    "Elon Musk's") that its article's retrieved text ``body`` does not; a reason's cue words do not count."""
    kind = expected_type(question)
    if kind == "reason":
        return False
    folded = _folded(body)
    return any(_folded(instance) not in folded for instance in instances(kind, title, question))


def repeats_question(c: Candidate) -> bool:
    """Whether ``c`` is a question holding most of the asked terms: a quiz or an explainer asking it again
    ("Which company is being accused of turning off the AC ...?" in a news quiz) is no answer to it.
    Measured held-out: RealTime QA +1 question, nothing else changed (docs/measurements.md, session 7)."""
    return c.text.rstrip(" \"”’'").endswith("?") and c.coverage >= ECHO_COVERAGE


def candidate_sentences(passages: list[Passage]) -> list[Candidate]:
    """Whole sentences of the passages, each once (overlapping chunks and copies deduplicated), and each
    article's title: a headline often holds the figure asked for ("xAI reportedly shifts $6 billion AI server
    order ..." answers "how much is the order?" when no body sentence says it)."""
    seen: set[tuple[str, int]] = set()
    seen_text: set[str] = set()
    titled: set[str] = set()  # articles whose title is already a candidate
    out: list[Candidate] = []
    for rank, p in enumerate(passages):
        title = p.title or ""
        if p.article_id not in titled and quotable_title(title) and _norm(title) not in seen_text:
            titled.add(p.article_id)
            seen_text.add(_norm(title))
            out.append(Candidate(passage=p, rank=rank, start=0, end=len(title), text=title, in_title=True))
        for s, e in sentence_spans(p.text):
            text = p.text[s:e]
            key, norm = (p.article_id, p.start + s), _norm(text)
            if key in seen or norm in seen_text or words(text) < 5 or is_call_to_action(text):
                continue
            seen.add(key)
            seen_text.add(norm)
            out.append(Candidate(passage=p, rank=rank, start=p.start + s, end=p.start + e, text=text))
    return out


class ExtractiveAnswerer:
    """Answers with quoted evidence sentences; abstains when the best evidence is too weak."""

    def __init__(
        self,
        embedder: Embedder,
        settings: Settings,
        idf: IdfFn | None = None,
        sentence_embedder: TextEmbedder | None = None,
    ) -> None:
        self.embedder = embedder
        self.settings = settings
        self.idf = idf or (lambda token: 1.0)
        # Question and sentences compared with one model: the static one when given (no transformer pass).
        self.sentence_embedder: TextEmbedder = sentence_embedder or embedder

    def term_weights(self, question: str) -> dict[str, float]:
        return term_weights(question, self.idf)

    def score(self, question: str, passages: list[Passage]) -> list[Candidate]:
        """Candidates scored and sorted best first."""
        candidates = candidate_sentences(passages)
        if not candidates:
            return []
        weights = self.term_weights(question)
        # An "if" clause sets the scene: its terms must be in the passage (context), not in the answering
        # sentence. "Who benefits if Supermicro loses xAI?" is answered by "Dell ... reportedly benefits ...";
        # counting the rare "Supermicro" and "xAI" in the sentence picked sentences about them instead, once a
        # large corpus made those names rare (their idf outweighed "benefit" even at half weight).
        # Only where the passage holds (most of) the condition's terms: elsewhere the sentence is about
        # something else ("Parents could lose ... benefits" is not an answer about Supermicro).
        condition = condition_only_terms(question)
        sentence_weights = {t: w for t, w in weights.items() if t not in condition} or weights
        total = math.fsum(weights.values()) or 1.0
        asked, _ = split_condensed(question)
        cue: Cue = question_cue(asked)
        context_tokens = {id(p): set(tokenize([f"{p.title or ''}\n{p.text}"])[0]) for p in passages}
        for c in candidates:
            c.tokens = set(tokenize([c.text])[0])
            held = math.fsum(weights[t] for t in condition if t in context_tokens[id(c.passage)])
            in_scene = bool(condition) and held >= SCENE_SHARE * math.fsum(weights[t] for t in condition)
            counted = sentence_weights if in_scene else weights
            c.coverage = math.fsum(w for t, w in counted.items() if t in c.tokens) / (
                math.fsum(counted.values()) or 1.0
            )
            c.context = math.fsum(w for t, w in weights.items() if t in context_tokens[id(c.passage)]) / total
            c.cue = cue_match(cue, c.text, asked)
        # A headline is quoted only when it holds something of the kind asked (a new name, date or number) that
        # the article's retrieved text does not: a headline matches its story's terms so well that, quoted
        # whenever it holds such a thing, it outscored the body sentence saying the same in full.
        body: dict[str, str] = {}
        for p in passages:
            body[p.article_id] = f"{body.get(p.article_id, '')}\n{p.text}"
        candidates = [
            c
            for c in candidates
            if (not c.in_title or adds_to_body(c.text, asked, body[c.passage.article_id])) and not repeats_question(c)
        ]
        lexical = sorted(
            candidates, key=lambda c: W_COVERAGE * c.coverage + W_CONTEXT * c.context + W_CUE * c.cue, reverse=True
        )
        shortlist = lexical[:SHORTLIST]
        vectors = self.sentence_embedder.embed([question] + [c.text for c in shortlist])
        for c, sim in zip(shortlist, vectors[1:] @ vectors[0], strict=True):
            c.semantic = max(float(sim), 0.0)
        for c in candidates:
            c.score = W_COVERAGE * c.coverage + W_CONTEXT * c.context + W_SEMANTIC * c.semantic + W_CUE * c.cue
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def select(self, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence, then up to three close, non-redundant ones."""
        chosen: list[Candidate] = []
        for c in ranked:
            if len(chosen) == MAX_SENTENCES or (chosen and c.score < CLOSE_TO_BEST * chosen[0].score):
                break
            if any(redundant(c.tokens, o.tokens) for o in chosen):
                continue
            chosen.append(c)
        return chosen

    def missing_share(self, question: str, ranked: list[Candidate]) -> float:
        """Idf-weighted share of the question's terms found in none of the passages of the top 3 sentences.

        A question about a detail the articles never mention (how many episodes, which fine) usually keeps
        a rare term unmatched, even when the topic matches well."""
        seen: set[str] = set()
        for c in ranked[:3]:
            seen |= set(tokenize([f"{c.passage.title or ''}\n{c.passage.text}"])[0])
        weights = self.term_weights(question)
        return math.fsum(w for t, w in weights.items() if t not in seen) / (math.fsum(weights.values()) or 1.0)

    def model_similarity(self, question: str, best: Candidate) -> float:
        """The transformer's cosine of question and sentence, which ``abstain_semantic`` was calibrated on (the
        static vectors score lower: 0.58 where MiniLM gives 0.66); computed only when abstention hinges on it."""
        if self.sentence_embedder is self.embedder:
            return best.semantic
        return cosine(self.embedder, question, best.text)

    def abstains(self, question: str, ranked: list[Candidate]) -> bool:
        """No evidence, or the best evidence is too weak. Both thresholds were calibrated on RealTime QA (206
        answerable questions) against 62 unanswerable questions on the same stories
        (evals/data/realtimeqa_unanswerable.jsonl), picking the point with at most ~10% false abstention: see
        benchmarks/answers.py, which prints the sweep."""
        return (
            not ranked
            or ranked[0].score < self.settings.abstain_threshold
            or (
                self.missing_share(question, ranked) > self.settings.abstain_missing
                and self.model_similarity(question, ranked[0]) < self.settings.abstain_semantic
            )
        )

    def byline(self, question: str, ranked: list[Candidate]) -> Answer | None:
        """A "who wrote ..." question answered from the byline of the best-ranked article, when the evidence is
        on the question's topic (the threshold rules) and an article has one (``rag.answer.byline``)."""
        if not asks_for_author(question) or self.abstains(question, ranked):
            return None
        return byline_answer(question, [c.passage for c in ranked])

    def answer(self, question: str, passages: list[Passage], as_of: datetime | None = None) -> Answer:
        ranked = self.score(question, passages)
        if byline := self.byline(question, ranked):
            return byline
        if self.abstains(question, ranked):
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, mode="extractive")
        return render(question, self.select(by_place(question, ranked)))

    def stream(self, question: str, passages: list[Passage], as_of: datetime | None = None) -> Iterator[AnswerEvent]:
        answer = self.answer(question, passages)
        pieces = re.split(r"(?<=\]) ", answer.answer)
        for i, piece in enumerate(pieces):
            yield AnswerEvent("delta", text=piece if i == len(pieces) - 1 else piece + " ")
        yield AnswerEvent("done", answer=answer)

    def condense(self, messages: list[ChatMessage]) -> str:
        """The last user turn made standalone by the heuristic rewrite (no model to ask)."""
        return condense_question(messages)


def by_place(question: str, ranked: list[Candidate]) -> list[Candidate]:
    """``ranked`` re-scored, for a question asking for a country, US state or continent, with the place cue
    (``rag.answer.places.place_cue``: a place of that kind named, or only a demonym) instead of the generic
    "new capitalised words" cue, best first; unchanged for other questions. Applied once the decision to answer
    is made: the thresholds and the evidence check keep the generic cue they were calibrated and fitted on (fed
    the place cue, a refitted evidence check refused 0.484 of the same-topic unanswerable questions instead of
    0.581, for one more RealTime QA answer; see docs/measurements.md)."""
    asked, _ = split_condensed(question)
    kind = asked_place(asked)
    if kind is None:
        return ranked
    for c in ranked:
        placed = place_cue(kind, c.text, asked)
        c.score += W_CUE * (placed - c.cue)
        c.cue = placed
    return sorted(ranked, key=lambda c: c.score, reverse=True)


def render(question: str, chosen: list[Candidate]) -> Answer:
    """Answer text with one ``[n]`` per sentence and one citation per quoted sentence."""
    citations = []
    parts = []
    for n, c in enumerate(chosen, start=1):
        if c.in_title:
            citations.append(Citation.quoting_title(c.passage, n, support=round(c.score, 4)))
        else:
            citations.append(Citation.quoting(c.passage, n, c.start, c.end, support=round(c.score, 4)))
        text = neutralise(c.text)  # article text cannot pose as a marker or link
        if c.in_title and not text.rstrip().endswith((".", "!", "?")):
            text += "."  # a headline quoted as a sentence of the answer
        parts.append(f"{text} [{n}]")
    return Answer(question=question, answer=" ".join(parts), citations=citations, mode="extractive")
