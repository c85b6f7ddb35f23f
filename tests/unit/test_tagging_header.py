"""The x-amz-tagging header: query-string form, as S3 reads it."""

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.tagging import parse_header


@pytest.mark.parametrize("value, tags", [
    ("", ()),
    ("a=1", (("a", "1"),)),
    ("foo=bar&bar", (("foo", "bar"), ("bar", ""))),
    ("k%20x=v%26w", (("k x", "v&w"),)),
    ("a=", (("a", ""),)),
])
def test_parsed(value: str, tags: tuple[tuple[str, str], ...]) -> None:
    assert parse_header(value) == tags


@pytest.mark.parametrize("value", ["a=1&&b=2", "&a=1", "a=1&", "=v"])
def test_refused(value: str) -> None:
    with pytest.raises(S3Error) as e:
        parse_header(value)
    assert e.value.code in ("InvalidArgument", "InvalidTag")
