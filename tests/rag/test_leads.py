"""The lead-sentence rules (rag/answer/leads.py) over a real sentence index of one article."""

from __future__ import annotations

from datetime import UTC, datetime

from rag.answer.extractive import Candidate as HandCandidate
from rag.answer.leads import LeadSentences
from rag.answer.sentence_index import SentenceIndex
from rag.types import Article, Passage
from tests.rag.test_answer_sentences import BagOfWordsEmbedder

TEXT = (
    "Lawmakers in Tehran met on Sunday. "
    "A letter was signed by 227 of Iran’s 290 members of parliament. "
    "Those Iranian lawmakers urged the judiciary to show no leniency to protesters. "
    "The judiciary has not answered the letter."
)


def _leads(tmp_path, text: str = TEXT) -> LeadSentences:
    article = Article(id="a1", title="Letter", source="Wire", text=text, ingested_at=datetime.now(UTC))
    index = SentenceIndex(tmp_path, BagOfWordsEmbedder(), lambda _aid: article)
    index.add([article])
    return LeadSentences(index.get, lambda passage, start, end, sentence: passage)


def _candidate(text: str, sentence: str) -> HandCandidate:
    start = text.index(sentence)
    passage = Passage(chunk_id="a1:0", article_id="a1", index=0, text=text, start=0, end=len(text), title="Letter")
    return HandCandidate(passage=passage, rank=0, start=start, end=start + len(sentence), text=sentence)


def test_each_rule_reads_the_best_sentence_not_the_lead_another_rule_found(tmp_path) -> None:
    best = _candidate(TEXT, "Those Iranian lawmakers urged the judiciary to show no leniency to protesters.")
    picked = _leads(tmp_path).lead("Which country’s lawmakers urged the judiciary to show no leniency?", [best])
    # "Those ... lawmakers" refers back to "Lawmakers in Tehran met ..."; "Iranian" names no country, "Iran’s"
    # does. Both lead, in the article's order, before the best sentence.
    assert [c.text for c in picked] == [
        "Lawmakers in Tehran met on Sunday.",
        "A letter was signed by 227 of Iran’s 290 members of parliament.",
        best.text,
    ]


def test_a_lead_already_among_the_picked_sentences_is_quoted_once(tmp_path) -> None:
    best = _candidate(TEXT, "Those Iranian lawmakers urged the judiciary to show no leniency to protesters.")
    later = _candidate(TEXT, "Lawmakers in Tehran met on Sunday.")
    picked = _leads(tmp_path).lead("Which judiciary was urged to show no leniency?", [best, later])
    assert [c.text for c in picked] == [later.text, best.text]


def test_no_rule_applies_and_the_answer_is_unchanged(tmp_path) -> None:
    best = _candidate(TEXT, "The judiciary has not answered the letter.")
    assert _leads(tmp_path).lead("Has the judiciary answered the letter?", [best]) == [best]


def test_an_article_missing_from_the_index_changes_nothing(tmp_path) -> None:
    leads = LeadSentences(lambda _aid: None, lambda passage, start, end, sentence: passage)
    best = _candidate(TEXT, "Those Iranian lawmakers urged the judiciary to show no leniency to protesters.")
    assert leads.lead("Which country’s lawmakers urged the judiciary?", [best]) == [best]
