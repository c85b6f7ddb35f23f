"""The bundler (the user's side): image file -> tar -> gzip -> AES-128-CBC -> parts + manifest.

The stages are pure (:func:`tar_stream`, :class:`BundleEncoder`, :func:`part_names`);
:func:`make_bundle` wires them to files in an output directory on the user's machine.
Output follows ec2-ami-tools: one tar member owned by 0/0, parts of 10 MiB named
``<prefix>.part.<i>`` with ``i`` zero-padded to the digit count of the part total, and a
manifest ``<prefix>.manifest.xml`` in the standard element order.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from objectstore.images.keys import rsa_public_key, wrap_key
from objectstore.images.manifest import Manifest, Part, parse_manifest, render_manifest
from objectstore.images.signature import sign

DEFAULT_PART_SIZE = 10 * 1024 * 1024
READ_SIZE = 1 << 20
_BLOCK = 512
_RECORD = 20 * _BLOCK  # GNU tar's default blocking factor


# ---------------------------------------------------------------- tar

def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    n = len(body)
    while len(str(n).encode()) + len(body) != n:
        n = len(str(n).encode()) + len(body)
    return str(n).encode() + body


def _ustar(name: bytes, size: int, mtime: int, typeflag: bytes, mode: int) -> bytes:
    h = bytearray(_BLOCK)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"%07o\0" % 0  # uid
    h[116:124] = b"%07o\0" % 0  # gid
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % max(0, min(mtime, 0o77777777777))
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[265:269] = b"root"  # uname
    h[297:301] = b"root"  # gname
    h[329:337] = b"%07o\0" % 0
    h[337:345] = b"%07o\0" % 0
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _padding(n: int) -> bytes:
    return bytes(-n % _BLOCK)


def tar_header(name: str, size: int, *, mtime: int, mode: int = 0o644) -> bytes:
    """Header block(s) of a regular file owned by 0/0 (a pax header when the name is longer
    than 100 bytes or the size needs more than 11 octal digits)."""
    raw = name.encode("utf-8")
    if not raw or "/" in name or name in (".", ".."):
        raise ValueError(f"image name {name!r} must be a plain file name")
    records = b""
    if len(raw) > 100:
        records += _pax_record("path", name)
    if size > 0o77777777777:
        records += _pax_record("size", str(size))
    head = b""
    if records:
        head = _ustar(b"PaxHeader/" + raw[:90], len(records), mtime, b"x", 0o644)
        head += records + _padding(len(records))
    return head + _ustar(raw[:100], size if size <= 0o77777777777 else 0, mtime, b"0", mode)


def tar_stream(chunks: Iterable[bytes], name: str, size: int, *,
               mtime: int = 0) -> Iterator[bytes]:
    """The tar archive holding one file of ``size`` bytes read from ``chunks``."""
    header = tar_header(name, size, mtime=mtime)
    yield header
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise ValueError(f"the image grew while being read (more than {size} bytes)")
        if chunk:
            yield chunk
    if seen != size:
        raise ValueError(f"the image shrank while being read ({seen} of {size} bytes)")
    total = len(header) + size + len(_padding(size)) + 2 * _BLOCK
    yield _padding(size) + bytes(2 * _BLOCK + (-total % _RECORD))


# ---------------------------------------------------------------- encoding

@dataclass(frozen=True, slots=True)
class EncodedBundle:
    tar_digest: str  # hex SHA1 of the tar stream
    part_digests: tuple[str, ...]  # hex SHA1 of each encrypted part
    part_sizes: tuple[int, ...]

    @property
    def bundled_size(self) -> int:
        return sum(self.part_sizes)


class BundleEncoder:
    """tar bytes in; encrypted part bytes out through ``sink(part_index, data)``."""

    def __init__(self, key: bytes, iv: bytes, sink: Callable[[int, bytes], None], *,
                 part_size: int = DEFAULT_PART_SIZE, compresslevel: int = 6) -> None:
        if part_size < 1:
            raise ValueError("part size must be positive")
        self._sink = sink
        self._part_size = part_size
        self._tar_sha1 = hashlib.sha1()
        self._gzip = zlib.compressobj(compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        self._pad = padding.PKCS7(128).padder()
        self._index = 0
        self._fill = 0
        self._part_sha1 = hashlib.sha1()
        self._digests: list[str] = []
        self._sizes: list[int] = []

    def write(self, tar_bytes: bytes) -> None:
        self._tar_sha1.update(tar_bytes)
        self._encrypt(self._gzip.compress(tar_bytes))

    def close(self) -> EncodedBundle:
        self._encrypt(self._gzip.flush())
        self._split(self._enc.update(self._pad.finalize()) + self._enc.finalize())
        if self._fill:
            self._end_part()
        return EncodedBundle(self._tar_sha1.hexdigest(), tuple(self._digests),
                             tuple(self._sizes))

    def _encrypt(self, gz: bytes) -> None:
        if gz:
            self._split(self._enc.update(self._pad.update(gz)))

    def _split(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = min(len(view), self._part_size - self._fill)
            piece = bytes(view[:n])
            view = view[n:]
            self._part_sha1.update(piece)
            self._fill += n
            self._sink(self._index, piece)
            if self._fill == self._part_size:
                self._end_part()

    def _end_part(self) -> None:
        self._digests.append(self._part_sha1.hexdigest())
        self._sizes.append(self._fill)
        self._index += 1
        self._fill = 0
        self._part_sha1 = hashlib.sha1()


def part_names(prefix: str, count: int) -> list[str]:
    """``<prefix>.part.<i>``, ``i`` zero-padded to the digit count of ``count`` (as AWS)."""
    width = len(str(count))
    return [f"{prefix}.part.{i:0{width}d}" for i in range(count)]


def image_type_for(kernel: str | None, ramdisk: str | None) -> str:
    if kernel == "true" and ramdisk == "true":
        raise ValueError("an image cannot be both a kernel and a ramdisk")
    return "kernel" if kernel == "true" else "ramdisk" if ramdisk == "true" else "machine"


# ---------------------------------------------------------------- files

@dataclass(frozen=True, slots=True)
class BundleResult:
    manifest_path: Path
    part_paths: tuple[Path, ...]
    manifest: Manifest  # parsed back from what was written


def make_bundle(image: BinaryIO, image_name: str, out_dir: Path, *,
                cloud_cert: x509.Certificate,
                user_key: rsa.RSAPrivateKey | None = None,
                user_cert: x509.Certificate | None = None,
                user: str = "", prefix: str | None = None,
                kernel: str | None = None, ramdisk: str | None = None,
                arch: str = "x86_64", part_size: int = DEFAULT_PART_SIZE,
                block_device_mapping: Sequence[tuple[str, str]] = (),
                product_codes: Sequence[str] = (),
                size: int | None = None, mtime: int | None = None,
                bundler: tuple[str, str, str] = ("objectstore", "1.0", "0"),
                progress: Callable[[int], None] | None = None) -> BundleResult:
    """Bundle ``image`` (read from its current position) into ``out_dir``.

    ``image_name`` names the tar member and the manifest's image; ``prefix`` (default
    ``image_name``) names the files. Without ``user_key`` the manifest is unsigned; without
    ``user_cert`` it carries no user_encrypted_key/iv. ``progress`` gets bytes read so far.
    """
    prefix = prefix or image_name
    if not prefix or "/" in prefix or prefix in (".", ".."):
        raise ValueError(f"prefix {prefix!r} must be a plain file name")
    image_type = image_type_for(kernel, ramdisk)
    if user_key is not None and user_cert is not None and (
            rsa_public_key(user_cert).public_numbers() != user_key.public_key().public_numbers()):
        raise ValueError("the user key does not match the user certificate")
    if size is None:
        start = image.tell()
        size = image.seek(0, os.SEEK_END) - start
        image.seek(start)
    key, iv = secrets.token_bytes(16), secrets.token_bytes(16)
    written: list[Path] = []
    current: list[BinaryIO] = []

    def sink(index: int, data: bytes) -> None:
        if len(written) <= index:
            if current:
                current.pop().close()
            written.append(out_dir / f"{prefix}.part.{index}")
            current.append(written[-1].open("wb"))
        current[0].write(data)

    try:
        encoder = BundleEncoder(key, iv, sink, part_size=part_size)
        chunks = _read(image, progress)
        for tar_bytes in tar_stream(chunks, image_name, size,
                                    mtime=int(time.time()) if mtime is None else mtime):
            encoder.write(tar_bytes)
        encoded = encoder.close()
        if current:
            current.pop().close()
        names = part_names(prefix, len(encoded.part_digests))
        for i, name in enumerate(names):
            if written[i].name != name:
                written[i] = written[i].rename(out_dir / name)
        manifest = Manifest(
            name=image_name, user=user, image_type=image_type, architecture=arch,
            kernel_id=kernel, ramdisk_id=ramdisk, digest=encoded.tar_digest, size=size,
            bundled_size=encoded.bundled_size,
            ec2_encrypted_key=wrap_key(key, cloud_cert), ec2_encrypted_iv=wrap_key(iv, cloud_cert),
            user_encrypted_key=None if user_cert is None else wrap_key(key, user_cert),
            user_encrypted_iv=None if user_cert is None else wrap_key(iv, user_cert),
            parts=tuple(Part(i, n, d) for i, (n, d) in
                        enumerate(zip(names, encoded.part_digests, strict=True))),
            block_device_mapping=tuple(block_device_mapping),
            product_codes=tuple(product_codes), bundler=bundler)
        signer = None if user_key is None else (lambda data: sign(data, user_key))
        xml = render_manifest(manifest, signer)
        manifest_path = out_dir / f"{prefix}.manifest.xml"
        manifest_path.write_bytes(xml)
    except BaseException:
        for f in current:
            f.close()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return BundleResult(manifest_path, tuple(written), parse_manifest(xml))


def _read(image: BinaryIO, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    done = 0
    while chunk := image.read(READ_SIZE):
        done += len(chunk)
        if progress is not None:
            progress(done)
        yield chunk
