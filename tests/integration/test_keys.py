"""Object keys: special characters, unicode, length limits, listing and pagination."""

from __future__ import annotations

import uuid
from typing import Any, Iterator
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from botocore.handlers import set_list_objects_encoding_type_url
from harness import Server

SPECIAL_KEYS = [
    "with space",
    "plus+sign",
    "percent%sign",
    "literal%2Fslash",
    "literal%20space",
    "question?mark",
    "hash#tag",
    "amp&ersand",
    "equals=sign",
    "x?a=b&c=d#frag",
    "ünïcødé/日本語/🙂",
    "/leading-slash",
    "double//slash",
    "//",
    "dots/../up",
    "dot/./here",
    "../escape",
    "./rel",
    "..",
    "trailing/",
    "xml<&>\"'chars",
    "~tilde;semi,comma:colon@at!$()*",
    "tab\there",
    "back\\slash",
    "multi  spaces ",
    "\u00e9 nfc vs e\u0301 nfd",
]

Listing = tuple[list[str], list[str]]  # (keys, common prefixes), in returned order


def by_bytes(items: list[str]) -> list[str]:
    return sorted(items, key=lambda s: s.encode("utf-8"))


def lister(server: Server, mode: str) -> Any:
    """A client listing with no EncodingType (raw), botocore's default (url, decoded for
    us), or an explicit EncodingType=url that we decode ourselves."""
    client = server.client()
    if mode == "raw":
        for op in ("ListObjects", "ListObjectsV2"):
            client.meta.events.unregister(f"before-parameter-build.s3.{op}",
                                          set_list_objects_encoding_type_url)
    return client


def list_all(client: Any, mode: str, version: int, bucket: str, **kw: Any) -> Iterator[dict]:
    """Every page, following NextMarker (v1) / NextContinuationToken (v2) by hand."""
    if mode == "url":
        kw["EncodingType"] = "url"
    token: str | None = None
    for _ in range(100):
        if version == 1:
            resp = client.list_objects(Bucket=bucket, **kw, **({"Marker": token} if token
                                                               else {}))
        else:
            resp = client.list_objects_v2(Bucket=bucket, **kw, **(
                {"ContinuationToken": token} if token else {}))
        if mode == "url":
            assert resp.get("EncodingType") == "url"
            for o in resp.get("Contents", []):
                o["Key"] = unquote_plus(o["Key"])
            for p in resp.get("CommonPrefixes", []):
                p["Prefix"] = unquote_plus(p["Prefix"])
            if "NextMarker" in resp:
                resp["NextMarker"] = unquote_plus(resp["NextMarker"])
        yield resp
        if not resp["IsTruncated"]:
            return
        if version == 2:
            token = resp["NextContinuationToken"]
        elif "Delimiter" in kw:
            token = resp["NextMarker"]  # S3 returns NextMarker when a delimiter is used
        else:
            token = resp.get("NextMarker") or resp["Contents"][-1]["Key"]
        # v1 markers go back in the request; url-mode markers were decoded above
    raise AssertionError("listing did not end")


def collect(pages: Iterator[dict]) -> Listing:
    keys: list[str] = []
    prefixes: list[str] = []
    for page in pages:
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return keys, prefixes


@pytest.fixture(scope="module")
def key_bucket(server: Server) -> str:
    s3 = server.client()
    name = "keys-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    for key in SPECIAL_KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode("utf-8"))
    return name


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=range(len(SPECIAL_KEYS)))
def test_special_key_roundtrip(server: Server, key_bucket: str, key: str) -> None:
    s3 = server.client()
    got = s3.get_object(Bucket=key_bucket, Key=key)
    assert got["Body"].read() == key.encode("utf-8")
    assert s3.head_object(Bucket=key_bucket, Key=key)["ContentLength"] == len(key.encode())
    for version in (1, 2):
        for mode in ("raw", "auto", "url"):
            keys, _ = collect(list_all(lister(server, mode), mode, version, key_bucket,
                                       Prefix=key))
            assert key in keys, (version, mode, keys)
            assert all(k.startswith(key) for k in keys), (version, mode, keys)


@pytest.mark.parametrize("mode", ("raw", "auto", "url"))
@pytest.mark.parametrize("version", (1, 2))
def test_listing_all_special_keys(server: Server, key_bucket: str, version: int,
                                  mode: str) -> None:
    keys, prefixes = collect(list_all(lister(server, mode), mode, version, key_bucket))
    assert prefixes == []
    assert keys == by_bytes(SPECIAL_KEYS)


@pytest.mark.parametrize("mode", ("raw", "auto", "url"))
@pytest.mark.parametrize("version", (1, 2))
def test_listing_special_keys_paged(server: Server, key_bucket: str, version: int,
                                    mode: str) -> None:
    keys, _ = collect(list_all(lister(server, mode), mode, version, key_bucket, MaxKeys=3))
    assert keys == by_bytes(SPECIAL_KEYS)


@pytest.mark.parametrize("mode", ("raw", "auto", "url"))
@pytest.mark.parametrize("version", (1, 2))
def test_delimiter_with_special_keys(server: Server, key_bucket: str, version: int,
                                     mode: str) -> None:
    keys, prefixes = collect(list_all(lister(server, mode), mode, version, key_bucket,
                                      Delimiter="/", MaxKeys=2))
    expected_keys = [k for k in SPECIAL_KEYS if "/" not in k]
    expected_prefixes = {k[: k.index("/") + 1] for k in SPECIAL_KEYS if "/" in k}
    assert keys == by_bytes(expected_keys)
    assert prefixes == by_bytes(list(expected_prefixes))


def test_unicode_prefix_and_delimiter(server: Server, key_bucket: str) -> None:
    s3 = server.client()
    resp = s3.list_objects_v2(Bucket=key_bucket, Prefix="ünïcødé/", Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["ünïcødé/日本語/"]
    resp = s3.list_objects_v2(Bucket=key_bucket, Prefix="ünïcødé/日本語/")
    assert [o["Key"] for o in resp["Contents"]] == ["ünïcødé/日本語/🙂"]


def test_dot_segments_are_not_normalised(server: Server, key_bucket: str) -> None:
    s3 = server.client()
    for key in ("dots/../up", "dot/./here", "../escape", "./rel", ".."):
        assert s3.get_object(Bucket=key_bucket, Key=key)["Body"].read() == key.encode()
    for missing in ("up", "dot/here", "escape", "rel"):
        with pytest.raises(ClientError) as info:
            s3.head_object(Bucket=key_bucket, Key=missing)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_a_slash_and_a_slash_b_are_distinct(s3: Any, bucket: str) -> None:
    bodies = {"a": b"file a", "a/": b"dir marker", "a/b": b"file a/b"}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a", "a/",
                                                                                 "a/b"]
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/"]
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/", "a/b"]
    s3.delete_object(Bucket=bucket, Key="a/")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file a"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file a/b"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a", "a/b"]


@pytest.mark.parametrize("key", ["k" * 1024, "日" * 341 + "k", "/" * 1024],
                         ids=["ascii", "multibyte", "slashes"])
def test_1024_byte_key_is_accepted(s3: Any, bucket: str, key: str) -> None:
    assert len(key.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=key, Body=b"long")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"long"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


@pytest.mark.parametrize("key", ["k" * 1025, "日" * 342, "k" * 1023 + "é"],
                         ids=["ascii", "multibyte", "last-char-straddles"])
def test_key_over_1024_bytes_is_rejected(server: Server, s3: Any, bucket: str,
                                         key: str) -> None:
    assert len(key.encode()) > 1024
    client = server.client()  # own connection: see test_permissions' rejected-PUT bug
    with pytest.raises(ClientError) as info:
        client.put_object(Bucket=bucket, Key=key, Body=b"too long")
    err = info.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Code"] == "KeyTooLongError"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# ------------------------------------------------------------------ pagination

PAGED_KEYS = ["B", "a", "a/", "a/b", "b/x/1", "\uff5a", "🙂"]  # 'ｚ' sorts before 🙂 in UTF-8
# but after it in UTF-16, and 'B' before 'a' (byte order, not case-insensitive)


@pytest.fixture(scope="module")
def paged_bucket(server: Server) -> str:
    s3 = server.client()
    name = "paged-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    for key in PAGED_KEYS:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    return name


def entries(pages: Iterator[dict]) -> list[list[str]]:
    """Per page, the keys and common prefixes merged in byte order."""
    out = []
    for page in pages:
        items = [o["Key"] for o in page.get("Contents", [])]
        items += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        out.append(by_bytes(items))
    return out


@pytest.mark.parametrize("mode", ("raw", "auto", "url"))
@pytest.mark.parametrize("version", (1, 2))
def test_pagination_without_delimiter(server: Server, paged_bucket: str, version: int,
                                      mode: str) -> None:
    pages = entries(list_all(lister(server, mode), mode, version, paged_bucket, MaxKeys=2))
    assert pages == [["B", "a"], ["a/", "a/b"], ["b/x/1", "\uff5a"], ["🙂"]]


@pytest.mark.parametrize("mode", ("raw", "auto", "url"))
@pytest.mark.parametrize("version", (1, 2))
def test_pagination_with_delimiter(server: Server, paged_bucket: str, version: int,
                                   mode: str) -> None:
    pages = entries(list_all(lister(server, mode), mode, version, paged_bucket, MaxKeys=2,
                             Delimiter="/"))
    assert pages == [["B", "a"], ["a/", "b/"], ["\uff5a", "🙂"]]


def test_v1_next_marker_and_v2_key_count(s3: Any, paged_bucket: str) -> None:
    resp = s3.list_objects(Bucket=paged_bucket, MaxKeys=3, Delimiter="/")
    assert resp["IsTruncated"] is True
    assert resp["NextMarker"] == "a/"
    assert [o["Key"] for o in resp["Contents"]] == ["B", "a"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/"]
    resp = s3.list_objects_v2(Bucket=paged_bucket, MaxKeys=3, Delimiter="/")
    assert resp["KeyCount"] == 3 and resp["IsTruncated"] is True
    rest = s3.list_objects_v2(Bucket=paged_bucket, MaxKeys=3, Delimiter="/",
                              ContinuationToken=resp["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["\uff5a", "🙂"]
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["b/"]
    assert rest["IsTruncated"] is False and "NextContinuationToken" not in rest


def test_v2_start_after_and_prefix(s3: Any, paged_bucket: str) -> None:
    resp = s3.list_objects_v2(Bucket=paged_bucket, StartAfter="a/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/b", "b/x/1", "\uff5a", "🙂"]
    resp = s3.list_objects_v2(Bucket=paged_bucket, Prefix="a", MaxKeys=1)
    assert [o["Key"] for o in resp["Contents"]] == ["a"]
    rest = s3.list_objects_v2(Bucket=paged_bucket, Prefix="a",
                              ContinuationToken=resp["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["a/", "a/b"]


def test_paginators_give_every_key_once(s3: Any, paged_bucket: str) -> None:
    for op in ("list_objects", "list_objects_v2"):
        pages = s3.get_paginator(op).paginate(Bucket=paged_bucket,
                                              PaginationConfig={"PageSize": 2})
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        assert keys == PAGED_KEYS, op
