"""Helpers for the image-bundle unit tests: keys, certificates, hand-made bundles."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from objectstore.images.bundle import BundleEncoder
from objectstore.images.manifest import Part
from objectstore.images.pipeline import Limits, Unbundler, UnbundleResult


def _shared() -> Path:
    # CI puts shared/ beside the repository; OBJECTSTORE_SHARED overrides.
    env = os.environ.get("OBJECTSTORE_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[3].parent / "shared", Path("/work/shared")]
    for path in candidates:
        if (path / "fixtures").is_dir():
            return path
    raise FileNotFoundError(f"shared/ test data not found in {candidates}")


SHARED = _shared()
EUCA = SHARED / "fixtures" / "ec2-bundle-euca-1.2"
DATA = Path(__file__).resolve().parent / "data"
KEY = bytes(range(16))
IV = bytes(range(16, 32))


def make_cert(key: rsa.RSAPrivateKey, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
           linkname: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.REGTYPE, tarfile.AREGTYPE):
        info.size = len(data)
        return info, data
    return info, None


def encrypt_tar(tar: bytes, part_size: int = 4096) -> tuple[list[Part], list[bytes]]:
    """gzip + encrypt + split the tar stream with KEY/IV (the bundler's own stages)."""
    data: list[bytearray] = []

    def sink(index: int, chunk: bytes) -> None:
        if len(data) <= index:
            data.append(bytearray())
        data[index] += chunk

    encoder = BundleEncoder(KEY, IV, sink, part_size=part_size)
    encoder.write(tar)
    encoded = encoder.close()
    parts = [Part(i, f"img.part.{i}", d) for i, d in enumerate(encoded.part_digests)]
    return parts, [bytes(d) for d in data]


def encrypt_gz(gz: bytes, part_size: int = 1 << 20) -> tuple[list[Part], list[bytes]]:
    """Encrypt an already-compressed stream (for hand-made gzip bombs) and split it."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(KEY), modes.CBC(IV)).encryptor()
    ct = enc.update(padder.update(gz) + padder.finalize()) + enc.finalize()
    chunks = [ct[i:i + part_size] for i in range(0, len(ct), part_size)]
    parts = [Part(i, f"img.part.{i}", hashlib.sha1(c).hexdigest()) for i, c in enumerate(chunks)]
    return parts, chunks


def zeros_gzip(prefix: bytes, zero_mib: int) -> bytes:
    """gzip of ``prefix`` + ``zero_mib`` MiB of zeros, built in milliseconds: the zeros are
    one independently-compressed 1 MiB deflate block repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    mib = bytes(1 << 20)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    crc = zlib.crc32(prefix)
    for _ in range(zero_mib):
        crc = zlib.crc32(mib, crc)
    size = (len(prefix) + (zero_mib << 20)) & 0xFFFFFFFF
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + block * zero_mib + tail
            + crc.to_bytes(4, "little") + size.to_bytes(4, "little"))


def decode(parts: Sequence[Part], data: Sequence[bytes], *, size: int,
           digest: str | None = None, bundled_size: int | None = None,
           key: bytes = KEY, iv: bytes = IV, limits: Limits = Limits(),
           chunk: int = 65536) -> tuple[bytes, UnbundleResult]:
    out = bytearray()
    u = Unbundler(key, iv, parts, size=size, digest=digest,
                  bundled_size=sum(map(len, data)) if bundled_size is None else bundled_size,
                  sink=out.extend, limits=limits)
    for part, blob in zip(parts, data, strict=True):
        for i in range(0, len(blob), chunk):
            u.feed_part(part.index, blob[i:i + chunk])
        u.end_part(part.index)
    result = u.finish()
    return bytes(out), result


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
