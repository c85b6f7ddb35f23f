"""s3/versioning.py: the configuration document, version-id arguments, DeleteObjects
entries and ListObjectVersions pagination over a fake scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.versioning import (
    Deleted,
    delete_result,
    parse_delete,
    parse_versioning,
    version_arg,
    versions_page,
)

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_parse_versioning() -> None:
    assert parse_versioning(
        f"<VersioningConfiguration {NS}><Status>Enabled</Status></VersioningConfiguration>"
        .encode()) == "Enabled"
    assert parse_versioning(b"<VersioningConfiguration><Status>Suspended</Status>"
                            b"<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
                            ) == "Suspended"
    for bad in (b"", b"<x/>", b"<VersioningConfiguration><Status>On</Status>"
                b"</VersioningConfiguration>", b"<VersioningConfiguration/>",
                b"<VersioningConfiguration><Other/></VersioningConfiguration>"):
        with pytest.raises(S3Error) as e:
            parse_versioning(bad)
        assert e.value.code == "MalformedXML"
    with pytest.raises(S3Error) as e:
        parse_versioning(b"<VersioningConfiguration><Status>Enabled</Status>"
                         b"<MfaDelete>Enabled</MfaDelete></VersioningConfiguration>")
    assert e.value.code == "InvalidRequest"


def test_version_arg() -> None:
    assert version_arg(None) is False
    assert version_arg("null") is None
    vid = "a" * 31 + "_"
    assert version_arg(vid) == vid
    for bad in ("", "x", "a" * 33, "a" * 31 + "/"):
        with pytest.raises(S3Error) as e:
            version_arg(bad)
        assert e.value.code == "InvalidArgument"


def test_parse_delete_and_result() -> None:
    vid = "b" * 32
    entries, quiet = parse_delete(
        f"<Delete><Object><Key>a</Key><VersionId>{vid}</VersionId></Object>"
        "<Object><Key>b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId>"
        "</Object><Quiet>true</Quiet></Delete>".encode())
    assert quiet
    assert [(e.key, e.version) for e in entries] == [("a", vid), ("b", False), ("c", None)]
    body = delete_result([Deleted("b", None, True, vid), Deleted("a", vid)],
                         [("c", "null", "AccessDenied", "Access Denied")]).decode()
    assert (f"<Deleted><Key>b</Key><DeleteMarker>true</DeleteMarker>"
            f"<DeleteMarkerVersionId>{vid}</DeleteMarkerVersionId></Deleted>") in body
    assert f"<Deleted><Key>a</Key><VersionId>{vid}</VersionId></Deleted>" in body
    assert "<Error><Key>c</Key><VersionId>null</VersionId><Code>AccessDenied</Code>" in body


@dataclass
class V:
    key: str
    seq: int

    @property
    def version_id(self) -> str:
        return f"v{self.seq}"


# key order, newest (highest seq) first within a key
ALL = [V("a/1", 3), V("a/1", 1), V("a/2", 2), V("b", 6), V("b", 5), V("b", 4), V("c", 7)]


def fake_scan(prefix: str, calls: list[int]):  # type: ignore[no-untyped-def]
    def scan(after: bytes, after_seq: int | None) -> Iterator[V]:
        calls.append(1)
        for v in ALL:
            k = v.key.encode()
            if not v.key.startswith(prefix):
                continue
            if k > after or (k == after and after_seq is not None and v.seq < after_seq):
                yield v
    return scan


def test_versions_page_paging() -> None:
    seen: list[tuple[str, int]] = []
    key, seq = "", None
    while True:
        page = versions_page(fake_scan("", []), prefix="", delimiter="", key_marker=key,
                             marker_seq=seq, max_keys=2)
        seen += [(v.key, v.seq) for v in page.entries]
        if not page.is_truncated:
            break
        assert page.next_key is not None and page.next_version is not None
        key = page.next_key
        seq = int(page.next_version[1:])
    assert seen == [(v.key, v.seq) for v in ALL]


def test_versions_page_delimiter() -> None:
    calls: list[int] = []
    page = versions_page(fake_scan("", calls), prefix="", delimiter="/", key_marker="",
                         marker_seq=None, max_keys=1000)
    assert page.common_prefixes == ["a/"]
    assert [v.key for v in page.entries] == ["b", "b", "b", "c"]
    assert len(calls) == 2  # one new scan to skip the prefix
    page = versions_page(fake_scan("", []), prefix="", delimiter="/", key_marker="a/1",
                         marker_seq=None, max_keys=1000)
    assert page.common_prefixes == [] and page.entries[0].key == "b"
    page = versions_page(fake_scan("", []), prefix="", delimiter="/", key_marker="",
                         marker_seq=None, max_keys=1)
    assert page.is_truncated and page.next_key == "a/" and page.next_version is None
    assert versions_page(fake_scan("", []), prefix="", delimiter="", key_marker="",
                         marker_seq=None, max_keys=0).entries == []
