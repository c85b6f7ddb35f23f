"""Random hostile requests against a running server: anonymous requests over raw sockets
mixing operations, sub-resources, query arguments and headers with values known to
break parsers (huge and Unicode digits, absurd dates, odd XML encodings, chunk framing).
Every answer must be an S3 answer other than a 500 (501 NotImplemented is one) and the
connection must not drop.

    PYTHONPATH=src python tests/fuzz/live_requests.py --seconds 60 [--seed 1]

starts its own server (in a temporary directory) and prints the requests sent, the
statuses seen, and the tracebacks found in the server log (must be 0). The test suite
runs a short, seeded burst of the same generator (tests/integration/test_malformed.py).
"""

from __future__ import annotations

import argparse
import random
import secrets
import socket
import sys
import tempfile
import time
from pathlib import Path

VALUES = ["0", "1", "-1", "+5", "١٢", "²", "9" * 30, "9" * 5000, "%00", "%0d%0a", "%ff", "%zz",
          "\t", "*", "aws:x", "Fri, 31 Dec 9999 23:59:59 -2359", "bytes=0-", "bytes=-1",
          'W/"x"', '"e"', "true", "url", "a/b", "..", "//", "\\", "x" * 300, "é", "=", "&", "/",
          ";", "http://", "id=\"x\"", "uri=", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "aws-chunked", "x-amz-checksum-crc32", "CRC32", "COMPOSITE", "REPLACE"]
QUERY_NAMES = ["max-keys", "list-type", "prefix", "delimiter", "marker", "start-after",
               "continuation-token", "encoding-type", "fetch-owner", "uploads", "uploadId",
               "partNumber", "part-number-marker", "max-parts", "max-uploads", "key-marker",
               "upload-id-marker", "acl", "tagging", "cors", "delete", "versioning",
               "location", "versions", "version-id-marker", "response-content-type",
               "response-expires", "response-content-disposition", "attributes",
               "X-Amz-Expires", "Expires", "AWSAccessKeyId", "Signature", "X-Amz-Date",
               "X-Amz-Credential", "X-Amz-Algorithm", "max-buckets", "bucket-region"]
HEADER_NAMES = ["range", "if-match", "if-none-match", "if-modified-since",
                "if-unmodified-since", "x-amz-copy-source", "x-amz-copy-source-range",
                "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-match",
                "x-amz-metadata-directive", "x-amz-tagging", "x-amz-tagging-directive",
                "x-amz-acl", "x-amz-grant-read", "content-md5", "x-amz-checksum-crc32",
                "x-amz-checksum-algorithm", "x-amz-sdk-checksum-algorithm",
                "x-amz-object-attributes", "x-amz-max-parts", "x-amz-part-number-marker",
                "x-amz-storage-class", "x-amz-website-redirect-location", "content-type",
                "x-amz-meta-a", "x-amz-checksum-mode", "x-amz-mp-object-size",
                "x-amz-checksum-type", "x-amz-trailer", "x-amz-decoded-content-length",
                "content-encoding", "x-amz-content-sha256", "date", "x-amz-date", "origin",
                "access-control-request-method", "access-control-request-headers",
                "authorization", "cache-control", "content-disposition", "expires"]
BODIES = [b"", b"hello", b"<?xml version='1.0' encoding='foo'?><a/>",
          b"5\r\nhello\r\n0\r\n\r\n", "١\r\nh\r\n0\r\n\r\n".encode(),
          b"<Delete><Object><Key>obj</Key></Object></Delete>",
          b"<CompleteMultipartUpload><Part><PartNumber>" + b"9" * 5000
          + b"</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
          b"<Tagging><TagSet><Tag><Key>aws:k</Key><Value>v</Value></Tag></TagSet></Tagging>"]


def requests(rnd: random.Random, bucket: str) -> bytes:
    """One random request (raw bytes, Connection: close)."""
    def value() -> str:
        return "".join(rnd.choice(VALUES) for _ in range(rnd.randint(0, 3)))

    method = rnd.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"])
    path = rnd.choice(["/", f"/{bucket}", f"/{bucket}/obj", f"/{bucket}/new",
                       f"/{bucket}/" + value().replace(" ", "%20")])
    query = "&".join(rnd.choice(QUERY_NAMES) + ("=" + value() if rnd.random() < .8 else "")
                     for _ in range(rnd.randint(0, 3)))
    headers = {rnd.choice(HEADER_NAMES): value() for _ in range(rnd.randint(0, 4))}
    if "x-amz-copy-source" in headers and rnd.random() < .5:
        headers["x-amz-copy-source"] = f"{bucket}/obj"
    if rnd.random() < 0.1:
        headers["content-type"] = "multipart/form-data; boundary=" + value()
    body = rnd.choice(BODIES + [bytes(rnd.randrange(256) for _ in range(20))])
    head = (f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n")
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    return head.encode("utf-8") + b"\r\n" + body


def exchange(port: int, data: bytes) -> str:
    """The status of the answer, or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(data)
            resp = b""
            while True:
                got = sock.recv(65536)
                if not got:
                    break
                resp += got
    except OSError as exc:
        return type(exc).__name__
    return resp[9:12].decode("latin-1") if resp.startswith(b"HTTP/1.1 ") else "no-answer"


def burst(port: int, bucket: str, seed: int, *, count: int | None = None,
          seconds: float | None = None) -> tuple[int, dict[str, int], list[bytes]]:
    """Send random requests; (sent, statuses, requests answered 500/502-504 or not at
    all)."""
    rnd = random.Random(seed)
    statuses: dict[str, int] = {}
    bad: list[bytes] = []
    sent = 0
    end = time.monotonic() + seconds if seconds is not None else None
    while (count is None or sent < count) and (end is None or time.monotonic() < end):
        data = requests(rnd, bucket)
        status = exchange(port, data)
        statuses[status] = statuses.get(status, 0) + 1
        if not status.isdigit() or status in ("500", "502", "503", "504"):
            bad.append(data)
        sent += 1
    return sent, statuses, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from harness import Creds, Server, free_port

    srv = Server(Path(tempfile.mkdtemp()) / "data", free_port(),
                 Creds("ROOTKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20),
                       "admin", "admin"))
    srv.start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="fuzz-bucket", ACL="public-read-write")
        s3.put_object(Bucket="fuzz-bucket", Key="obj", Body=b"0123456789",
                      ACL="public-read-write")
        sent, statuses, bad = burst(srv.port, "fuzz-bucket", args.seed, seconds=args.seconds)
    finally:
        srv.stop()
    assert srv.log_path is not None
    tracebacks = srv.log_path.read_text(errors="replace").count("Traceback")
    for data in bad[:20]:
        print("!!", data[:300])
    print(f"requests: {sent}; statuses: {dict(sorted(statuses.items()))}; "
          f"500 or dropped: {len(bad)}; tracebacks in the log: {tracebacks}")
    return 1 if bad or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
