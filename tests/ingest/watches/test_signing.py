"""Webhook signatures: what a receiver checks with its own HMAC, a changed body or an old timestamp fails."""

from __future__ import annotations

import hashlib
import hmac

from ingest.watches.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify

SECRET = "a-shared-secret-of-some-length"
BODY = b'{"stories": []}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    headers = sign(SECRET, BODY, now=1_764_560_000)
    expected = hmac.new(SECRET.encode(), b"1764560000." + BODY, hashlib.sha256).hexdigest()
    assert headers == {TIMESTAMP_HEADER: "1764560000", SIGNATURE_HEADER: f"v1={expected}"}


def test_verify_accepts_its_own_signature_and_refuses_tampering() -> None:
    h = sign(SECRET, BODY, now=1000)
    assert verify(SECRET, BODY, h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=1010)
    assert not verify(SECRET, BODY + b" ", h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=1010)  # body changed
    assert not verify("another-secret", BODY, h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=1010)
    assert not verify(SECRET, BODY, "1001", h[SIGNATURE_HEADER], now=1010)  # timestamp changed
    assert not verify(SECRET, BODY, h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=1000 + 301)  # replayed late
    assert not verify(SECRET, BODY, None, h[SIGNATURE_HEADER]) and not verify(SECRET, BODY, "x", "v1=00")
