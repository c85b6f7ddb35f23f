"""MD5/ETag and the flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).

CRCs come from C-backed libraries (zlib, crc32c, awscrt); nothing loops in Python.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Callable, Final, Protocol

import crc32c as crc32c_lib
from awscrt import checksums as _crt

from objectstore.s3.errors import S3Error

ALGORITHMS: Final = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
HEADER: Final = {alg: f"x-amz-checksum-{alg.lower()}" for alg in ALGORITHMS}


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc:
    def __init__(self, fn: Callable[[bytes, int], int], width: int) -> None:
        self._fn = fn
        self._width = width
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def _crc32(data: bytes, value: int) -> int:
    return zlib.crc32(data, value)


def _crc32c(data: bytes, value: int) -> int:
    return int(crc32c_lib.crc32c(data, value))


def _crc64(data: bytes, value: int) -> int:
    return int(_crt.crc64nvme(data, value))


def new_hasher(algorithm: str) -> Hasher:
    if algorithm == "CRC32":
        return _Crc(_crc32, 4)
    if algorithm == "CRC32C":
        return _Crc(_crc32c, 4)
    if algorithm == "CRC64NVME":
        return _Crc(_crc64, 8)
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise S3Error("InvalidRequest", f"Checksum algorithm {algorithm} is not supported")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def digest_length(algorithm: str) -> int:
    return {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}[algorithm]


def decode_checksum(algorithm: str, value: str) -> bytes:
    """Validate a client's base64 checksum value; InvalidRequest when malformed."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != digest_length(algorithm):
        raise S3Error("InvalidRequest",
                      f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
    return raw


def parse_content_md5(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise S3Error("InvalidDigest", extra={"Content-MD5": value}) from None
    if len(raw) != 16:
        raise S3Error("InvalidDigest", extra={"Content-MD5": value})
    return raw


def multipart_etag(part_md5s: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


def check_small_body(headers: dict[str, str], body: bytes) -> None:
    """A small request document (DeleteObjects, lifecycle, retention, ...) against the
    Content-MD5 and x-amz-checksum-* headers sent with it: ``BadDigest`` on a mismatch."""
    if "content-md5" in headers and \
            parse_content_md5(headers["content-md5"]) != hashlib.md5(body).digest():
        raise S3Error("BadDigest")
    for alg, name in HEADER.items():
        if name in headers:
            expected = decode_checksum(alg, headers[name])
            hasher = new_hasher(alg)
            hasher.update(body)
            if hasher.digest() != expected:
                raise S3Error("BadDigest", f"The {alg} you specified did not match the "
                              "calculated checksum.")
