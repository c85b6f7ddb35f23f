"""Values clients send that S3 bounds or refuses: system header sizes, website redirect
locations, grants to unknown ids, reserved tag keys; copies from unreadable buckets
answering alike for absent and present keys; cheap CORS preflights; and 409
ConditionalRequestConflict for a conditional write racing a delete."""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
from typing import Any, Iterator

import pytest
import requests
from botocore.exceptions import ClientError
from harness import Server
from uploads_util import object_url, read_body, read_response_head, sign

BIG = "x" * 9000  # beyond the 8 KB S3 allows for a PUT's headers


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def fails(fn: Any, status: int, *codes: str) -> None:
    with pytest.raises(ClientError) as exc:
        fn()
    got = error(exc)
    assert got[0] == status and (not codes or got[1] in codes), got


# ---------------------------------------------------------------- sizes (item 6)


@pytest.mark.parametrize("param", ["ContentType", "ContentDisposition", "CacheControl",
                                   "ContentEncoding", "ContentLanguage"])
def test_oversized_system_headers_are_refused(s3: Any, bucket: str, param: str) -> None:
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **{param: BIG}), 400)
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", **{param: BIG}), 400)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    fails(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket,
                                                                     "Key": "src"},
                                 MetadataDirective="REPLACE", **{param: BIG}), 400)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k"), 404)
    # a large value below the limit is kept and read back whole
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x", **{param: "y" * 3000})
    head = s3.head_object(Bucket=bucket, Key="ok")
    assert head[param] == "y" * 3000


def test_oversized_post_object_fields(server: Server, s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    url = f"{server.endpoint}/{bucket}"
    r = requests.post(url, data={"key": "p", "Content-Type": BIG},
                      files={"file": ("f", b"x")}, timeout=20)
    assert r.status_code == 400 and b"<Code>RequestHeaderSectionTooLarge</Code>" in r.content
    r = requests.post(url, data={"key": "p", "x-amz-meta-a": "m" * 2100},
                      files={"file": ("f", b"x")}, timeout=20)
    assert r.status_code == 400 and b"<Code>MetadataTooLarge</Code>" in r.content
    fails(lambda: s3.head_object(Bucket=bucket, Key="p"), 404)


def test_user_metadata_limit(s3: Any, bucket: str) -> None:
    # (this order: botocore misreads the next answer on a connection where an
    # Expect: 100-continue request was refused before its body, see the report)
    s3.put_object(Bucket=bucket, Key="m", Body=b"", Metadata={"a": "v" * 2000})
    fails(lambda: s3.put_object(Bucket=bucket, Key="m", Body=b"",
                                Metadata={"a": "v" * 2100}), 400, "MetadataTooLarge")


# ---------------------------------------------------------------- redirect location


def test_website_redirect_location_prefix(s3: Any, bucket: str) -> None:
    for bad in ("example.com/x", "ftp://x", "javascript:alert(1)", "\\x"):
        fails(lambda b=bad: s3.put_object(Bucket=bucket, Key="r", Body=b"",
                                          WebsiteRedirectLocation=b),
              400, "InvalidRedirectLocation")
        fails(lambda b=bad: s3.create_multipart_upload(Bucket=bucket, Key="r",
                                                       WebsiteRedirectLocation=b),
              400, "InvalidRedirectLocation")
    for good in ("/other", "http://example.com/", "https://example.com/a?b"):
        s3.put_object(Bucket=bucket, Key="r", Body=b"", WebsiteRedirectLocation=good)
        assert s3.head_object(Bucket=bucket, Key="r")["WebsiteRedirectLocation"] == good
    fails(lambda: s3.copy_object(Bucket=bucket, Key="r2", CopySource={"Bucket": bucket,
                                                                      "Key": "r"},
                                 MetadataDirective="REPLACE", WebsiteRedirectLocation="x"),
          400, "InvalidRedirectLocation")


# ---------------------------------------------------------------- grants


def test_grants_to_unknown_canonical_ids(s3: Any, bucket: str) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    unknown = 'id="' + "f" * 64 + '"'
    fails(lambda: s3.put_object(Bucket=bucket, Key="g", Body=b"", GrantRead=unknown),
          400, "InvalidArgument")
    fails(lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=unknown), 400, "InvalidArgument")
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="g", GrantRead=unknown),
          400, "InvalidArgument")
    fails(lambda: s3.create_bucket(Bucket="g-" + uuid.uuid4().hex[:12],
                                   GrantFullControl=unknown), 400, "InvalidArgument")
    fails(lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "f" * 64},
                    "Permission": "READ"}]}), 400, "InvalidArgument")
    s3.put_object(Bucket=bucket, Key="g", Body=b"", GrantRead=f'id="{owner}"')
    fails(lambda: s3.put_object_acl(Bucket=bucket, Key="g", GrantRead=unknown),
          400, "InvalidArgument")


# ---------------------------------------------------------------- reserved tag keys


def test_tag_keys_with_the_aws_prefix(s3: Any, bucket: str) -> None:
    fails(lambda: s3.put_object(Bucket=bucket, Key="t", Body=b"", Tagging="aws:x=1"),
          400, "InvalidTag")
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="t", Tagging="AWS:x=1"),
          400, "InvalidTag")
    s3.put_object(Bucket=bucket, Key="t", Body=b"", Tagging="awsx=1")
    for tagset in ([{"Key": "aws:created", "Value": "1"}], [{"Key": "aws:", "Value": ""}]):
        fails(lambda t=tagset: s3.put_object_tagging(Bucket=bucket, Key="t",
                                                     Tagging={"TagSet": t}), 400, "InvalidTag")
        fails(lambda t=tagset: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": t}),
              400, "InvalidTag")
    fails(lambda: s3.copy_object(Bucket=bucket, Key="t2", CopySource={"Bucket": bucket,
                                                                      "Key": "t"},
                                 TaggingDirective="REPLACE", Tagging="aws:a=b"),
          400, "InvalidTag")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "awsx", "Value": "1"}]


# ---------------------------------------------------------------- copies (item 9)


@pytest.fixture
def other(server: Server) -> Iterator[tuple[Any, str]]:
    """A client of another account and a bucket of its own."""
    c = server.client(server.new_user())
    name = "other-" + uuid.uuid4().hex[:12]
    c.create_bucket(Bucket=name)
    yield c, name
    for up in c.list_multipart_uploads(Bucket=name).get("Uploads", []):
        c.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
    c.delete_bucket(Bucket=name)


def test_copies_from_an_unreadable_bucket_answer_alike(s3: Any, bucket: str,
                                                       other: tuple[Any, str]) -> None:
    client, own = other
    s3.put_object(Bucket=bucket, Key="present", Body=b"secret")
    up = client.create_multipart_upload(Bucket=own, Key="dst")["UploadId"]
    answers = []
    for key in ("present", "absent"):
        with pytest.raises(ClientError) as exc:
            client.upload_part_copy(Bucket=own, Key="dst", UploadId=up, PartNumber=1,
                                    CopySource={"Bucket": bucket, "Key": key})
        answers.append(error(exc))
        with pytest.raises(ClientError) as exc:
            client.copy_object(Bucket=own, Key="dst", CopySource={"Bucket": bucket, "Key": key})
        answers.append(error(exc))
    assert answers == [(403, "AccessDenied")] * 4


# ---------------------------------------------------------------- CORS preflight


def test_preflight_work_is_bounded(server: Server, s3: Any, bucket: str) -> None:
    """The worst case for rule matching: 99 rules whose origin and method match, each
    allowing 99 names that are never asked for and then "x-h-*"; 99 requested headers
    match it and one more does not, so every rule is tried against every header and
    pattern before the last rule (allowing "*") matches."""
    rules = [{"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"],
              "AllowedHeaders": [f"x-rule{i}-never{j}" for j in range(99)] + ["x-h-*"]}
             for i in range(99)]
    rules.append({"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"]})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    url = f"{server.endpoint}/{bucket}/k"
    asked = ", ".join([f"x-h-{i}" for i in range(99)] + ["y-last"])
    headers = {"Origin": "https://site.example", "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": asked}
    t0 = time.perf_counter()
    for _ in range(5):
        r = requests.options(url, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.5, elapsed  # about 10 s before the rules were compiled
    too_many = asked + ", y-one-more"
    r = requests.options(url, headers={**headers, "Access-Control-Request-Headers": too_many},
                         timeout=20)
    assert r.status_code == 403 and b"<Code>AccessForbidden</Code>" in r.content


# ---------------------------------------------------------------- ConditionalRequestConflict


def slow_request(server: Server, method: str, bucket: str, key: str, query: str,
                 headers: dict[str, str], body: bytes, between: Any) -> tuple[int, bytes]:
    """Send the head and half the body, run ``between()``, then the rest."""
    url, path = object_url(server, bucket, key, query)
    signed = sign(server.root, method, url, {**headers, "Content-Length": str(len(body))},
                  hashlib.sha256(body).hexdigest())
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in signed.headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:len(body) // 2])
        time.sleep(0.5)  # the server has checked the precondition and waits for the body
        between()
        sock.sendall(body[len(body) // 2:])
        buf = bytearray()
        status, resp_headers = read_response_head(sock, buf)
        return status, read_body(sock, buf, resp_headers)


def test_put_racing_a_delete_is_a_conflict(server: Server, s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    status, body = slow_request(server, "PUT", bucket, "c", "", {"If-Match": etag},
                                b"v2" * 5000, lambda: s3.delete_object(Bucket=bucket, Key="c"))
    assert status == 409 and b"<Code>ConditionalRequestConflict</Code>" in body, body
    fails(lambda: s3.head_object(Bucket=bucket, Key="c"), 404)
    # changed (not deleted) meanwhile: the precondition no longer holds, 412
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    status, body = slow_request(server, "PUT", bucket, "c", "", {"If-Match": etag},
                                b"v2" * 5000,
                                lambda: s3.put_object(Bucket=bucket, Key="c", Body=b"v3"))
    assert status == 412 and b"<Code>PreconditionFailed</Code>" in body, body
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"v3"


def test_complete_racing_a_delete_is_a_conflict(server: Server, s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="m", Body=b"old")["ETag"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=1,
                          Body=b"new")["ETag"]
    doc = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{part}</ETag>"
           "</Part></CompleteMultipartUpload>").encode()
    status, body = slow_request(server, "POST", bucket, "m", f"uploadId={up}",
                                {"If-Match": etag}, doc,
                                lambda: s3.delete_object(Bucket=bucket, Key="m"))
    assert status == 409 and b"<Code>ConditionalRequestConflict</Code>" in body, body
    fails(lambda: s3.head_object(Bucket=bucket, Key="m"), 404)


def test_failed_precondition_answers_before_the_body(server: Server, s3: Any,
                                                     bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="e", Body=b"v1")
    url, path = object_url(server, bucket, "e")
    n = 64 << 20  # announced, never sent: the 412 must come without it
    signed = sign(server.root, "PUT", url, {"Content-Length": str(n), "If-None-Match": "*"},
                  "UNSIGNED-PAYLOAD")
    lines = [f"PUT {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in signed.headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = bytearray()
        status, headers = read_response_head(sock, buf)
        assert status == 412
        assert b"PreconditionFailed" in read_body(sock, buf, headers)
