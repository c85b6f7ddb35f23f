"""aws-chunked request bodies, built by hand and sent with http.client.

The seed signature comes from botocore's SigV4Auth (with the STREAMING-* value in
x-amz-content-sha256); chunk and trailer signatures are computed here, as the AWS docs
describe them ("Signature Calculations for the Authorization Header: Transferring Payload in
Multiple Chunks" and "... with trailers").
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Server
from uploads_util import (
    ALGORITHMS,
    MiB,
    Reply,
    checksum,
    data,
    md5_etag,
    multipart_etag,
    object_url,
    send,
    sign,
    signed_chunked_body,
    split,
    unsigned_chunked_body,
)

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MODES = [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER]
TRANSPORTS = [pytest.param(False, id="content-length"), pytest.param(True, id="te-chunked")]

PAYLOAD = data(150_001, "chunked-wire")  # 64 KiB, 64 KiB and a partial chunk
OLD = b"the previous version, which must survive a failed upload\n"


def streaming_put(server: Server, bucket: str, key: str, mode: str, payload: bytes, *,
                  chunk_size: int = 64 * 1024, alg: str = "CRC32",
                  trailer_value: str | None = None, decoded_length: int | None = None,
                  content_encoding: str | None = "aws-chunked", te_chunked: bool = False,
                  query: str = "", extra_headers: dict[str, str] | None = None,
                  **framing: Any) -> Reply:
    """PUT ``payload`` as an aws-chunked body in ``mode``; returns the server's reply."""
    url, path = object_url(server, bucket, key, query)
    headers = {"x-amz-decoded-content-length": str(
        len(payload) if decoded_length is None else decoded_length)}
    if content_encoding is not None:
        headers["Content-Encoding"] = content_encoding
    headers.update(extra_headers or {})
    trailers = None
    if mode != SIGNED:
        name = f"x-amz-checksum-{alg.lower()}"
        headers["x-amz-trailer"] = name
        trailers = [(name, trailer_value if trailer_value is not None
                     else checksum(alg, payload))]
    signed = sign(server.root, "PUT", url, headers, mode)
    chunks = split(payload, chunk_size)
    if mode == UNSIGNED_TRAILER:
        assert trailers is not None
        body = unsigned_chunked_body(chunks, trailers)
    else:
        body = signed_chunked_body(signed, chunks, trailers, **framing)
    return send(server, "PUT", path, signed.headers, body, te_chunked=te_chunked)


def assert_unchanged(s3: Any, bucket: str, key: str, expected: bytes) -> None:
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert obj["Body"].read() == expected
    assert obj["ETag"] == md5_etag(expected)


@pytest.fixture(scope="module")
def s3_nomode(server: Server) -> Any:
    """A client that sends x-amz-checksum-mode only when told to (boto3's default adds it)."""
    return server.client(response_checksum_validation="when_required")


@pytest.fixture
def old(s3: Any, bucket: str) -> str:
    """A key holding OLD: failed uploads to it must leave it as it is."""
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    return "obj"


# ------------------------------------------------------------------- what gets stored


@pytest.mark.parametrize("te_chunked", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_streaming_put_stores_exactly_the_payload(server: Server, s3: Any, s3_nomode: Any,
                                                  bucket: str, mode: str,
                                                  te_chunked: bool) -> None:
    r = streaming_put(server, bucket, "obj", mode, PAYLOAD, te_chunked=te_chunked)
    assert r.status == 200, r.body
    assert r.headers["etag"] == md5_etag(PAYLOAD)

    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == len(PAYLOAD)
    assert "ContentEncoding" not in head  # aws-chunked is not a stored coding
    obj = s3_nomode.get_object(Bucket=bucket, Key="obj")
    assert obj["Body"].read() == PAYLOAD  # no framing bytes, no signatures, no trailer
    assert "ChecksumCRC32" not in obj  # not asked for

    if mode != SIGNED:
        crc = checksum("CRC32", PAYLOAD)
        assert r.headers.get("x-amz-checksum-crc32") == crc  # echoed on PUT
        got = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
        assert got["ChecksumCRC32"] == crc
        assert got["Body"].read() == PAYLOAD
        assert s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")[
            "ChecksumCRC32"] == crc


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_trailer_checksum_every_algorithm(server: Server, s3: Any, bucket: str, mode: str,
                                          alg: str) -> None:
    payload = data(70_000, f"trailer-{alg}")
    r = streaming_put(server, bucket, "t", mode, payload, alg=alg, chunk_size=30_000)
    assert r.status == 200, r.body
    value = checksum(alg, payload)
    assert r.headers.get(f"x-amz-checksum-{alg.lower()}") == value
    got = s3.get_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert got[f"Checksum{alg}"] == value
    assert got["Body"].read() == payload


@pytest.mark.parametrize("sent,stored", [("aws-chunked,gzip", "gzip"),
                                         ("gzip, aws-chunked", "gzip")])
def test_other_content_codings_are_kept(server: Server, s3: Any, bucket: str, sent: str,
                                        stored: str) -> None:
    r = streaming_put(server, bucket, "gz", SIGNED, PAYLOAD, content_encoding=sent)
    assert r.status == 200, r.body
    head = s3.head_object(Bucket=bucket, Key="gz")
    assert head["ContentEncoding"] == stored
    assert head["ContentLength"] == len(PAYLOAD)


@pytest.mark.parametrize("mode", MODES)
def test_streaming_detected_from_content_sha256_alone(server: Server, s3: Any, bucket: str,
                                                      mode: str) -> None:
    """No Content-Encoding header: x-amz-content-sha256 alone says the body is aws-chunked."""
    r = streaming_put(server, bucket, "noenc", mode, PAYLOAD, content_encoding=None)
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key="noenc")["Body"].read() == PAYLOAD


@pytest.mark.parametrize("alg", ["CRC32C", "SHA256"])
def test_header_checksum_with_signed_chunks(server: Server, s3: Any, bucket: str, old: str,
                                            alg: str) -> None:
    """A checksum in an x-amz-checksum-* header (not a trailer) with an aws-chunked body."""
    name = f"x-amz-checksum-{alg.lower()}"
    bad = streaming_put(server, bucket, old, SIGNED, PAYLOAD,
                        extra_headers={name: checksum(alg, PAYLOAD[:-1])})
    assert (bad.status, bad.code()) == (400, "BadDigest"), bad.body
    assert_unchanged(s3, bucket, old, OLD)
    good = streaming_put(server, bucket, old, SIGNED, PAYLOAD,
                         extra_headers={name: checksum(alg, PAYLOAD)})
    assert good.status == 200, good.body
    assert good.headers.get(name) == checksum(alg, PAYLOAD)
    got = s3.get_object(Bucket=bucket, Key=old, ChecksumMode="ENABLED")
    assert got[f"Checksum{alg}"] == checksum(alg, PAYLOAD)
    assert got["Body"].read() == PAYLOAD


def test_empty_payload(server: Server, s3: Any, bucket: str) -> None:
    r = streaming_put(server, bucket, "empty", SIGNED_TRAILER, b"")
    assert r.status == 200, r.body
    obj = s3.get_object(Bucket=bucket, Key="empty", ChecksumMode="ENABLED")
    assert obj["Body"].read() == b""
    assert obj["ChecksumCRC32"] == checksum("CRC32", b"")


def test_upload_part_with_aws_chunked_bodies(server: Server, s3: Any, bucket: str) -> None:
    part1 = data(5 * MiB, "wire-part-1")
    part2 = data(300_000, "wire-part-2")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    r1 = streaming_put(server, bucket, "mp", SIGNED, part1, chunk_size=1 * MiB,
                       query=f"partNumber=1&uploadId={up}")
    assert r1.status == 200, r1.body
    assert r1.headers["etag"] == md5_etag(part1)
    r2 = streaming_put(server, bucket, "mp", UNSIGNED_TRAILER, part2, te_chunked=True,
                       query=f"partNumber=2&uploadId={up}")
    assert r2.status == 200, r2.body
    assert r2.headers["etag"] == md5_etag(part2)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r1.headers["etag"]},
            {"PartNumber": 2, "ETag": r2.headers["etag"]}]})
    assert done["ETag"] == multipart_etag([part1, part2])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == part1 + part2


# ------------------------------------------------------------------- what gets refused


@pytest.mark.parametrize("tamper", [0, 1, 2])
@pytest.mark.parametrize("mode", [SIGNED, SIGNED_TRAILER])
def test_tampered_chunk_is_refused(server: Server, s3: Any, bucket: str, old: str, mode: str,
                                   tamper: int) -> None:
    payload = data(20_000, "tamper")  # chunks of 8 KiB, 8 KiB and 3.5 KiB
    r = streaming_put(server, bucket, old, mode, payload, chunk_size=8192, tamper=tamper)
    assert (r.status, r.code()) == (403, "SignatureDoesNotMatch"), r.body
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("mode", [SIGNED, SIGNED_TRAILER])
def test_unchained_chunk_signatures_are_refused(server: Server, s3: Any, bucket: str, old: str,
                                                mode: str) -> None:
    """Each chunk signed correctly on its own but not chained to the previous signature."""
    payload = data(20_000, "unchained")
    r = streaming_put(server, bucket, old, mode, payload, chunk_size=8192, chained=False)
    assert (r.status, r.code()) == (403, "SignatureDoesNotMatch"), r.body
    assert_unchanged(s3, bucket, old, OLD)


def test_chunk_without_signature_is_refused(server: Server, s3: Any, bucket: str,
                                            old: str) -> None:
    url, path = object_url(server, bucket, old)
    payload = data(10_000, "nosig")
    headers = {"Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(payload))}
    signed = sign(server.root, "PUT", url, headers, SIGNED)
    body = f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
    r = send(server, "PUT", path, signed.headers, body)
    assert 400 <= r.status < 500, r.body
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_wrong_trailer_checksum_is_bad_digest(server: Server, s3: Any, bucket: str, old: str,
                                              mode: str) -> None:
    wrong = checksum("CRC32", PAYLOAD + b"!")
    r = streaming_put(server, bucket, old, mode, PAYLOAD, trailer_value=wrong)
    assert (r.status, r.code()) == (400, "BadDigest"), r.body
    assert_unchanged(s3, bucket, old, OLD)


def test_wrong_trailer_signature_is_refused(server: Server, s3: Any, bucket: str,
                                            old: str) -> None:
    r = streaming_put(server, bucket, old, SIGNED_TRAILER, PAYLOAD, bad_trailer_sig=True)
    assert (r.status, r.code()) == (403, "SignatureDoesNotMatch"), r.body
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_declared_trailer_missing_is_refused(server: Server, s3: Any, bucket: str, old: str,
                                             mode: str) -> None:
    url, path = object_url(server, bucket, old)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-decoded-content-length": str(len(PAYLOAD))}
    signed = sign(server.root, "PUT", url, headers, mode)
    chunks = split(PAYLOAD, 65536)
    if mode == UNSIGNED_TRAILER:
        body = unsigned_chunked_body(chunks, [])
    else:
        body = signed_chunked_body(signed, chunks, [])
    r = send(server, "PUT", path, signed.headers, body)
    assert r.status == 400, r.body
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("te_chunked", TRANSPORTS)
@pytest.mark.parametrize("delta", [-1, +1, -len(PAYLOAD) // 2, +1000], ids=lambda d: f"{d:+}")
@pytest.mark.parametrize("mode", MODES)
def test_wrong_decoded_content_length_stores_nothing(server: Server, s3: Any, bucket: str,
                                                     old: str, mode: str, delta: int,
                                                     te_chunked: bool) -> None:
    r = streaming_put(server, bucket, old, mode, PAYLOAD, decoded_length=len(PAYLOAD) + delta,
                      te_chunked=te_chunked)
    assert 400 <= r.status < 500, (r.status, r.body)
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("mode", MODES)
def test_truncated_aws_chunked_body_stores_nothing(server: Server, s3: Any, bucket: str,
                                                   old: str, mode: str) -> None:
    """The body stops after the first chunk (no final chunk); Content-Length matches it."""
    url, path = object_url(server, bucket, old)
    headers = {"Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(PAYLOAD))}
    if mode != SIGNED:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    signed = sign(server.root, "PUT", url, headers, mode)
    chunks = split(PAYLOAD, 65536)
    trailers = None if mode == SIGNED else [("x-amz-checksum-crc32", checksum("CRC32", PAYLOAD))]
    if mode == UNSIGNED_TRAILER:
        assert trailers is not None
        full = unsigned_chunked_body(chunks, trailers)
    else:
        full = signed_chunked_body(signed, chunks, trailers)
    cut = full.index(b"\r\n", full.index(b"\r\n") + 2 + 65536) + 2  # after chunk 1's CRLF
    r = send(server, "PUT", path, signed.headers, full[:cut])
    assert 400 <= r.status < 500, (r.status, r.body)
    assert_unchanged(s3, bucket, old, OLD)


@pytest.mark.parametrize("mode", ["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
                                  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"])
def test_ecdsa_streaming_value_does_not_bypass_chunk_signatures(server: Server, s3: Any,
                                                                bucket: str, old: str,
                                                                mode: str) -> None:
    """The request is signed with AWS4-HMAC-SHA256 but claims a SigV4a streaming payload;
    its chunk signatures are garbage. Nothing may be stored from such a body."""
    url, path = object_url(server, bucket, old)
    payload = b"forged body " * 1000
    headers = {"Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(payload))}
    signed = sign(server.root, "PUT", url, headers, mode)
    body = b"".join(f"{len(c):x};chunk-signature={'0' * 64}\r\n".encode() + c + b"\r\n"
                    for c in split(payload, 4096))
    body += b"0;chunk-signature=" + b"0" * 64 + b"\r\n\r\n"
    r = send(server, "PUT", path, signed.headers, body)
    assert 400 <= r.status < 500, (r.status, r.body)
    assert_unchanged(s3, bucket, old, OLD)


def test_streaming_to_a_fresh_key_leaves_no_object_on_failure(server: Server, s3: Any,
                                                              bucket: str) -> None:
    r = streaming_put(server, bucket, "never", SIGNED, PAYLOAD, tamper=1)
    assert r.status == 403, r.body
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="never")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
