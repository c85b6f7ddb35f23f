"""Fuzz targets for the pure parsers: each takes raw bytes, turns them into the parser's
inputs the way the server would (header values are UTF-8 with surrogate escapes, fields
are split on NUL bytes), and must either return or raise S3Error — nothing else.

Used by tests/unit/test_fuzz_parsers.py (hypothesis, in the suite) and by
tests/fuzz/atheris_parsers.py (coverage-guided, run by hand).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from objectstore.s3 import (
    acl,
    chunked,
    cors,
    headers,
    http,
    listing,
    lock,
    numbers,
    post_policy,
    routing,
    sigv2,
    sigv4,
    tagging,
    xml,
    xml_multipart,
)
from objectstore.s3.errors import S3Error

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
Target = Callable[[bytes], None]


def text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def latin1(text_value: str) -> str:
    """A request line part (path, query) as the server has it: the raw bytes read as
    latin-1 (header values are UTF-8 with surrogate escapes instead)."""
    return text_value.encode("utf-8", "surrogateescape").decode("latin-1")


def fields(data: bytes, n: int) -> list[str]:
    parts = data.split(b"\x00", n - 1)
    parts += [b""] * (n - len(parts))
    return [text(p) for p in parts]


def route(data: bytes) -> None:
    method, host, path, raw_query, header_value = fields(data, 5)
    query = routing.parse_query(latin1(raw_query))
    hdrs = {"x-amz-copy-source": header_value} if header_value else {}
    routing.route(method or "GET", host, path, query, hdrs, ("s3.localhost",))
    routing.split_host(host, ("s3.localhost", "s3.example.com"))


def sigv4_header(data: bytes) -> None:
    auth, amz_date, content_sha, date = fields(data, 4)
    hdrs = {"host": "127.0.0.1", "x-amz-date": amz_date, "date": date}
    if content_sha:
        hdrs["x-amz-content-sha256"] = content_sha
    claim = sigv4.parse_authorization("AWS4-HMAC-SHA256 " + auth, hdrs)
    sigv4.parse_amz_date(claim.amz_date)
    query = routing.parse_query(latin1(amz_date))
    sigv4.canonical_request("GET", "/" + latin1(auth), query, hdrs, claim.signed_headers,
                            claim.payload_hash)


def sigv4_query(data: bytes) -> None:
    query = dict(routing.parse_query(data.decode("latin-1")))
    claim = sigv4.parse_presigned(query, {})
    when = sigv4.parse_amz_date(claim.amz_date)
    if when is not None and claim.expires is not None:
        http.iso8601(when.timestamp() + claim.expires)


def sigv2_parse(data: bytes) -> None:
    header, raw_query = fields(data, 2)
    try:
        sigv2.parse_authorization("AWS " + header)
    except S3Error:
        pass
    query = routing.parse_query(latin1(raw_query))
    claim = sigv2.parse_presigned(dict(query))
    assert claim.expires is not None
    http.iso8601(claim.expires)
    sigv2.canonical_resource("/" + header, None, query)


def aws_chunked(data: bytes) -> None:
    # the first byte chooses where the body is split, as the network might
    cut = data[0] if data else 0
    body = data[1:]
    dec = chunked.Decoder()
    dec.feed(body[:cut])
    dec.feed(body[cut:])
    dec.close()


def decoded_length(data: bytes) -> None:
    numbers.digits(text(data))
    numbers.digits(data)
    numbers.saturating(text(data))
    numbers.signed(text(data))


XML_PARSERS: tuple[Callable[[bytes], object], ...] = (
    xml.parse_create_bucket,
    xml.parse_delete,
    lambda b: xml.parse_acl(b, {}),
    xml_multipart.parse_complete,
    cors.parse_config,
    tagging.parse_document,
    lambda b: tagging.parse_document(b, tagging.MAX_BUCKET_TAGS),
)


def xml_documents(data: bytes) -> None:
    which = data[0] % len(XML_PARSERS) if data else 0
    XML_PARSERS[which](data[1:])


def range_header(data: bytes) -> None:
    value = text(data)
    for size in (1000, 1, 0):
        try:
            http.parse_range(value, size)
        except S3Error as err:
            assert err.code == "InvalidRange", err


def conditional(data: bytes) -> None:
    a, b, c, d = fields(data, 4)
    hdrs = {"if-match": a, "if-none-match": b, "if-modified-since": c,
            "if-unmodified-since": d}
    for prefix in ("", "x-amz-copy-source-"):
        try:
            http.check_preconditions({prefix + k: v for k, v in hdrs.items()}, '"e"',
                                     1_700_000_000.0, prefix=prefix)
        except S3Error:
            pass


def http_dates(data: bytes) -> None:
    dt = http.parse_http_date(text(data))
    if dt is not None:
        http.iso8601(dt.timestamp())
        assert dt.year >= 1


def post_policy_doc(data: bytes) -> None:
    policy_b64, key, disposition = fields(data, 3)
    post_policy.disposition(disposition)
    policy = post_policy.parse(policy_b64)
    post_policy.check_length(policy, 10)
    post_policy.check(policy, {"key": key, "policy": policy_b64}, "bucket", NOW)


def post_policy_json(data: bytes) -> None:
    """The policy's JSON directly (base64 in front of it only slows a fuzzer down)."""
    import base64

    policy = post_policy.parse(base64.b64encode(data).decode())
    post_policy.check_length(policy, 10)
    post_policy.check(policy, {"key": "k"}, "bucket", NOW)


def header_values(data: bytes) -> None:
    name, value, redirect = fields(data, 3)
    for check in (lambda: headers.check_override("response-" + name, value),
                  lambda: headers.check_stored({name.lower(): value}),
                  lambda: headers.check_stored({"x-amz-website-redirect-location": redirect})):
        try:
            check()
        except S3Error:
            pass


def grants_and_tags(data: bytes) -> None:
    grant, tag_header, max_keys = fields(data, 3)
    for name in ("x-amz-grant-read", "x-amz-acl"):
        try:
            acl.from_headers({name: grant}, "owner", "owner", resolve_email={},
                             known_ids=lambda: {"owner"})
        except S3Error:
            pass
    try:
        tagging.parse_header(tag_header)
    except S3Error:
        pass
    try:
        listing.parse_max_keys(max_keys)
    except S3Error:
        pass
    listing.decode_token(tag_header)


def object_lock(data: bytes) -> None:
    """x-amz-object-lock-* header values and the three Object Lock documents."""
    mode, date, hold, body = fields(data, 4)
    lock.parse_date(date)
    try:
        lock.parse_headers({lock.MODE_HEADER: mode, lock.UNTIL_HEADER: date,
                            lock.HOLD_HEADER: hold}, NOW.timestamp())
    except S3Error:
        pass
    raw = body.encode("utf-8", "surrogateescape")
    for parse in (lock.parse_configuration, lock.parse_retention, lock.parse_legal_hold):
        try:
            parse(raw)
        except S3Error:
            pass


TARGETS: dict[str, Target] = {
    "route": route,
    "sigv4_header": sigv4_header,
    "sigv4_query": sigv4_query,
    "sigv2": sigv2_parse,
    "aws_chunked": aws_chunked,
    "numbers": decoded_length,
    "xml": xml_documents,
    "range": range_header,
    "conditional": conditional,
    "http_date": http_dates,
    "post_policy": post_policy_doc,
    "post_policy_json": post_policy_json,
    "header_values": header_values,
    "grants_tags": grants_and_tags,
    "object_lock": object_lock,
}


def run(name: str, data: bytes) -> None:
    """Call one target; an S3Error is a proper answer, anything else is a finding."""
    try:
        TARGETS[name](data)
    except S3Error:
        pass


# Well-formed inputs, one or more per target: the coverage-guided run starts from these.
_CRED = "AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
SEEDS: dict[str, list[bytes]] = {
    "route": [b"GET\x00s3.localhost\x00/bucket/key\x00uploadId=abc&partNumber=1\x00/b/k",
              b"PUT\x00bucket.s3.localhost\x00/key\x00acl\x00",
              b"POST\x00localhost\x00/\x00Action=DescribeImages\x00"],
    "sigv4_header": [f"Credential={_CRED}, SignedHeaders=host;x-amz-date, Signature={'a' * 64}"
                     f"\x0020260101T000000Z\x00UNSIGNED-PAYLOAD\x00".encode()],
    "sigv4_query": [f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={_CRED}"
                    "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
                    f"&X-Amz-Signature={'a' * 64}".encode()],
    "sigv2": [b"AKID:c2lnbmF0dXJl\x00AWSAccessKeyId=AKID&Expires=1700000000&Signature=abc"],
    "aws_chunked": [b"\x07" + b"5;chunk-signature=" + b"a" * 64 + b"\r\nhello\r\n0\r\n"
                    b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"],
    "numbers": [b"12345", b"-1"],
    "xml": [bytes([i]) + (_XML + doc).encode() for i, doc in enumerate([
        "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
        "</CreateBucketConfiguration>",
        "<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>",
        '<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
        "<ID>o</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList>"
        "</AccessControlPolicy>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag>"
        "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>",
        "<CORSConfiguration><CORSRule><ID>r</ID><AllowedMethod>GET</AllowedMethod>"
        "<AllowedOrigin>*</AllowedOrigin><AllowedHeader>x-*</AllowedHeader><ExposeHeader>"
        "ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"])],
    "range": [b"bytes=0-10", b"bytes=-5", b"bytes=3-"],
    "conditional": [b'"e"\x00W/"x", *\x00Tue, 15 Nov 1994 08:12:31 GMT\x00'
                    b"Sun, 06 Nov 1994 08:49:37 +0100"],
    "http_date": [b"Tue, 15 Nov 1994 08:12:31 GMT", b"Sunday, 06-Nov-94 08:49:37 GMT",
                  b"Sun Nov  6 08:49:37 1994"],
    "post_policy": [b"eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbXX0="
                    b"\x00k\x00form-data; name=\"file\"; filename=\"a.txt\""],
    "post_policy_json": [b'{"expiration": "2030-01-01T00:00:00Z", "conditions": '
                         b'[["content-length-range", 1, 100], ["starts-with", "$key", "u/"], '
                         b'{"bucket": "bucket"}, ["eq", "$key", "k"]]}'],
    "header_values": [b"content-disposition\x00attachment; filename=\"a\"\x00/index.html"],
    "object_lock": [b"GOVERNANCE\x002030-01-01T00:00:00.000Z\x00ON\x00<ObjectLockConfiguration>"
                    b"<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
                    b"<Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule>"
                    b"</ObjectLockConfiguration>",
                    b"COMPLIANCE\x002030-01-01T00:00:00+01:00\x00OFF\x00<Retention><Mode>"
                    b"GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
                    b"</Retention>"],
    "grants_tags": [b'id="owner", uri="http://acs.amazonaws.com/groups/global/AllUsers"'
                    b"\x00k1=v1&k2=v2\x00100"],
}
