"""Support tests: how well does a passage support one sentence of an answer?

The verifier (``rag/answer/verify.py``) asks a support test for a score per cited passage and keeps a
citation only when it reaches ``NEWSQA_SUPPORT_THRESHOLD``. The default test (``lexical-embedding``),
documented in :class:`LexicalEmbeddingSupport`, is cheap and needs only the embedding model already loaded.
Others (an NLI cross-encoder, an LLM judge) plug in through :func:`register_support_test` and
``NEWSQA_SUPPORT_TEST``.

This is the product's test, and it stays separate from the eval's ``evals.judge.LexicalEmbeddingJudge``
although both mix word overlap, numbers and embeddings: the eval grades what this test let through, and a
judge must not grade its own homework (a shared blind spot would pass in both and never show in a metric).
Only the number pattern (``rag.text.normalize.NUMBER``) is shared, because what counts as a written number
is a fact about text, not a judgement.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.embedders import Embedder
from rag.errors import ConfigError
from rag.settings import Settings
from rag.text.lexicon import SENTENCE_OPENERS
from rag.text.normalize import NUMBER
from rag.text.sentences import sentence_spans
from rag.text.tokens import tokenize
from rag.types import Passage

MISSING_FACTOR = 0.5  # per number or name of the sentence absent from the passage, and for a negation mismatch
# Verb negations only ("no", "without" are too often incidental): a sentence that negates what its best
# matching passage sentence states (or the reverse) contradicts it, however similar the words.
NEGATION = re.compile(r"\b(not|never|no longer|cannot)\b|n[’']t\b", re.IGNORECASE)
# Capitalised words: proper names and acronyms, once the sentence openers are set aside.
_CAPITALISED = re.compile(r"\b[A-Z][\w’'&.-]*[\w]|\b[A-Z]\b")
# Text in an article that talks to the model rather than reporting news. It is never evidence: a claim cannot
# be "supported" by the injected instruction that asked for it. (Heuristic: it catches the common phrasings.)
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompts?|above|previous|earlier)\b"
    r"|\byou are now\b|\b(system|developer|admin)\s+(prompt|notice|message|override)\b|\b(reply|respond|answer)\s+"
    r"(only|just)\s+with\b|\bdo not cite\b|\bas an ai\b|\bnew instructions\b",
    re.IGNORECASE,
)


@dataclass
class Support:
    """How well one passage supports one sentence: ``score`` in [0, 1] and the best supporting span
    (offsets in ``passage.text``)."""

    score: float
    start: int
    end: int


class SupportTest(Protocol):
    def support(self, claim: str, passages: list[Passage]) -> list[Support]:
        """One Support per passage, in order."""
        ...


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


def _entities(text: str) -> set[str]:
    """Capitalised words (proper names, acronyms) that are not just sentence openers."""
    found = set()
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if word.lower() in SENTENCE_OPENERS:
            continue
        found.add(re.sub(r"[’']s$", "", word.lower()).rstrip("."))
    return {w for w in found if w}


def _metadata(p: Passage) -> str:
    """Title, outlet and the publication date in the forms an answer may use ("as of 14 Nov 2024")."""
    parts = [p.title or "", p.source or ""]
    if p.published:
        d = p.published
        parts += [f"{d.day} {d:%B %b %Y}", f"{d:%B} {d.day}, {d.year}", f"{d:%Y-%m-%d}"]
    return " ".join(parts)


@dataclass
class _Evidence:
    text: str  # passage text plus metadata, lower-cased, for name look-ups
    tokens: set[str]
    numbers: set[str]
    spans: list[tuple[int, int]]  # sentences, then adjacent sentence pairs, of the passage
    span_tokens: list[set[str]]
    vectors: np.ndarray | None = None  # embedded on first need


class LexicalEmbeddingSupport:
    """The default support test: content-word overlap, numbers and names, and embedding similarity.

    ``score = (0.5 * lexical + 0.5 * semantic) * 0.5 ** missing`` where

    - ``lexical``: share of the sentence's content words (stemmed, stopwords removed) found in the passage
      (text, title, outlet, date);
    - ``semantic``: best cosine similarity between the sentence and a sentence, or two adjacent sentences, of
      the passage, with the bundled embedding model;
    - ``missing``: how many of the sentence's numbers, capitalised names and acronyms are absent from the
      passage (text, title, outlet, date), plus one if the sentence and its best-matching passage sentence
      disagree on a verb negation ("is" / "is not"): each halves the score, so one swapped figure, company
      or person, or a flipped statement, sinks a sentence that otherwise reads like the passage.

    Not caught: a reversed role with the same words ("Supermicro won the xAI order" against "xAI moved the
    order from Supermicro to Dell"), or a subtle change of meaning; plug in an NLI model for those.

    A passage supports the sentence when the score reaches ``NEWSQA_SUPPORT_THRESHOLD`` (calibrated on the
    labelled set of ``benchmarks/llm_verify.py``). The embedding step is the costly one, so it only runs for
    the (at most ``max_semantic``) passages whose cheap part could still reach the threshold; the others get
    their score with ``semantic = 0``, which is below the threshold anyway.
    """

    def __init__(self, embedder: Embedder, threshold: float = 0.55, max_semantic: int = 3) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.max_semantic = max_semantic
        self._cache: dict[str, _Evidence] = {}

    def _evidence(self, p: Passage) -> _Evidence:
        key = f"{p.chunk_id}:{hash(p.text)}"
        if key not in self._cache:
            every = sentence_spans(p.text) or [(0, len(p.text))]
            kept = [(a, b) for a, b in every if not INSTRUCTION.search(p.text[a:b])]
            pairs = [(a[0], b[1]) for a, b in itertools.pairwise(every) if a in kept and b in kept]
            spans = kept or [(0, 0)]
            windows = spans + pairs
            # Evidence is the passage's reporting only: instruction-like sentences are left out.
            full = f"{_metadata(p)}\n" + "\n".join(p.text[a:b] for a, b in spans)
            self._cache[key] = _Evidence(
                text=full.lower(),
                tokens=set(tokenize([full])[0]),
                numbers=_numbers(full),
                spans=windows,
                span_tokens=[set(t) for t in tokenize([p.text[s:e] for s, e in windows])],
            )
        return self._cache[key]

    def _vectors(self, p: Passage, ev: _Evidence) -> np.ndarray:
        if ev.vectors is None:
            ev.vectors = self.embedder.embed([p.text[s:e] for s, e in ev.spans])
        return ev.vectors

    def support(self, claim: str, passages: list[Passage]) -> list[Support]:
        tokens = set(tokenize([claim])[0])
        numbers, names = _numbers(claim), _entities(claim)
        cheap = []
        for p in passages:
            ev = self._evidence(p)
            lexical = len(tokens & ev.tokens) / len(tokens) if tokens else 0.0
            missing = sum(n not in ev.numbers for n in numbers) + sum(not _name_in(n, ev.text) for n in names)
            cheap.append((lexical, MISSING_FACTOR**missing))
        bound = [(0.5 * lex + 0.5) * gate for lex, gate in cheap]
        hopeful = sorted((i for i, b in enumerate(bound) if b >= self.threshold), key=lambda i: -bound[i])
        hopeful = hopeful[: self.max_semantic]
        claim_vec = self.embedder.embed([claim])[0] if hopeful else None
        out = []
        for i, p in enumerate(passages):
            ev = self._evidence(p)
            lexical, gate = cheap[i]
            overlap = np.array([len(tokens & t) / len(tokens) if tokens else 0.0 for t in ev.span_tokens])
            if claim_vec is not None and i in hopeful:
                sims = self._vectors(p, ev) @ claim_vec
            else:
                sims = np.zeros(len(ev.spans))
            semantic = max(float(sims.max()), 0.0)
            match = 0.5 * overlap + 0.5 * sims
            k = int(np.argmax(match))
            if _flipped(claim, tokens, p.text[ev.spans[k][0] : ev.spans[k][1]], ev.span_tokens[k]):
                gate *= MISSING_FACTOR
            start, end = _best_sentence(ev.spans, match)
            out.append(Support(round((0.5 * lexical + 0.5 * semantic) * gate, 4), start, end))
        return out


def _flipped(claim: str, claim_tokens: set[str], window: str, window_tokens: set[str]) -> bool:
    """The claim negates its best-matching passage sentence, or drops its negation while restating it whole
    (a restatement that only leaves out a negated clause is not a contradiction)."""
    claim_neg, window_neg = bool(NEGATION.search(claim)), bool(NEGATION.search(window))
    if claim_neg and not window_neg:
        return True
    covered = len(claim_tokens & window_tokens) / len(window_tokens) if window_tokens else 0.0
    return window_neg and not claim_neg and covered >= 0.8


def _name_in(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}", text) is not None


def _best_sentence(spans: list[tuple[int, int]], sims: np.ndarray) -> tuple[int, int]:
    """The best single sentence by word overlap and similarity (the quote stays one sentence long)."""
    singles = [i for i, (s, e) in enumerate(spans) if not any(s < a < e for a, _ in spans)]
    best = max(singles or range(len(spans)), key=lambda i: float(sims[i]))
    return spans[best]


SUPPORT_TESTS: dict[str, Callable[[Embedder, Settings], SupportTest]] = {
    "lexical-embedding": lambda embedder, settings: LexicalEmbeddingSupport(embedder, settings.support_threshold),
}


def register_support_test(name: str, factory: Callable[[Embedder, Settings], SupportTest]) -> None:
    """Make another support test (an NLI model, an LLM judge) selectable with ``NEWSQA_SUPPORT_TEST=name``."""
    SUPPORT_TESTS[name] = factory


def load_support_test(settings: Settings, embedder: Embedder) -> SupportTest:
    if settings.support_test not in SUPPORT_TESTS:
        raise ConfigError(
            f"NEWSQA_SUPPORT_TEST={settings.support_test!r} is unknown; set it to one of {', '.join(SUPPORT_TESTS)}"
        )
    return SUPPORT_TESTS[settings.support_test](embedder, settings)
