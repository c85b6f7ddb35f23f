"""Checks on header values taken from clients before they are stored or sent (pure).

A value stored with an object is sent back on every GET and HEAD: one that cannot go on
the wire (CR, LF, NUL, other control characters) would make the object unreadable, so it
is refused when it arrives, as are oversized values.
"""

from __future__ import annotations

import re
from typing import Mapping

from objectstore.s3.errors import S3Error

# S3: user metadata is limited to 2 KB, the whole header section of a PUT to 8 KB; the
# stored system headers (Content-Type, Cache-Control, ..., redirect location) and the
# user metadata together are held to the latter.
METADATA_LIMIT = 2048
STORED_LIMIT = 8192
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # controls other than tab
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+", re.ASCII)
REDIRECT_PREFIXES = ("/", "http://", "https://")


def _shown(value: str) -> str:
    return value[:256]


def check_value(name: str, value: str) -> None:
    """InvalidArgument when ``value`` holds a control character (tab excepted)."""
    if _BAD_VALUE.search(value):
        raise S3Error("InvalidArgument", "Header value contains invalid characters.",
                      ArgumentName=name, ArgumentValue=_shown(value).encode(
                          "unicode_escape").decode("ascii"))


def check_name(name: str) -> None:
    if not _TOKEN.fullmatch(name):
        raise S3Error("InvalidArgument", "Header name contains invalid characters.",
                      ArgumentName=_shown(name).encode("unicode_escape").decode("ascii"))


def check_override(name: str, value: str) -> None:
    """A ``response-*`` query override: sent as a header, so it must be latin-1 text
    without control characters (S3's answers, also for non-latin-1 values)."""
    check_value(name, value)
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise S3Error("InvalidArgument", "Header value cannot be represented using "
                      "ISO-8859-1.", ArgumentName=name, ArgumentValue=_shown(value)) from None


def check_redirect(value: str) -> None:
    """x-amz-website-redirect-location: 400 InvalidRedirectLocation unless it starts with
    "/", "http://" or "https://" (S3's code and message)."""
    if not value.startswith(REDIRECT_PREFIXES):
        raise S3Error("InvalidRedirectLocation")


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def check_stored(headers: Mapping[str, str]) -> None:
    """All checks on the headers to be stored with an object (names lower-case)."""
    meta = total = 0
    for name, value in headers.items():
        check_name(name)
        check_value(name, value)
        size = _size(name) + _size(value)
        total += size
        if name.startswith("x-amz-meta-"):
            meta += size - len("x-amz-meta-")
    if meta > METADATA_LIMIT:
        raise S3Error("MetadataTooLarge", Size=str(meta), MaxSizeAllowed=str(METADATA_LIMIT))
    if total > STORED_LIMIT:
        raise S3Error("RequestHeaderSectionTooLarge", "Your request header section exceeds "
                      "the maximum allowed size.", Size=str(total),
                      MaxSizeAllowed=str(STORED_LIMIT))
    redirect = headers.get("x-amz-website-redirect-location")
    if redirect is not None:
        check_redirect(redirect)
