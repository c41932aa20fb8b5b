"""Webhook signatures: HMAC-SHA256 over ``{timestamp}.{body}``, so a receiver can check who sent a digest and when.

Headers on every webhook call::

    X-Newsqa-Timestamp: 1764560000
    X-Newsqa-Signature: v1=<hex HMAC-SHA256(secret, "1764560000." + raw body)>
    X-Newsqa-Delivery: <the delivery ids, comma-separated: a retried digest carries the same ones>

The timestamp is inside the signed bytes, so a captured call cannot be replayed later with a fresh timestamp;
:func:`verify` refuses signatures older than ``tolerance_s`` (default 5 minutes), the scheme Stripe and Slack use.
The secret is the watch's own (given or generated at ``watch add``), else ``NEWSQA_WATCH_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Newsqa-Timestamp"
SIGNATURE_HEADER = "X-Newsqa-Signature"
DELIVERY_HEADER = "X-Newsqa-Delivery"
VERSION = "v1"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 with ``secret`` over ``b"{timestamp}." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def sign(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The timestamp and signature headers for ``body``."""
    ts = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, ts, body)}


def verify(
    secret: str, body: bytes, timestamp: str | None, sig: str | None, now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> bool:  # fmt: skip
    """What a receiver runs: the signature matches and the timestamp is within ``tolerance_s`` of now."""
    if not timestamp or not sig or not timestamp.strip().isdigit():
        return False
    ts = int(timestamp)
    if abs((now if now is not None else time.time()) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, ts, body), sig.strip())
