"""checksums: flexible checksum hashers against known vectors and botocore's own code."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.httpchecksum import (
    Crc32Checksum,
    CrtCrc32cChecksum,
    CrtCrc32Checksum,
    CrtCrc64NvmeChecksum,
    Sha1Checksum,
    Sha256Checksum,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.checksums import (
    ALGORITHMS,
    HEADER,
    b64,
    decode_checksum,
    digest_length,
    multipart_etag,
    new_hasher,
    parse_content_md5,
)
from objectstore.s3.errors import S3Error

CHECK = b"123456789"


@pytest.mark.parametrize("alg,value", [
    ("CRC32", 0xCBF43926),
    ("CRC32C", 0xE3069283),
    ("CRC64NVME", 0xAE8B14860A799888),
])
def test_crc_check_values(alg: str, value: int) -> None:
    h = new_hasher(alg)
    h.update(CHECK)
    assert h.digest() == value.to_bytes(digest_length(alg), "big")


@pytest.mark.parametrize("alg,expected", [
    ("CRC32", "AAAAAA=="),
    ("CRC32C", "AAAAAA=="),
    ("CRC64NVME", "AAAAAAAAAAA="),
    ("SHA1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
    ("SHA256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
])
def test_empty_input(alg: str, expected: str) -> None:
    assert b64(new_hasher(alg).digest()) == expected


def test_crc32c_of_aws_trailer_example() -> None:
    # sigv4-streaming-trailers example: 66560 bytes of 'a' -> x-amz-checksum-crc32c:sOO8/Q==
    h = new_hasher("CRC32C")
    h.update(b"a" * 65536)
    h.update(b"a" * 1024)
    assert b64(h.digest()) == "sOO8/Q=="


def test_sha_vectors() -> None:
    h = new_hasher("SHA1")
    h.update(b"abc")
    assert h.digest().hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    h = new_hasher("SHA256")
    h.update(b"abc")
    assert h.digest().hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


BOTOCORE = {
    "CRC32": (Crc32Checksum, CrtCrc32Checksum),
    "CRC32C": (CrtCrc32cChecksum,),
    "CRC64NVME": (CrtCrc64NvmeChecksum,),
    "SHA1": (Sha1Checksum,),
    "SHA256": (Sha256Checksum,),
}


@settings(max_examples=60)
@given(alg=st.sampled_from(ALGORITHMS), pieces=st.lists(st.binary(max_size=300), max_size=6))
def test_against_botocore(alg: str, pieces: list[bytes]) -> None:
    ours = new_hasher(alg)
    whole = new_hasher(alg)
    for p in pieces:
        ours.update(p)
    whole.update(b"".join(pieces))
    assert ours.digest() == whole.digest()  # incremental == one shot
    assert len(ours.digest()) == digest_length(alg)
    for cls in BOTOCORE[alg]:
        ref = cls()
        for p in pieces:
            ref.update(p)
        assert b64(ours.digest()) == ref.b64digest()


def test_headers() -> None:
    assert HEADER == {
        "CRC32": "x-amz-checksum-crc32", "CRC32C": "x-amz-checksum-crc32c",
        "CRC64NVME": "x-amz-checksum-crc64nvme", "SHA1": "x-amz-checksum-sha1",
        "SHA256": "x-amz-checksum-sha256",
    }


@pytest.mark.parametrize("alg", ["MD5", "crc32", "XXHASH64", ""])
def test_unknown_algorithm(alg: str) -> None:
    with pytest.raises(S3Error) as ei:
        new_hasher(alg)
    assert ei.value.code == "InvalidRequest"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_decode_checksum(alg: str) -> None:
    raw = bytes(range(digest_length(alg)))
    assert decode_checksum(alg, base64.b64encode(raw).decode()) == raw
    for bad in ("", "!!!!", base64.b64encode(raw + b"x").decode(),
                base64.b64encode(raw[:-1]).decode(), base64.b64encode(raw).decode()[:-2]):
        with pytest.raises(S3Error) as ei:
            decode_checksum(alg, bad)
        assert ei.value.code == "InvalidRequest"
        assert alg.lower() in ei.value.message


def test_parse_content_md5() -> None:
    md5 = hashlib.md5(b"hello").digest()
    assert parse_content_md5(base64.b64encode(md5).decode()) == md5
    for bad in ("", "nope!", base64.b64encode(md5[:15]).decode(), md5.hex()):
        with pytest.raises(S3Error) as ei:
            parse_content_md5(bad)
        assert ei.value.code == "InvalidDigest"


def test_multipart_etag() -> None:
    parts = [b"a" * 10, b"b" * 7, b"c"]
    md5s = [hashlib.md5(p).digest() for p in parts]
    expected = hashlib.md5(b"".join(md5s)).hexdigest()
    assert multipart_etag(md5s) == f'"{expected}-3"'
    # single part: still the md5 of the md5, with -1 (not the plain md5 of the data)
    one = multipart_etag([hashlib.md5(b"x").digest()])
    assert one.endswith('-1"') and one != f'"{hashlib.md5(b"x").hexdigest()}-1"'


def test_multipart_etag_known_value() -> None:
    # two parts of 5 MiB of zeros and one part of a single zero byte
    md5s = [bytes.fromhex("5f363e0e58a95f06cbe9bbc662c5dfb6")] * 2 + [
        bytes.fromhex("93b885adfe0da089cdf634904fd59f71")]
    assert multipart_etag(md5s) == '"c0d402ec58411a8e65a7b2232f5b3e8e-3"'
    assert hashlib.md5(b"\x00" * 5 * 1024 * 1024).digest() == md5s[0]
    assert hashlib.md5(b"\x00").digest() == md5s[2]
