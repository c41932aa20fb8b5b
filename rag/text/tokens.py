"""The one tokenizer: what BM25 indexes and what the answerer and verifier compare.

Lower-cased, stop words removed (bm25s's English list), Snowball-stemmed: exactly ``bm25s.tokenize(...,
stopwords="en", stemmer=...)``, without its per-call progress-bar set-up, which dominated per-sentence calls.
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_stemmer = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens of each text."""
    return [_stemmer.stemWords([w for w in _TOKEN.findall(t.lower()) if w not in _STOPWORDS]) for t in texts]


def stem(words: list[str]) -> list[str]:
    """The stems the tokenizer would give these (already lower-case) words."""
    return _stemmer.stemWords(words)
