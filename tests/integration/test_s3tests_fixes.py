"""Behaviours fixed while going through ceph/s3-tests failures (each as S3 documents it)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Server


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return int(r["ResponseMetadata"]["HTTPStatusCode"]), str(r["Error"]["Code"])


def test_listv2_empty_continuation_token_lists_from_the_start(s3: Any, bucket: str) -> None:
    for key in ("b", "a", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    got = s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
    assert got["ContinuationToken"] == ""
    assert got["IsTruncated"] is False
    assert [o["Key"] for o in got["Contents"]] == ["a", "b", "c"]
    # with start-after, an empty token leaves start-after in force
    got = s3.list_objects_v2(Bucket=bucket, ContinuationToken="", StartAfter="a")
    assert [o["Key"] for o in got["Contents"]] == ["b", "c"]
    # a token that is not one of ours is still refused
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="%%%")
    assert _code(exc) == (400, "InvalidArgument")


def test_expected_bucket_owner(s3: Any, bucket: str) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ExpectedBucketOwner=owner)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=owner)["Body"].read() \
        == b"data"
    s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=owner)
    wrong = owner + "foo"
    for call in (lambda: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=wrong),
                 lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong),
                 lambda: s3.put_object(Bucket=bucket, Key="k2", Body=b"x",
                                       ExpectedBucketOwner=wrong),
                 lambda: s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=wrong)):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc)[0] == 403
    assert "Contents" in s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    # the copy source's owner: x-amz-source-expected-bucket-owner
    s3.copy_object(Bucket=bucket, Key="c1", CopySource={"Bucket": bucket, "Key": "k"},
                   ExpectedSourceBucketOwner=owner)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "k"},
                       ExpectedSourceBucketOwner=wrong)
    assert _code(exc) == (403, "AccessDenied")
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "k"},
                            ExpectedSourceBucketOwner=wrong)
    assert _code(exc) == (403, "AccessDenied")
    s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=up)


def test_body_longer_than_content_length_gets_its_own_answer(server: Server,
                                                             bucket: str) -> None:
    """A PUT whose body runs past its Content-Length: the PUT is answered (here BadDigest:
    its checksum covers the whole body), not replaced by a parse error of the extra bytes."""
    client = server.client(signature_version="s3")
    client.meta.events.register(
        "before-call.s3.PutObject",
        lambda **kw: kw["params"]["headers"].update({"Content-Length": "2"}))
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=bucket, Key="short", Body=b"bar", ChecksumAlgorithm="CRC32")
    assert _code(exc) == (400, "BadDigest")
    headers = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("connection") == "close"
    assert "x-amz-request-id" in headers
    # the server still answers afterwards
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="after", Body=b"ok")
    assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"ok"


def test_tag_set_is_answered_in_key_order(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="foo=bar&bar")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "bar", "Value": ""}, {"Key": "foo", "Value": "bar"}]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [
        {"Key": "z", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert [t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]] \
        == ["a", "z"]
    name = "tags-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [
        {"Key": "y", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    assert [t["Key"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]] == ["b", "y"]
    s3.delete_bucket(Bucket=name)


def test_acl_group_grants_come_first(s3: Any, bucket: str) -> None:
    """A put ACL is shown group grants first, as canned ACLs are (s3-tests'
    check_grants compares in that order when the first grant has no DisplayName)."""
    acl = s3.get_bucket_acl(Bucket=bucket)
    grants = acl["Grants"] + [{"Grantee": {"Type": "Group",
                                           "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                               "Permission": "READ"}]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Grants": grants,
                                                          "Owner": acl["Owner"]})
    got = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in got] == [
        ("Group", "READ"), ("CanonicalUser", "FULL_CONTROL")]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy={"Grants": grants,
                                                                   "Owner": acl["Owner"]})
    got = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert got[0]["Grantee"]["Type"] == "Group" and len(got) == 2
