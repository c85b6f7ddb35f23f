"""Strict parsing of the decimal numbers clients send (headers, query values, XML text).

``int()`` accepts far more than S3 does: Unicode digits ('١٢'), signs, spaces and
underscores ('5_000'), and raises ValueError (not a value) beyond 4300 digits. Numbers
taken from a client go through here: ASCII digits only, with a length cap.
"""

from __future__ import annotations

import re

MAX_DIGITS = 19  # 10**19 - 1 is beyond any size, count or timestamp the server handles
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
HUGE = 2**63  # stands for "more than anything": a value too long to be meant exactly


def digits(text: str | bytes, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of ``text`` if it is 1..``max_digits`` ASCII digits, else None."""
    # isdigit() alone takes Unicode digits ('²', '١'); with isascii() it is exactly [0-9]+
    if len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def saturating(text: str) -> int | None:
    """ASCII digits of any length; values beyond ``MAX_DIGITS`` digits give ``HUGE``
    (for offsets, where a huge number means "past the end")."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    stripped = text.lstrip("0") or "0"
    if len(stripped) > MAX_DIGITS:
        return HUGE
    return int(stripped)


def signed(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """An optionally '-'-signed ASCII decimal of at most ``max_digits`` digits."""
    negative = text.startswith("-")
    value = digits(text[1:] if negative else text, max_digits)
    if value is None:
        return None
    return -value if negative else value
