"""The sentence a reader needs before the best one: rules that put, in first place, the sentence of the best
sentence's article that names what the best sentence only refers to.

- :meth:`LeadSentences.antecedent`: "But those supermarket shelves are now empty" is led by the sentence before
  it that holds "supermarkets"; "Netflix announced that the wildly popular South Korean show is green lit",
  answering "which show?", by the nearest one before it holding a new name ("“Squid Game” is officially coming
  back.").
- :meth:`LeadSentences.full_name`: "..., Sunak said he was honored" by the earlier "... Rishi Sunak.".
- :meth:`LeadSentences.country_named`: "Iranian lawmakers have urged ...", answering "which country?", by the
  sentence naming Iran.

Each rule only adds a sentence of the same article, so it never changes whether to answer. Measured held-out
(docs/measurements.md): the antecedent rule +2 RealTime QA questions (session 7), +1 with the anaphor case
(session 9); full names +1 and two-part +1 (session 8); the named country +3 (session 9); none lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.answer_type import (
    anaphor,
    asked_noun,
    describes,
    expected_type,
    holds_figure,
    instances,
    question_words,
    refers_to,
    refers_to_figure,
)
from rag.answer.condense import split_condensed
from rag.answer.extractive import MAX_SENTENCES
from rag.answer.extractive import Candidate as HandCandidate
from rag.answer.places import demonym_kinds, demonym_places, named_places
from rag.answer.sentence_index import ArticleSentences
from rag.text.lexicon import SENTENCE_OPENERS
from rag.types import Passage

ANTECEDENT_REACH = 3  # sentences looked back for the one naming what the best sentence refers to
_ENDS_SENTENCE = re.compile(r"[.!?][\"”’']?$")
_OPENERS = "(?:" + "|".join(sorted(w.title() for w in SENTENCE_OPENERS if w.isalpha())) + ")"
SpanFn = Callable[[Passage, int, int, str], Passage]  # a passage narrowed to a span, placed in its chunk


class LeadSentences:
    """The lead-sentence rules over the sentence index (``sentences_of``); ``span`` places a quoted sentence in
    the chunk that holds it, so its citation comes from the right chunk."""

    def __init__(self, sentences_of: Callable[[str], ArticleSentences | None], span: SpanFn) -> None:
        self.sentences_of = sentences_of
        self.span = span

    def lead(self, question: str, picked: list[HandCandidate]) -> list[HandCandidate]:
        """``picked`` led by the sentences each rule finds for its best sentence (in article order, each once,
        none repeated further on), at most ``MAX_SENTENCES`` in all; unchanged when no rule finds one."""
        best = picked[0] if picked else None
        located = self._in_article(best) if best is not None and not best.in_title else None
        if best is None or located is None:
            return picked
        sents, at = located
        asked = split_condensed(question)[0]
        found: list[int] = []
        for rule in (self.antecedent, self.full_name, self.country_named):
            said = " ".join([*(sents.texts[i] for i in found), *(c.text for c in picked)])
            i = rule(asked, best, said, sents, at)
            if i is not None and i != at and i not in found:
                found.append(i)
        if not found:
            return picked
        starts = {int(sents.starts[i]) for i in found}
        rest = [c for c in picked if c.passage.article_id != best.passage.article_id or c.start not in starts]
        return [*(self._sentence(best, sents, i) for i in sorted(found)), *rest][:MAX_SENTENCES]

    def antecedent(self, asked: str, best: HandCandidate, said: str, sents: ArticleSentences, at: int) -> int | None:
        """What the best sentence refers back to: the figure just before it when it says "That’s how much ...";
        when it opens with a demonstrative description ("But those supermarket shelves ..."), the nearest of the
        ``ANTECEDENT_REACH`` sentences before it holding one of its words; when it describes what a "which X?"
        question asks by its noun ("the wildly popular South Korean show"), the nearest before it holding a new
        name."""
        if refers_to_figure(best.text):
            # The figure often stands alone before it ("TODAY’S NUMBER / $12.6 million"): not a whole sentence.
            before = at - 1
            return before if before >= 0 and holds_figure(sents.texts[before]) else None
        words = anaphor(best.text)
        if words:
            return _nearest_before(sents, at, lambda text: refers_to(text, words))
        noun = asked_noun(asked) if expected_type(asked) == "name" else None
        if noun is not None and describes(best.text, noun):
            return _nearest_before(
                sents, at, lambda text: any(n not in best.text for n in instances("name", text, asked))
            )
        return None

    def full_name(self, asked: str, best: HandCandidate, said: str, sents: ArticleSentences, at: int) -> int | None:
        """The sentence before the best one that introduces by full name someone it names by surname only (a
        reader asking "who" wants the name the article gives). Only for questions asking for a name, and not when
        the answer (``said``) already gives the full name."""
        if expected_type(asked) != "name":
            return None
        asked_words = question_words(asked)
        surnames = [
            n
            for n in instances("name", best.text, asked)
            if n.isalpha() and n.istitle() and n.lower() not in asked_words
        ]
        # A first name, not a capitalised sentence opener ("The Avalanche finish ..." names no team in full).
        full_names = [re.compile(rf"\b(?!{_OPENERS}\s)[A-Z][\w’'.-]+\s+{re.escape(n)}\b") for n in surnames]
        missing = [f for f in full_names if not f.search(said)]
        return next(
            (i for i in range(at) if sents.candidate_keys[i][1] and any(f.search(sents.texts[i]) for f in missing)),
            None,
        )

    def country_named(self, asked: str, best: HandCandidate, said: str, sents: ArticleSentences, at: int) -> int | None:
        """For "which country/continent?" and "where?" questions whose answer (``said``) names no such place, the
        nearest sentence (before or after) naming the country or continent the best sentence only refers to by
        demonym: a reader asking "which country?" wants its name."""
        kinds = demonym_kinds(asked)
        if not kinds or any(named_places(k, said, asked) for k in kinds):
            return None
        wanted = set(demonym_places(best.text, asked))
        if not wanted:
            return None
        for i in sorted(range(len(sents.texts)), key=lambda i: abs(i - at)):
            named = {p for k in kinds for p in named_places(k, sents.texts[i], asked)}
            if i != at and sents.candidate_keys[i][1] and wanted & named:
                return i
        return None

    def _in_article(self, best: HandCandidate) -> tuple[ArticleSentences, int] | None:
        """The sentences of ``best``'s article and ``best``'s index among them (None: no index, or not found)."""
        sents = self.sentences_of(best.passage.article_id)
        at = next((i for i, s in enumerate(sents.starts) if int(s) == best.start), None) if sents else None
        return None if sents is None or at is None else (sents, at)

    def _sentence(self, best: HandCandidate, sents: ArticleSentences, i: int) -> HandCandidate:
        """Sentence ``i`` of ``best``'s article as a candidate, cited from the chunk that holds it."""
        text, s, e = sents.texts[i], int(sents.starts[i]), int(sents.ends[i])
        return HandCandidate(passage=self.span(best.passage, s, e, text), rank=best.rank, start=s, end=e, text=text)


def _nearest_before(sents: ArticleSentences, at: int, fits: Callable[[str], bool]) -> int | None:
    """The nearest whole sentence of the ``ANTECEDENT_REACH`` before sentence ``at`` that ``fits``."""
    for i in range(at - 1, max(at - 1 - ANTECEDENT_REACH, -1), -1):
        text = sents.texts[i]
        if sents.candidate_keys[i][1] and _ENDS_SENTENCE.search(text.rstrip()) and fits(text):
            return i
    return None
