"""Push-style bundle decoder: parts in index order -> AES-128-CBC -> gunzip -> untar -> sink.

Usage (all in one thread; the sink may do blocking I/O)::

    u = Unbundler.for_manifest(manifest, bundle_key.key, bundle_key.iv, sink=blob.write)
    for part in manifest.parts:
        for chunk in read(part.filename):
            u.feed_part(part.index, chunk)
        u.end_part(part.index)
    result = u.finish()  # raises BundleError; only now is the sink's output trustworthy

Memory is bounded by ``Limits.chunk_size`` (plus zlib's and a header's few KiB), whatever
the input. Every failure raises :class:`BundleError` whose ``code`` is one of
failed_download, failed_decrypt, failed_untar, failed_checksum (see ``errors``). An error
found while decoding a part is held until that part's digest has been checked, so a
tampered part is reported as such rather than as the garbage it decodes to.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from objectstore.images.errors import BundleError, Failure
from objectstore.images.manifest import Manifest, Part
from objectstore.images.tarstream import BLOCK, TarReader

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Limits:
    chunk_size: int = 1 << 20  # largest piece handed to the sink / produced by gunzip
    # Tar bytes per gzip byte. Deflate cannot exceed ~1032:1, and disk images full of
    # zeros legitimately come close, so this is a sanity bound: the real bomb guard is that
    # the tar stream may not outgrow what a manifest-``size`` file needs.
    max_ratio: int = 1100
    max_metadata_bytes: int = 64 * 1024  # pax / GNU long-name headers and sparse maps
    max_trailer_bytes: int = 1 << 20  # zeros after the archive's end (GNU pads to 10 KiB)


@dataclass(frozen=True, slots=True)
class UnbundleResult:
    size: int  # image bytes written to the sink (== manifest size)
    tar_digest: str  # hex SHA1 of the whole tar stream
    member_name: str  # the file's name inside the tar
    bundled_size: int


class _Gunzip:
    """gzip (possibly multi-member) -> tar reader, in ``chunk_size`` steps, with limits."""

    def __init__(self, tar: TarReader, limits: Limits, max_out: int) -> None:
        self._tar = tar
        self._chunk = limits.chunk_size
        self._ratio = limits.max_ratio
        self._max_out = max_out
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._more = False
        self.fed = 0
        self.out = 0
        self.sha1 = hashlib.sha1()

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        while True:
            if self._d.eof:
                if not data:
                    return
                if not _GZIP_MAGIC.startswith(data[:2]):
                    raise BundleError(Failure.UNTAR, "the decrypted data has bytes after the "
                                      "end of its gzip stream")
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif not data and not self._more:
                return
            try:
                out = self._d.decompress(data, self._chunk)
            except zlib.error as exc:
                raise BundleError(Failure.UNTAR, "the decrypted data is not a valid gzip "
                                  f"stream ({exc})") from None
            self._more = len(out) == self._chunk
            data = self._d.unused_data if self._d.eof else self._d.unconsumed_tail
            if out:
                self._emit(out)

    def _emit(self, out: bytes) -> None:
        self.out += len(out)
        if self.out > self._max_out:
            raise BundleError(Failure.UNTAR, f"the archive expands beyond {self._max_out} "
                              "bytes, more than the manifest size allows (decompression bomb?)")
        if self.out > self._chunk and self.out > self._ratio * self.fed:
            raise BundleError(Failure.UNTAR, "the gzip stream expands more than "
                              f"{self._ratio}:1 (decompression bomb?)")
        self.sha1.update(out)
        self._tar.feed(out)

    def finish(self) -> None:
        self._more = True
        self.feed(b"")
        if not self._d.eof:
            raise BundleError(Failure.UNTAR, "the gzip stream is truncated")


class _Decrypt:
    """AES-128-CBC with PKCS#7 padding; checks early that the plaintext looks like gzip."""

    def __init__(self, key: bytes, iv: bytes, out: _Gunzip) -> None:
        if len(key) != 16 or len(iv) != 16:
            raise BundleError(Failure.DECRYPT, "the AES-128 key and IV must be 16 bytes each")
        self._dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._unpad = padding.PKCS7(128).unpadder()
        self._out = out
        self._checked = False

    def feed(self, data: bytes) -> None:
        self._pass(self._unpad.update(self._dec.update(data)))

    def finish(self) -> None:
        try:
            last = self._dec.finalize()
        except ValueError:
            raise BundleError(Failure.DECRYPT, "the encrypted data is not a whole number "
                              "of AES blocks") from None
        try:
            tail = self._unpad.update(last) + self._unpad.finalize()
        except ValueError:
            raise BundleError(Failure.DECRYPT, "the decrypted data has invalid PKCS#7 "
                              "padding (wrong key?)") from None
        self._pass(tail)
        if not self._checked:
            raise BundleError(Failure.DECRYPT, "the encrypted data is empty")

    def _pass(self, plain: bytes) -> None:
        if not plain:
            return
        if not self._checked:
            if not plain.startswith(_GZIP_MAGIC):
                raise BundleError(Failure.DECRYPT, "the decrypted data does not start with a "
                                  "gzip header (wrong key or IV)")
            self._checked = True
        self._out.feed(plain)


class Unbundler:
    """Decode a bundle's parts, pushed in index order, into the image bytes."""

    def __init__(self, key: bytes, iv: bytes, parts: Sequence[Part], *, size: int,
                 bundled_size: int, digest: str | None, sink: Callable[[bytes], None],
                 limits: Limits = Limits(), hole: Callable[[int], None] | None = None) -> None:
        self._parts = tuple(parts)
        self._size = size
        self._bundled_size = bundled_size
        self._digest = digest.lower() if digest else None
        self._tar = TarReader(size, sink, chunk_size=limits.chunk_size,
                              max_metadata_bytes=limits.max_metadata_bytes,
                              max_trailer_bytes=limits.max_trailer_bytes, hole=hole)
        max_tar = (-(-size // BLOCK) * BLOCK + 4 * BLOCK + limits.max_metadata_bytes
                   + limits.max_trailer_bytes)
        self._gunzip = _Gunzip(self._tar, limits, max_tar)
        self._decrypt = _Decrypt(key, iv, self._gunzip)
        self._next = 0  # index of the next part to start
        self._open: int | None = None
        self._part_sha1 = hashlib.sha1()
        self._received = 0
        self._held: BundleError | None = None  # decoding error, raised after the digest check
        self._failed: BaseException | None = None

    @classmethod
    def for_manifest(cls, manifest: Manifest, key: bytes, iv: bytes,
                     sink: Callable[[bytes], None], limits: Limits = Limits(),
                     hole: Callable[[int], None] | None = None) -> Unbundler:
        """``hole(n)``: see :class:`TarReader` (holes of sparse members, written sparsely)."""
        return cls(key, iv, manifest.parts, size=manifest.size,
                   bundled_size=manifest.bundled_size, digest=manifest.digest, sink=sink,
                   limits=limits, hole=hole)

    def feed_part(self, index: int, data: bytes) -> None:
        self._guard(self._feed_part, index, data)

    def end_part(self, index: int) -> None:
        self._guard(self._end_part, index)

    def finish(self) -> UnbundleResult:
        self._guard(self._finish)
        return UnbundleResult(self._tar.written, self._gunzip.sha1.hexdigest(),
                              self._tar.member_name or "", self._received)

    # ------------------------------------------------------------

    def _guard(self, step: Callable[..., None], *args: object) -> None:
        if isinstance(self._failed, BundleError):
            raise self._failed
        if self._failed is not None:
            raise RuntimeError("the decoder already failed") from self._failed
        try:
            step(*args)
        except BaseException as exc:
            self._failed = exc
            raise

    def _start(self, index: int) -> None:
        if self._open is not None:
            if index != self._open:
                raise BundleError(Failure.DOWNLOAD, f"part {index} arrived while part "
                                  f"{self._open} was not finished")
            return
        if index != self._next:
            if index >= len(self._parts) or index < 0:
                problem = f"is not in the manifest, which lists {len(self._parts)} parts"
            elif index < self._next:
                problem = "arrived twice"
            else:
                problem = f"arrived before part {self._next}"
            raise BundleError(Failure.DOWNLOAD, f"part {index} {problem}")
        self._open = index
        self._part_sha1 = hashlib.sha1()

    def _feed_part(self, index: int, data: bytes) -> None:
        self._start(index)
        self._received += len(data)
        if self._received > self._bundled_size:
            raise BundleError(Failure.DOWNLOAD, "the parts hold more than the manifest's "
                              f"bundled_size of {self._bundled_size} bytes")
        self._part_sha1.update(data)
        if self._held is None:
            try:
                self._decrypt.feed(data)
            except BundleError as exc:
                self._held = exc

    def _end_part(self, index: int) -> None:
        self._start(index)
        part = self._parts[index]
        if self._part_sha1.hexdigest() != part.digest:
            raise BundleError(Failure.CHECKSUM, f"part {index} ({part.filename}) digest "
                              "differs from the manifest")
        if self._held is not None:
            raise self._held
        self._open = None
        self._next += 1

    def _finish(self) -> None:
        if self._open is not None:
            raise BundleError(Failure.DOWNLOAD, f"part {self._open} was not ended")
        if self._next < len(self._parts):
            part = self._parts[self._next]
            raise BundleError(Failure.DOWNLOAD, f"part {part.index} ({part.filename}) "
                              "is missing")
        if self._received != self._bundled_size:
            raise BundleError(Failure.DOWNLOAD, f"the parts hold {self._received} bytes but "
                              f"the manifest's bundled_size is {self._bundled_size}")
        self._decrypt.finish()
        self._gunzip.finish()
        self._tar.finish()
        if self._digest is not None and self._gunzip.sha1.hexdigest() != self._digest:
            raise BundleError(Failure.CHECKSUM, "the image digest (SHA1 of the tar stream) "
                              "differs from the manifest")
