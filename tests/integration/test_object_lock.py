"""Object Lock against the real server, with boto3 and the AWS CLI: the bucket
configuration and its errors, default retention, retention and legal hold per version,
every refusal (delete, shorten, remove, change mode), governance bypass allowed and denied,
compliance never bypassed, the x-amz-object-lock-* headers on GET/HEAD, multipart uploads
with lock, and the Content-MD5 / checksum requirements."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from clients_util import Runner
from harness import Server
from test_clients import aws_json, aws_runner

FAR = datetime(2099, 1, 1, tzinfo=timezone.utc)
GOV_DAY = {"ObjectLockEnabled": "Enabled",
           "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}


def err(call: Callable[..., Any], **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    e = exc.value.response
    return (e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"],
            e["Error"].get("Message", ""))


def new_name() -> str:
    return "lock-" + uuid.uuid4().hex[:16]


@pytest.fixture
def locked(s3: Any) -> str:
    """A bucket created with Object Lock (left behind: its objects may stay locked)."""
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def version_of(resp: dict[str, Any]) -> str:
    """The version a write made (the "null" version while versioning is not built)."""
    return str(resp.get("VersionId", "null"))


def without_integrity(client: Any, op: str) -> Any:
    """``client`` with Content-MD5 and every checksum header stripped from ``op``."""
    def strip(request: Any, **_: Any) -> None:
        for name in list(request.headers.keys()):
            low = name.lower()
            if low == "content-md5" or low.startswith("x-amz-checksum-") or \
                    low in ("x-amz-sdk-checksum-algorithm", "x-amz-trailer"):
                del request.headers[name]
    client.meta.events.register(f"before-sign.s3.{op}", strip)
    return client


# ---------------------------------------------------------------- bucket configuration

def test_create_with_lock_enables_it_and_versioning(s3: Any, locked: str) -> None:
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == \
        {"ObjectLockEnabled": "Enabled"}
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"


def test_configuration_round_trip(s3: Any, locked: str) -> None:
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == GOV_DAY
    years = {"ObjectLockEnabled": "Enabled",
             "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 3}}}
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=years)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == years
    s3.put_object_lock_configuration(Bucket=locked,
                                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == \
        {"ObjectLockEnabled": "Enabled"}


@pytest.mark.parametrize("retention,expected", [
    ({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
    ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidRetentionPeriod"),
    ({"Mode": "GOVERNANCE", "Years": -1}, "InvalidRetentionPeriod"),
    ({"Mode": "governance", "Years": 1}, "MalformedXML"),
    ({"Mode": "abc", "Years": 1}, "MalformedXML"),
    ({"Mode": "GOVERNANCE"}, "MalformedXML"),
])
def test_configuration_errors(s3: Any, locked: str, retention: dict[str, Any],
                              expected: str) -> None:
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}
    assert err(s3.put_object_lock_configuration, Bucket=locked,
               ObjectLockConfiguration=conf)[:2] == (400, expected)


def test_configuration_status_must_be_enabled(s3: Any, locked: str) -> None:
    conf = {"ObjectLockEnabled": "Disabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}}
    assert err(s3.put_object_lock_configuration, Bucket=locked,
               ObjectLockConfiguration=conf)[:2] == (400, "MalformedXML")


def test_bucket_without_lock(s3: Any, bucket: str) -> None:
    assert err(s3.get_object_lock_configuration, Bucket=bucket)[:2] == \
        (404, "ObjectLockConfigurationNotFoundError")
    status, code, message = err(s3.put_object_lock_configuration, Bucket=bucket,
                                ObjectLockConfiguration=GOV_DAY)
    assert (status, code) == (409, "InvalidBucketState")
    assert "Versioning must be 'Enabled'" in message
    assert err(s3.get_object_lock_configuration, Bucket=bucket)[:2] == \
        (404, "ObjectLockConfigurationNotFoundError")


def test_configuration_needs_content_md5(server: Server, locked: str) -> None:
    client = without_integrity(server.client(), "PutObjectLockConfiguration")
    status, code, message = err(client.put_object_lock_configuration, Bucket=locked,
                                ObjectLockConfiguration=GOV_DAY)
    assert (status, code) == (400, "InvalidRequest")
    assert "Content-MD5" in message


def test_configuration_is_the_bucket_owners(server: Server, s3: Any, locked: str) -> None:
    other = server.client(server.new_user())
    assert err(other.get_object_lock_configuration, Bucket=locked)[:2] == (403, "AccessDenied")
    assert err(other.put_object_lock_configuration, Bucket=locked,
               ObjectLockConfiguration=GOV_DAY)[:2] == (403, "AccessDenied")


# ---------------------------------------------------------------- new versions

def test_default_retention_applied(s3: Any, locked: str) -> None:
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    before = datetime.now(timezone.utc)
    s3.put_object(Bucket=locked, Key="k", Body=b"abc")
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert before + timedelta(days=1) - timedelta(seconds=5) <= until <= \
        datetime.now(timezone.utc) + timedelta(days=1, seconds=5)
    assert "ObjectLockLegalHoldStatus" not in head
    got = s3.get_object_retention(Bucket=locked, Key="k")["Retention"]
    assert got == {"Mode": "GOVERNANCE", "RetainUntilDate": until}


def test_explicit_headers_override_the_default(s3: Any, locked: str) -> None:
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    until = datetime(2090, 6, 1, 12, 30, tzinfo=timezone.utc)
    s3.put_object(Bucket=locked, Key="k", Body=b"abc", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    for resp in (s3.head_object(Bucket=locked, Key="k"), s3.get_object(Bucket=locked, Key="k")):
        assert resp["ObjectLockMode"] == "COMPLIANCE"
        assert resp["ObjectLockRetainUntilDate"] == until
        assert resp["ObjectLockLegalHoldStatus"] == "ON"


def test_no_lock_no_headers(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="plain", Body=b"abc")
    head = s3.head_object(Bucket=locked, Key="plain")
    assert not any(k.startswith("ObjectLock") for k in head)
    assert err(s3.get_object_retention, Bucket=locked, Key="plain")[:2] == \
        (404, "NoSuchObjectLockConfiguration")
    assert s3.get_object_legal_hold(Bucket=locked, Key="plain")["LegalHold"] == \
        {"Status": "OFF"}


def test_lock_headers_shown_only_to_the_bucket_owner(server: Server, s3: Any) -> None:
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"abc", ACL="public-read",
                  ObjectLockLegalHoldStatus="ON")
    other = server.client(server.new_user())
    head = other.head_object(Bucket=name, Key="k")
    assert "ObjectLockLegalHoldStatus" not in head
    assert s3.head_object(Bucket=name, Key="k")["ObjectLockLegalHoldStatus"] == "ON"


@pytest.mark.parametrize("kwargs,message", [
    ({"ObjectLockMode": "GOVERNANCE"}, "must both be supplied"),
    ({"ObjectLockRetainUntilDate": FAR}, "must both be supplied"),
    ({"ObjectLockMode": "GOVERNANCE",
      "ObjectLockRetainUntilDate": datetime(2001, 1, 1, tzinfo=timezone.utc)},
     "must be in the future"),
])
def test_header_errors(s3: Any, locked: str, kwargs: dict[str, Any], message: str) -> None:
    status, code, msg = err(s3.put_object, Bucket=locked, Key="k", Body=b"x", **kwargs)
    assert (status, code) == (400, "InvalidArgument")
    assert message in msg


def test_lock_headers_on_a_bucket_without_lock(s3: Any, bucket: str) -> None:
    kwargs = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": FAR}
    for call in (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **kwargs),
                 lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", **kwargs),
                 lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                       ObjectLockLegalHoldStatus="ON")):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "InvalidRequest"
        assert exc.value.response["Error"]["Message"] == \
            "Bucket is missing Object Lock Configuration"
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    assert err(s3.copy_object, Bucket=bucket, Key="k", CopySource=f"{bucket}/src",
               **kwargs)[:2] == (400, "InvalidRequest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_put_with_lock_needs_a_checksum(server: Server, s3: Any, locked: str) -> None:
    client = without_integrity(server.client(), "PutObject")
    status, code, message = err(client.put_object, Bucket=locked, Key="k", Body=b"x",
                                ObjectLockLegalHoldStatus="ON")
    assert (status, code) == (400, "InvalidRequest")
    assert "Content-MD5 OR x-amz-checksum-" in message
    client.put_object(Bucket=locked, Key="k", Body=b"x")  # no lock parameter: accepted
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    assert err(client.put_object, Bucket=locked, Key="k2", Body=b"x")[:2] == \
        (400, "InvalidRequest")  # the default retention is a lock parameter too
    md5 = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    s3.put_object(Bucket=locked, Key="k2", Body=b"x", ContentMD5=md5)


def test_lock_headers_need_bucket_ownership(server: Server, s3: Any) -> None:
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, ACL="public-read-write")
    other = server.client(server.new_user())
    other.put_object(Bucket=name, Key="plain", Body=b"x")
    assert err(other.put_object, Bucket=name, Key="k", Body=b"x",
               ObjectLockLegalHoldStatus="ON")[:2] == (403, "AccessDenied")


def test_copy_takes_the_destination_lock(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="src", Body=b"abc", ObjectLockLegalHoldStatus="ON")
    s3.copy_object(Bucket=locked, Key="dst", CopySource=f"{locked}/src",
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    head = s3.head_object(Bucket=locked, Key="dst")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] == FAR
    assert "ObjectLockLegalHoldStatus" not in head  # not copied from the source


def test_multipart_with_lock(s3: Any, locked: str) -> None:
    up = s3.create_multipart_upload(Bucket=locked, Key="mp", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=FAR,
                                    ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=locked, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"abc")
    done = s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    head = s3.head_object(Bucket=locked, Key="mp")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"],
            head["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", FAR, "ON")
    vid = version_of(done)
    assert err(s3.delete_object, Bucket=locked, Key="mp", VersionId=vid,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")  # legal hold
    s3.put_object_legal_hold(Bucket=locked, Key="mp", LegalHold={"Status": "OFF"})
    assert err(s3.delete_object, Bucket=locked, Key="mp", VersionId=vid)[:2] == \
        (403, "AccessDenied")  # retention
    s3.delete_object(Bucket=locked, Key="mp", VersionId=vid, BypassGovernanceRetention=True)


def test_multipart_default_retention_and_part_checksums(server: Server, s3: Any,
                                                        locked: str) -> None:
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    up = s3.create_multipart_upload(Bucket=locked, Key="mp")
    bare = without_integrity(server.client(), "UploadPart")
    assert err(bare.upload_part, Bucket=locked, Key="mp", UploadId=up["UploadId"],
               PartNumber=1, Body=b"abc")[:2] == (400, "InvalidRequest")
    part = s3.upload_part(Bucket=locked, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"abc")
    s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    head = s3.head_object(Bucket=locked, Key="mp")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(timezone.utc) + timedelta(hours=23)


# ---------------------------------------------------------------- retention and legal hold

def test_retention_and_legal_hold_on_a_bucket_without_lock(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    calls = [
        lambda: s3.put_object_retention(Bucket=bucket, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": FAR}),
        lambda: s3.get_object_retention(Bucket=bucket, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "InvalidRequest"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_retention_round_trip_and_errors(s3: Any, locked: str) -> None:
    vid = version_of(s3.put_object(Bucket=locked, Key="k", Body=b"abc"))
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    s3.put_object_retention(Bucket=locked, Key="k", Retention=retention)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"] == retention
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=vid)["Retention"] == \
        retention
    for mode in ("governance", "abc"):
        assert err(s3.put_object_retention, Bucket=locked, Key="k", Retention={
            "Mode": mode, "RetainUntilDate": FAR})[:2] == (400, "MalformedXML")
    assert err(s3.put_object_retention, Bucket=locked, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": datetime(2001, 1, 1, tzinfo=timezone.utc)}
    )[:2] == (400, "InvalidArgument")
    assert err(s3.put_object_retention, Bucket=locked, Key="absent",
               Retention=retention)[:2] == (404, "NoSuchKey")
    s3.delete_object(Bucket=locked, Key="k", VersionId=vid, BypassGovernanceRetention=True)


def test_legal_hold_round_trip_and_errors(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="k", Body=b"abc")
    s3.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    assert err(s3.put_object_legal_hold, Bucket=locked, Key="k",
               LegalHold={"Status": "abc"})[:2] == (400, "MalformedXML")
    s3.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "OFF"}


def test_retention_and_legal_hold_need_content_md5(server: Server, locked: str) -> None:
    client = server.client()
    client.put_object(Bucket=locked, Key="k", Body=b"abc")
    without_integrity(client, "PutObjectRetention")
    without_integrity(client, "PutObjectLegalHold")
    assert err(client.put_object_retention, Bucket=locked, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": FAR})[:2] == (400, "InvalidRequest")
    assert err(client.put_object_legal_hold, Bucket=locked, Key="k",
               LegalHold={"Status": "ON"})[:2] == (400, "InvalidRequest")
    assert "ObjectLockLegalHoldStatus" not in client.head_object(Bucket=locked, Key="k")


def test_retention_is_the_bucket_owners(server: Server, s3: Any) -> None:
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, ACL="public-read-write")
    other = server.client(server.new_user())
    other.put_object(Bucket=name, Key="theirs", Body=b"x")
    assert err(other.put_object_retention, Bucket=name, Key="theirs", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": FAR})[:2] == (403, "AccessDenied")
    assert err(other.put_object_legal_hold, Bucket=name, Key="theirs",
               LegalHold={"Status": "ON"})[:2] == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=name, Key="theirs", LegalHold={"Status": "ON"})


# ---------------------------------------------------------------- refusals

def _locked_object(s3: Any, bucket: str, key: str, mode: str,
                   until: datetime = FAR) -> str:
    resp = s3.put_object(Bucket=bucket, Key=key, Body=b"abc", ObjectLockMode=mode,
                         ObjectLockRetainUntilDate=until)
    return version_of(resp)


def test_governance_delete_refused_then_bypassed(s3: Any, locked: str) -> None:
    vid = _locked_object(s3, locked, "g", "GOVERNANCE")
    status, code, message = err(s3.delete_object, Bucket=locked, Key="g", VersionId=vid)
    assert (status, code) == (403, "AccessDenied")
    assert message == "Access Denied because object protected by object lock."
    assert s3.get_object(Bucket=locked, Key="g")["Body"].read() == b"abc"
    resp = s3.delete_object(Bucket=locked, Key="g", VersionId=vid,
                            BypassGovernanceRetention=True)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bypass_denied_to_others(server: Server, s3: Any) -> None:
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, ACL="public-read-write")
    vid = _locked_object(s3, name, "g", "GOVERNANCE")
    other = server.client(server.new_user())
    assert err(other.delete_object, Bucket=name, Key="g", VersionId=vid,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    same_account = server.client(server.new_user(account=server.root.account))
    admin_made = server.client(server.new_user(admin=True))
    assert err(same_account.delete_object, Bucket=name, Key="g", VersionId=vid)[:2] == \
        (403, "AccessDenied")
    admin_made.delete_object(Bucket=name, Key="g", VersionId=vid,
                             BypassGovernanceRetention=True)


def test_compliance_never_deleted_or_shortened(s3: Any, locked: str) -> None:
    vid = _locked_object(s3, locked, "c", "COMPLIANCE")
    assert err(s3.delete_object, Bucket=locked, Key="c", VersionId=vid,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    for new in ({"Mode": "COMPLIANCE", "RetainUntilDate": FAR - timedelta(days=1)},
                {"Mode": "GOVERNANCE", "RetainUntilDate": FAR + timedelta(days=1)}, {}):
        assert err(s3.put_object_retention, Bucket=locked, Key="c", Retention=new,
                   BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    later = {"Mode": "COMPLIANCE", "RetainUntilDate": FAR + timedelta(days=1)}
    s3.put_object_retention(Bucket=locked, Key="c", Retention=later)  # extending: allowed
    assert s3.get_object_retention(Bucket=locked, Key="c")["Retention"] == later


def test_governance_retention_changes(s3: Any, locked: str) -> None:
    _locked_object(s3, locked, "g", "GOVERNANCE")
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR - timedelta(days=1)}
    longer = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR + timedelta(days=1)}
    compliance = {"Mode": "COMPLIANCE", "RetainUntilDate": FAR + timedelta(days=2)}
    assert err(s3.put_object_retention, Bucket=locked, Key="g", Retention=shorter)[:2] == \
        (403, "AccessDenied")
    assert err(s3.put_object_retention, Bucket=locked, Key="g", Retention={})[:2] == \
        (403, "AccessDenied")
    assert err(s3.put_object_retention, Bucket=locked, Key="g", Retention=compliance)[:2] == \
        (403, "AccessDenied")
    s3.put_object_retention(Bucket=locked, Key="g", Retention=longer)
    s3.put_object_retention(Bucket=locked, Key="g", Retention=shorter,
                            BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=locked, Key="g")["Retention"] == shorter
    s3.put_object_retention(Bucket=locked, Key="g", Retention={},
                            BypassGovernanceRetention=True)  # removed
    assert err(s3.get_object_retention, Bucket=locked, Key="g")[:2] == \
        (404, "NoSuchObjectLockConfiguration")


def test_legal_hold_never_bypassed(s3: Any, locked: str) -> None:
    vid = version_of(s3.put_object(Bucket=locked, Key="h", Body=b"abc",
                                   ObjectLockLegalHoldStatus="ON"))
    assert err(s3.delete_object, Bucket=locked, Key="h", VersionId=vid,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=locked, Key="h", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="h", VersionId=vid)


def test_expired_retention_no_longer_binds(s3: Any, locked: str) -> None:
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    vid = _locked_object(s3, locked, "c", "COMPLIANCE", soon)
    assert err(s3.delete_object, Bucket=locked, Key="c", VersionId=vid)[:2] == \
        (403, "AccessDenied")
    time.sleep(max(0.0, (soon - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    s3.delete_object(Bucket=locked, Key="c", VersionId=vid)


def test_delete_objects_refuses_per_entry(s3: Any, locked: str) -> None:
    v1 = _locked_object(s3, locked, "k1", "GOVERNANCE")
    v2 = version_of(s3.put_object(Bucket=locked, Key="k2", Body=b"abc"))
    resp = s3.delete_objects(Bucket=locked, Delete={"Objects": [
        {"Key": "k1", "VersionId": v1}, {"Key": "k2", "VersionId": v2}]})
    assert [e["Key"] for e in resp["Errors"]] == ["k1"]
    assert resp["Errors"][0]["Code"] == "AccessDenied"
    assert [d["Key"] for d in resp["Deleted"]] == ["k2"]
    assert s3.get_object(Bucket=locked, Key="k1")["Body"].read() == b"abc"
    resp = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k1", "VersionId": v1}]},
                             BypassGovernanceRetention=True)
    assert not resp.get("Errors")
    assert [d["Key"] for d in resp["Deleted"]] == ["k1"]


def test_delete_objects_needs_content_md5_with_lock(server: Server, locked: str) -> None:
    client = without_integrity(server.client(), "DeleteObjects")
    assert err(client.delete_objects, Bucket=locked,
               Delete={"Objects": [{"Key": "absent"}]})[:2] == (400, "InvalidRequest")


# ---------------------------------------------------------------- AWS CLI

@pytest.fixture
def aws(server: Server, tmp_path: Path) -> Runner:
    return aws_runner(server, tmp_path / "aws-home", server.root)


def test_aws_cli(aws: Runner, s3: Any, tmp_path: Path) -> None:
    name = new_name()
    aws_json(aws("s3api", "create-bucket", "--bucket", name,
                 "--object-lock-enabled-for-bucket"))
    aws_json(aws("s3api", "put-object-lock-configuration", "--bucket", name,
                 "--object-lock-configuration",
                 '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":'
                 '{"Mode":"COMPLIANCE","Days":2}}}'))
    got = aws_json(aws("s3api", "get-object-lock-configuration", "--bucket", name))
    assert got["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == \
        {"Mode": "COMPLIANCE", "Days": 2}
    body = tmp_path / "body.txt"
    body.write_bytes(b"hello")
    aws_json(aws("s3api", "put-object", "--bucket", name, "--key", "k", "--body", str(body),
                 "--object-lock-legal-hold-status", "ON"))
    head = aws_json(aws("s3api", "head-object", "--bucket", name, "--key", "k"))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    aws_json(aws("s3api", "put-object-retention", "--bucket", name, "--key", "k",
                 "--retention", '{"Mode":"COMPLIANCE","RetainUntilDate":"2099-01-01T00:00:00Z"}'))
    got = aws_json(aws("s3api", "get-object-retention", "--bucket", name, "--key", "k"))
    assert got["Retention"]["Mode"] == "COMPLIANCE"
    assert got["Retention"]["RetainUntilDate"].startswith("2099-01-01T00:00:00")
    got = aws_json(aws("s3api", "get-object-legal-hold", "--bucket", name, "--key", "k"))
    assert got["LegalHold"] == {"Status": "ON"}
    refused = aws("s3api", "put-object-retention", "--bucket", name, "--key", "k",
                  "--bypass-governance-retention", "--retention",
                  '{"Mode":"COMPLIANCE","RetainUntilDate":"2098-01-01T00:00:00Z"}')
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr


# ---------------------------------------------------------------- versions

def test_plain_put_and_delete_leave_locked_versions(s3: Any, locked: str) -> None:
    v1 = _locked_object(s3, locked, "k", "COMPLIANCE")
    v2 = version_of(s3.put_object(Bucket=locked, Key="k", Body=b"second"))  # a new version
    assert v1 != v2
    marker = s3.delete_object(Bucket=locked, Key="k")  # a delete marker, not a delete
    assert marker["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked, Key="k", VersionId=v1)["Body"].read() == b"abc"
    assert err(s3.delete_object, Bucket=locked, Key="k", VersionId=v1,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    s3.delete_object(Bucket=locked, Key="k", VersionId=marker["VersionId"])
    s3.delete_object(Bucket=locked, Key="k", VersionId=v2)  # not locked
    listed = s3.list_object_versions(Bucket=locked, Prefix="k")
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]


def test_retention_and_legal_hold_per_version(s3: Any, locked: str) -> None:
    v1 = version_of(s3.put_object(Bucket=locked, Key="k", Body=b"one"))
    v2 = version_of(s3.put_object(Bucket=locked, Key="k", Body=b"two"))
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=v1, Retention=retention)
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=v1, LegalHold={"Status": "ON"})
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=v1)["Retention"] == \
        retention
    assert err(s3.get_object_retention, Bucket=locked, Key="k", VersionId=v2)[:2] == \
        (404, "NoSuchObjectLockConfiguration")
    assert err(s3.get_object_retention, Bucket=locked, Key="k")[:2] == \
        (404, "NoSuchObjectLockConfiguration")  # the current version is v2
    assert s3.get_object_legal_hold(Bucket=locked, Key="k", VersionId=v1)["LegalHold"] == \
        {"Status": "ON"}
    head = s3.head_object(Bucket=locked, Key="k", VersionId=v1)
    assert (head["ObjectLockMode"], head["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", "ON")
    assert "ObjectLockMode" not in s3.head_object(Bucket=locked, Key="k")
    s3.delete_object(Bucket=locked, Key="k", VersionId=v2)  # v1 becomes current again
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockMode"] == "GOVERNANCE"
    assert err(s3.delete_object, Bucket=locked, Key="k", VersionId=v1,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=v1, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="k", VersionId=v1, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=locked, Prefix="k")


def test_retention_on_missing_version_and_marker(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="k", Body=b"one")
    marker = s3.delete_object(Bucket=locked, Key="k")
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    assert err(s3.put_object_retention, Bucket=locked, Key="k", Retention=retention)[0] == 404
    assert err(s3.put_object_retention, Bucket=locked, Key="k", Retention=retention,
               VersionId=marker["VersionId"])[0] == 405
    assert err(s3.get_object_legal_hold, Bucket=locked, Key="k",
               VersionId="A" * 32)[:2] == (404, "NoSuchVersion")


def test_delete_objects_error_names_the_version(s3: Any, locked: str) -> None:
    vid = _locked_object(s3, locked, "k", "GOVERNANCE")
    resp = s3.delete_objects(Bucket=locked, Delete={"Objects": [
        {"Key": "k", "VersionId": vid}, {"Key": "k"}]})
    assert resp["Errors"] == [{"Key": "k", "VersionId": vid, "Code": "AccessDenied",
                               "Message": "Access Denied because object protected by object "
                                          "lock."}]
    assert resp["Deleted"][0]["DeleteMarker"] is True  # the plain entry: a marker


def test_versioning_stays_enabled(s3: Any, locked: str, bucket: str) -> None:
    status, code, _ = err(s3.put_bucket_versioning, Bucket=locked,
                          VersioningConfiguration={"Status": "Suspended"})
    assert (status, code) == (409, "InvalidBucketState")
    s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    # an existing bucket: lock only while versioning is Enabled
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert err(s3.put_object_lock_configuration, Bucket=bucket,
               ObjectLockConfiguration=GOV_DAY)[:2] == (409, "InvalidBucketState")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=GOV_DAY)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == GOV_DAY
    assert err(s3.put_bucket_versioning, Bucket=bucket,
               VersioningConfiguration={"Status": "Suspended"})[:2] == (409, "InvalidBucketState")
    vid = version_of(s3.put_object(Bucket=bucket, Key="k", Body=b"x"))
    assert s3.get_object_retention(Bucket=bucket, Key="k")["Retention"]["Mode"] == "GOVERNANCE"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)


def test_storage_delete_refuses_locked_versions(server: Server, s3: Any, locked: str) -> None:
    """Lifecycle, admin commands and any other caller delete through the metadata store's
    delete functions: the lock check is inside them, not in the S3 handler."""
    from objectstore.service.stores import Stores
    from objectstore.storage.meta import Locked

    gov = _locked_object(s3, locked, "g", "GOVERNANCE")
    comp = _locked_object(s3, locked, "c", "COMPLIANCE")
    stores = Stores.open(server.data_dir, meta_url=server.meta_url)
    try:
        meta = stores.meta
        for key, vid in (("g", gov), ("c", comp)):
            with pytest.raises(Locked):
                meta.run(meta.remove_txn(locked, key, vid))
        with pytest.raises(Locked):
            meta.run(meta.remove_txn(locked, "c", comp, bypass_governance=True))
        assert meta.run(meta.remove_txn(locked, "g", gov, bypass_governance=True)).found
    finally:
        stores.close()
    assert s3.get_object(Bucket=locked, Key="c", VersionId=comp)["Body"].read() == b"abc"
    assert err(s3.head_object, Bucket=locked, Key="g", VersionId=gov)[0] == 404


def test_post_object_gets_the_default_retention(s3: Any, locked: str) -> None:
    import requests

    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_DAY)
    post = s3.generate_presigned_post(locked, "posted")
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"abc")},
                         timeout=30)
    assert resp.status_code == 204, resp.text
    vid = resp.headers["x-amz-version-id"]
    head = s3.head_object(Bucket=locked, Key="posted")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert err(s3.delete_object, Bucket=locked, Key="posted", VersionId=vid)[:2] == \
        (403, "AccessDenied")


def test_upload_part_copy_into_a_locked_upload(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="src", Body=b"x" * 100)
    up = s3.create_multipart_upload(Bucket=locked, Key="mp", ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part_copy(Bucket=locked, Key="mp", UploadId=up["UploadId"],
                               PartNumber=1, CopySource=f"{locked}/src")
    s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["CopyPartResult"]["ETag"],
                                    "PartNumber": 1}]})
    assert s3.head_object(Bucket=locked, Key="mp")["ObjectLockLegalHoldStatus"] == "ON"
