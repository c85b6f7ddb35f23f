"""S3 versioning against the real server: bucket state, versions, delete markers, version
ids on every operation, ListObjectVersions paging, blob sharing and reference counts."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server, new_bucket
from test_clients import aws_json, aws_runner


@pytest.fixture
def vbucket(s3: Any) -> Iterator[str]:
    name = new_bucket(s3, "ver", "Enabled")
    yield name
    _empty(s3, name)


def _empty(s3: Any, name: str) -> None:
    while True:
        out = s3.list_object_versions(Bucket=name)
        items = out.get("Versions", []) + out.get("DeleteMarkers", [])
        for v in items:
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        if not out.get("IsTruncated"):
            break
    s3.delete_bucket(Bucket=name)


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def _blobs(server: Server) -> set[str]:
    root = Path(server.data_dir) / "blobs"
    return {p.name for p in root.rglob("*") if p.is_file()}


def _blobs_settled(server: Server, count: int) -> int:
    """The number of blob files once garbage collection after a commit (asynchronous) has
    brought it to ``count`` (or after 5 s)."""
    deadline = time.time() + 5
    while len(_blobs(server)) != count and time.time() < deadline:
        time.sleep(0.05)
    return len(_blobs(server))


def test_bucket_versioning_state(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Off"})
    assert _code(e.value) == "MalformedXML"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
            "Status": "Enabled", "MFADelete": "Enabled"})
    assert _code(e.value) == "InvalidRequest"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
        "Status": "Enabled", "MFADelete": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.delete_bucket(Bucket=name)


def test_versions_and_markers(s3: Any, vbucket: str) -> None:
    ids = [s3.put_object(Bucket=vbucket, Key="k", Body=f"v{i}".encode())["VersionId"]
           for i in range(3)]
    assert len(set(ids)) == 3 and all(len(i) == 32 and i != "null" for i in ids)
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"v2"
    for i, vid in enumerate(ids):
        got = s3.get_object(Bucket=vbucket, Key="k", VersionId=vid)
        assert got["Body"].read() == f"v{i}".encode() and got["VersionId"] == vid
    assert s3.head_object(Bucket=vbucket, Key="k", VersionId=ids[0])["ContentLength"] == 2
    # a delete without a version id writes a marker
    out = s3.delete_object(Bucket=vbucket, Key="k")
    assert out["DeleteMarker"] is True
    marker = out["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert _code(e.value) == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert e.value.response["Error"]["Code"] in ("405", "MethodNotAllowed")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="A" * 32)
    assert _code(e.value) == "NoSuchVersion"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="bad id")
    assert _code(e.value) == "InvalidArgument"
    listed = s3.list_object_versions(Bucket=vbucket)
    assert [v["VersionId"] for v in listed["Versions"]] == ids[::-1]
    assert not any(v["IsLatest"] for v in listed["Versions"])
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    # removing the marker makes the newest version current again
    out = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert out["DeleteMarker"] is True and out["VersionId"] == marker
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"v2"
    # permanently deleting the current version promotes the previous one
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=ids[2])
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"v1" and got["VersionId"] == ids[1]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["k"]
    # a marker for a key that never existed
    out = s3.delete_object(Bucket=vbucket, Key="never")
    assert out["DeleteMarker"] is True and len(out["VersionId"]) == 32


def test_suspended_null_version(s3: Any) -> None:
    name = new_bucket(s3, "ver")
    s3.put_object(Bucket=name, Key="k", Body=b"plain")  # the null version, before versioning
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    vid = s3.put_object(Bucket=name, Key="k", Body=b"versioned")["VersionId"]
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"plain"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    out = s3.put_object(Bucket=name, Key="k", Body=b"suspended")
    assert out.get("VersionId", "null") == "null"
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    # the null version was replaced, the Enabled version kept
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (vid, False)]
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"suspended"
    out = s3.delete_object(Bucket=name, Key="k")
    assert out["DeleteMarker"] is True and out["VersionId"] == "null"
    listed = s3.list_object_versions(Bucket=name)
    assert [v["VersionId"] for v in listed["Versions"]] == [vid]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert _code(e.value) == "BucketNotEmpty"
    _empty(s3, name)


def test_delete_objects_with_versions(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="a", Body=b"2")
    out = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v1}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["a"]["VersionId"] == v1 and "DeleteMarker" not in by_key["a"]
    assert by_key["b"]["DeleteMarker"] is True and len(by_key["b"]["DeleteMarkerVersionId"]) == 32
    marker = by_key["b"]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "b", "VersionId": marker}]})
    assert out["Deleted"][0]["DeleteMarker"] is True
    assert out["Deleted"][0]["DeleteMarkerVersionId"] == marker
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=vbucket)["Versions"]] != [v1]


def test_copy_source_version_and_sharing(s3: Any, server: Server, vbucket: str) -> None:
    big = os.urandom(200_000)  # a blob, not an inline object
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=big)["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"newer")
    before = _blobs(server)
    out = s3.copy_object(Bucket=vbucket, Key="dst",
                         CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert out["CopySourceVersionId"] == v1 and len(out["VersionId"]) == 32
    assert _blobs(server) == before  # no byte copied
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == big
    # the source version goes; the copy still reads (the blob is still referenced)
    s3.delete_object(Bucket=vbucket, Key="src", VersionId=v1)
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == big
    # both references gone: the blob is freed
    for v in s3.list_object_versions(Bucket=vbucket, Prefix="dst")["Versions"]:
        s3.delete_object(Bucket=vbucket, Key="dst", VersionId=v["VersionId"])
    assert _blobs_settled(server, len(before) - 1) == len(before) - 1


def test_unversioned_copy_shares_and_frees(s3: Any, server: Server) -> None:
    name = new_bucket(s3, "ver")
    data = os.urandom(100_000)
    s3.put_object(Bucket=name, Key="a", Body=data)
    before = _blobs(server)
    s3.copy_object(Bucket=name, Key="b", CopySource={"Bucket": name, "Key": "a"})
    assert _blobs(server) == before
    s3.delete_object(Bucket=name, Key="a")
    assert s3.get_object(Bucket=name, Key="b")["Body"].read() == data
    s3.put_object(Bucket=name, Key="b", Body=b"x")  # the last reference replaced
    assert _blobs_settled(server, len(before) - 1) == len(before) - 1
    s3.delete_object(Bucket=name, Key="b")
    s3.delete_bucket(Bucket=name)


def test_version_id_on_subresources(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="t", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="t", Body=b"2")["VersionId"]
    s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId=v1,
                          Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)["TagSet"] == [
        {"Key": "a", "Value": "b"}]
    assert s3.get_object_tagging(Bucket=vbucket, Key="t")["TagSet"] == []
    s3.put_object_acl(Bucket=vbucket, Key="t", VersionId=v1, ACL="public-read")
    grants = s3.get_object_acl(Bucket=vbucket, Key="t", VersionId=v1)["Grants"]
    assert any(g["Permission"] == "READ" and "URI" in g["Grantee"] for g in grants)
    assert len(s3.get_object_acl(Bucket=vbucket, Key="t", VersionId=v2)["Grants"]) == 1
    attrs = s3.get_object_attributes(Bucket=vbucket, Key="t", VersionId=v1,
                                     ObjectAttributes=["ObjectSize"])
    assert attrs["ObjectSize"] == 1
    s3.delete_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)["TagSet"] == []


def test_multipart_and_conditional(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="m", Body=b"first")["VersionId"]
    up = s3.create_multipart_upload(Bucket=vbucket, Key="m")["UploadId"]
    etag = s3.upload_part(Bucket=vbucket, Key="m", UploadId=up, PartNumber=1,
                          Body=b"p" * 10)["ETag"]
    out = s3.complete_multipart_upload(Bucket=vbucket, Key="m", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert len(out["VersionId"]) == 32 and out["VersionId"] != v1
    assert s3.get_object(Bucket=vbucket, Key="m", VersionId=v1)["Body"].read() == b"first"
    s3.delete_object(Bucket=vbucket, Key="m")  # latest is now a marker: no current object
    s3.put_object(Bucket=vbucket, Key="m", Body=b"again", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=vbucket, Key="m", Body=b"x", IfNoneMatch="*")
    assert _code(e.value) == "PreconditionFailed"


def test_list_versions_paging(s3: Any, vbucket: str) -> None:
    expected = []
    for key in ("a/1", "a/2", "b", "c"):
        ids = [s3.put_object(Bucket=vbucket, Key=key, Body=b"x")["VersionId"] for _ in range(3)]
        expected += [(key, v) for v in reversed(ids)]
    seen: list[tuple[str, str]] = []
    kwargs: dict[str, str] = {}
    while True:
        page = s3.list_object_versions(Bucket=vbucket, MaxKeys=2, **kwargs)
        assert len(page.get("Versions", [])) <= 2
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"],
                  "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == expected
    page = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/"]
    assert {v["Key"] for v in page["Versions"]} == {"b", "c"}
    latest = [v["IsLatest"] for v in page["Versions"] if v["Key"] == "b"]
    assert latest == [True, False, False]
    page = s3.list_object_versions(Bucket=vbucket, Prefix="a/", KeyMarker="a/1")
    assert {v["Key"] for v in page["Versions"]} == {"a/2"}


def test_aws_cli_versions(server: Server, s3: Any, vbucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=vbucket, Key="cli", Body=b"1")
    s3.put_object(Bucket=vbucket, Key="cli", Body=b"2")
    (tmp_path / "aws-home").mkdir()
    aws = aws_runner(server, tmp_path / "aws-home", server.root)
    doc = aws_json(aws("s3api", "list-object-versions", "--bucket", vbucket))
    assert len(doc["Versions"]) == 2
    vid = doc["Versions"][1]["VersionId"]
    aws_json(aws("s3api", "get-object", "--bucket", vbucket, "--key", "cli", "--version-id", vid,
                 str(tmp_path / "out")))
    assert (tmp_path / "out").read_bytes() == b"1"
    assert aws_json(aws("s3api", "get-bucket-versioning", "--bucket", vbucket))[
        "Status"] == "Enabled"
