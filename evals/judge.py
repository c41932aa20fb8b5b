"""Support judges for ALCE-style citation metrics: does a passage support a statement?

ALCE uses an NLI model (TRUE-T5). Without an LLM or NLI model configured, newsqa uses a documented
lexical + embedding test (``LexicalEmbeddingJudge``). Reports name the judge used (``Judge.name``).

This judge stays separate from the product's support test (``rag.answer.support.LexicalEmbeddingSupport``),
although both weigh word overlap, numbers and embeddings: the metrics grade the sentences that test let
through, and a judge must not grade its own homework (a blind spot shared by both would pass twice and never
show in a metric). Its rule is deliberately different (three all-of thresholds rather than one blended
score; no name or negation checks). Only the number pattern (``rag.text.normalize.NUMBER``) is shared: what
counts as a written number is a fact about text, not a judgement.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np

from rag.embedders import Embedder
from rag.text.normalize import NUMBER, normalize_text
from rag.text.sentences import sentence_spans
from rag.text.tokens import tokenize


class Judge(Protocol):
    name: str

    def __call__(self, passage: str, statement: str) -> bool:
        """True when ``passage`` supports ``statement``."""
        ...


class LexicalEmbeddingJudge:
    """A statement is supported by a passage when all three hold:

    1. lexical: at least ``min_token_recall`` of the statement's distinct content tokens (the BM25
       tokenizer: lower-cased, stemmed, stopwords removed) occur in the passage;
    2. numbers: every number written in the statement (``\\d+([.,]\\d+)*``) occurs in the passage;
    3. embedding: the cosine similarity (bundled MiniLM) between the statement and its closest window of one
       or two consecutive passage sentences is at least ``min_cosine``.

    A verbatim quote always passes. Paraphrases pass when they keep the words and the numbers; a statement
    that adds a fact the passage lacks usually fails (1) or (2), and topical but non-entailed text fails (3).
    It is a proxy for NLI, not NLI: negation and swapped roles are not detected.
    """

    def __init__(self, embedder: Embedder, min_token_recall: float = 0.6, min_cosine: float = 0.6) -> None:
        self.embedder = embedder
        self.min_token_recall = min_token_recall
        self.min_cosine = min_cosine
        self.name = (
            f"lexical+embedding (content-token recall >= {min_token_recall}, all numbers present, "
            f"max cosine to a 1-2 sentence window >= {min_cosine}, MiniLM)"
        )
        self._cache: dict[tuple[str, str], bool] = {}

    def __call__(self, passage: str, statement: str) -> bool:
        key = (passage, statement)
        if key not in self._cache:
            self._cache[key] = self._judge(normalize_text(passage), normalize_text(statement))
        return self._cache[key]

    def _judge(self, passage: str, statement: str) -> bool:
        if not statement.strip() or not passage.strip():
            return False
        if " ".join(statement.split()) in " ".join(passage.split()):
            return True
        tokens = set(_tokens(statement))
        if tokens and len(tokens & set(_tokens(passage))) / len(tokens) < self.min_token_recall:
            return False
        passage_numbers = set(NUMBER.findall(passage))
        if any(n not in passage_numbers for n in NUMBER.findall(statement)):
            return False
        windows = _windows(passage)
        vectors = self.embedder.embed([statement, *windows])
        return bool(np.max(vectors[1:] @ vectors[0]) >= self.min_cosine)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize([text])[0])


def _windows(passage: str) -> list[str]:
    """Every sentence and every pair of consecutive sentences of the passage (statements may fuse two)."""
    sents = [passage[s:e] for s, e in sentence_spans(passage)] or [passage]
    return sents + [f"{a} {b}" for a, b in pairwise(sents)]
