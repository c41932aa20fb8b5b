"""Chunking: Article -> sentence-aligned, overlapping chunks sized for the embedding model's window.

Why not llama-index's SentenceSplitter: it recovers offsets by searching for the chunk text and may cut
inside a sentence when it merges splits; here chunks are built from exact sentence spans, so every chunk
is a verbatim slice ``text[start:end]`` that starts and ends on a sentence boundary (quotes read well).
Sentences come from ``rag.text.sentences``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.text.sentences import sentence_spans
from rag.types import Article, Chunk

_WORDS = re.compile(r"\S+")


def _split_long(text: str, span: tuple[int, int], tokens: int, limit: int) -> list[tuple[int, int, int]]:
    """Cut a sentence longer than ``limit`` tokens at word boundaries into roughly equal pieces."""
    pieces = -(-tokens // limit)
    words = [(m.start() + span[0], m.end() + span[0]) for m in _WORDS.finditer(text[span[0] : span[1]])]
    per = -(-len(words) // pieces)
    out = []
    for i in range(0, len(words), per):
        group = words[i : i + per]
        out.append((group[0][0], group[-1][1], -(-tokens * len(group) // len(words))))
    return out


def chunk_article(
    article: Article,
    count_tokens: Callable[[Sequence[str]], list[int]],
    chunk_tokens: int,
    overlap_tokens: int,
) -> list[Chunk]:
    """Greedy packing of whole sentences up to ``chunk_tokens``; the next chunk repeats the last
    sentences of the previous one, up to ``overlap_tokens``. Chunk ids are ``<article id>:<index>``."""
    text = article.text
    spans = sentence_spans(text)
    if not spans:
        return []
    counts = count_tokens([text[s:e] for s, e in spans])
    units: list[tuple[int, int, int]] = []
    for span, n in zip(spans, counts, strict=True):
        units.extend(_split_long(text, span, n, chunk_tokens) if n > chunk_tokens else [(span[0], span[1], n)])

    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= chunk_tokens):
            total += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(
            Chunk(
                id=f"{article.id}:{len(chunks)}",
                article_id=article.id,
                index=len(chunks),
                text=text[start:end],
                start=start,
                end=end,
            )
        )
        if j >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap_tokens:
            back -= 1
            carried += units[back][2]
        i = back
    return chunks
