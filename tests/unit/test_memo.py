"""short_memo remembers short values only, in a bounded cache."""

from __future__ import annotations

from objectstore.s3 import routing, sigv4
from objectstore.s3.memo import MAX_LEN, memo_size, short_memo


def test_short_values_are_remembered_long_ones_are_not() -> None:
    calls: list[str] = []

    @short_memo(4)
    def upper(value: str) -> str:
        calls.append(value)
        return value.upper()

    assert upper("abc") == "ABC" and upper("abc") == "ABC"
    assert calls == ["abc"]
    long = "x" * (MAX_LEN + 1)
    assert upper(long) == long.upper() and upper(long) == long.upper()
    assert calls == ["abc", long, long]
    for i in range(10):
        upper(f"v{i}")
    assert memo_size(upper) <= 4


def test_request_path_caches_skip_large_client_values() -> None:
    before = memo_size(routing._unquote_plus)
    assert routing._unquote_plus("%41" + "q" * 5000) == "A" + "q" * 5000
    assert memo_size(routing._unquote_plus) == before
    host = "b" * 5000 + ".s3.localhost"
    size = routing._split_host.cache_info().currsize
    assert routing.split_host(host, ("s3.localhost",)) == "b" * 5000
    assert routing._split_host.cache_info().currsize == size
    size = memo_size(sigv4.parse_amz_date)
    assert sigv4.parse_amz_date("2" * 5000) is None
    assert memo_size(sigv4.parse_amz_date) == size
    size = sigv4._signing_key.cache_info().currsize
    sigv4.signing_key("secret", "20260101", "r" * 5000, "s3")
    assert sigv4._signing_key.cache_info().currsize == size
