"""Syndicated copies at answer time: a citation names the other outlets that ran the same story.

Ingest groups near-duplicate articles into stories and records each chunk's ``also_in``; this only reads it.
"""

from __future__ import annotations

from rag.types import Answer, Passage


def cite_other_outlets(answer: Answer, passages: list[Passage]) -> Answer:
    """Copy each cited passage's ``also_in`` onto its citation, so a citation names the story's other outlets.

    Answerers build citations from passages; call this on the final answer (``QueryEngine.stream`` does) so every
    answerer gets it without knowing about syndication.
    """
    by_chunk = {p.chunk_id: p.also_in for p in passages if p.also_in}
    for citation in answer.citations:
        if not citation.also_in and citation.chunk_id in by_chunk:
            citation.also_in = list(by_chunk[citation.chunk_id])
    return answer
