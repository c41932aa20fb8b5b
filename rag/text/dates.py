"""Date parsing shared by readers, filters and the ways in: everything becomes timezone-aware (UTC if unsaid)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dateutil import parser as dateutil_parser

from rag.errors import InputError


def parse_date(value: str | date | datetime | None, *, end_of_day: bool = False) -> datetime | None:
    """Parse ISO, ``YYYY/MM/DD``, RFC 2822 or 'March 3, 2025' into an aware datetime; None if empty.

    ``end_of_day`` makes a bare date mean its last second (for ``--until``/``--as-of 2022-06-16``).
    Raises ``InputError`` on text that is not a date.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        value = value.isoformat()
    text = value.strip()
    if not text or text.lower() in {"none", "null", "nan"}:
        return None
    try:
        parsed = dateutil_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise InputError(f"not a date: {value!r} (use YYYY-MM-DD or an ISO 8601 time)") from exc
    if end_of_day and parsed.hour == parsed.minute == parsed.second == 0 and ":" not in text:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)
