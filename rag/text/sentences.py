"""Sentence spans: NLTK's Punkt model, which ships inside llama-index-core (no download).

Spans are exact offsets, so every sentence is a verbatim slice ``text[start:end]`` and quotes stay verbatim.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

_PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _punkt() -> Any:
    import nltk

    spec = importlib.util.find_spec("llama_index.core")
    if spec and spec.submodule_search_locations:
        static = Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache"
        if str(static) not in nltk.data.path:
            nltk.data.path.append(str(static))
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer("english")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence; sentences never cross a line break."""
    tokenizer = _punkt()
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        base = para.start()
        for start, end in tokenizer.span_tokenize(para.group()):
            spans.append((base + start, base + end))
    return spans
