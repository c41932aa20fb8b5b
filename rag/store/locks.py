"""Locks shared by threads and processes writing one store: a flocked file per lock, released when its holder dies.

``flock`` (not ``fcntl`` record locks) because it belongs to the open file, so two stores in one process
exclude each other too, and the kernel drops it when the holder is killed, so a dead writer never blocks.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FileLock:
    """A lock for threads and processes alike: a reentrant threading lock, then ``flock`` on ``path``.

    One per lock file per process (``_LOCKS``), shared by every ChromaStore of that process on the store; the
    kernel releases the flock when its holder dies, so a killed writer never blocks the others."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rlock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._rlock:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                self._fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    os.close(self._fd)  # closing releases the flock
                    self._fd = None


_LOCKS: dict[Path, FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def file_lock(path: Path) -> FileLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, FileLock(path))


def is_free(path: Path) -> bool:
    """True when nobody holds the flock on ``path`` (its writer is gone)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops the probe's own lock
    return True
