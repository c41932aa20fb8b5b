"""Multi-part questions: "who caught the ball, and which pitcher gave it up?" -> two questions.

Why: one sentence rarely answers two things, and the best sentence for the pair answers at most one of
them (the old answerer got 0 of 5 two-part questions of a 60-question check). Each part is answered from its
own best evidence and the answers are joined, each with its own citations; a part the articles do not
answer is named in the answer instead of being silently dropped.

A later part usually leans on the first one ("... and when did *it* open?"): it carries the first part's
content words as borrowed context, in the condensed-question form ``"part? (context words)"`` that the
scorer already weighs down (``rag.answer.condense.split_condensed``).
"""

from __future__ import annotations

import re

_WH = r"(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|did|does|do|has|have|had|will|can)"
# "X, and who Y?" / "X and what Y?" / "X; who Y?" / "X? Who Y?"
_SPLIT = re.compile(rf"(?:\?\s+|[,;]\s*(?:and\s+|but\s+|also\s+)?|\s+and\s+(?=(?:{_WH})\b\s+\w+\s+\w+))(?=(?:{_WH})\b)",
                    re.IGNORECASE)
_FUNCTION = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is", "are", "was", "were",
             "do", "does", "did", "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "by", "at", "with",
             "has", "have", "had", "will", "would", "can", "could", "it", "its", "that", "this", "from", "as"}
MIN_PART_WORDS = 3


def _content(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w’'$.-]+", text) if w.lower().strip(".") not in _FUNCTION]


def split_parts(question: str) -> list[str]:
    """The parts of ``question`` (one element when it asks one thing). Later parts carry the first part's
    content words as context: ``"which pitcher gave it up? (caught ball Judge 62nd)"``."""
    q = question.strip()
    if "(" in q:  # a condensed follow-up: keep as is
        return [q]
    pieces = [p.strip(" ,;") for p in _SPLIT.split(q) if p and p.strip(" ,;?")]
    if len(pieces) < 2 or any(len(p.split()) < MIN_PART_WORDS for p in pieces):
        return [q]
    parts = [p.rstrip("?") + "?" for p in pieces]
    parts[0] = parts[0][0].upper() + parts[0][1:]
    first = _content(parts[0])
    out = [parts[0]]
    for p in parts[1:]:
        asked = {w.lower() for w in _content(p)}
        borrowed = [w.rstrip("?") for w in first if w.lower().rstrip("?") not in asked]
        p = p[0].upper() + p[1:]
        out.append(f"{p} ({' '.join(dict.fromkeys(borrowed))})" if borrowed else p)
    return out
