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

from rag.answer.answer_type import anaphor, asked_noun, describes, expected_type, instances, question_words, refers_to
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
        """``picked`` after each rule in turn."""
        return self.country_named(question, self.full_name(question, self.antecedent(question, picked)))

    def antecedent(self, question: str, picked: list[HandCandidate]) -> list[HandCandidate]:
        """``picked`` led by what its best sentence refers back to: when the best sentence opens with a
        demonstrative description ("But those supermarket shelves ..."), the nearest of the ``ANTECEDENT_REACH``
        sentences before it holding one of its words; when it describes what a "which X?" question asks by its
        noun ("the wildly popular South Korean show"), the nearest before it holding a new name."""
        best = picked[0] if picked else None
        if best is None or best.in_title:
            return picked
        asked = split_condensed(question)[0]
        words = anaphor(best.text)
        noun = asked_noun(asked) if expected_type(asked) == "name" else None
        if words:
            return self._led_by_nearest(picked, lambda text: refers_to(text, words))
        if noun is not None and describes(best.text, noun):
            return self._led_by_nearest(
                picked, lambda text: any(n not in best.text for n in instances("name", text, asked))
            )
        return picked

    def full_name(self, question: str, picked: list[HandCandidate]) -> list[HandCandidate]:
        """``picked`` led by the sentence that introduces by full name someone its best sentence names by
        surname only (a reader asking "who" wants the name the article gives). Only for questions asking for a
        name, only before the best sentence in its article, and not when the answer already gives the full
        name."""
        asked = split_condensed(question)[0]
        best = picked[0] if picked else None
        if best is None or best.in_title or expected_type(asked) != "name":
            return picked
        asked_words = question_words(asked)
        surnames = [
            n
            for n in instances("name", best.text, asked)
            if n.isalpha() and n.istitle() and n.lower() not in asked_words
        ]
        said = " ".join(c.text for c in picked)
        # A first name, not a capitalised sentence opener ("The Avalanche finish ..." names no team in full).
        full_names = [re.compile(rf"\b(?!{_OPENERS}\s)[A-Z][\w’'.-]+\s+{re.escape(n)}\b") for n in surnames]
        missing = [f for f in full_names if not f.search(said)]
        located = self._in_article(best) if missing else None
        if located is None:
            return picked
        sents, at = located
        for i in range(at):
            if sents.candidate_keys[i][1] and any(f.search(sents.texts[i]) for f in missing):
                return self._led_by(picked, sents, i)
        return picked

    def country_named(self, question: str, picked: list[HandCandidate]) -> list[HandCandidate]:
        """``picked`` led by the sentence of its best sentence's article (the nearest, before or after) naming
        the country or continent the best sentence only refers to by demonym, for "which country/continent?"
        and "where?" questions whose answer names none: a reader asking "which country?" wants its name."""
        asked = split_condensed(question)[0]
        best = picked[0] if picked else None
        kinds = demonym_kinds(asked)
        if best is None or best.in_title or not kinds:
            return picked
        if any(named_places(k, c.text, asked) for c in picked for k in kinds):
            return picked
        wanted = set(demonym_places(best.text, asked))
        located = self._in_article(best) if wanted else None
        if located is None:
            return picked
        sents, at = located
        for i in sorted(range(len(sents.texts)), key=lambda i: abs(i - at)):
            named = {p for k in kinds for p in named_places(k, sents.texts[i], asked)}
            if i != at and sents.candidate_keys[i][1] and wanted & named:
                return self._led_by(picked, sents, i)
        return picked

    def _led_by_nearest(self, picked: list[HandCandidate], fits: Callable[[str], bool]) -> list[HandCandidate]:
        """``picked`` led by the nearest whole sentence of the ``ANTECEDENT_REACH`` before its best one that
        ``fits``, else unchanged."""
        located = self._in_article(picked[0])
        if located is None:
            return picked
        sents, at = located
        for i in range(at - 1, max(at - 1 - ANTECEDENT_REACH, -1), -1):
            text = sents.texts[i]
            whole = sents.candidate_keys[i][1] and _ENDS_SENTENCE.search(text.rstrip())
            if whole and fits(text):
                return self._led_by(picked, sents, i)
        return picked

    def _in_article(self, best: HandCandidate) -> tuple[ArticleSentences, int] | None:
        """The sentences of ``best``'s article and ``best``'s index among them (None: no index, or not found)."""
        sents = self.sentences_of(best.passage.article_id)
        at = next((i for i, s in enumerate(sents.starts) if int(s) == best.start), None) if sents else None
        return None if sents is None or at is None else (sents, at)

    def _led_by(self, picked: list[HandCandidate], sents: ArticleSentences, i: int) -> list[HandCandidate]:
        """``picked`` led by sentence ``i`` of its best sentence's article, at most ``MAX_SENTENCES`` in all."""
        best, text = picked[0], sents.texts[i]
        s, e = int(sents.starts[i]), int(sents.ends[i])
        named = HandCandidate(passage=self.span(best.passage, s, e, text), rank=best.rank, start=s, end=e, text=text)
        return [named, *picked[: MAX_SENTENCES - 1]]
