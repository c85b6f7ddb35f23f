"""Range, conditional headers and the date formats S3 uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import Mapping

from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import saturating

_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.ASCII)


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The satisfiable range asked for, None for the whole object; 416 when unsatisfiable.

    As S3 does, a Range header that is not one well-formed byte range is ignored.
    """
    if not header:
        return None
    m = _RANGE.match(header)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        suffix = saturating(last) or 0
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = saturating(first) or 0
    end = (saturating(last) or 0) if last != "" else size - 1
    if last != "" and end < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return ByteRange(start, min(end, size - 1))


def _unsatisfiable(size: int) -> S3Error:
    return S3Error("InvalidRange", headers={"Content-Range": f"bytes */{size}"},
                   ActualObjectSize=str(size))


MAX_DATE_LENGTH = 200  # an HTTP date is ~30 characters


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 1123 (or 850, asctime) date as an aware UTC datetime; None when it is not one
    (absurd offsets and years that leave datetime's range included)."""
    if not value or len(value) > MAX_DATE_LENGTH:
        return None
    try:
        dt = parsedate_to_datetime(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def http_date(ts: float) -> str:
    return _http_date(int(ts))


@lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def iso8601(ts: float) -> str:
    try:
        dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):  # a client's absurd timestamp, echoed back
        dt = datetime.max.replace(tzinfo=timezone.utc) if ts > 0 else \
            datetime.min.replace(tzinfo=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    for item in header.split(","):
        item = item.strip()
        if item == "*" or item.strip('"') == bare or item.removeprefix("W/").strip('"') == bare:
            return True
    return False


def check_preconditions(
    headers: Mapping[str, str],
    etag: str,
    last_modified: float,
    *,
    prefix: str = "",
    read: bool = True,
) -> None:
    """Raise 412 (PreconditionFailed) or 304 (NotModified) per S3's precedence.

    ``prefix`` is "x-amz-copy-source-" for CopyObject's source conditions, which all
    fail with 412.
    """
    modified = int(last_modified)
    if_match = headers.get(prefix + "if-match")
    if_none = headers.get(prefix + "if-none-match")
    since = parse_http_date(headers.get(prefix + "if-modified-since"))
    unsince = parse_http_date(headers.get(prefix + "if-unmodified-since"))
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise S3Error("PreconditionFailed", Condition="If-Match")
    elif unsince is not None and modified > unsince.timestamp():
        raise S3Error("PreconditionFailed", Condition="If-Unmodified-Since")
    if if_none is not None:
        if _etag_matches(if_none, etag):
            raise _not_modified(read and not prefix, "If-None-Match", etag, last_modified)
    elif since is not None and modified <= since.timestamp():
        if since.timestamp() <= datetime.now(timezone.utc).timestamp():
            raise _not_modified(read and not prefix, "If-Modified-Since", etag, last_modified)


def _not_modified(read: bool, condition: str, etag: str, last_modified: float) -> S3Error:
    if read:
        return S3Error("NotModified", headers={"ETag": etag,
                                               "Last-Modified": http_date(last_modified)})
    return S3Error("PreconditionFailed", Condition=condition)
