"""Conditional writes (If-None-Match: *, If-Match) on PutObject and CompleteMultipartUpload,
atomic under concurrency; and Expect: 100-continue answered before the body is sent."""

from __future__ import annotations

import hashlib
import socket
import threading
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from harness import Creds, Server
from uploads_util import (
    md5_etag,
    multipart_etag,
    object_url,
    read_body,
    read_response_head,
    sign,
)

RACERS = 16


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def outcome(fn: Callable[[], Any]) -> tuple[int, str]:
    try:
        fn()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return 200, "OK"


def race(server: Server, n: int, action: Callable[[Any, int], Any]) -> list[tuple[int, str]]:
    """Run ``action(client, i)`` in n threads (each with its own client) released together."""
    clients = [server.client() for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[tuple[int, str]] = [(0, "")] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = outcome(lambda: action(clients[i], i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


# ------------------------------------------------------------------- PutObject


def test_put_if_none_match_star(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    assert first["ETag"] == md5_etag(b"first")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert error(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"
    # Once the key is gone, the condition holds again.
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"third"


def test_put_if_match(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfMatch=md5_etag(b"x"))
    assert error(exc) == (404, "NoSuchKey")  # If-Match on a missing key
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")

    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=md5_etag(b"other"))
    assert error(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"

    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    with pytest.raises(ClientError) as exc:  # the old ETag no longer matches
        s3.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)
    assert error(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


def body_of(i: int) -> bytes:
    return f"racer {i} ".encode() * (20_000 + i)  # ~200 KB: the writes overlap in time


def test_racing_creators_exactly_one_wins(server: Server, s3: Any, bucket: str) -> None:
    results = race(server, RACERS, lambda c, i: c.put_object(
        Bucket=bucket, Key="race", Body=body_of(i), IfNoneMatch="*"))
    winners = [i for i, r in enumerate(results) if r == (200, "OK")]
    assert len(winners) == 1, results
    assert sorted(results).count((412, "PreconditionFailed")) == RACERS - 1, results
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() == body_of(winners[0])


def test_racing_if_match_updaters_exactly_one_wins(server: Server, s3: Any,
                                                   bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="race", Body=b"base")["ETag"]
    results = race(server, RACERS, lambda c, i: c.put_object(
        Bucket=bucket, Key="race", Body=body_of(i), IfMatch=etag))
    winners = [i for i, r in enumerate(results) if r == (200, "OK")]
    assert len(winners) == 1, results
    assert sorted(results).count((412, "PreconditionFailed")) == RACERS - 1, results
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() == body_of(winners[0])


# ------------------------------------------------------------------- CompleteMultipartUpload


def one_part_upload(s3: Any, bucket: str, key: str, body: bytes) -> tuple[str, list[dict]]:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=body)["ETag"]
    return up, [{"PartNumber": 1, "ETag": etag}]


def test_complete_if_none_match_star(s3: Any, bucket: str) -> None:
    up, parts = one_part_upload(s3, bucket, "mp", b"multipart body")
    s3.put_object(Bucket=bucket, Key="mp", Body=b"already here")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert error(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"already here"

    s3.delete_object(Bucket=bucket, Key="mp")
    up2, parts2 = one_part_upload(s3, bucket, "mp", b"second try")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up2,
                                        MultipartUpload={"Parts": parts2}, IfNoneMatch="*")
    assert done["ETag"] == multipart_etag([b"second try"])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"second try"


def test_complete_if_match(s3: Any, bucket: str) -> None:
    up, parts = one_part_upload(s3, bucket, "mp", b"new content")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": parts}, IfMatch='"abc"')
    assert error(exc) == (404, "NoSuchKey")  # nothing there to match

    etag = s3.put_object(Bucket=bucket, Key="mp", Body=b"old")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": parts},
                                     IfMatch=md5_etag(b"not old"))
    assert error(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"old"

    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": parts}, IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"new content"


def test_racing_completes_exactly_one_wins(server: Server, s3: Any, bucket: str) -> None:
    n = 8
    uploads = [one_part_upload(s3, bucket, "mprace", body_of(i)) for i in range(n)]
    results = race(server, n, lambda c, i: c.complete_multipart_upload(
        Bucket=bucket, Key="mprace", UploadId=uploads[i][0],
        MultipartUpload={"Parts": uploads[i][1]}, IfNoneMatch="*"))
    winners = [i for i, r in enumerate(results) if r == (200, "OK")]
    assert len(winners) == 1, results
    assert sorted(results).count((412, "PreconditionFailed")) == n - 1, results
    obj = s3.get_object(Bucket=bucket, Key="mprace")
    assert obj["Body"].read() == body_of(winners[0])
    assert obj["ETag"] == multipart_etag([body_of(winners[0])])


def test_racing_put_and_complete_exactly_one_wins(server: Server, s3: Any,
                                                  bucket: str) -> None:
    n = 8
    uploads = {i: one_part_upload(s3, bucket, "mixed", body_of(i)) for i in range(0, n, 2)}

    def act(c: Any, i: int) -> Any:
        if i in uploads:
            return c.complete_multipart_upload(
                Bucket=bucket, Key="mixed", UploadId=uploads[i][0],
                MultipartUpload={"Parts": uploads[i][1]}, IfNoneMatch="*")
        return c.put_object(Bucket=bucket, Key="mixed", Body=body_of(i), IfNoneMatch="*")

    results = race(server, n, act)
    winners = [i for i, r in enumerate(results) if r == (200, "OK")]
    assert len(winners) == 1, results
    assert s3.get_object(Bucket=bucket, Key="mixed")["Body"].read() == body_of(winners[0])


# ------------------------------------------------------------------- Expect: 100-continue

BODY = hashlib.sha256(b"expect").digest() * 4096  # 128 KiB


def put_head(server: Server, creds: Creds, bucket: str, key: str, length: int,
             body_sha256: str, query: str = "") -> bytes:
    url, path = object_url(server, bucket, key, query)
    signed = sign(creds, "PUT", url, {"Content-Length": str(length)}, body_sha256)
    lines = [f"PUT {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Expect: 100-continue"]
    lines += [f"{k}: {v}" for k, v in signed.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def early_answer(server: Server, head: bytes, body: bytes) -> tuple[int, bytes]:
    """Send only the headers; the final answer must come without the body being sent.
    Afterwards the connection is closed cleanly, or still usable."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        buf = bytearray()
        status, headers = read_response_head(sock, buf)  # times out if it waits for the body
        payload = read_body(sock, buf, headers)
        if headers.get("connection", "").lower() == "close":
            assert not buf
            assert sock.recv(1) == b""  # an orderly close (a reset would raise)
        else:
            # The server says it will read and discard the body: send it, then another request.
            sock.sendall(body)
            sock.sendall(f"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
            next_status, _ = read_response_head(sock, buf)
            assert 200 <= next_status < 500
        return status, payload


def test_expect_continue_missing_bucket(server: Server) -> None:
    head = put_head(server, server.root, "no-such-bucket-for-expect", "k", len(BODY),
                    hashlib.sha256(BODY).hexdigest())
    status, payload = early_answer(server, head, BODY)
    assert status == 404
    assert b"<Code>NoSuchBucket</Code>" in payload


def test_expect_continue_bad_signature(server: Server, bucket: str, s3: Any) -> None:
    wrong = Creds(server.root.access_key, "0" * 40, "", "")
    head = put_head(server, wrong, bucket, "k", len(BODY), hashlib.sha256(BODY).hexdigest())
    status, payload = early_answer(server, head, BODY)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in payload
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_expect_continue_access_denied(server: Server, bucket: str, s3: Any) -> None:
    other = server.new_user()
    head = put_head(server, other, bucket, "k", len(BODY), hashlib.sha256(BODY).hexdigest())
    status, payload = early_answer(server, head, BODY)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in payload
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_expect_continue_unknown_upload(server: Server, bucket: str) -> None:
    head = put_head(server, server.root, bucket, "k", len(BODY), hashlib.sha256(BODY).hexdigest(),
                    query="partNumber=1&uploadId=no-such-upload")
    status, payload = early_answer(server, head, BODY)
    assert status == 404
    assert b"<Code>NoSuchUpload</Code>" in payload


def test_expect_continue_too_large(server: Server, bucket: str) -> None:
    head = put_head(server, server.root, bucket, "k", 6 * 1024**3, "UNSIGNED-PAYLOAD")
    status, payload = early_answer(server, head, b"")
    assert status == 400
    assert b"<Code>EntityTooLarge</Code>" in payload


def test_expect_continue_accepted_request(server: Server, bucket: str, s3: Any) -> None:
    head = put_head(server, server.root, bucket, "k", len(BODY), hashlib.sha256(BODY).hexdigest())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        buf = bytearray()
        status, _ = read_response_head(sock, buf)
        assert status == 100
        sock.sendall(BODY)
        status, headers = read_response_head(sock, buf)
        assert status == 200
        assert headers["etag"] == md5_etag(BODY)
        read_body(sock, buf, headers)
        # keep-alive: the same connection serves another request
        sock.sendall(f"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        status, _ = read_response_head(sock, buf)
        assert 200 <= status < 500
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == BODY
