"""The sentence-level answerer: sentence index cache, candidates from whole articles, parts, abstention."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from rag.answer.extractive import Candidate as HandCandidate
from rag.answer.extractive import render
from rag.answer.features import FEATURES, _Terms, focus_terms, term_weights, words
from rag.answer.scorer import MODEL_PATH, hand_scorer, load_scorer
from rag.answer.sentence_index import ArticleSentences, ChunkLocator, SentenceIndex
from rag.answer.sentences import SentenceAnswerer, prefer_recent
from rag.bm25 import View, build_snapshot
from rag.settings import Settings
from rag.types import Article, Passage
from tests.builders import passage

TEXT = (
    "Elon Musk's xAI reportedly shifts $6 billion AI server order from troubled Supermicro to its rivals\n"
    "xAI has shifted all AI server orders from troubled Supermicro to Dell, reports UDN.com. Dell reportedly "
    "benefits from this decision, just like its suppliers, Inventec and Wistron.\n"
    "Supermicro's final deadline to file its annual report is November 18.\n"
    "The company's shares plummeted 35% in one day after the Justice Department probe became public.\n"
    "Kittens in the local shelter were adopted by seven happy families on Sunday.\n"
)


class BagOfWordsEmbedder:
    name, dim, max_tokens = "bow", 256, 256

    def __init__(self):
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word.strip(".,?'s"))) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]


def _article():
    return Article(id="a1", title="xAI shifts order", source="Wire", text=TEXT, ingested_at=datetime.now(UTC))


def _passage(start, end):
    return Passage(
        chunk_id="a1:0",
        article_id="a1",
        index=0,
        text=TEXT[start:end],
        start=start,
        end=end,
        title="xAI shifts order",
        source="Wire",
        score=1.0,
    )


def _answerer(tmp_path):
    embedder = BagOfWordsEmbedder()
    index = SentenceIndex(tmp_path, embedder, lambda aid: _article())
    index.add([_article()])
    return (
        SentenceAnswerer(embedder, Settings(data_dir=tmp_path), sentences_of=index.get, scorer=hand_scorer()),
        index,
        embedder,
    )


def test_sentence_index_is_saved_and_reloaded_without_re_embedding(tmp_path):
    _, _, embedder = _answerer(tmp_path)
    calls = embedder.calls
    fresh = SentenceIndex(tmp_path, embedder, lambda aid: _article())
    got = fresh.get("a1")
    assert embedder.calls == calls and got is not None
    assert all(TEXT[s:e] == t for s, e, t in zip(got.starts, got.ends, got.texts, strict=True))
    assert got.vectors.shape == (len(got.texts), 256)
    assert fresh.add([_article()]) == 0  # same text hash: nothing to do


def test_a_sentence_outside_the_retrieved_chunk_is_a_candidate_and_quoted_verbatim(tmp_path):
    answerer, _, _ = _answerer(tmp_path)
    first = TEXT.index("xAI has")
    answer = answerer.answer("When is Supermicro's final deadline to file its annual report?", [_passage(0, first)])
    assert not answer.abstained
    assert "November 18" in answer.answer
    cite = answer.citations[0]
    assert TEXT[cite.start : cite.end] == cite.quote


def test_abstention_says_what_the_articles_cover(tmp_path):
    answerer, _, _ = _answerer(tmp_path)
    answer = answerer.answer("Who won the 1998 chess olympiad in Elista?", [_passage(0, len(TEXT))])
    assert answer.abstained and answer.citations == []
    assert "do not answer" in answer.answer and "“xAI shifts order” (Wire)" in answer.answer


def test_chunk_locator_names_the_chunk_holding_a_span():
    metas = [
        {"article_id": "a1", "start": 0, "end": 100, "index": 0},
        {"article_id": "a1", "start": 80, "end": 200, "index": 1},
    ]
    snap = build_snapshot("g1", ["a1:0", "a1:1"], ["Acme " * 20, "Motors " * 17], metas)
    locate = ChunkLocator(lambda: View("g1", snap))
    assert locate("a1", 120, 150) == ("a1:1", 1)
    assert locate("a1", 10, 50) == ("a1:0", 0)
    assert locate("b2", 10, 50) is None


def test_the_shipped_scorer_loads_and_names_known_features():
    scorer = load_scorer(MODEL_PATH)
    assert scorer is not None, "run `make train` to fit rag/answer/model/answer_scorer.json"
    assert set(scorer.features) <= set(FEATURES) and len(scorer.coef) == len(scorer.features)
    assert 0.0 < scorer.abstain_below < 1.0 and "held_out" in scorer.meta["report"]


def test_a_terms_share_of_one_two_or_three_token_sets_is_the_weighted_share_of_their_union():
    weights = {"dell": 2.5, "benefit": 1.25, "supermicro": 0.75}
    terms = _Terms(weights)
    a, b, c = {"dell", "order"}, {"benefit"}, {"xai"}
    assert terms.share(a) == 2.5 / 4.5
    assert terms.share2(a, b) == terms.share(a | b) == 3.75 / 4.5
    assert terms.share3(c, b, a) == terms.share(a | b | c) == 3.75 / 4.5
    assert _Terms({}).share(a) == 0.0


def test_sentence_word_counts_are_the_words_of_each_sentence(tmp_path):
    _, index, _ = _answerer(tmp_path)
    sents = index.get("a1")
    assert sents is not None
    assert sents.word_counts == [words(t) for t in sents.texts]
    assert sents.word_counts[-1] == 13  # "Kittens in the local shelter were adopted by seven happy families on Sunday."


def test_sentence_keys_are_the_words_of_the_lower_cased_sentence_ascii_or_not():
    texts = [
        "Dell reportedly BENEFITS from this decision, like Wistron.",
        "İstanbul'da Dell ve Wistron bugün açıkladı.",
    ]
    sents = ArticleSentences("a1", "h", np.array([0, 0]), np.array([0, 0]), texts, np.zeros((2, 4), np.float32))
    assert [norm for norm, _ in sents.candidate_keys] == [" ".join(re.findall(r"\w+", t.lower())) for t in texts]
    assert sents.candidate_keys[0][0] == "dell reportedly benefits from this decision like wistron"
    assert sents.word_counts == [8, 7]


def _span_of(sentence):
    start = TEXT.index(sentence)
    return start, start + len(sentence)


def _hand(sentence):
    from rag.answer.extractive import Candidate as HandCandidate
    from rag.text.tokens import tokenize

    start, end = _span_of(sentence)
    return HandCandidate(
        passage=_passage(0, len(TEXT)), rank=0, start=start, end=end, text=sentence, tokens=set(tokenize([sentence])[0])
    )


def _learned(sentence):
    from rag.answer.features import Candidate
    from rag.text.tokens import tokenize

    start, end = _span_of(sentence)
    return Candidate(
        passage=_passage(0, 40),
        rank=0,
        start=start,
        end=end,
        text=sentence,
        sentence_index=0,
        tokens=set(tokenize([sentence])[0]),
        score=0.9,
    )


DEADLINE = "Supermicro's final deadline to file its annual report is November 18."
SHARES = "The company's shares plummeted 35% in one day after the Justice Department probe became public."
DELL = "Dell reportedly benefits from this decision, just like its suppliers, Inventec and Wistron."
KITTENS = "Kittens in the local shelter were adopted by seven happy families on Sunday."


def test_the_learned_rankings_best_sentence_joins_the_hand_selection_last_and_is_quoted_verbatim(tmp_path):
    from rag.answer.extractive import render

    answerer, _, _ = _answerer(tmp_path)
    chosen = answerer.with_learned_best([_hand(DELL)], _learned(DEADLINE))
    assert [c.text for c in chosen] == [DELL, DEADLINE]
    answer = render("question?", chosen)
    assert answer.answer.endswith("November 18. [2]")
    assert all(TEXT[c.start : c.end] == c.quote for c in answer.citations)


def test_the_learned_best_is_not_repeated_and_the_answer_keeps_at_most_four_sentences(tmp_path):
    answerer, _, _ = _answerer(tmp_path)
    assert [c.text for c in answerer.with_learned_best([_hand(DELL), _hand(DEADLINE)], _learned(DEADLINE))] == [
        DELL,
        DEADLINE,
    ]
    four = [_hand(s) for s in (DELL, DEADLINE, SHARES, KITTENS)]
    picked = answerer.with_learned_best(four, _learned("Supermicro to Dell, reports UDN.com."))
    assert len(picked) == 4 and picked[-1].text == "Supermicro to Dell, reports UDN.com."
    assert [c.text for c in picked[:3]] == [DELL, DEADLINE, SHARES]


def test_an_answer_keeps_to_the_best_sentences_story():
    from rag.answer.sentences import one_story

    other = _hand(SHARES)
    other.passage = other.passage.model_copy(update={"article_id": "a2", "chunk_id": "a2:0"})
    picked = one_story([_hand(DELL), other, _hand(DEADLINE)])
    assert [c.text for c in picked] == [DELL, DEADLINE]
    assert one_story([]) == []


def test_freshness_halves_weekly_behind_the_newest_article_and_an_undated_one_is_not_marked_down():
    from datetime import timedelta

    from rag.answer.features import _freshness

    newest = datetime(2022, 7, 21, tzinfo=UTC)
    assert _freshness(newest, newest) == 1.0
    assert abs(_freshness(newest - timedelta(days=7), newest) - 0.5) < 1e-9
    assert _freshness(newest - timedelta(days=70), newest) < 0.001
    assert _freshness(None, newest) == _freshness(newest, None) == 1.0
    assert "fresh" in load_scorer().features  # the shipped model weighs it


def test_a_how_many_question_is_answered_by_a_sentence_that_counts_what_it_asks_or_not_at_all(tmp_path):
    answerer, _, _ = _answerer(tmp_path)
    seven = "Kittens in the local shelter were adopted by seven happy families on Sunday."
    question = "How many families adopted kittens at the shelter?"
    # The picked sentence puts no number on "families": the one that does, from either ranking, replaces it.
    assert [c.text for c in answerer.counted(question, [_hand(DELL)], [_hand(DELL), _hand(seven)], [])] == [seven]
    assert [c.text for c in answerer.counted(question, [_hand(DELL)], [_hand(DELL)], [_learned(seven)])] == [seven]
    # None does: nothing to say (the caller abstains); a picked sentence that counts them stays.
    assert answerer.counted(question, [_hand(DELL)], [_hand(DELL), _hand(SHARES)], []) == []
    assert answerer.counted(question, [_hand(seven), _hand(DELL)], [], []) == [_hand(seven), _hand(DELL)]
    # Not a "how many" question: unchanged.
    assert answerer.counted("Who benefits?", [_hand(DELL)], [], []) == [_hand(DELL)]


def test_term_weights_and_the_rarest_term_do_not_depend_on_the_hash_seed() -> None:
    # Equally rare terms: which one is "the rarest" was the first of a set, so it changed with PYTHONHASHSEED
    # and with it an answer or two per hundred questions.
    weights = term_weights("Which zebra chased the antelope near the river?", lambda _t: 2.0)
    assert list(weights) == sorted(weights)
    entity, focus = focus_terms("Which zebra chased the antelope near the river?", weights)
    assert entity == set() and focus == {min(weights)}


def test_a_recent_reports_sentence_comes_first_when_the_best_is_from_a_month_old_article() -> None:
    def cand(article: str, month: int, day: int, score: float) -> HandCandidate:
        p = passage(f"Sentence of {article}.", article=article, published=datetime(2022, month, day, tzinfo=UTC))
        return HandCandidate(passage=p, rank=0, start=0, end=len(p.text), text=p.text, score=score)

    old_best, recent, weak_recent = cand("may", 5, 1, 1.0), cand("july", 7, 31, 0.75), cand("july2", 7, 30, 0.5)
    assert prefer_recent([old_best, weak_recent, recent]) == [recent, old_best, weak_recent]
    # Not when the recent one scores far lower, nor when the best is itself recent enough.
    assert prefer_recent([old_best, weak_recent]) == [old_best, weak_recent]
    fresh_best = cand("july3", 7, 20, 1.0)
    assert prefer_recent([fresh_best, recent]) == [fresh_best, recent]


def test_the_naming_sentence_is_cited_from_the_article_even_when_the_best_passage_holds_only_the_best(tmp_path):
    answerer, _, _ = _answerer(tmp_path)
    question = "Which company's shares plummeted 35% in one day?"
    best_text = "The company's shares plummeted 35% in one day after the Justice Department probe became public."
    start, end = TEXT.index(best_text), TEXT.index(best_text) + len(best_text)
    # The learned ranking's candidates reach the answer as a passage of their own sentence only.
    best = HandCandidate(passage=_passage(start, end), rank=0, start=start, end=end, text=best_text)
    picked = answerer.leads.lead(question, [best])
    named = "Supermicro's final deadline to file its annual report is November 18."
    assert [c.text for c in picked] == [named, best_text]
    answer = render(question, picked)
    assert [c.quote for c in answer.citations] == [named, best_text]
    assert all(TEXT[c.start : c.end] == c.quote for c in answer.citations)
