"""s3.headers: what may be stored with an object and sent back as a header."""

from __future__ import annotations

import pytest

from objectstore.s3 import headers
from objectstore.s3.errors import S3Error


def code(fn: object, *args: object) -> str | None:
    try:
        fn(*args)  # type: ignore[operator]
    except S3Error as err:
        return err.code
    return None


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "a\x00b", "\x1b[31m", "a\x7f"])
def test_control_characters_are_refused(value: str) -> None:
    assert code(headers.check_stored, {"content-type": value}) == "InvalidArgument"
    assert code(headers.check_stored, {"x-amz-meta-a": value}) == "InvalidArgument"
    assert code(headers.check_override, "response-content-type", value) == "InvalidArgument"


def test_tabs_and_utf8_are_kept() -> None:
    assert code(headers.check_stored, {"content-type": "a\tb", "x-amz-meta-n": "é倉"}) is None
    assert code(headers.check_override, "response-expires", "a\tb é") is None
    assert code(headers.check_override, "response-content-disposition", "倉") == \
        "InvalidArgument"


def test_names_must_be_tokens() -> None:
    assert code(headers.check_stored, {"x-amz-meta-a b": "v"}) == "InvalidArgument"
    assert code(headers.check_stored, {"x-amz-meta-a:b": "v"}) == "InvalidArgument"


def test_sizes() -> None:
    assert code(headers.check_stored, {"x-amz-meta-a": "v" * 2047}) is None
    assert code(headers.check_stored, {"x-amz-meta-a": "v" * 2048}) == "MetadataTooLarge"
    assert code(headers.check_stored, {"cache-control": "v" * 8000}) is None
    assert code(headers.check_stored, {"cache-control": "v" * 8192}) == \
        "RequestHeaderSectionTooLarge"
    split = {"content-type": "t" * 4000, "content-disposition": "d" * 4000,
             "x-amz-meta-a": "m" * 500}
    assert code(headers.check_stored, split) == "RequestHeaderSectionTooLarge"


@pytest.mark.parametrize(("value", "ok"), [("/a", True), ("http://x", True),
                                           ("https://x/y", True), ("x", False),
                                           ("HTTP://x", False), ("ftp://x", False),
                                           ("", False)])
def test_redirect_location(value: str, ok: bool) -> None:
    got = code(headers.check_stored, {"x-amz-website-redirect-location": value})
    assert got == (None if ok else "InvalidRedirectLocation")
