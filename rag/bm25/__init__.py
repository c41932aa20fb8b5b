"""BM25 (and, on small stores, the chunk vectors) over the chunks: a derived cache of the Chroma collection.

``snapshot``: the base, built from every chunk and persisted (data files only); ``delta``: the chunks written
since, scored with the base's statistics, and the view search reads; ``live``: keeps that view in step with
the store without a query waiting for a rebuild.
"""

from rag.bm25.delta import View
from rag.bm25.live import Bm25Index
from rag.bm25.snapshot import _FORMAT, Bm25Snapshot, build_snapshot, index_text, load_snapshot, manifest_path

__all__ = [
    "_FORMAT",
    "Bm25Index",
    "Bm25Snapshot",
    "View",
    "build_snapshot",
    "index_text",
    "load_snapshot",
    "manifest_path",
]
