"""Supported operations' main options and errors that no other integration test reaches:
DeleteObjects (Quiet, Content-MD5 / x-amz-checksum-*), CopyObject (metadata directive,
copy-source conditions), GetBucketLocation, GetBucketVersioning, ListObjectVersions,
CreateBucket (errors, CreateBucketConfiguration), MetadataTooLarge, response-* overrides,
If-Modified-Since / 304, ListObjectsV2 fetch-owner, and the bucket sub-resources answered
as unconfigured."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Iterator
from urllib.parse import quote

import botocore.session
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from harness import Creds, Server

from objectstore.server.handlers import bucket_config


def err(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def signed(server: Server, method: str, path: str, query: str = "", body: bytes = b"",
           headers: dict[str, str] | None = None, creds: Creds | None = None
           ) -> requests.Response:
    """A raw SigV4-signed request (signed payload): for what boto3 would not send."""
    c = creds or server.root
    url = server.endpoint + quote(path) + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    S3SigV4Auth(Credentials(c.access_key, c.secret_key), "s3", "us-east-1").add_auth(req)
    return requests.request(method, url, headers=dict(req.headers.items()), data=body,
                            timeout=30)


def code_of(resp: requests.Response) -> str | None:
    m = re.search(rb"<Code>([^<]*)</Code>", resp.content)
    return m.group(1).decode() if m else None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def other(server: Server) -> Any:
    return server.client(server.new_user())


# -- DeleteObjects ------------------------------------------------------------------------

def _delete_doc(keys: list[str], quiet: bool | None = None) -> bytes:
    q = "" if quiet is None else f"<Quiet>{str(quiet).lower()}</Quiet>"
    objs = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f"<Delete>{q}{objs}</Delete>".encode()


def test_delete_objects_verbose_and_quiet(s3: Any, bucket: str) -> None:
    for k in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"},
                                                                {"Key": "never"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b", "never"]
    assert "Errors" not in resp
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}],
                                                     "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["d"]


def test_delete_objects_quiet_still_reports_errors(server: Server, s3: Any, bucket: str,
                                                   other: Any) -> None:
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    resp = other.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "kept"}],
                                                       "Quiet": True})
    assert [e["Code"] for e in resp["Errors"]] == ["AccessDenied"]
    assert s3.head_object(Bucket=bucket, Key="kept")["ContentLength"] == 1


@pytest.mark.parametrize("header", ["Content-MD5", "x-amz-checksum-sha256",
                                    "x-amz-checksum-crc32"])
def test_delete_objects_checksum_verified(server: Server, s3: Any, bucket: str,
                                          header: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    doc = _delete_doc(["k"], quiet=False)
    digest = {"Content-MD5": lambda d: hashlib.md5(d).digest(),
              "x-amz-checksum-sha256": lambda d: hashlib.sha256(d).digest(),
              "x-amz-checksum-crc32": lambda d: zlib.crc32(d).to_bytes(4, "big")}[header]
    bad = signed(server, "POST", f"/{bucket}", "delete", doc,
                 {header: b64(digest(doc + b" "))})
    assert (bad.status_code, code_of(bad)) == (400, "BadDigest")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1
    good = signed(server, "POST", f"/{bucket}", "delete", doc, {header: b64(digest(doc))})
    assert good.status_code == 200 and b"<Deleted><Key>k</Key>" in good.content
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k")
    assert err(ei)[0] == 404


@pytest.mark.parametrize("doc", [b"<Delete></Delete>", b"<NotDelete/>", b"<Delete>",
                                 _delete_doc([f"k{i}" for i in range(1001)])])
def test_delete_objects_malformed(server: Server, bucket: str, doc: bytes) -> None:
    resp = signed(server, "POST", f"/{bucket}", "delete", doc,
                  {"Content-MD5": b64(hashlib.md5(doc).digest())})
    assert (resp.status_code, code_of(resp)) == (400, "MalformedXML")


def test_delete_objects_no_such_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket="no-such-" + uuid.uuid4().hex[:12],
                          Delete={"Objects": [{"Key": "k"}]})
    assert err(ei) == (404, "NoSuchBucket")


# -- CopyObject: metadata directive and copy-source conditions ---------------------------

def _source(s3: Any, bucket: str) -> dict[str, Any]:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source body", ContentType="text/plain",
                  Metadata={"color": "blue"}, CacheControl="max-age=60")
    return {"Bucket": bucket, "Key": "src"}


def test_copy_metadata_directive_copy_is_default(s3: Any, bucket: str) -> None:
    src = _source(s3, bucket)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, Metadata={"ignored": "x"})
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"color": "blue"}
    assert head["ContentType"] == "text/plain" and head["CacheControl"] == "max-age=60"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"source body"


def test_copy_metadata_directive_replace(s3: Any, bucket: str) -> None:
    src = _source(s3, bucket)
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, MetadataDirective="REPLACE",
                          Metadata={"shape": "round"}, ContentType="application/json")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"shape": "round"}
    assert head["ContentType"] == "application/json" and "CacheControl" not in head
    assert resp["CopyObjectResult"]["ETag"] == head["ETag"]


def test_copy_onto_itself_needs_replace(s3: Any, bucket: str) -> None:
    src = _source(s3, bucket)
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=src)
    assert err(ei) == (400, "InvalidRequest")
    s3.copy_object(Bucket=bucket, Key="src", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"color": "red"})
    got = s3.get_object(Bucket=bucket, Key="src")
    assert got["Metadata"] == {"color": "red"} and got["Body"].read() == b"source body"


def test_copy_unknown_metadata_directive(server: Server, s3: Any, bucket: str) -> None:
    _source(s3, bucket)
    resp = signed(server, "PUT", f"/{bucket}/dst", headers={
        "x-amz-copy-source": f"/{bucket}/src", "x-amz-metadata-directive": "MERGE"})
    assert (resp.status_code, code_of(resp)) == (400, "InvalidArgument")


def _http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(timezone.utc), usegmt=True)


def test_copy_source_conditions(s3: Any, bucket: str) -> None:
    src = _source(s3, bucket)
    head = s3.head_object(Bucket=bucket, Key="src")
    etag, modified = head["ETag"], head["LastModified"]
    past = datetime.now(timezone.utc) - timedelta(days=1)
    future = datetime.now(timezone.utc) + timedelta(days=1)
    ok = [{"CopySourceIfMatch": etag}, {"CopySourceIfNoneMatch": '"0000"'},
          {"CopySourceIfModifiedSince": past}, {"CopySourceIfUnmodifiedSince": future},
          {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": past},  # If-Match wins
          {"CopySourceIfNoneMatch": '"0000"', "CopySourceIfModifiedSince": future}]
    failing = [{"CopySourceIfMatch": '"0000"'}, {"CopySourceIfNoneMatch": etag},
               {"CopySourceIfModifiedSince": modified}, {"CopySourceIfUnmodifiedSince": past},
               {"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": past}]
    for i, cond in enumerate(ok):
        resp = s3.copy_object(Bucket=bucket, Key=f"ok{i}", CopySource=src, **cond)
        assert resp["CopyObjectResult"]["ETag"] == etag, cond
    for i, cond in enumerate(failing):
        with pytest.raises(ClientError) as ei:
            s3.copy_object(Bucket=bucket, Key=f"no{i}", CopySource=src, **cond)
        assert err(ei) == (412, "PreconditionFailed"), cond
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=f"no{i}")


def test_copy_source_missing(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})
    assert err(ei) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst",
                       CopySource={"Bucket": "no-such-" + uuid.uuid4().hex[:12], "Key": "k"})
    assert err(ei) == (404, "NoSuchBucket")


# -- CreateBucket, GetBucketLocation, GetBucketVersioning --------------------------------

def _name() -> str:
    return "cov-" + uuid.uuid4().hex[:20]


@pytest.fixture
def names(s3: Any) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for n in made:
        try:
            s3.delete_bucket(Bucket=n)
        except ClientError:
            pass


def test_create_bucket_with_configuration(s3: Any, names: list[str]) -> None:
    name = _name()
    names.append(name)
    s3.create_bucket(Bucket=name,
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-bucket-region"] == "eu-west-1"
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert name in listed


def test_get_bucket_location_us_east_1_is_empty(s3: Any, bucket: str, other: Any) -> None:
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    with pytest.raises(ClientError) as ei:
        other.get_bucket_location(Bucket=bucket)
    assert err(ei) == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_location(Bucket="no-such-" + uuid.uuid4().hex[:12])
    assert err(ei) == (404, "NoSuchBucket")


def test_get_bucket_versioning_is_unversioned(s3: Any, bucket: str, other: Any) -> None:
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in resp and "MFADelete" not in resp
    with pytest.raises(ClientError) as ei:
        other.get_bucket_versioning(Bucket=bucket)
    assert err(ei) == (403, "AccessDenied")


def test_list_object_versions_lists_null_versions(s3: Any, bucket: str) -> None:
    for k in ("a", "b/c", "b/d"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.list_object_versions(Bucket=bucket)
    versions = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in resp["Versions"]]
    assert versions == [("a", "null", True), ("b/c", "null", True), ("b/d", "null", True)]
    resp = s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["b/"]
    assert [v["Key"] for v in resp["Versions"]] == ["a"]


def test_create_bucket_again_by_owner(s3: Any, names: list[str]) -> None:
    name = _name()
    names.append(name)
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # us-east-1: the owner's re-create answers 200
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(ei) == (409, "BucketAlreadyOwnedByYou")


def test_create_bucket_taken_by_other_account(s3: Any, other: Any, names: list[str]) -> None:
    name = _name()
    names.append(name)
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as ei:
        other.create_bucket(Bucket=name)
    assert err(ei) == (409, "BucketAlreadyExists")


@pytest.mark.parametrize("name", ["ab", "a" * 64, "UpperCase", "under_score", "-start",
                                  "end-", "192.168.1.1", "two..dots", "xn--punycode",
                                  "bucket-s3alias"])
def test_create_bucket_invalid_name(server: Server, name: str) -> None:
    resp = signed(server, "PUT", f"/{name}")
    assert (resp.status_code, code_of(resp)) == (400, "InvalidBucketName")


@pytest.mark.parametrize("body", [b"<CreateBucketConfiguration>", b"not xml",
                                  b"<Wrong><LocationConstraint>eu-west-1</LocationConstraint>"
                                  b"</Wrong>"])
def test_create_bucket_malformed_configuration(server: Server, body: bytes) -> None:
    name = _name()
    resp = signed(server, "PUT", f"/{name}", body=body)
    assert (resp.status_code, code_of(resp)) == (400, "MalformedXML")
    assert signed(server, "HEAD", f"/{name}").status_code == 404


@pytest.mark.parametrize("constraint", ["us-east-1", "moon-base-1", "Not A Region"])
def test_create_bucket_invalid_location_constraint(server: Server, constraint: str) -> None:
    name = _name()
    body = (f"<CreateBucketConfiguration><LocationConstraint>{constraint}"
            f"</LocationConstraint></CreateBucketConfiguration>").encode()
    resp = signed(server, "PUT", f"/{name}", body=body)
    assert (resp.status_code, code_of(resp)) == (400, "InvalidLocationConstraint")
    assert signed(server, "HEAD", f"/{name}").status_code == 404


def test_create_bucket_anonymous_denied(server: Server) -> None:
    anon = server.client(signature_version=UNSIGNED)
    with pytest.raises(ClientError) as ei:
        anon.create_bucket(Bucket=_name())
    assert err(ei) == (403, "AccessDenied")


# -- PutObject metadata limit -------------------------------------------------------------

def test_metadata_too_large(s3: Any, bucket: str) -> None:
    # 2 KB of user metadata: key names (without x-amz-meta-) plus values
    fits = {"a": "x" * (2048 - 1)}
    s3.put_object(Bucket=bucket, Key="fits", Body=b"", Metadata=fits)
    assert s3.head_object(Bucket=bucket, Key="fits")["Metadata"] == fits
    for meta in ({"a": "x" * 2048}, {f"k{i}": "v" * 200 for i in range(12)}):
        with pytest.raises(ClientError) as ei:
            s3.put_object(Bucket=bucket, Key="big", Body=b"", Metadata=meta)
        assert err(ei) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError) as ei:
        s3.create_multipart_upload(Bucket=bucket, Key="big", Metadata={"a": "x" * 2048})
    assert err(ei) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="big", CopySource={"Bucket": bucket, "Key": "fits"},
                       MetadataDirective="REPLACE", Metadata={"a": "x" * 2048})
    assert err(ei) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="big")


# -- GetObject: response-* overrides, If-Modified-Since ----------------------------------

OVERRIDES = {"ResponseContentType": ("ContentType", "application/x-custom"),
             "ResponseContentLanguage": ("ContentLanguage", "de"),
             "ResponseCacheControl": ("CacheControl", "no-store"),
             "ResponseContentDisposition": ("ContentDisposition", 'attachment; filename="x"'),
             "ResponseContentEncoding": ("ContentEncoding", "identity"),
             "ResponseExpires": ("ExpiresString", "Thu, 01 Dec 2033 16:00:00 GMT")}


def test_response_overrides(server: Server, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"body", ContentType="text/plain",
                  CacheControl="max-age=1", ACL="public-read")
    args = {k: (datetime(2033, 12, 1, 16, tzinfo=timezone.utc) if k == "ResponseExpires"
                else v) for k, (_, v) in OVERRIDES.items()}
    for method in (s3.get_object, s3.head_object):
        resp = method(Bucket=bucket, Key="o", **args)
        for field, value in OVERRIDES.values():
            got = resp.get(field) or resp["ResponseMetadata"]["HTTPHeaders"].get("expires")
            assert got == value, (method, field, got)
    plain = s3.get_object(Bucket=bucket, Key="o")
    assert plain["ContentType"] == "text/plain" and plain["CacheControl"] == "max-age=1"
    # anonymous requests may not override (S3: InvalidRequest), even on a public object
    anon = server.client(signature_version=UNSIGNED)
    assert anon.get_object(Bucket=bucket, Key="o")["Body"].read() == b"body"
    with pytest.raises(ClientError) as ei:
        anon.get_object(Bucket=bucket, Key="o", ResponseContentType="text/html")
    assert err(ei) == (400, "InvalidRequest")


def test_if_modified_since(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"body")
    head = s3.head_object(Bucket=bucket, Key="o")
    modified = head["LastModified"]
    before = modified - timedelta(seconds=10)
    for method in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as ei:
            method(Bucket=bucket, Key="o", IfModifiedSince=modified)
        assert err(ei)[0] == 304
        assert ei.value.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == head["ETag"]
        assert method(Bucket=bucket, Key="o", IfModifiedSince=before)["ETag"] == head["ETag"]
        # If-None-Match takes precedence over If-Modified-Since
        assert method(Bucket=bucket, Key="o", IfNoneMatch='"0000"',
                      IfModifiedSince=modified)["ETag"] == head["ETag"]
        with pytest.raises(ClientError) as ei:
            method(Bucket=bucket, Key="o", IfUnmodifiedSince=before)
        assert err(ei)[0] == 412


def test_if_modified_since_unparsable_is_ignored(server: Server, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"body")
    resp = signed(server, "GET", f"/{bucket}/o", headers={"If-Modified-Since": "yesterday"})
    assert resp.status_code == 200 and resp.content == b"body"


# -- ListObjectsV2 fetch-owner -------------------------------------------------------------

def test_list_objects_v2_fetch_owner(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x")
    owner = s3.list_buckets()["Owner"]
    plain = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert "Owner" not in plain
    fetched = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert fetched["Owner"]["ID"] == owner["ID"]
    assert fetched["Owner"]["DisplayName"] == owner["DisplayName"]
    # ListObjects (v1) always names the owner
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"] == owner["ID"]


# -- bucket sub-resources answered as unconfigured ------------------------------------------

# op: GetBucketPolicy GetBucketEncryption
# op: GetBucketReplication GetBucketRequestPayment GetBucketLogging
# op: GetBucketNotificationConfiguration GetBucketAccelerateConfiguration DeleteBucketPolicy
# op: DeleteBucketEncryption
# op: DeleteBucketReplication
UNCONFIGURED = sorted(bucket_config.HANDLERS)


@pytest.mark.parametrize("op", UNCONFIGURED)
def test_unconfigured_subresource(server: Server, s3: Any, bucket: str, other: Any,
                                  op: str) -> None:
    """Each answers as an S3 bucket with nothing configured, to the owner only."""
    from botocore import xform_name
    method = xform_name(op)
    call = getattr(s3, method)
    if op in bucket_config.MISSING:
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket)
        assert err(ei) == (404, bucket_config.MISSING[op])
    else:
        resp = call(Bucket=bucket)
        status = resp["ResponseMetadata"]["HTTPStatusCode"]
        assert status == (204 if op.startswith("Delete") else 200)
        if op == "GetBucketRequestPayment":
            assert resp["Payer"] == "BucketOwner"
    with pytest.raises(ClientError) as ei:
        getattr(other, method)(Bucket=bucket)
    assert err(ei) == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        call(Bucket="no-such-" + uuid.uuid4().hex[:12])
    assert err(ei) == (404, "NoSuchBucket")


def test_unconfigured_list_is_complete() -> None:
    model = botocore.session.get_session().get_service_model("s3")
    assert set(UNCONFIGURED) <= set(model.operation_names)


# -- ConditionalRequestConflict: a delete lands while a conditional write is in progress --

def _start_put(server: Server, bucket: str, key: str, total: int,
               headers: dict[str, str]) -> http.client.HTTPConnection:
    """A signed PUT (UNSIGNED-PAYLOAD) whose head is sent; the body follows by hand."""
    url = f"{server.endpoint}/{bucket}/{key}"
    req = AWSRequest(method="PUT", url=url, data=b"",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", **headers})
    req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    S3SigV4Auth(Credentials(server.root.access_key, server.root.secret_key), "s3",
                "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("PUT", f"/{bucket}/{key}", skip_accept_encoding=True)
    for name, value in req.headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(total))
    conn.endheaders()
    return conn


@pytest.mark.parametrize("condition", ["If-Match"])
def test_conditional_put_conflicts_with_a_delete(server: Server, s3: Any, bucket: str,
                                                 condition: str) -> None:
    """S3: "a 409 Conflict ... if a delete request to an object succeeds before a
    conditional write operation on that object completes"; the write is not applied.
    (If-None-Match: * on an existing key fails at once with 412, before the body.)"""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    value = "*" if condition == "If-None-Match" else etag
    body = b"n" * 200_000
    conn = _start_put(server, bucket, "k", len(body), {condition: value})
    try:
        conn.send(body[:100_000])
        time.sleep(0.3)  # the server has begun this request
        s3.delete_object(Bucket=bucket, Key="k")
        conn.send(body[100_000:])
        resp = conn.getresponse()
        payload = resp.read()
    finally:
        conn.close()
    assert resp.status == 409, payload
    assert b"<Code>ConditionalRequestConflict</Code>" in payload
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k")
    assert err(ei)[0] == 404


def test_conditional_put_without_a_racing_delete(server: Server, s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    for condition, value, status in (("If-Match", etag, 200), ("If-None-Match", "*", 412)):
        conn = _start_put(server, bucket, "k", 3, {condition: value})
        try:
            conn.send(b"new")
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        assert resp.status == status, condition
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"
