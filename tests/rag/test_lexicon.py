from rag.text.lexicon import QUESTION_STEMS, QUESTION_WORDS, STOPWORDS
from rag.text.tokens import tokenize


def test_every_question_word_the_tokenizer_keeps_is_dropped_from_question_terms() -> None:
    for word in QUESTION_WORDS:
        assert set(tokenize([word])[0]) <= QUESTION_STEMS, word


def test_why_is_stemmed_like_the_tokenizer_stems_it() -> None:
    assert tokenize(["why"])[0] == ["whi"]
    assert "whi" in QUESTION_STEMS


def test_stop_words_are_not_listed_twice() -> None:
    assert not QUESTION_STEMS & STOPWORDS
