"""Helpers for test_uploads.py, test_chunked_wire.py and test_conditional.py.

* checksums computed locally (zlib, crc32c, awscrt) in the S3 wire format (base64, big-endian)
* big random files written and hashed in chunks (never the whole file in memory)
* a SigV4 signer for hand-made requests (botocore's SigV4Auth for the seed signature) and the
  aws-chunked framing with chunk / trailer signatures computed here, per the AWS docs
* a raw HTTP/1.1 exchange over a socket, for Expect: 100-continue
* a Server started with --tls-self-signed
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import re
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

import boto3
import crc32c as crc32c_lib
from awscrt import checksums as crt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import Creds, Server

MiB = 1024 * 1024
REGION = "us-east-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")

# ---------------------------------------------------------------- checksums


class _Crc:
    def __init__(self, fn: Any, width: int) -> None:
        self.fn, self.width, self.value = fn, width, 0

    def update(self, data: bytes) -> None:
        self.value = self.fn(data, self.value)

    def digest(self) -> bytes:
        return int(self.value).to_bytes(self.width, "big")


def hasher(alg: str) -> Any:
    if alg == "CRC32":
        return _Crc(lambda d, v: zlib.crc32(d, v), 4)
    if alg == "CRC32C":
        return _Crc(lambda d, v: crc32c_lib.crc32c(d, v), 4)
    if alg == "CRC64NVME":
        return _Crc(lambda d, v: crt.crc64nvme(d, v), 8)
    return hashlib.new(alg.lower())


def raw_checksum(alg: str, data: bytes) -> bytes:
    h = hasher(alg)
    h.update(data)
    return h.digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(alg: str, data: bytes) -> str:
    """The base64 value S3 puts in x-amz-checksum-<alg>."""
    return b64(raw_checksum(alg, data))


def composite(alg: str, parts: Iterable[bytes]) -> str:
    """COMPOSITE multipart checksum: base64(H(raw part checksums concatenated)) + "-N"."""
    raws = [raw_checksum(alg, p) for p in parts]
    return f"{checksum(alg, b''.join(raws))}-{len(raws)}"


def multipart_etag(parts: Iterable[bytes]) -> str:
    md5s = [hashlib.md5(p).digest() for p in parts]
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(md5s)}"'


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def data(size: int, seed: str) -> bytes:
    """Deterministic bytes (fast: a SHAKE stream)."""
    return hashlib.shake_256(seed.encode()).digest(size) if size <= 64 * MiB else \
        _long(size, seed)


def _long(size: int, seed: str) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.shake_256(f"{seed}/{i}".encode()).digest(MiB)
        i += 1
    return bytes(out[:size])


# ---------------------------------------------------------------- big files


def random_file(path: Path, size: int, chunk: int = 4 * MiB) -> str:
    """Write ``size`` random bytes in chunks; return their sha256 hex."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(chunk, left))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def file_digests(path: Path, algorithms: Iterable[str] = ("SHA256",),
                 chunk: int = 4 * MiB) -> dict[str, bytes]:
    hs = {a: hasher(a) for a in algorithms}
    with open(path, "rb") as f:
        while block := f.read(chunk):
            for h in hs.values():
                h.update(block)
    return {a: h.digest() for a, h in hs.items()}


def file_sha256(path: Path) -> str:
    return file_digests(path)["SHA256"].hex()


def file_part_checksums(path: Path, alg: str, part_sizes: list[int]) -> list[bytes]:
    out = []
    with open(path, "rb") as f:
        for size in part_sizes:
            h = hasher(alg)
            left = size
            while left:
                block = f.read(min(4 * MiB, left))
                assert block, "file shorter than the parts"
                h.update(block)
                left -= len(block)
            out.append(h.digest())
        assert f.read(1) == b"", "file longer than the parts"
    return out


# ---------------------------------------------------------------- SigV4 by hand


@dataclass
class Signed:
    headers: dict[str, str]
    signature: str  # the seed signature
    amz_date: str
    scope: str
    key: bytes  # the SigV4 signing key


def signing_key(secret: str, date: str, region: str = REGION, service: str = "s3") -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def sign(creds: Creds, method: str, url: str, headers: Mapping[str, str],
         content_sha256: str) -> Signed:
    """Sign with botocore's SigV4Auth; ``content_sha256`` goes in x-amz-content-sha256."""
    req = AWSRequest(method=method, url=url, headers=dict(headers))
    req.headers["X-Amz-Content-SHA256"] = content_sha256
    SigV4Auth(Credentials(creds.access_key, creds.secret_key), "s3", REGION).add_auth(req)
    out = {k: v for k, v in req.headers.items()}
    auth = out["Authorization"]
    m = re.search(r"Signature=([0-9a-f]{64})", auth)
    assert m, auth
    amz_date = out["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    return Signed(out, m.group(1), amz_date, scope,
                  signing_key(creds.secret_key, amz_date[:8]))


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def chunk_signature(s: Signed, prev: str, chunk: bytes) -> str:
    sts = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", s.amz_date, s.scope, prev, EMPTY_SHA256,
                     hashlib.sha256(chunk).hexdigest()))
    return _hmac_hex(s.key, sts)


def trailer_signature(s: Signed, prev: str, trailer_lines: bytes) -> str:
    sts = "\n".join(("AWS4-HMAC-SHA256-TRAILER", s.amz_date, s.scope, prev,
                     hashlib.sha256(trailer_lines).hexdigest()))
    return _hmac_hex(s.key, sts)


def signed_chunked_body(s: Signed, chunks: list[bytes],
                        trailers: list[tuple[str, str]] | None = None,
                        *, tamper: int | None = None, bad_trailer_sig: bool = False,
                        chained: bool = True) -> bytes:
    """aws-chunked framing with the chunk-signature chain (and the trailer signature).

    ``tamper``: index of a chunk whose first byte is flipped AFTER it was signed.
    ``chained=False``: every chunk signed as if it were the first (seed as previous).
    """
    out = bytearray()
    prev = s.signature
    for i, chunk in enumerate([*chunks, b""]):
        sig = chunk_signature(s, prev, chunk)
        if chained:
            prev = sig
        sent = chunk
        if tamper is not None and i == tamper:
            sent = bytes([chunk[0] ^ 0x01]) + chunk[1:]
        out += f"{len(chunk):x};chunk-signature={sig}\r\n".encode() + sent
        if chunk:
            out += b"\r\n"
    if trailers is None:
        out += b"\r\n"
        return bytes(out)
    lines = b"".join(f"{n}:{v}\n".encode() for n, v in trailers)
    tsig = trailer_signature(s, prev, lines)
    if bad_trailer_sig:
        tsig = tsig[:-1] + ("0" if tsig[-1] != "0" else "1")
    out += b"".join(f"{n}:{v}\r\n".encode() for n, v in trailers)
    out += f"x-amz-trailer-signature:{tsig}\r\n\r\n".encode()
    return bytes(out)


def unsigned_chunked_body(chunks: list[bytes], trailers: list[tuple[str, str]]) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    out += b"0\r\n"
    out += b"".join(f"{n}:{v}\r\n".encode() for n, v in trailers)
    out += b"\r\n"
    return bytes(out)


def split(payload: bytes, size: int) -> list[bytes]:
    return [payload[i:i + size] for i in range(0, len(payload), size)] or []


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def code(self) -> str | None:
        m = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return m.group(1).decode() if m else None


def object_url(server: Server, bucket: str, key: str, query: str = "") -> tuple[str, str]:
    """(full URL for signing, path+query for the request line)."""
    path = f"/{bucket}/{quote(key, safe='/~')}"
    if query:
        path += "?" + query
    return f"{server.endpoint}{path}", path


def send(server: Server, method: str, path: str, headers: Mapping[str, str], body: bytes,
         *, te_chunked: bool = False, timeout: float = 60) -> Reply:
    """One request over http.client. With ``te_chunked`` the body goes with
    Transfer-Encoding: chunked and no Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        hdrs = dict(headers)
        if te_chunked:
            hdrs.pop("Content-Length", None)
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 16 * 1024):
                piece = body[i:i + 16 * 1024]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            hdrs.setdefault("Content-Length", str(len(body)))
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered early: read what the server said
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


# ---------------------------------------------------------------- raw socket


def read_response_head(sock: socket.socket, buf: bytearray) -> tuple[int, dict[str, str]]:
    """Read one response's status line and headers from ``sock`` (leftover stays in buf)."""
    while b"\r\n\r\n" not in buf:
        got = sock.recv(65536)
        if not got:
            raise ConnectionError(f"connection closed; got {bytes(buf)!r}")
        buf += got
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf[:] = rest
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def read_body(sock: socket.socket, buf: bytearray, headers: Mapping[str, str]) -> bytes:
    n = int(headers.get("content-length", "0"))
    while len(buf) < n:
        got = sock.recv(65536)
        if not got:
            raise ConnectionError("connection closed in the body")
        buf += got
    body = bytes(buf[:n])
    del buf[:n]
    return body


# ---------------------------------------------------------------- servers


class TlsServer(Server):
    """A Server whose endpoint is https (start it with --tls-self-signed)."""

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return f"https://127.0.0.1:{self.port}"

    @property
    def cert_path(self) -> Path:
        return self.data_dir / "tls" / "cert.pem"


def client(endpoint: str, creds: Creds, **kwargs: Any) -> Any:
    """A boto3 client with boto3's DEFAULT configuration (no Config at all)."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=creds.access_key,
                        aws_secret_access_key=creds.secret_key, **kwargs)


def empty_bucket(s3: Any, name: str) -> None:
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for up in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass
