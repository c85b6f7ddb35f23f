"""CopyObject shares blobs: a copy of a multipart (several segments) or single-blob source
writes no byte, yet is what S3 makes of a copy (a single-part object: MD5 ETag, no
PartsCount, full-object checksums); every delete path and gc/fsck honour the references.
Also the version headers of the ACL and tagging operations, and DeleteObjects' required
Content-MD5 or checksum."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Server, new_bucket, new_server, running
from test_clients import aws_json, aws_runner
from test_coverage import code_of, signed

PART = 5 * 1024 * 1024


def _blobs(server: Server) -> set[str]:
    root = Path(server.data_dir) / "blobs"
    return {p.name for p in root.rglob("*") if p.is_file()}


def _settled(server: Server, want: set[str]) -> set[str]:
    """The blob files once asynchronous garbage removal has reached ``want`` (or 5 s)."""
    deadline = time.time() + 5
    while _blobs(server) != want and time.time() < deadline:
        time.sleep(0.05)
    return _blobs(server)



def _multipart(s3: Any, bucket: str, key: str, data: bytes, **extra: Any) -> dict[str, Any]:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    parts = []
    for n, start in enumerate(range(0, len(data), PART), start=1):
        kw = {"ChecksumAlgorithm": extra["ChecksumAlgorithm"]} if extra else {}
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n,
                             Body=data[start:start + PART], **kw)
        part = {"PartNumber": n, "ETag": out["ETag"]}
        for name in ("ChecksumCRC32", "ChecksumSHA256"):
            if name in out:
                part[name] = out[name]
        parts.append(part)
    return dict(s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                             MultipartUpload={"Parts": parts}))


def _md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def _read(s3: Any, bucket: str, key: str, vid: str | None = None) -> bytes:
    kw = {"VersionId": vid} if vid else {}
    return bytes(s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read())


def _wipe(s3: Any, bucket: str) -> None:
    out = s3.list_object_versions(Bucket=bucket)
    for v in out.get("Versions", []) + out.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def test_multipart_copy_shares_segments_and_is_single_part(s3: Any, server: Server) -> None:
    bucket = new_bucket(s3, "share", "Enabled")
    data = os.urandom(2 * PART + 12345)
    before = _blobs(server)
    src = _multipart(s3, bucket, "src", data)
    assert src["ETag"].endswith('-3"')
    with_source = _blobs(server)
    assert len(with_source - before) == 3
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource={
        "Bucket": bucket, "Key": "src", "VersionId": src["VersionId"]})
    # S3: an object made by Copy has the MD5 of its data as ETag (not "-N")
    assert out["CopyObjectResult"]["ETag"] == _md5_etag(data)
    assert _blobs(server) == with_source  # no byte written
    head = s3.head_object(Bucket=bucket, Key="dst", PartNumber=1)
    assert "PartsCount" not in head and head["ContentLength"] == len(data)
    attrs = s3.get_object_attributes(Bucket=bucket, Key="dst",
                                     ObjectAttributes=["ObjectParts", "ETag", "ObjectSize"])
    assert "ObjectParts" not in attrs and attrs["ObjectSize"] == len(data)
    assert _read(s3, bucket, "dst") == data
    rng = s3.get_object(Bucket=bucket, Key="dst", Range=f"bytes={PART - 10}-{PART + 9}")
    assert rng["Body"].read() == data[PART - 10:PART + 10]
    # a copy of the copy: still no bytes, same ETag (already known: nothing read)
    again = s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/dst")
    assert again["CopyObjectResult"]["ETag"] == _md5_etag(data)
    assert _blobs(server) == with_source
    # every version of the source goes: both copies still read
    s3.delete_object(Bucket=bucket, Key="src", VersionId=src["VersionId"])
    assert _blobs(server) == with_source
    assert _read(s3, bucket, "dst") == data and _read(s3, bucket, "dst2") == data
    # a marker over dst frees nothing; dst2's version going frees nothing either (dst's
    # noncurrent version still refers to the segments); the last reference frees them
    s3.delete_object(Bucket=bucket, Key="dst")
    dst_vid = s3.list_object_versions(Bucket=bucket, Prefix="dst")["Versions"]
    dst = next(v["VersionId"] for v in dst_vid if v["Key"] == "dst")
    assert _read(s3, bucket, "dst", dst) == data
    s3.delete_object(Bucket=bucket, Key="dst2", VersionId=again["VersionId"])
    assert _blobs(server) == with_source
    assert _read(s3, bucket, "dst", dst) == data
    _wipe(s3, bucket)
    assert _settled(server, before) == before


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_multipart_copy_checksums_are_full_object(s3: Any, server: Server,
                                                  algorithm: str) -> None:
    bucket = new_bucket(s3, "share")
    data = os.urandom(PART + 777)
    _multipart(s3, bucket, "src", data, ChecksumAlgorithm=algorithm)
    with_source = _blobs(server)
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    want = base64.b64encode(
        zlib.crc32(data).to_bytes(4, "big") if algorithm == "CRC32"
        else hashlib.sha256(data).digest()).decode()
    assert out["CopyObjectResult"][f"Checksum{algorithm}"] == want
    head = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == want and head.get("ChecksumType") == "FULL_OBJECT"
    assert _blobs(server) == with_source
    # a new algorithm on a single-blob source: read once, still shared
    s3.put_object(Bucket=bucket, Key="one", Body=data)
    with_one = _blobs(server)
    out = s3.copy_object(Bucket=bucket, Key="one2", CopySource=f"{bucket}/one",
                         ChecksumAlgorithm="SHA1")
    assert out["CopyObjectResult"]["ChecksumSHA1"] == base64.b64encode(
        hashlib.sha1(data).digest()).decode()
    assert _blobs(server) == with_one
    assert _read(s3, bucket, "one2") == data
    _wipe(s3, bucket)


def test_unversioned_and_suspended_paths_keep_shared_segments(s3: Any, server: Server) -> None:
    before = _blobs(server)
    bucket = new_bucket(s3, "share")
    data = os.urandom(PART + 1)
    _multipart(s3, bucket, "src", data)
    with_source = _blobs(server)
    # a copy onto itself (metadata replaced): same blobs, count unchanged
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"a": "b"})
    assert _blobs(server) == with_source and _read(s3, bucket, "src") == data
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    # overwriting the source (unversioned) keeps the blobs dst refers to
    s3.put_object(Bucket=bucket, Key="src", Body=b"small")
    assert _read(s3, bucket, "dst") == data
    # Suspended: the null version is replaced twice by copies of dst, then dst goes
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.copy_object(Bucket=bucket, Key="n", CopySource=f"{bucket}/dst")
    s3.copy_object(Bucket=bucket, Key="n", CopySource=f"{bucket}/dst")
    s3.delete_object(Bucket=bucket, Key="dst", VersionId="null")
    assert _read(s3, bucket, "n") == data
    # a delete (Suspended: a null marker replacing the null version) frees the last ones
    s3.delete_object(Bucket=bucket, Key="n")
    s3.delete_object(Bucket=bucket, Key="src")
    _wipe(s3, bucket)
    assert _settled(server, before) == before


def test_deleteobjects_and_multipart_abort_honour_references(s3: Any, server: Server) -> None:
    before = _blobs(server)
    bucket = new_bucket(s3, "share", "Enabled")
    data = os.urandom(PART + 5)
    src = _multipart(s3, bucket, "src", data)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    # an upload to the same key, aborted: its part blobs go, the shared ones stay
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1, Body=b"x" * 100)
    s3.upload_part(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1, Body=b"y" * 100)
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=up)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "src", "VersionId": src["VersionId"]}]})
    assert _read(s3, bucket, "dst") == data
    _wipe(s3, bucket)
    assert _settled(server, before) == before


def test_gc_scrub_and_fsck_keep_shared_segments(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data")
    with running(server):
        s3 = server.client()
        bucket = new_bucket(s3, "share", "Enabled")
        data = os.urandom(2 * PART + 3)
        src = _multipart(s3, bucket, "src", data)
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
        s3.delete_object(Bucket=bucket, Key="src", VersionId=src["VersionId"])
        server.stop()
        server.admin("gc", "--grace", "0")
        server.admin("scrub", "--grace", "0")  # exit 1 (an exception here) if anything is wrong
        server.admin("fsck", "--repair", "--grace", "0")
        server.start()
        s3 = server.client()
        assert _read(s3, bucket, "dst") == data


# ---------------------------------------------------------------- version headers

def _version_header(resp: dict[str, Any]) -> str | None:
    value = resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-version-id")
    return None if value is None else str(value)


def test_acl_and_tagging_answer_the_version(s3: Any) -> None:
    bucket = new_bucket(s3, "share", "Enabled")
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    assert _version_header(s3.get_object_acl(Bucket=bucket, Key="k")) == v2
    assert _version_header(s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)) == v1
    assert _version_header(s3.put_object_acl(Bucket=bucket, Key="k", VersionId=v1,
                                             ACL="public-read")) == v1
    assert _version_header(s3.put_object_acl(Bucket=bucket, Key="k", ACL="private")) == v2
    tags = {"TagSet": [{"Key": "a", "Value": "b"}]}
    assert s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1,
                                 Tagging=tags)["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["VersionId"] == v2
    assert s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    _wipe(s3, bucket)
    plain = new_bucket(s3, "share")
    s3.put_object(Bucket=plain, Key="k", Body=b"1")
    assert _version_header(s3.get_object_acl(Bucket=plain, Key="k")) is None
    assert _version_header(s3.put_object_acl(Bucket=plain, Key="k", ACL="private")) is None
    assert _version_header(s3.get_object_acl(Bucket=plain, Key="k",
                                              VersionId="null")) == "null"
    assert "VersionId" not in s3.get_object_tagging(Bucket=plain, Key="k")
    s3.delete_object(Bucket=plain, Key="k")
    s3.delete_bucket(Bucket=plain)


# ---------------------------------------------------------------- DeleteObjects integrity

def test_delete_objects_needs_md5_or_checksum_on_every_bucket(server: Server, s3: Any) -> None:
    bucket = new_bucket(s3, "share")  # no Object Lock, not versioned
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    doc = b"<Delete><Object><Key>k</Key></Object></Delete>"
    bare = signed(server, "POST", f"/{bucket}", "delete", doc)
    assert (bare.status_code, code_of(bare)) == (400, "InvalidRequest")
    assert b"Missing required header for this request: Content-MD5" in bare.content
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
    ok = signed(server, "POST", f"/{bucket}", "delete", doc, {"Content-MD5": md5})
    assert ok.status_code == 200 and b"<Deleted><Key>k</Key>" in ok.content
    # boto3 sends a checksum of its own choosing: bulk deletes go through
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["k2"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k2")
    s3.delete_bucket(Bucket=bucket)


def test_aws_cli_delete_objects_sends_what_s3_requires(server: Server, s3: Any,
                                                       tmp_path: Path) -> None:
    bucket = new_bucket(s3, "share")
    for k in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    aws = aws_runner(server, tmp_path / "aws-home", server.root)
    doc = aws_json(aws("s3api", "delete-objects", "--bucket", bucket, "--delete",
                       '{"Objects":[{"Key":"a"},{"Key":"b"}]}'))
    assert sorted(d["Key"] for d in doc["Deleted"]) == ["a", "b"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


def test_restoring_a_multipart_version_copies_no_bytes(s3: Any, server: Server) -> None:
    before = _blobs(server)
    bucket = new_bucket(s3, "share", "Enabled")
    data = os.urandom(PART + 99)
    v1 = _multipart(s3, bucket, "k", data)["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"newer")
    with_versions = _blobs(server)
    out = s3.copy_object(Bucket=bucket, Key="k", CopySource={
        "Bucket": bucket, "Key": "k", "VersionId": v1})
    assert out["CopySourceVersionId"] == v1 and out["VersionId"] != v1
    assert _blobs(server) == with_versions
    assert _read(s3, bucket, "k") == data
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)  # the restored copy keeps them
    assert _blobs(server) == with_versions and _read(s3, bucket, "k") == data
    _wipe(s3, bucket)
    assert _settled(server, before) == before
