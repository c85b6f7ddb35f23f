"""http: Range parsing, conditional request precedence, date formats."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.http import (
    ByteRange,
    check_preconditions,
    http_date,
    iso8601,
    parse_http_date,
    parse_range,
)

# ------------------------------------------------------------------ Range


@pytest.mark.parametrize("header,size,expected", [
    ("bytes=0-9", 100, (0, 9)),
    ("bytes=0-0", 100, (0, 0)),
    ("bytes=10-19", 100, (10, 19)),
    ("bytes=99-99", 100, (99, 99)),
    ("bytes=90-200", 100, (90, 99)),  # last-byte-pos past the end is clamped
    ("bytes=0-", 100, (0, 99)),
    ("bytes=50-", 100, (50, 99)),
    ("bytes=-10", 100, (90, 99)),
    ("bytes=-100", 100, (0, 99)),
    ("bytes=-500", 100, (0, 99)),
    ("bytes=-1", 1, (0, 0)),
    ("bytes = 1 - 2", 100, (1, 2)),
    ("bytes=0-99999999999999999999", 100, (0, 99)),
])
def test_parse_range_satisfiable(header: str, size: int, expected: tuple[int, int]) -> None:
    r = parse_range(header, size)
    assert r is not None
    assert (r.start, r.end) == expected
    assert r.length == expected[1] - expected[0] + 1
    assert r.content_range(size) == f"bytes {expected[0]}-{expected[1]}/{size}"


@pytest.mark.parametrize("header,size", [
    ("bytes=100-", 100),
    ("bytes=100-200", 100),
    ("bytes=1000-1001", 100),
    ("bytes=0-", 0),
    ("bytes=0-0", 0),
    ("bytes=-0", 100),
    ("bytes=-5", 0),
])
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(S3Error) as ei:
        parse_range(header, size)
    e = ei.value
    assert e.code == "InvalidRange"
    assert e.status == 416
    assert e.headers["Content-Range"] == f"bytes */{size}"
    assert e.extra.get("ActualObjectSize") == str(size)


@pytest.mark.parametrize("header", [
    None, "", "bytes=", "bytes=-", "bytes=5-2", "bytes=a-b", "bytes=1-2,4-5",
    "items=0-9", "bytes 0-9", "bytes=0x1-2", "bytes=1.5-2", "bytes=--1", "0-9",
])
def test_parse_range_malformed_is_ignored(header: str | None) -> None:
    assert parse_range(header, 100) is None


def test_parse_range_ascii_digits_only() -> None:
    assert parse_range("bytes=\u0660-\u0669", 100) is None


@settings(max_examples=150)
@given(size=st.integers(0, 1000), a=st.integers(0, 1200), b=st.integers(0, 1200),
       form=st.sampled_from(["ab", "a-", "-b"]))
def test_parse_range_model(size: int, a: int, b: int, form: str) -> None:
    header = {"ab": f"bytes={a}-{b}", "a-": f"bytes={a}-", "-b": f"bytes=-{b}"}[form]
    # RFC 9110 14.1.2 / 14.1.3
    if form == "ab" and b < a:
        expect: object = None
    elif form == "-b":
        expect = "416" if (b == 0 or size == 0) else (max(0, size - b), size - 1)
    elif a >= size:
        expect = "416"
    else:
        expect = (a, min(b, size - 1) if form == "ab" else size - 1)
    try:
        got = parse_range(header, size)
    except S3Error as e:
        assert e.code == "InvalidRange"
        assert expect == "416"
        return
    if got is None:
        assert expect is None
    else:
        assert (got.start, got.end) == expect
        assert 0 <= got.start <= got.end < size


def test_byte_range_value() -> None:
    r = ByteRange(2, 5)
    assert r.length == 4
    assert r.content_range(10) == "bytes 2-5/10"


# ------------------------------------------------------------------ conditional requests

ETAG = '"9b2cf535f27731c974343645a3985328"'
LM = 1_369_353_600.4  # Fri, 24 May 2013 00:00:00 GMT (+0.4 s)
BEFORE = "Thu, 23 May 2013 00:00:00 GMT"
SAME = "Fri, 24 May 2013 00:00:00 GMT"
AFTER = "Sat, 25 May 2013 00:00:00 GMT"
FUTURE = http_date(time.time() + 365 * 86400)


def _outcome(headers: dict[str, str], **kw: object) -> str:
    try:
        check_preconditions(headers, ETAG, LM, **kw)  # type: ignore[arg-type]
    except S3Error as e:
        return e.code
    return "OK"


@pytest.mark.parametrize("headers,expected", [
    ({}, "OK"),
    # If-Match
    ({"if-match": ETAG}, "OK"),
    ({"if-match": ETAG.strip('"')}, "OK"),
    ({"if-match": "*"}, "OK"),
    ({"if-match": '"other", ' + ETAG}, "OK"),
    ({"if-match": '"other"'}, "PreconditionFailed"),
    # If-Unmodified-Since
    ({"if-unmodified-since": AFTER}, "OK"),
    ({"if-unmodified-since": SAME}, "OK"),
    ({"if-unmodified-since": BEFORE}, "PreconditionFailed"),
    ({"if-unmodified-since": "garbage"}, "OK"),  # an invalid date is ignored
    # If-None-Match
    ({"if-none-match": ETAG}, "NotModified"),
    ({"if-none-match": "*"}, "NotModified"),
    ({"if-none-match": '"other"'}, "OK"),
    # If-Modified-Since
    ({"if-modified-since": BEFORE}, "OK"),
    ({"if-modified-since": SAME}, "NotModified"),
    ({"if-modified-since": AFTER}, "NotModified"),
    ({"if-modified-since": FUTURE}, "OK"),  # a date in the future is ignored (RFC 9110)
    ({"if-modified-since": "garbage"}, "OK"),
    # AWS precedence (GetObject docs): If-Match true + If-Unmodified-Since false -> 200
    ({"if-match": ETAG, "if-unmodified-since": BEFORE}, "OK"),
    ({"if-match": '"other"', "if-unmodified-since": AFTER}, "PreconditionFailed"),
    # If-None-Match false + If-Modified-Since true -> 304
    ({"if-none-match": ETAG, "if-modified-since": BEFORE}, "NotModified"),
    # If-None-Match true overrides If-Modified-Since false
    ({"if-none-match": '"other"', "if-modified-since": AFTER}, "OK"),
    # 412 beats 304
    ({"if-match": '"other"', "if-none-match": ETAG}, "PreconditionFailed"),
    ({"if-unmodified-since": BEFORE, "if-modified-since": AFTER}, "PreconditionFailed"),
])
def test_check_preconditions_get(headers: dict[str, str], expected: str) -> None:
    assert _outcome(headers) == expected


def test_not_modified_and_precondition_statuses() -> None:
    with pytest.raises(S3Error) as ei:
        check_preconditions({"if-none-match": ETAG}, ETAG, LM)
    assert ei.value.status == 304
    with pytest.raises(S3Error) as ei:
        check_preconditions({"if-match": '"x"'}, ETAG, LM)
    assert ei.value.status == 412
    assert ei.value.extra["Condition"] == "If-Match"
    with pytest.raises(S3Error) as ei:
        check_preconditions({"if-unmodified-since": BEFORE}, ETAG, LM)
    assert ei.value.extra["Condition"] == "If-Unmodified-Since"


def test_write_preconditions_fail_with_412() -> None:
    # conditional writes (PutObject If-None-Match: *) answer 412, never 304
    assert _outcome({"if-none-match": "*"}, read=False) == "PreconditionFailed"
    assert _outcome({"if-modified-since": AFTER}, read=False) == "PreconditionFailed"
    assert _outcome({"if-none-match": '"other"'}, read=False) == "OK"


@pytest.mark.parametrize("headers,expected", [
    ({"x-amz-copy-source-if-match": ETAG}, "OK"),
    ({"x-amz-copy-source-if-match": '"x"'}, "PreconditionFailed"),
    ({"x-amz-copy-source-if-none-match": ETAG}, "PreconditionFailed"),
    ({"x-amz-copy-source-if-none-match": '"x"'}, "OK"),
    ({"x-amz-copy-source-if-modified-since": AFTER}, "PreconditionFailed"),
    ({"x-amz-copy-source-if-modified-since": BEFORE}, "OK"),
    ({"x-amz-copy-source-if-unmodified-since": BEFORE}, "PreconditionFailed"),
    # CopyObject docs: if-match true + if-unmodified-since false -> copies (200)
    ({"x-amz-copy-source-if-match": ETAG, "x-amz-copy-source-if-unmodified-since": BEFORE},
     "OK"),
    # if-none-match false + if-modified-since true -> 412
    ({"x-amz-copy-source-if-none-match": ETAG, "x-amz-copy-source-if-modified-since": BEFORE},
     "PreconditionFailed"),
    # the plain headers are not copy-source conditions
    ({"if-match": '"x"'}, "OK"),
])
def test_copy_source_preconditions(headers: dict[str, str], expected: str) -> None:
    assert _outcome(headers, prefix="x-amz-copy-source-") == expected


def test_last_modified_compared_at_second_granularity() -> None:
    # Last-Modified is sent as http_date(LM) (whole seconds); echoing it back must 304
    assert _outcome({"if-modified-since": http_date(LM)}) == "NotModified"
    assert _outcome({"if-unmodified-since": http_date(LM)}) == "OK"


# ------------------------------------------------------------------ dates

def test_http_date_rfc7231() -> None:
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert http_date(1369353600) == "Fri, 24 May 2013 00:00:00 GMT"
    assert http_date(1369353600.999) == "Fri, 24 May 2013 00:00:00 GMT"


def test_iso8601_millis_z() -> None:
    assert iso8601(0) == "1970-01-01T00:00:00.000Z"
    assert iso8601(1369353600.5) == "2013-05-24T00:00:00.500Z"
    assert iso8601(1369353600.0409) == "2013-05-24T00:00:00.040Z"


@settings(max_examples=100)
@given(st.floats(0, 4_102_444_800, allow_nan=False))
def test_date_formats_round_trip(ts: float) -> None:
    hd = http_date(ts)
    assert parsedate_to_datetime(hd).timestamp() == int(ts)
    parsed = parse_http_date(hd)
    assert parsed is not None and parsed.timestamp() == int(ts)
    iso = iso8601(ts)
    assert len(iso) == 24 and iso.endswith("Z")
    back = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs(back.timestamp() - ts) < 0.002


@pytest.mark.parametrize("value,expected", [
    ("Fri, 24 May 2013 00:00:00 GMT", 1369353600),
    ("Fri, 24 May 2013 02:00:00 +0200", 1369353600),
    ("Fri, 24 May 2013 00:00:00", 1369353600),  # no zone: UTC
    ("Friday, 24-May-13 00:00:00 GMT", 1369353600),  # RFC 850
    ("Fri May 24 00:00:00 2013", 1369353600),  # asctime
])
def test_parse_http_date(value: str, expected: int) -> None:
    parsed = parse_http_date(value)
    assert parsed is not None and parsed.timestamp() == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", "2013-05-24T00:00:00Z", "Fri, 99 May"])
def test_parse_http_date_invalid(value: str | None) -> None:
    assert parse_http_date(value) is None
