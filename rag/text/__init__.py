"""Pure text helpers shared by ingest and answers: sentences, normalisation, tokens, word lists, ids, dates.

They import nothing from the project but ``rag.errors``, so both ``ingest/`` and the rest of ``rag/`` can
use them without importing each other.
"""
