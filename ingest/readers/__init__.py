"""Readers: bytes of a file (or a fetched page) -> raw documents, one format per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rag.errors import ArticleRejected


@dataclass
class RawDocument:
    """What a reader found: text plus whatever metadata the format carried."""

    text: str
    origin: str
    title: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | datetime | None = None
    url: str | None = None
    partial: bool = False  # web ingest: only a feed entry's content/summary, the page itself failed
    provenance: dict[str, str] = field(default_factory=dict)  # field name -> where its value came from


@dataclass
class Failure:
    origin: str
    reason: str


def decode(data: bytes, origin: str) -> str:
    """UTF-8 (with or without BOM), else the detected encoding; binary data is rejected."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleRejected(f"{origin}: binary data, not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ArticleRejected(f"{origin}: not UTF-8 and no other text encoding fits")
    return str(best)


SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}


def read_file(path: Path, max_bytes: int) -> Iterator[RawDocument | Failure]:
    """Every document in one file; a bad record yields a Failure and reading goes on."""
    from ingest.readers import html, jsonl, text

    origin = str(path)
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if suffix not in {".json", ".jsonl", ".ndjson"} and size > max_bytes:
            raise ArticleRejected(f"{origin}: too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        yield Failure(origin, f"cannot read: {exc.strerror or exc}")
        return
    except ArticleRejected as exc:
        yield Failure(origin, str(exc).removeprefix(f"{origin}: "))
        return
    try:
        if suffix in {".html", ".htm"}:
            yield html.read_html(decode(data, origin), origin)
        elif suffix in {".json", ".jsonl", ".ndjson"}:
            yield from jsonl.read_records(decode(data, origin), origin, jsonl_lines=suffix != ".json")
        else:
            yield text.read_text(decode(data, origin), origin)
    except ArticleRejected as exc:
        yield Failure(origin, str(exc).removeprefix(f"{origin}: "))


def iter_files(paths: list[Path]) -> Iterator[Path | Failure]:
    """Files under the given paths (directories recursively, sorted), skipping unknown suffixes in dirs."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in SUFFIXES and not any(
                    part.startswith(".") for part in child.parts[len(path.parts) :]
                ):
                    yield child
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                yield path
            else:
                yield Failure(
                    str(path),
                    f"unsupported file type {path.suffix or '(none)'}; use one of {', '.join(sorted(SUFFIXES))}",
                )
        else:
            yield Failure(str(path), "no such file or directory")
