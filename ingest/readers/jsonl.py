"""JSON / JSONL records: ``text`` or ``body`` plus optional title, url, source, authors, published.

Takes real-world exports as they are: ``"None"`` as a title means none, an ``authors`` string that looks
like a Python list becomes a list, ``publish_date``/``date`` and ``YYYY/MM/DD`` dates are understood.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from typing import Any

from ingest.clean import split_authors
from ingest.readers import Failure, RawDocument
from rag.errors import ArticleRejected

_NULLS = {"", "none", "null", "nan", "n/a"}


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in _NULLS else text


def _authors(value: Any) -> list[str]:
    if isinstance(value, list):
        return [a for a in (_str(v) for v in value) if a]
    text = _str(value)
    if not text:
        return []
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [a for a in (_str(v) for v in parsed) if a]
    return split_authors(text)


def _first(record: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def record_to_document(record: Any, origin: str) -> RawDocument:
    if not isinstance(record, dict):
        raise ArticleRejected(f"{origin}: expected a JSON object, got {type(record).__name__}")
    text = _first(record, "text", "body", "content", "article")
    if not isinstance(text, str) or not text.strip():
        raise ArticleRejected(f"{origin}: no 'text' or 'body' field with article text")
    source = _first(record, "source", "outlet", "publisher", "site_name", "sitename")
    if isinstance(source, dict):  # NewsAPI style {"id":..., "name":...}
        source = source.get("name")
    return RawDocument(
        text=text,
        origin=origin,
        title=_str(_first(record, "title", "headline")),
        source=_str(source),
        authors=_authors(_first(record, "authors", "author", "byline")),
        published=_str(_first(record, "published", "published_at", "publish_date", "date", "pubDate")),
        url=_str(_first(record, "url", "link", "canonical_url")),
    )


def read_records(text: str, origin: str, jsonl_lines: bool) -> Iterator[RawDocument | Failure]:
    if not jsonl_lines:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if "\n{" not in text:
                raise ArticleRejected(
                    f"{origin}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
                ) from exc
            data = None  # a .json file holding JSON lines
        if data is not None:
            records = (
                data if isinstance(data, list) else data.get("articles", [data]) if isinstance(data, dict) else [data]
            )
            for i, record in enumerate(records):
                try:
                    yield record_to_document(record, f"{origin}#{i}")
                except ArticleRejected as exc:
                    yield Failure(f"{origin}#{i}", str(exc).removeprefix(f"{origin}#{i}: "))
            return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{lineno}"
        try:
            yield record_to_document(json.loads(line), where)
        except json.JSONDecodeError as exc:
            yield Failure(where, f"invalid JSON: {exc.msg} at column {exc.colno}")
        except ArticleRejected as exc:
            yield Failure(where, str(exc).removeprefix(f"{where}: "))
