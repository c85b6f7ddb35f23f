"""listing.list_page against a brute-force model of S3's ListObjects semantics."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.listing import (
    after_prefix,
    decode_token,
    encode_token,
    list_page,
    parse_max_keys,
)


@dataclass(frozen=True)
class Obj:
    key: str


class Bucket:
    """A sorted key store whose scan() follows the documented contract exactly."""

    def __init__(self, keys: set[str], prefix: str) -> None:
        self.keys = sorted(keys, key=lambda k: k.encode())
        self.prefix = prefix
        self.scans: list[bytes] = []

    def scan(self, after: bytes) -> Iterator[Obj]:
        assert isinstance(after, bytes)
        self.scans.append(after)
        pb = self.prefix.encode()
        for k in self.keys:
            kb = k.encode()
            if kb > after and kb.startswith(pb):
                yield Obj(k)


def model(keys: set[str], prefix: str, delimiter: str, marker: str) -> list[tuple[str, str]]:
    """Every entry S3 lists after ``marker``: ("K", key) or ("P", common prefix), in order.

    Keys are taken in UTF-8 byte order; a key containing the delimiter after the prefix
    is rolled up into its common prefix, which is listed once, where its first key would
    be, unless it sorts at or before the marker (it was listed on an earlier page).
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    mb = marker.encode()
    for k in sorted(keys, key=lambda k: k.encode()):
        if not k.startswith(prefix) or k.encode() <= mb:
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[: i + len(delimiter)]
                if cp.encode() > mb and cp not in seen:
                    seen.add(cp)
                    out.append(("P", cp))
                continue
        out.append(("K", k))
    return out


def entries(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A page's keys and prefixes merged in byte order (list_page keeps them apart)."""
    items = [("K", o.key) for o in page.contents] + [("P", p) for p in page.common_prefixes]
    return sorted(items, key=lambda e: e[1].encode())


ALPHABET = ["a", "b", "/", ".", "-", "0", "!", " ", "\x7f", "é", "ÿ", "\u0800", "\uffff",
            "😀", "a/", "//"]
text = st.lists(st.sampled_from(ALPHABET), max_size=5).map("".join)
text1 = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=5).map("".join)


@settings(max_examples=150)
@given(keys=st.sets(text1, max_size=25), prefix=st.one_of(st.just(""), text),
       delimiter=st.sampled_from(["", "/", "a", "/a", ".", "é", "//", "😀"]),
       start_after=st.one_of(st.just(""), text), max_keys=st.integers(1, 6))
def test_pages_reproduce_model(keys: set[str], prefix: str, delimiter: str, start_after: str,
                               max_keys: int) -> None:
    bucket = Bucket(keys, prefix)
    expected = model(keys, prefix, delimiter, start_after)
    got: list[tuple[str, str]] = []
    marker = start_after
    for _ in range(len(expected) + 2):
        page = list_page(bucket.scan, prefix=prefix, delimiter=delimiter,
                         start_after=marker, max_keys=max_keys)
        items = entries(page)
        # each page is a contiguous run of the model, within max_keys
        assert len(items) <= max_keys
        assert items == model(keys, prefix, delimiter, marker)[: len(items)]
        # contents and prefixes are each in byte order
        assert [o.key.encode() for o in page.contents] == sorted(
            o.key.encode() for o in page.contents)
        assert page.common_prefixes == sorted(page.common_prefixes, key=str.encode)
        if not delimiter:
            assert page.common_prefixes == []
        got += items
        if items:
            assert page.last == items[-1][1]
        if not page.is_truncated:
            break
        assert len(items) == max_keys  # truncated pages are full
        assert page.last is not None
        marker = page.last
    else:
        pytest.fail("listing did not terminate")
    assert got == expected
    assert len({e for e in got}) == len(got)  # each key / prefix appears once


@settings(max_examples=40)
@given(keys=st.sets(text1, max_size=25), prefix=st.one_of(st.just(""), text),
       delimiter=st.sampled_from(["", "/", "a"]), start_after=st.one_of(st.just(""), text))
def test_single_big_page_equals_model(keys: set[str], prefix: str, delimiter: str,
                                      start_after: str) -> None:
    page = list_page(Bucket(keys, prefix).scan, prefix=prefix, delimiter=delimiter,
                     start_after=start_after, max_keys=1000)
    assert entries(page) == model(keys, prefix, delimiter, start_after)
    assert not page.is_truncated


# ------------------------------------------------------------------ worked examples

# From the ListObjects documentation: keys sample.jpg and photos/2006/...
DOC_KEYS = {"sample.jpg", "photos/2006/January/sample.jpg", "photos/2006/February/sample2.jpg",
            "photos/2006/February/sample3.jpg", "photos/2006/February/sample4.jpg"}


def _list(keys: set[str], **kw: object) -> tuple[list[str], list[str], bool, str | None]:
    args: dict[str, object] = {"prefix": "", "delimiter": "", "start_after": "", "max_keys": 1000}
    args.update(kw)
    page = list_page(Bucket(keys, str(args["prefix"])).scan, **args)  # type: ignore[arg-type]
    return [o.key for o in page.contents], page.common_prefixes, page.is_truncated, page.last


def test_doc_example_delimiter() -> None:
    assert _list(DOC_KEYS, delimiter="/") == (["sample.jpg"], ["photos/"], False, "sample.jpg")


def test_doc_example_prefix_and_delimiter() -> None:
    keys, prefixes, truncated, _ = _list(DOC_KEYS, prefix="photos/2006/", delimiter="/")
    assert keys == []
    assert prefixes == ["photos/2006/February/", "photos/2006/January/"]
    assert not truncated


def test_next_marker_is_common_prefix_and_skips_it() -> None:
    # s3-tests test_bucket_list_delimiter_prefix: asdf, boo/bar, boo/baz/xyzzy, cquux/thud...
    keys = {"asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"}
    assert _list(keys, delimiter="/", max_keys=1) == (["asdf"], [], True, "asdf")
    assert _list(keys, delimiter="/", max_keys=1, start_after="asdf") == (
        [], ["boo/"], True, "boo/")
    assert _list(keys, delimiter="/", max_keys=1, start_after="boo/") == (
        [], ["cquux/"], False, "cquux/")
    # a marker inside a common prefix: the prefix was already listed (sorts before marker)
    assert _list(keys, delimiter="/", start_after="boo/bar") == ([], ["cquux/"], False, "cquux/")


def test_start_after_shorter_than_common_prefix() -> None:
    # versitygw#1275: start-after "prefix1" still lists "prefix1/" (it sorts after)
    keys = {"prefix1/object", "prefix2/object"}
    assert _list(keys, prefix="prefix", delimiter="/", start_after="prefix1")[1] == [
        "prefix1/", "prefix2/"]


def test_last_entry_is_common_prefix_not_truncated() -> None:
    # versitygw#1280 shape: max-keys=2 ending on a common prefix
    keys = {"dir1/subdir/file.txt", "dir1/subdir.ext", "dir1/subdir1.ext", "dir1/subdir2.ext"}
    got = _list(keys, prefix="dir1/", delimiter="/", max_keys=2)
    assert got == (["dir1/subdir.ext"], ["dir1/subdir/"], True, "dir1/subdir/")


def test_byte_order_not_code_point_surrogates() -> None:
    # U+FFFF vs U+1F600: UTF-8 byte order (== code point order), not UTF-16 order
    keys = {"\uffff", "😀", "z"}
    assert _list(keys)[0] == ["z", "\uffff", "😀"]


def test_common_prefix_skipped_with_one_new_scan() -> None:
    keys = {f"dir/{i:04d}" for i in range(200)} | {"e"}
    bucket = Bucket(keys, "")
    page = list_page(bucket.scan, prefix="", delimiter="/", start_after="", max_keys=10)
    assert page.common_prefixes == ["dir/"]
    assert [o.key for o in page.contents] == ["e"]
    assert after_prefix("dir/") in bucket.scans
    assert len(bucket.scans) == 2


def test_max_keys_zero() -> None:
    page = list_page(Bucket({"a"}, "").scan, prefix="", delimiter="", start_after="",
                     max_keys=0)
    assert page.contents == [] and page.common_prefixes == [] and page.last is None


def test_after_prefix_bounds_everything_under_prefix() -> None:
    bound = after_prefix("a/")
    for k in ["a/", "a/\x00", "a/\uffff", "a/😀😀", "a/" + "\U0010ffff" * 4]:
        assert k.encode() < bound
    assert "a0".encode() > bound or "a0" < "a/"  # "a0" does not start with "a/"
    assert "b".encode() > bound


# ------------------------------------------------------------------ tokens and max-keys

@settings(max_examples=60)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_token_round_trip(key: str) -> None:
    tok = encode_token(key)
    assert tok.isascii() and "&" not in tok and "+" not in tok and "/" not in tok
    assert decode_token(tok) == key


@pytest.mark.parametrize("token", [
    "!!!", "a", base64.urlsafe_b64encode(b"\xff\xfe").decode()])
def test_bad_token(token: str) -> None:
    with pytest.raises(S3Error) as ei:
        decode_token(token)
    assert ei.value.code == "InvalidArgument"
    assert ei.value.extra["ArgumentName"] == "continuation-token"


@pytest.mark.parametrize("value,expected", [
    (None, 1000), ("0", 0), ("1", 1), ("999", 999), ("1000", 1000), ("5000", 1000),
    ("2147483647", 1000), (" 7 ", 7),
])
def test_parse_max_keys(value: str | None, expected: int) -> None:
    assert parse_max_keys(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "-1", "1.5", "0x10"])
def test_parse_max_keys_invalid(value: str) -> None:
    with pytest.raises(S3Error) as ei:
        parse_max_keys(value, "max-keys")
    assert ei.value.code == "InvalidArgument"
    assert ei.value.extra["ArgumentValue"] == value


@pytest.mark.parametrize("value", ["1_000", "\u0667", "2147483648"])
def test_parse_max_keys_not_a_32bit_integer(value: str) -> None:
    with pytest.raises(S3Error) as ei:
        parse_max_keys(value)
    assert ei.value.code == "InvalidArgument"
