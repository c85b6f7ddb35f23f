"""Authentication: SigV4/SigV2 header and presigned auth, clock skew, payload integrity."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import time
import urllib.error
import urllib.request
from typing import Any
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from harness import Creds, Server


def signed(server: Server, method: str, path: str, *, creds: Creds | None = None,
           body: bytes = b"", headers: dict[str, str] | None = None,
           when: dt.datetime | None = None, unsigned_payload: bool = False) -> AWSRequest:
    """A SigV4 header-signed request (``path`` already URI-encoded, may carry a query)."""
    creds = creds or server.root
    req = AWSRequest(method=method, url=server.endpoint + path, data=body,
                     headers=dict(headers or {}))
    if unsigned_payload:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    auth = S3SigV4Auth(Credentials(creds.access_key, creds.secret_key), "s3", "us-east-1")
    if when is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            auth.add_auth(req)
    return req


def send(server: Server, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | dict[str, bytes] | None = None) -> tuple[int, bytes]:
    """One request on a fresh connection; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if method in ("PUT", "POST") and not any(k.lower() == "content-length" for k in hdrs):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def send_signed(server: Server, req: AWSRequest, body: bytes | None = None) -> tuple[int, bytes]:
    path = req.url[len(server.endpoint):]
    return send(server, req.method, path, req.body if body is None else body,
                {k: v for k, v in req.headers.items()})


def urlopen(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def code_of(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    assert "<Code>" in text, text
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def error_code(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def stored(s3: Any, bucket: str, key: str) -> bool:
    return any(o["Key"] == key for o in
               s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", []))


# ------------------------------------------------------------------ header auth

def test_valid_raw_signature_is_accepted(server: Server, bucket: str) -> None:
    """The raw signing helper itself works (so the failures below mean what they say)."""
    status, body = send_signed(server, signed(server, "PUT", f"/{bucket}/raw", body=b"raw"))
    assert status == 200, body
    assert send_signed(server, signed(server, "GET", f"/{bucket}/raw")) == (200, b"raw")


def test_wrong_secret_is_signature_does_not_match(server: Server, bucket: str) -> None:
    bad = Creds(server.root.access_key, "wrong" + server.root.secret_key, "admin", "admin")
    status, body = send_signed(server, signed(server, "GET", f"/{bucket}?list-type=2",
                                              creds=bad))
    assert status == 403
    assert code_of(body) == "SignatureDoesNotMatch"
    text = body.decode()
    assert "<StringToSign>AWS4-HMAC-SHA256\n" in text
    assert "<CanonicalRequest>GET\n/" + bucket in text
    with pytest.raises(ClientError) as info:
        server.client(bad).list_buckets()
    assert error_code(info.value) == (403, "SignatureDoesNotMatch")


def test_unknown_access_key(server: Server) -> None:
    ghost = Creds("AKIANOSUCHKEY0000000", "x" * 40, "nobody", "nobody")
    with pytest.raises(ClientError) as info:
        server.client(ghost).list_buckets()
    assert error_code(info.value) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize("minutes", (20, -20))
def test_request_time_too_skewed(server: Server, bucket: str, minutes: int) -> None:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    status, body = send_signed(server, signed(server, "GET", f"/{bucket}", when=when))
    assert (status, code_of(body)) == (403, "RequestTimeTooSkewed")


def test_small_skew_is_accepted(server: Server, bucket: str) -> None:
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    status, _ = send_signed(server, signed(server, "GET", f"/{bucket}", when=when))
    assert status == 200


def test_content_sha256_mismatch_is_rejected_and_not_stored(server: Server, s3: Any,
                                                            bucket: str) -> None:
    req = signed(server, "PUT", f"/{bucket}/tampered", body=b"hello")
    status, body = send_signed(server, req, body=b"jello")  # same length, other bytes
    assert (status, code_of(body)) == (400, "XAmzContentSHA256Mismatch")
    assert not stored(s3, bucket, "tampered")


def test_tampered_signed_header_is_rejected(server: Server, s3: Any, bucket: str) -> None:
    req = signed(server, "PUT", f"/{bucket}/hdr", body=b"x",
                 headers={"x-amz-meta-color": "blue"})
    headers = dict(req.headers.items())
    headers["x-amz-meta-color"] = "red"
    status, body = send(server, "PUT", f"/{bucket}/hdr", b"x", headers)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")
    assert not stored(s3, bucket, "hdr")


@pytest.mark.parametrize("header", [
    "AWS4-HMAC-SHA256 garbage",
    "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request",
    "AWS4-HMAC-SHA256 Credential=AKIAX/2024/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abcd",
    "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3, "
    "SignedHeaders=host;x-amz-date, Signature=abcd",
])
def test_malformed_authorization_header(server: Server, header: str) -> None:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    status, body = send(server, "GET", "/", headers={
        "Authorization": header, "x-amz-date": now,
        "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    assert (status, code_of(body)) == (400, "AuthorizationHeaderMalformed")


GARBAGE_HEADERS: list[Any] = [
    {"Authorization": "Bearer abc.def.ghi"},
    {"Authorization": "Basic Zm9vOmJhcg=="},
    {"Authorization": ""},
    {"Authorization": "AWS"},
    {"Authorization": "AWS "},
    {"Authorization": "AWS nocolon"},
    {"Authorization": "AWS :"},
    {"Authorization": "AWS AKIAX:sig", "Date": "not a date"},
    {"Authorization": "AWS4-HMAC-SHA256"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature="},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
     "x-amz-date": "20240101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request, "
                      "SignedHeaders=host, Signature=x", "x-amz-date": "yesterday",
     "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request, "
                      "SignedHeaders=host, Signature=x", "x-amz-date": "20240101T000000Z",
     "x-amz-content-sha256": "not-a-hash"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request, "
                      "SignedHeaders=host, Signature=x"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request, "
                      "SignedHeaders=, Signature=x", "x-amz-date": "20240101T000000Z",
     "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    pytest.param(
        {"Authorization": "AWS4-HMAC-SHA256 Credential=\u00e9\u00e8/20240101/us-east-1/s3/aws4"
                          "_request, SignedHeaders=host, Signature=x".encode("latin-1"),
         "x-amz-date": "20240101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},),
    pytest.param(
        {"Authorization": b"\xff\xfe\xfd garbage \x80"},),
    {"Authorization": "AWS4-HMAC-SHA256 " + "Credential=x, " * 5000},
]
GARBAGE_QUERIES = [
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "?X-Amz-Algorithm=HMAC-MD5&X-Amz-Credential=x",
    "?X-Amz-Credential=x",
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20240101%2Fus-east-1%2Fs3%2F"
    "aws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=abc&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=00",
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20240101%2Fus-east-1%2Fs3%2F"
    "aws4_request&X-Amz-Date=garbage&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=00",
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20240101%2Fus-east-1%2Fs3%2F"
    "aws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=-5&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=00",
    "?AWSAccessKeyId=x&Signature=y&Expires=notanumber",
    "?AWSAccessKeyId=x&Signature=y",
    "?Signature=only",
    "?AWSAccessKeyId=&Signature=&Expires=",
    "?X-Amz-Signature=%ff%fe",
]


@pytest.mark.parametrize("headers", GARBAGE_HEADERS, ids=range(len(GARBAGE_HEADERS)))
@pytest.mark.parametrize("method", ("GET", "PUT"))
def test_garbage_authorization_is_4xx(server: Server, bucket: str, s3: Any,
                                      headers: dict[str, Any], method: str) -> None:
    """Whatever the Authorization header holds, the answer is a 4xx S3 error, never 500."""
    status, body = send(server, method, f"/{bucket}/garbage",
                        b"data" if method == "PUT" else b"", headers)
    assert 400 <= status < 500, body
    if body:
        assert code_of(body) != "InternalError"
    assert not stored(s3, bucket, "garbage")


@pytest.mark.parametrize("query", GARBAGE_QUERIES, ids=range(len(GARBAGE_QUERIES)))
def test_garbage_presigned_query_is_4xx(server: Server, bucket: str, query: str) -> None:
    status, body = send(server, "GET", f"/{bucket}/garbage{query}")
    assert 400 <= status < 500, body
    assert code_of(body) != "InternalError"


def test_anonymous_list_buckets_is_denied(server: Server) -> None:
    status, body = urlopen(server.endpoint + "/")
    assert (status, code_of(body)) == (403, "AccessDenied")


# ------------------------------------------------------------------ presigned URLs

@pytest.mark.parametrize("version", ("s3v4", "s3"))
def test_presigned_get(server: Server, s3: Any, bucket: str, version: str) -> None:
    key = "pre/signed obj+1.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"presigned body")
    client = server.client(signature_version=version)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                        ExpiresIn=300)
    assert ("X-Amz-Signature=" in url) == (version == "s3v4")
    assert urlopen(url) == (200, b"presigned body")
    # the signature covers the key: pointing it elsewhere must fail
    s3.put_object(Bucket=bucket, Key="other", Body=b"secret")
    tampered = url.replace("pre/signed%20obj%2B1.txt", "other")
    assert tampered != url
    status, body = urlopen(tampered)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("version", ("s3v4", "s3"))
def test_presigned_put(server: Server, s3: Any, bucket: str, version: str) -> None:
    client = server.client(signature_version=version)
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up", "ContentType": "text/plain"},
        ExpiresIn=300)
    req = urllib.request.Request(url, data=b"uploaded", method="PUT",
                                 headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    assert status == 200, body
    got = s3.get_object(Bucket=bucket, Key="up")
    assert got["Body"].read() == b"uploaded"
    assert got["ContentType"] == "text/plain"


def test_presigned_unknown_key_and_too_long_expiry(server: Server, s3: Any,
                                                   bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    ghost = server.client(Creds("AKIANOSUCHKEY0000000", "x" * 40, "n", "n"),
                          signature_version="s3v4")
    url = ghost.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    status, body = urlopen(url)
    assert (status, code_of(body)) == (403, "InvalidAccessKeyId")
    url = server.client(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    status, body = urlopen(url)
    assert (status, code_of(body)) == (400, "AuthorizationQueryParametersError")


def test_presigned_expired(server: Server, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="soon-gone", Body=b"x")
    urls = [server.client(signature_version=v).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "soon-gone"}, ExpiresIn=1)
        for v in ("s3v4", "s3")]
    time.sleep(2.2)
    for url in urls:
        status, body = urlopen(url)
        assert (status, code_of(body)) == (403, "AccessDenied"), url
        assert b"Request has expired" in body


# ------------------------------------------------------------------ Content-MD5

def test_content_md5_correct(s3: Any, bucket: str) -> None:
    md5 = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5-ok", Body=b"body", ContentMD5=md5)
    assert s3.get_object(Bucket=bucket, Key="md5-ok")["Body"].read() == b"body"


def test_content_md5_wrong_is_bad_digest(server: Server, s3: Any, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as info:
        server.client().put_object(Bucket=bucket, Key="md5-bad", Body=b"body",
                                   ContentMD5=wrong)
    assert error_code(info.value) == (400, "BadDigest")
    assert not stored(s3, bucket, "md5-bad")


@pytest.mark.parametrize("value", ("not base64!!", base64.b64encode(b"short").decode(), ""))
def test_content_md5_malformed_is_invalid_digest(server: Server, s3: Any, bucket: str,
                                                 value: str) -> None:
    req = signed(server, "PUT", f"/{bucket}/md5-malformed", body=b"body",
                 headers={"Content-MD5": value})
    status, body = send_signed(server, req)
    assert (status, code_of(body)) == (400, "InvalidDigest")
    assert not stored(s3, bucket, "md5-malformed")


def test_content_md5_wrong_does_not_replace_existing(server: Server, s3: Any,
                                                     bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"nope").digest()).decode()
    with pytest.raises(ClientError):
        server.client().put_object(Bucket=bucket, Key="keep", Body=b"replacement",
                                   ContentMD5=wrong)
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"original"


def test_sigv2_header_auth(server: Server, bucket: str) -> None:
    v2 = server.client(signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2 key+x", Body=b"v2 body")
    assert v2.get_object(Bucket=bucket, Key="v2 key+x")["Body"].read() == b"v2 body"
    bad = server.client(Creds(server.root.access_key, "nope", "admin", "admin"),
                        signature_version="s3")
    with pytest.raises(ClientError) as info:
        bad.get_object(Bucket=bucket, Key="v2 key+x")
    assert error_code(info.value) == (403, "SignatureDoesNotMatch")


def test_unsigned_payload_header_auth(server: Server, s3: Any, bucket: str) -> None:
    req = signed(server, "PUT", f"/{bucket}/unsigned", body=b"payload", unsigned_payload=True)
    assert req.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    status, body = send_signed(server, req)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"payload"
