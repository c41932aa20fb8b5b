"""Answerers: passages in, a cited Answer out. Chosen by ``NEWSQA_LLM`` through :func:`load_answerer`.

The contract lives in ``rag/answer/base.py``; it is re-exported here so ``from rag.answer import
AnswerEvent`` reads as the package's public surface.
"""

from rag.answer.base import ABSTAIN_TEXT, Answerer, AnswerEvent, IdfFn, load_answerer

__all__ = ["ABSTAIN_TEXT", "AnswerEvent", "Answerer", "IdfFn", "load_answerer"]
