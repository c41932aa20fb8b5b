"""Date parsing shared by readers, filters and the ways in: everything becomes timezone-aware (UTC if unsaid).

Two strictnesses. Readers and the CLI are lenient (``dateutil``: RFC 2822, ``2022/06/01``, 'March 3, 2025'),
because feeds and pages write dates every which way. The HTTP API is strict (``strict=True``): ISO 8601 only,
so ``1-1-1`` (dateutil reads 2001-01-01), ``-2022-01-01`` or a date with a NUL is refused, not guessed.
Both refuse a non-string (a JSON number or list) and a time-zone offset outside ±24 h, which Python cannot
represent (dateutil builds such a datetime, and it fails later on any arithmetic).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dateutil import parser as dateutil_parser

from rag.errors import InputError

HINT = "use YYYY-MM-DD or an ISO 8601 time"


def parse_date(value: object, *, end_of_day: bool = False, strict: bool = False) -> datetime | None:
    """Parse ISO, ``YYYY/MM/DD``, RFC 2822 or 'March 3, 2025' into an aware datetime; None if empty.

    ``end_of_day`` makes a bare date mean its last second (for ``--until``/``--as-of 2022-06-16``).
    ``strict`` accepts ISO 8601 only (``datetime.fromisoformat``). Raises ``InputError`` on anything that
    is not a date, including non-strings.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise InputError(f"not a date: {value!r} (expected a string, got {type(value).__name__}; {HINT})")
    text = value.strip()
    if not text or text.lower() in {"none", "null", "nan"}:
        return None
    try:
        parsed = datetime.fromisoformat(text) if strict else dateutil_parser.parse(text)
        parsed.utcoffset()  # an offset beyond ±24 h raises here, not at the first comparison
    except (ValueError, OverflowError) as exc:
        reason = "the time-zone offset must be within ±24 h" if "offset" in str(exc) else HINT
        raise InputError(f"not a date: {value!r} ({reason})") from exc
    if end_of_day and parsed.hour == parsed.minute == parsed.second == 0 and ":" not in text:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)
