"""URLs the fetch layer refuses cleanly (probe L1, L7, L8): unparseable hosts, IPv6 forms of loopback, credentials."""

from __future__ import annotations

import pytest

from ingest.web import FetchError, UnsafeURL, blocked_reason, check_url, read_urls
from rag.settings import Settings


@pytest.mark.parametrize("url", ["http://0177.0.0.1:8771/", "http://①②⑦.⓪.⓪.①:8771/", "http://h:99999/"])
def test_an_unparseable_url_is_a_fetch_error_not_a_crash(url: str) -> None:
    with pytest.raises(FetchError, match="not a valid URL"):
        check_url(url)


def test_a_batch_reports_the_bad_url_and_goes_on(tmp_path) -> None:
    """`newsqa ingest http://0177.0.0.1/ ...` aborted the whole batch with `unexpected InvalidURL`."""
    out = read_urls(["http://0177.0.0.1/", "gopher://x/"], Settings(data_dir=tmp_path))
    assert [(f.origin, f.reason.split(" (")[0]) for f in out] == [  # type: ignore[union-attr]
        ("http://0177.0.0.1/", "not a valid URL"),
        ("gopher://x/", "refused: only http and https URLs are fetched, not 'gopher'"),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1 (passed the guard)
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",
    ],
)
def test_ipv6_forms_of_private_ipv4_are_blocked(address: str) -> None:
    assert blocked_reason(address) is not None


def test_a_public_ipv6_address_passes() -> None:
    assert blocked_reason("2606:4700:4700::1111") is None and blocked_reason("2002:808:808::") is None  # 8.8.8.8


def test_credentials_are_refused_and_never_echoed() -> None:
    with pytest.raises(UnsafeURL, match="user name or password") as refused:
        check_url("https://user:secretpw@news.example/a")
    assert "secretpw" not in str(refused.value) and "***@news.example" in str(refused.value)
    assert "secretpw" not in str(FetchError("https://u:secretpw@h.example/", "HTTP 500"))
