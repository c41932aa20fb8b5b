"""Per-chunk texts and metadata kept on disk and read one item at a time, as read-only sequences.

Why: every serving process held every chunk's text and metadata dict of the base snapshot as Python objects
(the bulk of its 1.8 GB RSS at 100k chunks). Here a column is two ``.npy`` files, memory-mapped: the items'
encoded bytes back to back (uint8) and their offsets (int64, one more than items). Item i is decoded when it
is read (a search reads a few hundred), and the file's pages sit in the page cache, shared by every process
that maps them. ``.npy`` rather than a raw file: numpy checks the header on load, and a snapshot stays data
only (no pickle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TypeVar, overload

import numpy as np

T = TypeVar("T")


def save_column(folder: Path, name: str, items: Iterable[bytes]) -> None:
    """Write ``items`` as ``<name>.npy`` (their bytes) and ``<name>_offsets.npy``."""
    parts = list(items)
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    np.save(folder / f"{name}.npy", np.frombuffer(b"".join(parts), dtype=np.uint8), allow_pickle=False)
    np.save(folder / f"{name}_offsets.npy", offsets, allow_pickle=False)


def load_column(folder: Path, name: str, decode: Callable[[bytes], T]) -> OnDisk[T]:
    """The column ``name`` saved in ``folder``, memory-mapped; raises ValueError when its files disagree."""
    blob = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    offsets = np.load(folder / f"{name}_offsets.npy", mmap_mode="r", allow_pickle=False)
    if blob.dtype != np.uint8 or blob.ndim != 1 or offsets.dtype != np.int64 or offsets.ndim != 1:
        raise ValueError(f"column {name}: arrays of type {blob.dtype}/{offsets.dtype}")
    if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(blob) or np.any(np.diff(offsets) < 0):
        raise ValueError(f"column {name}: offsets do not cover its {len(blob)} bytes")
    return OnDisk(blob, offsets, decode)


class _Lazy(Sequence[T]):
    """A read-only sequence whose items are fetched one at a time (``_item``); indexes and slices as a list's."""

    def _item(self, j: int) -> T:  # 0 <= j < len(self)
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        n = len(self)
        if isinstance(i, slice):
            return [self._item(j) for j in range(*i.indices(n))]
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(f"index {i} out of range for {n} items")
        return self._item(j)


class OnDisk(_Lazy[T]):
    """A saved column (``load_column``): item i decoded from its bytes each time it is read."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, decode: Callable[[bytes], T]) -> None:
        # A memoryview and a plain ndarray over the mapped files: indexing np.memmap goes through Python code.
        self._bytes = blob.data
        self._offsets = np.asarray(offsets)
        self._decode = decode
        self._n = len(offsets) - 1

    def __len__(self) -> int:
        return self._n

    def _item(self, j: int) -> T:
        return self._decode(bytes(self._bytes[int(self._offsets[j]) : int(self._offsets[j + 1])]))

    def __iter__(self) -> Iterator[T]:
        bounds = self._offsets.tolist()
        for start, end in pairwise(bounds):
            yield self._decode(bytes(self._bytes[start:end]))


class Chained(_Lazy[T]):
    """``head`` then ``tail`` as one sequence, without copying ``head`` (a base snapshot's column + a delta's)."""

    def __init__(self, head: Sequence[T], tail: list[T]) -> None:
        self._head = head
        self._tail = tail

    def __len__(self) -> int:
        return len(self._head) + len(self._tail)

    def _item(self, j: int) -> T:
        nh = len(self._head)
        return self._head[j] if j < nh else self._tail[j - nh]

    def __iter__(self) -> Iterator[T]:
        yield from self._head
        yield from self._tail


class Picked(_Lazy[T]):
    """The items of ``source`` at ``rows``, in that order, read from ``source`` when used."""

    def __init__(self, source: Sequence[T], rows: list[int]) -> None:
        self._source = source
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def _item(self, j: int) -> T:
        return self._source[self._rows[j]]

    def __iter__(self) -> Iterator[T]:
        return (self._source[r] for r in self._rows)
