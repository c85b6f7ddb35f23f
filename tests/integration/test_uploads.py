"""Multipart uploads, flexible checksums, and real clients moving big files.

* the multipart API and its AWS errors (boto3 against the session server)
* flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) on PutObject and multipart
  uploads, COMPOSITE and FULL_OBJECT, and GetObjectAttributes
* boto3 with its DEFAULT configuration over HTTPS (--tls-self-signed) and HTTP: transfer
  manager upload_file / download_file of 100 MiB
* AWS CLI `aws s3 cp` of 200 MiB both ways, s3cmd multipart (SigV2 and SigV4), rclone
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from botocore.exceptions import ClientError
from clients_util import check, isolated_env, run, s3cmd_runner
from harness import Creds, Server, free_port
from uploads_util import (
    ALGORITHMS,
    MiB,
    TlsServer,
    b64,
    checksum,
    client,
    composite,
    data,
    empty_bucket,
    file_digests,
    file_part_checksums,
    file_sha256,
    md5_etag,
    multipart_etag,
    object_url,
    random_file,
    send,
    sign,
)

Runner = Callable[..., subprocess.CompletedProcess[str]]
FIVE = 5 * MiB


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture(scope="module")
def s3_nomode(server: Server) -> Any:
    """Sends x-amz-checksum-mode only when asked (boto3's default adds it to every GET)."""
    return server.client(response_checksum_validation="when_required")


def new_upload(s3: Any, bucket: str, key: str, **kw: Any) -> str:
    return str(s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)["UploadId"])


def put_parts(s3: Any, bucket: str, key: str, upload: str, parts: list[bytes],
              **kw: Any) -> list[dict[str, Any]]:
    out = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body,
                           **kw)
        out.append({"PartNumber": n, "ETag": r["ETag"]})
    return out


def complete(s3: Any, bucket: str, key: str, upload: str, parts: list[dict[str, Any]],
             **kw: Any) -> Any:
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": parts}, **kw)


# ======================================================================== multipart API


def test_multipart_roundtrip_etag_and_part_number(s3: Any, bucket: str) -> None:
    parts = [data(FIVE, "p1"), data(FIVE + 3, "p2"), data(1234, "p3")]
    whole = b"".join(parts)
    up = new_upload(s3, bucket, "mp/obj", ContentType="application/x-test",
                    Metadata={"color": "blue"})
    listed = put_parts(s3, bucket, "mp/obj", up, parts)
    assert [p["ETag"] for p in listed] == [md5_etag(p) for p in parts]
    done = complete(s3, bucket, "mp/obj", up, listed)
    assert done["ETag"] == multipart_etag(parts)
    assert done["Key"] == "mp/obj" and done["Bucket"] == bucket

    obj = s3.get_object(Bucket=bucket, Key="mp/obj")
    assert obj["Body"].read() == whole
    assert obj["ETag"] == multipart_etag(parts)
    assert obj["ContentType"] == "application/x-test"
    assert obj["Metadata"] == {"color": "blue"}

    offset = 0
    for n, body in enumerate(parts, start=1):
        head = s3.head_object(Bucket=bucket, Key="mp/obj", PartNumber=n)
        assert head["ContentLength"] == len(body)
        assert head["PartsCount"] == 3
        assert head["ETag"] == multipart_etag(parts)
        got = s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=n)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {offset}-{offset + len(body) - 1}/{len(whole)}"
        assert got["PartsCount"] == 3
        assert got["Body"].read() == body
        offset += len(body)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=4)
    assert error(exc) == (416, "InvalidPartNumber")


def test_part_number_on_a_simple_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="simple", Body=b"not multipart")
    got = s3.get_object(Bucket=bucket, Key="simple", PartNumber=1)
    assert got["Body"].read() == b"not multipart"
    assert "PartsCount" not in got
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="simple", PartNumber=2)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_empty_last_part(s3: Any, bucket: str) -> None:
    first = data(FIVE, "before-empty")
    up = new_upload(s3, bucket, "empty-tail")
    listed = put_parts(s3, bucket, "empty-tail", up, [first, b""])
    assert listed[1]["ETag"] == md5_etag(b"")
    done = complete(s3, bucket, "empty-tail", up, listed)
    assert done["ETag"] == multipart_etag([first, b""])
    assert s3.get_object(Bucket=bucket, Key="empty-tail")["Body"].read() == first
    got = s3.get_object(Bucket=bucket, Key="empty-tail", PartNumber=2)
    assert got["Body"].read() == b""
    assert got["PartsCount"] == 2
    content_range = raw_headers(got).get("content-range")
    if content_range is not None:  # RFC 9110: first-pos <= last-pos, or "bytes */length"
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)|bytes \*/(\d+)", content_range)
        assert m, content_range
        if m.group(1) is not None:
            assert int(m.group(1)) <= int(m.group(2)) < int(m.group(3)), content_range


def test_reuploading_a_part_replaces_it(s3: Any, bucket: str) -> None:
    first, second, tail = data(FIVE, "first"), data(FIVE, "second"), b"tail"
    up = new_upload(s3, bucket, "re")
    e_first = s3.upload_part(Bucket=bucket, Key="re", UploadId=up, PartNumber=1,
                             Body=first)["ETag"]
    e_second = s3.upload_part(Bucket=bucket, Key="re", UploadId=up, PartNumber=1,
                              Body=second)["ETag"]
    e_tail = s3.upload_part(Bucket=bucket, Key="re", UploadId=up, PartNumber=2,
                            Body=tail)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="re", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (1, e_second, FIVE), (2, e_tail, 4)]
    with pytest.raises(ClientError) as exc:  # the replaced part's ETag is gone
        complete(s3, bucket, "re", up, [{"PartNumber": 1, "ETag": e_first},
                                        {"PartNumber": 2, "ETag": e_tail}])
    assert error(exc) == (400, "InvalidPart")
    done = complete(s3, bucket, "re", up, [{"PartNumber": 1, "ETag": e_second},
                                           {"PartNumber": 2, "ETag": e_tail}])
    assert done["ETag"] == multipart_etag([second, tail])
    assert s3.get_object(Bucket=bucket, Key="re")["Body"].read() == second + tail


def test_complete_with_a_subset_of_parts(s3: Any, bucket: str) -> None:
    parts = [data(FIVE, "s1"), data(FIVE, "s2"), data(10, "s3")]
    up = new_upload(s3, bucket, "subset")
    listed = put_parts(s3, bucket, "subset", up, parts)
    done = complete(s3, bucket, "subset", up, [listed[0], listed[2]])
    assert done["ETag"] == multipart_etag([parts[0], parts[2]])
    assert s3.get_object(Bucket=bucket, Key="subset")["Body"].read() == parts[0] + parts[2]
    assert s3.head_object(Bucket=bucket, Key="subset", PartNumber=2)["PartsCount"] == 2


def raw_complete(server: Server, bucket: str, key: str, upload: str, body: bytes) -> Any:
    url, path = object_url(server, bucket, key, f"uploadId={upload}")
    signed = sign(server.root, "POST", url, {"Content-Type": "application/xml"},
                  hashlib.sha256(body).hexdigest())
    return send(server, "POST", path, signed.headers, body)


def test_complete_errors(server: Server, s3: Any, bucket: str) -> None:
    parts = [data(FIVE, "e1"), data(MiB, "e2"), data(FIVE, "e3")]
    up = new_upload(s3, bucket, "err")
    listed = put_parts(s3, bucket, "err", up, parts)

    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "err", "no-such-upload-id", listed)
    assert error(exc) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as exc:  # a part that was never uploaded
        complete(s3, bucket, "err", up, [listed[0], {"PartNumber": 7, "ETag": listed[1]["ETag"]}])
    assert error(exc) == (400, "InvalidPart")
    with pytest.raises(ClientError) as exc:  # wrong ETag
        complete(s3, bucket, "err", up, [listed[0], {"PartNumber": 2, "ETag": md5_etag(b"x")}])
    assert error(exc) == (400, "InvalidPart")
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "err", up, [listed[2], listed[0]])
    assert error(exc) == (400, "InvalidPartOrder")
    with pytest.raises(ClientError) as exc:  # the same part twice is not ascending either
        complete(s3, bucket, "err", up, [listed[0], listed[0]])
    assert error(exc) == (400, "InvalidPartOrder")
    with pytest.raises(ClientError) as exc:  # part 2 (1 MiB) is not the last one
        complete(s3, bucket, "err", up, listed)
    assert error(exc) == (400, "EntityTooSmall")
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "err", up, [])
    assert error(exc) == (400, "MalformedXML")
    for body in (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
                 b"not xml at all",
                 b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber>"
                 b"<ETag>x</ETag></Part></CompleteMultipartUpload>"):
        r = raw_complete(server, bucket, "err", up, body)
        assert (r.status, r.code()) == (400, "MalformedXML"), (body, r.body)

    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="err")  # nothing was created by any of those
    # The upload survived every failed attempt and still completes.
    done = complete(s3, bucket, "err", up, [listed[0], listed[2]])
    assert done["ETag"] == multipart_etag([parts[0], parts[2]])
    assert s3.get_object(Bucket=bucket, Key="err")["Body"].read() == parts[0] + parts[2]


def test_abort_makes_the_upload_gone(s3: Any, bucket: str) -> None:
    up = new_upload(s3, bucket, "ab")
    listed = put_parts(s3, bucket, "ab", up, [b"part one", b"part two"])
    r = s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=up)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (
        lambda: s3.list_parts(Bucket=bucket, Key="ab", UploadId=up),
        lambda: s3.upload_part(Bucket=bucket, Key="ab", UploadId=up, PartNumber=3, Body=b"x"),
        lambda: complete(s3, bucket, "ab", up, listed),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=up),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == (404, "NoSuchUpload")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="ab")


def test_upload_id_belongs_to_its_key(s3: Any, bucket: str) -> None:
    up = new_upload(s3, bucket, "mine")
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="other", UploadId=up, PartNumber=1, Body=b"x")
    assert error(exc) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="other", UploadId=up)
    assert error(exc) == (404, "NoSuchUpload")
    for n in (0, 10001):
        with pytest.raises(ClientError) as exc:
            s3.upload_part(Bucket=bucket, Key="mine", UploadId=up, PartNumber=n, Body=b"x")
        assert error(exc) == (400, "InvalidArgument")
    s3.abort_multipart_upload(Bucket=bucket, Key="mine", UploadId=up)


def test_list_parts_pagination(s3: Any, bucket: str) -> None:
    up = new_upload(s3, bucket, "lp")
    bodies = [f"part {n}".encode() * n for n in range(1, 6)]
    put_parts(s3, bucket, "lp", up, bodies)

    page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    assert page["MaxParts"] == 2
    page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, MaxParts=2, PartNumberMarker=2)
    assert page["PartNumberMarker"] == 2
    assert [p["PartNumber"] for p in page["Parts"]] == [3, 4]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 4
    page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, MaxParts=2, PartNumberMarker=4)
    assert [p["PartNumber"] for p in page["Parts"]] == [5]
    assert page["IsTruncated"] is False
    page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, PartNumberMarker=5)
    assert page.get("Parts", []) == [] and page["IsTruncated"] is False

    every = [p for pg in s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="lp", UploadId=up, PaginationConfig={"PageSize": 2})
        for p in pg["Parts"]]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in every] == [
        (n, len(b), md5_etag(b)) for n, b in enumerate(bodies, start=1)]
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=up)


@pytest.fixture
def uploads(s3: Any, bucket: str) -> dict[str, list[str]]:
    """key -> upload ids in creation order."""
    made: dict[str, list[str]] = {}
    for key in ["photos/2024/a.jpg", "photos/2025/b.jpg", "videos/c.mp4", "top.txt",
                "photos/2024/a.jpg"]:
        made.setdefault(key, []).append(new_upload(s3, bucket, key))
    return made


def pairs(resp: dict[str, Any]) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in resp.get("Uploads", [])]


def test_list_multipart_uploads(s3: Any, bucket: str, uploads: dict[str, list[str]]) -> None:
    a = "photos/2024/a.jpg"
    everything = pairs(s3.list_multipart_uploads(Bucket=bucket))
    assert [k for k, _ in everything] == [a, a, "photos/2025/b.jpg", "top.txt", "videos/c.mp4"]
    assert sorted(i for k, i in everything if k == a) == sorted(uploads[a])

    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="photos/")
    assert [k for k, _ in pairs(r)] == [a, a, "photos/2025/b.jpg"]
    assert r["Prefix"] == "photos/"

    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [k for k, _ in pairs(r)] == ["top.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["photos/", "videos/"]
    assert r["Delimiter"] == "/"

    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert "Uploads" not in r
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]

    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=a)
    assert [k for k, _ in pairs(r)] == ["photos/2025/b.jpg", "top.txt", "videos/c.mp4"]
    assert r["KeyMarker"] == a

    first_a = everything[0][1]
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=a, UploadIdMarker=first_a)
    assert pairs(r) == everything[1:]
    assert r["UploadIdMarker"] == first_a
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=a, UploadIdMarker=everything[1][1])
    assert pairs(r) == everything[2:]

    # Without key-marker, upload-id-marker is ignored.
    r = s3.list_multipart_uploads(Bucket=bucket, UploadIdMarker=first_a)
    assert pairs(r) == everything


def test_list_multipart_uploads_pagination(s3: Any, bucket: str,
                                           uploads: dict[str, list[str]]) -> None:
    everything = pairs(s3.list_multipart_uploads(Bucket=bucket))
    seen: list[tuple[str, str]] = []
    kw: dict[str, str] = {}
    for _ in range(10):
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kw)
        assert r["MaxUploads"] == 2
        seen += pairs(r)
        assert len(pairs(r)) <= 2
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
    assert seen == everything
    assert len(everything) == 5

    # Common prefixes count towards max-uploads.
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=1)
    assert r["IsTruncated"] is True
    assert len(r.get("CommonPrefixes", [])) + len(r.get("Uploads", [])) == 1
    paged = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    found = [(p.get("CommonPrefixes", []), pairs(p)) for p in paged]
    assert [c["Prefix"] for cs, _ in found for c in cs] == ["photos/", "videos/"]
    assert [k for _, ps in found for k, _ in ps] == ["top.txt"]


def test_uploads_of_one_key_are_listed_in_initiation_order(s3: Any, bucket: str) -> None:
    ids = [new_upload(s3, bucket, "same") for _ in range(8)]
    listed = [i for k, i in pairs(s3.list_multipart_uploads(Bucket=bucket)) if k == "same"]
    assert listed == ids


def test_upload_part_copy_with_ranges(s3: Any, bucket: str) -> None:
    big = data(FIVE + 700_000, "copy-src")
    small = b"a small whole source\n"
    s3.put_object(Bucket=bucket, Key="src/big", Body=big)
    s3.put_object(Bucket=bucket, Key="src/small", Body=small)
    up = new_upload(s3, bucket, "copied")
    src = {"Bucket": bucket, "Key": "src/big"}
    r1 = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=1,
                             CopySource=src, CopySourceRange=f"bytes=0-{FIVE - 1}")
    assert r1["CopyPartResult"]["ETag"] == md5_etag(big[:FIVE])
    r2 = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=2,
                             CopySource=src, CopySourceRange=f"bytes={FIVE}-{FIVE + 99}")
    assert r2["CopyPartResult"]["ETag"] == md5_etag(big[FIVE:FIVE + 100])
    r3 = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=3,
                             CopySource={"Bucket": bucket, "Key": "src/small"})
    assert r3["CopyPartResult"]["ETag"] == md5_etag(small)

    with pytest.raises(ClientError) as exc:  # past the end of the source
        s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=4,
                            CopySource=src, CopySourceRange=f"bytes=0-{len(big)}")
    assert error(exc) in ((400, "InvalidArgument"), (416, "InvalidRange"))
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=4,
                            CopySource=src, CopySourceRange="bytes=10-")
    assert error(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=up, PartNumber=4,
                            CopySource={"Bucket": bucket, "Key": "src/none"})
    assert error(exc) == (404, "NoSuchKey")
    parts = s3.list_parts(Bucket=bucket, Key="copied", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, FIVE), (2, 100),
                                                              (3, len(small))]

    # Part 2 (100 bytes) is not last: too small. Without it the object completes.
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "copied", up, [
            {"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]}
            for n, r in ((1, r1), (2, r2), (3, r3))])
    assert error(exc) == (400, "EntityTooSmall")
    done = complete(s3, bucket, "copied", up, [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": r3["CopyPartResult"]["ETag"]}])
    assert done["ETag"] == multipart_etag([big[:FIVE], small])
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == big[:FIVE] + small


# ======================================================================== flexible checksums


def raw_headers(resp: dict[str, Any]) -> dict[str, str]:
    return dict(resp["ResponseMetadata"]["HTTPHeaders"])


def checksum_headers(resp: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in raw_headers(resp).items() if k.startswith("x-amz-checksum-")}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_put_object_checksum(s3: Any, s3_nomode: Any, bucket: str, alg: str) -> None:
    body = data(300_000, f"put-{alg}")
    value = checksum(alg, body)
    r = s3.put_object(Bucket=bucket, Key="ck", Body=body, ChecksumAlgorithm=alg)
    assert r[f"Checksum{alg}"] == value  # echoed
    assert r["ETag"] == md5_etag(body)

    assert checksum_headers(s3_nomode.head_object(Bucket=bucket, Key="ck")) == {}
    got = s3_nomode.get_object(Bucket=bucket, Key="ck")
    assert checksum_headers(got) == {}
    assert got["Body"].read() == body

    head = s3_nomode.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert head[f"Checksum{alg}"] == value
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3_nomode.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert got[f"Checksum{alg}"] == value
    assert got["Body"].read() == body

    ranged = s3_nomode.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED",
                                  Range="bytes=10-99")
    assert ranged["Body"].read() == body[10:100]
    assert checksum_headers(ranged) == {}
    ranged = s3_nomode.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED",
                                   Range="bytes=0-0")
    assert checksum_headers(ranged) == {}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_put_object_explicit_checksum_value(s3: Any, bucket: str, alg: str) -> None:
    body = data(5000, f"explicit-{alg}")
    s3.put_object(Bucket=bucket, Key="ex", Body=b"original")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="ex", Body=body,
                      **{f"Checksum{alg}": checksum(alg, body + b"x")})
    assert error(exc) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="ex")["Body"].read() == b"original"

    with pytest.raises(ClientError) as exc:  # not a checksum of this algorithm's length
        s3.put_object(Bucket=bucket, Key="ex", Body=body, **{f"Checksum{alg}": b64(b"\0" * 3)})
    assert error(exc) == (400, "InvalidRequest")

    r = s3.put_object(Bucket=bucket, Key="ex", Body=body,
                      **{f"Checksum{alg}": checksum(alg, body)})
    assert r[f"Checksum{alg}"] == checksum(alg, body)
    assert s3.head_object(Bucket=bucket, Key="ex", ChecksumMode="ENABLED")[
        f"Checksum{alg}"] == checksum(alg, body)


VALID = [("CRC32", "COMPOSITE"), ("CRC32", "FULL_OBJECT"), ("CRC32C", "COMPOSITE"),
         ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT"), ("SHA1", "COMPOSITE"),
         ("SHA256", "COMPOSITE")]
INVALID = [("CRC64NVME", "COMPOSITE"), ("SHA1", "FULL_OBJECT"), ("SHA256", "FULL_OBJECT")]


@pytest.mark.parametrize("alg,ctype", VALID, ids=[f"{a}-{t}" for a, t in VALID])
def test_multipart_checksums(s3: Any, s3_nomode: Any, bucket: str, alg: str,
                             ctype: str) -> None:
    parts = [data(FIVE, f"mc1-{alg}"), data(FIVE, f"mc2-{alg}"), data(777, f"mc3-{alg}")]
    whole = b"".join(parts)
    created = s3.create_multipart_upload(Bucket=bucket, Key="mc", ChecksumAlgorithm=alg,
                                         ChecksumType=ctype)
    assert created["ChecksumAlgorithm"] == alg
    assert created["ChecksumType"] == ctype
    up = created["UploadId"]
    listed = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="mc", UploadId=up, PartNumber=n, Body=body,
                           ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == checksum(alg, body)
        listed.append({"PartNumber": n, "ETag": r["ETag"],
                       f"Checksum{alg}": r[f"Checksum{alg}"]})

    lp = s3.list_parts(Bucket=bucket, Key="mc", UploadId=up)
    assert lp["ChecksumAlgorithm"] == alg
    assert lp["ChecksumType"] == ctype
    assert [p[f"Checksum{alg}"] for p in lp["Parts"]] == [checksum(alg, p) for p in parts]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["UploadId"], u["ChecksumAlgorithm"]) for u in ups] == [(up, alg)]

    expected = checksum(alg, whole) if ctype == "FULL_OBJECT" else composite(alg, parts)
    done = complete(s3, bucket, "mc", up, listed)
    assert done[f"Checksum{alg}"] == expected
    assert done["ChecksumType"] == ctype
    assert done["ETag"] == multipart_etag(parts)

    head = s3_nomode.head_object(Bucket=bucket, Key="mc", ChecksumMode="ENABLED")
    assert head[f"Checksum{alg}"] == expected
    assert head["ChecksumType"] == ctype
    assert checksum_headers(s3_nomode.head_object(Bucket=bucket, Key="mc")) == {}
    got = s3_nomode.get_object(Bucket=bucket, Key="mc", ChecksumMode="ENABLED")
    assert got[f"Checksum{alg}"] == expected
    assert got["Body"].read() == whole
    ranged = s3_nomode.get_object(Bucket=bucket, Key="mc", ChecksumMode="ENABLED",
                                  Range="bytes=0-9")
    assert checksum_headers(ranged) == {}

    attrs = s3.get_object_attributes(
        Bucket=bucket, Key="mc",
        ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
    assert attrs["ETag"] == multipart_etag(parts).strip('"')
    # (whether GetObjectAttributes keeps the "-N" of a COMPOSITE value is not pinned down here)
    assert attrs["Checksum"][f"Checksum{alg}"] in (expected, expected.split("-")[0])
    assert attrs["Checksum"]["ChecksumType"] == ctype
    assert attrs["StorageClass"] == "STANDARD"
    assert attrs["ObjectSize"] == len(whole)
    assert attrs["ObjectParts"]["TotalPartsCount"] == 3
    if ctype == "COMPOSITE":
        assert [(p["PartNumber"], p["Size"], p[f"Checksum{alg}"])
                for p in attrs["ObjectParts"]["Parts"]] == [
            (n, len(p), checksum(alg, p)) for n, p in enumerate(parts, start=1)]
    paged = s3.get_object_attributes(Bucket=bucket, Key="mc", ObjectAttributes=["ObjectParts"],
                                     MaxParts=1, PartNumberMarker=1)
    assert paged["ObjectParts"]["IsTruncated"] is True
    assert paged["ObjectParts"]["NextPartNumberMarker"] == 2
    if ctype == "COMPOSITE":
        assert [p["PartNumber"] for p in paged["ObjectParts"]["Parts"]] == [2]


@pytest.mark.parametrize("alg,ctype", INVALID, ids=[f"{a}-{t}" for a, t in INVALID])
def test_unsupported_checksum_type_is_refused(s3: Any, bucket: str, alg: str,
                                              ctype: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="bad", ChecksumAlgorithm=alg,
                                   ChecksumType=ctype)
    assert error(exc) == (400, "InvalidRequest")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_checksum_type_needs_an_algorithm(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="bad", ChecksumType="FULL_OBJECT")
    assert error(exc) == (400, "InvalidRequest")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_multipart_checksum_errors(s3: Any, bucket: str) -> None:
    parts = [data(FIVE, "mce1"), data(1000, "mce2")]
    whole = b"".join(parts)
    up = new_upload(s3, bucket, "mce", ChecksumAlgorithm="CRC32C", ChecksumType="FULL_OBJECT")

    with pytest.raises(ClientError) as exc:  # a part with a wrong checksum value
        s3.upload_part(Bucket=bucket, Key="mce", UploadId=up, PartNumber=1, Body=parts[0],
                       ChecksumCRC32C=checksum("CRC32C", parts[1]))
    assert error(exc) == (400, "BadDigest")
    with pytest.raises(ClientError) as exc:  # a part with another algorithm
        s3.upload_part(Bucket=bucket, Key="mce", UploadId=up, PartNumber=1, Body=parts[0],
                       ChecksumAlgorithm="SHA256")
    assert error(exc) == (400, "InvalidRequest")
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mce", UploadId=up)

    with pytest.raises(ClientError) as exc:  # a wrong Content-MD5
        s3.upload_part(Bucket=bucket, Key="mce", UploadId=up, PartNumber=1, Body=parts[0],
                       ChecksumAlgorithm="CRC32C", ContentMD5=b64(hashlib.md5(parts[1]).digest()))
    assert error(exc) == (400, "BadDigest")
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mce", UploadId=up)

    listed = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="mce", UploadId=up, PartNumber=n, Body=body,
                           ChecksumAlgorithm="CRC32C")
        listed.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32C": r["ChecksumCRC32C"]})

    wrong_part = [listed[0], {**listed[1], "ChecksumCRC32C": checksum("CRC32C", b"nope")}]
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "mce", up, wrong_part)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error(exc)[1] in ("InvalidPart", "BadDigest")

    with pytest.raises(ClientError) as exc:  # the whole-object value does not match
        complete(s3, bucket, "mce", up, listed, ChecksumCRC32C=checksum("CRC32C", b"other"),
                 ChecksumType="FULL_OBJECT")
    assert error(exc) == (400, "BadDigest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="mce")

    done = complete(s3, bucket, "mce", up, listed, ChecksumCRC32C=checksum("CRC32C", whole),
                    ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32C"] == checksum("CRC32C", whole)
    assert s3.get_object(Bucket=bucket, Key="mce")["Body"].read() == whole


def one_part_checksum_upload(s3: Any, bucket: str, key: str, ctype: str,
                             body: bytes) -> tuple[str, list[dict[str, Any]]]:
    up = new_upload(s3, bucket, key, ChecksumAlgorithm="CRC32", ChecksumType=ctype)
    r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=body,
                       ChecksumAlgorithm="CRC32")
    return up, [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]


@pytest.mark.parametrize("created,claimed", [("COMPOSITE", "FULL_OBJECT"),
                                             ("FULL_OBJECT", "COMPOSITE")])
def test_complete_checksum_type_must_match_the_upload(s3: Any, bucket: str, created: str,
                                                      claimed: str) -> None:
    up, listed = one_part_checksum_upload(s3, bucket, "ctype", created, b"checksum type")
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "ctype", up, listed, ChecksumType=claimed)
    assert error(exc) == (400, "BadDigest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="ctype")


def test_complete_mpu_object_size_must_match(s3: Any, bucket: str) -> None:
    body = b"twelve bytes"
    up, listed = one_part_checksum_upload(s3, bucket, "size", "COMPOSITE", body)
    with pytest.raises(ClientError) as exc:
        complete(s3, bucket, "size", up, listed, MpuObjectSize=len(body) + 1)
    assert error(exc) == (400, "InvalidRequest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="size")


def test_complete_with_the_right_type_and_size(s3: Any, bucket: str) -> None:
    body = b"twelve bytes"
    up, listed = one_part_checksum_upload(s3, bucket, "ok", "FULL_OBJECT", body)
    done = complete(s3, bucket, "ok", up, listed, ChecksumType="FULL_OBJECT",
                    MpuObjectSize=len(body))
    assert done["ChecksumCRC32"] == checksum("CRC32", body)
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == body


@pytest.mark.parametrize("alg", ["CRC32", "SHA1"])
def test_upload_part_copy_into_a_checksum_upload(s3: Any, bucket: str, alg: str) -> None:
    src = data(FIVE + 10, "copy-ck")
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    up = new_upload(s3, bucket, "dst", ChecksumAlgorithm=alg)
    r = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceRange=f"bytes=0-{FIVE - 1}")
    assert r["CopyPartResult"][f"Checksum{alg}"] == checksum(alg, src[:FIVE])
    tail = s3.upload_part(Bucket=bucket, Key="dst", UploadId=up, PartNumber=2, Body=src[FIVE:],
                          ChecksumAlgorithm=alg)
    done = complete(s3, bucket, "dst", up, [
        {"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"],
         f"Checksum{alg}": r["CopyPartResult"][f"Checksum{alg}"]},
        {"PartNumber": 2, "ETag": tail["ETag"], f"Checksum{alg}": tail[f"Checksum{alg}"]}])
    assert done[f"Checksum{alg}"] == composite(alg, [src[:FIVE], src[FIVE:]])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src


def test_get_object_attributes_of_a_simple_object(s3: Any, bucket: str) -> None:
    body = b"attributes of a simple object"
    s3.put_object(Bucket=bucket, Key="plain", Body=body, ChecksumAlgorithm="SHA256")
    attrs = s3.get_object_attributes(
        Bucket=bucket, Key="plain",
        ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
    assert attrs["ETag"] == md5_etag(body).strip('"')
    assert attrs["Checksum"]["ChecksumSHA256"] == checksum("SHA256", body)
    assert attrs["ObjectSize"] == len(body)
    assert attrs["StorageClass"] == "STANDARD"
    assert "ObjectParts" not in attrs
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert error(exc) == (404, "NoSuchKey")


# ======================================================================== boto3, default config

BIG = 100 * MiB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "100MiB.bin"
    return path, random_file(path, BIG)


def _root() -> Creds:
    return Creds("ROOTACCESSKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20),
                 "admin", "admin")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    base = tmp_path_factory.mktemp("objectstore-tls")
    srv = TlsServer(base / "data", free_port(), _root(), extra_args=["--tls-self-signed"])
    srv.start()
    yield srv
    srv.stop()


def test_tls_self_signed_prints_the_certificate(tls_server: TlsServer) -> None:
    assert tls_server.log_path is not None
    log = tls_server.log_path.read_text()
    assert f"self-signed TLS certificate: {tls_server.cert_path.resolve()}" in log
    assert tls_server.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_boto3_default_transfer_100mib(scheme: str, tls_server: TlsServer, server: Server,
                                       big_file: tuple[Path, str], tmp_path: Path) -> None:
    path, sha = big_file
    if scheme == "https":
        c = client(tls_server.endpoint, tls_server.root, verify=str(tls_server.cert_path))
    else:
        c = client(server.endpoint, server.root)
    sent: list[tuple[str, str, dict[str, str]]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append((request.method, request.url,
                     {k.lower(): v.decode() if isinstance(v, bytes) else v
                      for k, v in request.headers.items()}))

    c.meta.events.register("before-send.s3", record)
    name = f"big-{scheme}-{secrets.token_hex(4)}"
    c.create_bucket(Bucket=name)
    try:
        c.upload_file(str(path), name, "dir/100MiB.bin")
        parts = [h for m, u, h in sent if m == "PUT" and "partNumber=" in u]
        n = len(parts)
        assert n == math.ceil(BIG / (8 * MiB))  # the transfer manager's 8 MiB default
        for h in parts:  # every part carries a checksum, in a header or an aws-chunked trailer
            assert "x-amz-checksum-crc32" in h or h.get("x-amz-trailer") == "x-amz-checksum-crc32"
        if scheme == "https":
            assert all(h["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
                       for h in parts)

        head = c.head_object(Bucket=name, Key="dir/100MiB.bin", ChecksumMode="ENABLED")
        assert head["ContentLength"] == BIG
        assert head["ETag"].endswith(f'-{n}"')
        assert c.head_object(Bucket=name, Key="dir/100MiB.bin", PartNumber=1)["PartsCount"] == n
        sizes = [8 * MiB] * (n - 1) + [BIG - 8 * MiB * (n - 1)]
        if head["ChecksumType"] == "FULL_OBJECT":
            expected = b64(file_digests(path, ["CRC32"])["CRC32"])
        else:
            raws = file_part_checksums(path, "CRC32", sizes)
            expected = f"{checksum('CRC32', b''.join(raws))}-{n}"
        assert head["ChecksumCRC32"] == expected

        sent.clear()
        out = tmp_path / "down.bin"
        c.download_file(name, "dir/100MiB.bin", str(out))
        gets = [h for m, _, h in sent if m == "GET"]
        assert len(gets) > 1 and all("range" in h for h in gets)
        assert out.stat().st_size == BIG
        assert file_sha256(out) == sha
        out.unlink()
    finally:
        empty_bucket(c, name)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_boto3_default_over_https_checksums(tls_server: TlsServer, alg: str) -> None:
    """Over HTTPS boto3 sends checksums in an aws-chunked trailer (unsigned payload)."""
    c = client(tls_server.endpoint, tls_server.root, verify=str(tls_server.cert_path))
    name = f"ck-{alg.lower()}-{secrets.token_hex(4)}"
    c.create_bucket(Bucket=name)
    try:
        body = data(FIVE + 123, f"https-{alg}")
        r = c.put_object(Bucket=name, Key="single", Body=body, ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == checksum(alg, body)
        got = c.get_object(Bucket=name, Key="single", ChecksumMode="ENABLED")
        assert got[f"Checksum{alg}"] == checksum(alg, body)
        assert got["Body"].read() == body  # boto3 validates the checksum too
        ctype = "COMPOSITE" if alg in ("SHA1", "SHA256") else "FULL_OBJECT"
        up = new_upload(c, name, "multi", ChecksumAlgorithm=alg, ChecksumType=ctype)
        parts = [body[:FIVE], body[FIVE:]]
        listed = []
        for n, p in enumerate(parts, start=1):
            pr = c.upload_part(Bucket=name, Key="multi", UploadId=up, PartNumber=n, Body=p,
                               ChecksumAlgorithm=alg)
            listed.append({"PartNumber": n, "ETag": pr["ETag"],
                           f"Checksum{alg}": pr[f"Checksum{alg}"]})
        done = complete(c, name, "multi", up, listed)
        want = checksum(alg, body) if ctype == "FULL_OBJECT" else composite(alg, parts)
        assert done[f"Checksum{alg}"] == want
        assert c.get_object(Bucket=name, Key="multi")["Body"].read() == body
    finally:
        empty_bucket(c, name)


# ======================================================================== AWS CLI, s3cmd, rclone


def aws_command() -> list[str]:
    exe = shutil.which("aws")
    return [exe] if exe else [sys.executable, "-m", "awscli"]


def test_aws_cli_cp_200mib_both_ways(server: Server, s3: Any, bucket: str,
                                     tmp_path: Path) -> None:
    src = tmp_path / "up.bin"
    sha = random_file(src, 200 * MiB)
    home = tmp_path / "aws-home"
    env = isolated_env(
        home, AWS_ACCESS_KEY_ID=server.root.access_key,
        AWS_SECRET_ACCESS_KEY=server.root.secret_key, AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    (home / "config").write_text("")

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return run([*aws_command(), "--endpoint-url", server.endpoint, *args], env,
                   timeout=180)

    check(aws("s3", "cp", "--only-show-errors", str(src), f"s3://{bucket}/big/200MiB.bin"))
    head = s3.head_object(Bucket=bucket, Key="big/200MiB.bin")
    assert head["ContentLength"] == 200 * MiB
    assert head["ETag"].endswith('-25"')  # multipart, 8 MiB parts
    src.unlink()  # keep the disk footprint at one copy

    dst = tmp_path / "down.bin"
    check(aws("s3", "cp", "--only-show-errors", f"s3://{bucket}/big/200MiB.bin", str(dst)))
    assert dst.stat().st_size == 200 * MiB
    assert file_sha256(dst) == sha
    dst.unlink()
    s3.delete_object(Bucket=bucket, Key="big/200MiB.bin")




@pytest.mark.parametrize("sig", [["--signature-v2"], []], ids=["sigv2", "sigv4"])
def test_s3cmd_multipart(server: Server, s3: Any, bucket: str, tmp_path: Path,
                         sig: list[str]) -> None:
    s3cmd = s3cmd_runner(server, tmp_path, sig)

    src = tmp_path / "12MiB.bin"
    sha = random_file(src, 12 * MiB)
    check(s3cmd("put", "--multipart-chunk-size-mb=5", str(src), f"s3://{bucket}/s3cmd/12MiB.bin"))
    head = s3.head_object(Bucket=bucket, Key="s3cmd/12MiB.bin")
    assert head["ContentLength"] == 12 * MiB
    assert head["ETag"].endswith('-3"')
    assert s3.head_object(Bucket=bucket, Key="s3cmd/12MiB.bin", PartNumber=3)["PartsCount"] == 3
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)

    dst = tmp_path / "back.bin"
    check(s3cmd("get", f"s3://{bucket}/s3cmd/12MiB.bin", str(dst)))
    assert file_sha256(dst) == sha
    listed = check(s3cmd("ls", f"s3://{bucket}/s3cmd/")).stdout
    assert str(12 * MiB) in listed.split()


def test_rclone_copy_and_check_multipart(server: Server, s3: Any, bucket: str,
                                         tmp_path: Path) -> None:
    exe = shutil.which("rclone")
    if exe is None:
        pytest.skip("rclone is not installed")
    home = tmp_path / "rclone-home"
    env = isolated_env(
        home, RCLONE_CONFIG=str(home / "rclone.conf"), RCLONE_CONFIG_OS_TYPE="s3",
        RCLONE_CONFIG_OS_PROVIDER="Other", RCLONE_CONFIG_OS_ENV_AUTH="false",
        RCLONE_CONFIG_OS_ENDPOINT=server.endpoint,
        RCLONE_CONFIG_OS_ACCESS_KEY_ID=server.root.access_key,
        RCLONE_CONFIG_OS_SECRET_ACCESS_KEY=server.root.secret_key,
        RCLONE_CONFIG_OS_REGION="us-east-1", RCLONE_CONFIG_OS_FORCE_PATH_STYLE="true")

    def rclone(*args: str) -> subprocess.CompletedProcess[str]:
        return run([exe, "--retries", "1", "--low-level-retries", "1", *args], env)

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    random_file(src / "sub" / "20MiB.bin", 20 * MiB)
    (src / "small.txt").write_bytes(b"small file next to the big one\n")
    remote = f"os:{bucket}/rc"
    cp = check(rclone("copy", "-v", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                      str(src), remote))
    assert cp.stderr.count("Copied (new)") == 2, cp.stderr
    head = s3.head_object(Bucket=bucket, Key="rc/sub/20MiB.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-4"')  # really multipart: 4 parts of 5 MiB

    cp = check(rclone("check", str(src), remote))
    assert "0 differences found" in cp.stderr
    assert "2 matching files" in cp.stderr
    cp = check(rclone("check", "--download", str(src), remote))
    assert "0 differences found" in cp.stderr

    dst = tmp_path / "dst"
    check(rclone("copy", remote, str(dst)))
    assert file_sha256(dst / "sub" / "20MiB.bin") == file_sha256(src / "sub" / "20MiB.bin")
    assert (dst / "small.txt").read_bytes() == (src / "small.txt").read_bytes()
