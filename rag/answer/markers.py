"""Answer sentences and their ``[n]`` citation markers: how answers are written, and read back.

One parser for both sides: the answerers write ``Dell gains the orders. [1][2]`` (markers after the full
stop, as the extractive answerer and :func:`with_markers` write them; an LLM may also write ``[1, 2]`` or put
them before the stop), the verifier reads each LLM sentence back with :func:`split_sentences` and
:func:`split_markers`, and the eval's ALCE citation metrics (``evals.metrics.statements``) read answers
with the same two functions, so a metric never disagrees with the product about where a sentence ends or
which passages it cites.
"""

from __future__ import annotations

import re

from rag.text.sentences import sentence_spans

MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
ABSTENTION = re.compile(
    r"\b(do(es)?\s*n[o’']t|not|cannot|can[’']t|no)\b.{0,40}\b(answer|contain|mention|say|provide|include|"
    r"information|cover|address)",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; markers written after the full stop (``... Dell. [1] Next``) stay with
    the sentence they follow (the sentence splitter may start the next sentence with them)."""
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    out: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and out:
            out[-1] += lead.group().strip() if out[-1].endswith("]") else " " + lead.group().strip()
            piece = piece[lead.end() :]
        if piece.strip():
            out.append(piece.strip())
    return out


def split_markers(sentence: str) -> tuple[str, list[int]]:
    """(sentence without markers, the cited numbers in order, each once)."""
    numbers: list[int] = []
    for m in MARKERS.finditer(sentence):
        numbers += [int(n) for n in re.split(r"\s*[,;]\s*", m.group(1))]
    claim = MARKERS.sub("", sentence).strip()
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)  # "Dell [1]." -> "Dell."
    return claim, list(dict.fromkeys(numbers))


def with_markers(claim: str, numbers: list[int]) -> str:
    """``claim`` followed by its markers, as the extractive answerer writes them: ``Dell gains. [1][2]``"""
    return f"{claim} {''.join(f'[{n}]' for n in numbers)}"


def is_abstention(claim: str) -> bool:
    """The model saying the passages do not answer (kept as the plain abstention, never flagged)."""
    return bool(ABSTENTION.search(claim)) and bool(re.search(r"passage|article|source|provided|context", claim, re.I))
