"""Prefix/delimiter/marker pagination over keys in UTF-8 byte order.

Pure: the caller passes ``scan(after)`` which yields entries whose key, as UTF-8 bytes,
sorts strictly after ``after`` and starts with the prefix, in byte order. Common
prefixes are skipped with one new scan each, so a page costs O(page), not O(bucket).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Callable, Generic, Iterator, Protocol, TypeVar

from objectstore.s3.errors import S3Error


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


E = TypeVar("E", bound=Keyed)
Scan = Callable[[bytes], Iterator[E]]


@dataclass(slots=True)
class Page(Generic[E]):
    contents: list[E] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    last: str | None = None  # last key or common prefix returned (NextMarker)


def after_prefix(prefix: str) -> bytes:
    """A bound greater than every key that starts with ``prefix`` (0xff is never in UTF-8)."""
    return prefix.encode() + b"\xff"


def list_page(
    scan: Scan[E],
    *,
    prefix: str,
    delimiter: str,
    start_after: str,
    max_keys: int,
) -> Page[E]:
    page: Page[E] = Page()
    if max_keys <= 0:
        return page
    marker = start_after.encode()
    it = scan(marker)
    count = 0
    while True:
        entry = next(it, None)
        if entry is None:
            return page
        key = entry.key
        if delimiter:
            idx = key.find(delimiter, len(prefix))
            if idx >= 0:
                cp = key[: idx + len(delimiter)]
                if cp.encode() <= marker:
                    # the marker is inside this prefix: it was returned on an earlier page
                    it = scan(after_prefix(cp))
                    continue
                if count == max_keys:
                    page.is_truncated = True
                    return page
                page.common_prefixes.append(cp)
                page.last = cp
                count += 1
                it = scan(after_prefix(cp))
                continue
        if count == max_keys:
            page.is_truncated = True
            return page
        page.contents.append(entry)
        page.last = key
        count += 1


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                      ArgumentName="continuation-token", ArgumentValue=token) from None


def parse_max_keys(value: str | None, name: str = "max-keys", limit: int = 1000) -> int:
    if value is None:
        return limit
    value = value.strip()
    if not re.fullmatch(r"-?[0-9]{1,10}", value) or int(value) > 2147483647:
        raise S3Error("InvalidArgument", "Provided max-keys not an integer or within integer "
                      "range", ArgumentName=name, ArgumentValue=value)
    n = int(value)
    if n < 0:
        raise S3Error("InvalidArgument", "Argument maxKeys must be an integer between 0 and "
                      "2147483647", ArgumentName=name, ArgumentValue=value)
    return min(n, limit)
