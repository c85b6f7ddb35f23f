"""Per-block CRC32C of every blob, kept in a trailer after the blob's data.

A blob file is its data (raw bytes, so reads and memory maps start at offset 0), then one
little-endian CRC32C per BLOCK bytes of data, then a fixed footer: a magic, the data size,
the block size and the CRC32C of the table. The trailer is written with the data, before
the file's fsync and rename, so a blob and its checksums become durable together. Readers
know the data size from the metadata, so the trailer is found with one read at that offset.
Blobs written before checksums existed end right after their data ("old format"): they are
served unverified until `objectstore fsck --repair` adds a trailer.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
from array import array

import crc32c

from objectstore.storage.faults import BlobFault

BLOCK = 1 << 20
MAGIC = b"OSBLKCR1"
FOOTER = struct.Struct("<8sQII")  # magic, data size, block size, crc32c of the table


SCRATCH = 4 << 20  # bytes of each thread's buffer for checking streamed windows
_scratch = threading.local()
_ZEROS = bytes(BLOCK)
_ZERO_BLOCK_CRC = crc32c.crc32c(_ZEROS)


def nblocks(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK


def trailer_size(size: int) -> int:
    return 4 * nblocks(size) + FOOTER.size


class Summer:
    """CRC32C per BLOCK of a stream of writes (called on the writing thread)."""

    __slots__ = ("crcs", "_crc", "_fill")

    def __init__(self) -> None:
        self.crcs = array("I")
        self._crc = 0
        self._fill = 0

    def update(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while len(view):
            take = min(BLOCK - self._fill, len(view))
            self._crc = crc32c.crc32c(view[:take], self._crc)
            self._fill += take
            view = view[take:]
            if self._fill == BLOCK:
                self.crcs.append(self._crc)
                self._crc, self._fill = 0, 0

    def zeros(self, n: int) -> None:
        """Account for ``n`` zero bytes (a hole written by seeking past it)."""
        while n > 0:
            take = min(BLOCK - self._fill, n)
            if take == BLOCK:
                self.crcs.append(_ZERO_BLOCK_CRC)
            else:
                self.update(memoryview(_ZEROS)[:take])
            n -= take

    def trailer(self, size: int) -> bytes:
        crcs = array("I", self.crcs)
        if self._fill:
            crcs.append(self._crc)
        if len(crcs) != nblocks(size):
            raise ValueError("block checksums do not cover the data")
        return encode(crcs, size)


def encode(crcs: array[int], size: int) -> bytes:
    table = _le(crcs).tobytes()
    return table + FOOTER.pack(MAGIC, size, BLOCK, crc32c.crc32c(table))


def decode(raw: bytes, size: int) -> array[int]:
    """The block checksums from a trailer read at offset ``size``; ValueError if damaged."""
    if len(raw) != trailer_size(size):
        raise ValueError("trailer has the wrong length")
    magic, recorded, block, table_crc = FOOTER.unpack_from(raw, len(raw) - FOOTER.size)
    table = raw[:-FOOTER.size]
    if magic != MAGIC or recorded != size or block != BLOCK or \
            crc32c.crc32c(table) != table_crc:
        raise ValueError("trailer is damaged")
    return _le(array("I", table))


def _le(crcs: array[int]) -> array[int]:
    if sys.byteorder == "big":
        crcs = array("I", crcs)
        crcs.byteswap()
    return crcs


def compute(fd: int, size: int) -> array[int]:
    """Block checksums of the first ``size`` bytes of ``fd`` (for blobs without a trailer)."""
    crcs = array("I")
    pos = 0
    while pos < size:
        data = os.pread(fd, min(BLOCK, size - pos), pos)
        if not data:
            raise EOFError("blob shorter than its size")
        crcs.append(crc32c.crc32c(data))
        pos += len(data)
    return crcs


class Sums:
    """The checksums of one blob of ``size`` data bytes; ``crcs`` is None for an
    old-format blob (no trailer: nothing to check against)."""

    __slots__ = ("blob", "size", "crcs")

    def __init__(self, blob: str, size: int, crcs: array[int] | None) -> None:
        self.blob = blob
        self.size = size
        self.crcs = crcs

    @staticmethod
    def load(fd: int, blob: str, size: int) -> Sums:
        """Read the trailer of the blob open as ``fd``; BlobFault if the blob is shorter
        than ``size`` or its trailer is damaged."""
        want = trailer_size(size)
        raw = os.pread(fd, want + 1, size)
        if not raw:
            if os.fstat(fd).st_size < size:
                raise BlobFault("truncated", blob, f"shorter than its {size} bytes")
            return Sums(blob, size, None)
        try:
            return Sums(blob, size, decode(raw, size))
        except ValueError as exc:
            if os.fstat(fd).st_size < size:
                raise BlobFault("truncated", blob, f"shorter than its {size} bytes") from None
            raise BlobFault("corrupt", blob, str(exc)) from None

    def check(self, first_block: int, data: bytes | bytearray | memoryview) -> None:
        """Verify ``data``: whole blocks from ``first_block`` (the last may be the short
        final block of the blob)."""
        if self.crcs is None:
            return
        view = memoryview(data)
        i = first_block
        while len(view):
            n = min(BLOCK, len(view))
            if crc32c.crc32c(view[:n]) != self.crcs[i]:
                raise BlobFault("corrupt", self.blob,
                                f"block {i} (bytes {i * BLOCK}-{i * BLOCK + n - 1}) "
                                "does not match its checksum")
            view = view[n:]
            i += 1

    def check_file(self, fd: int, pos: int, n: int) -> None:
        """Verify ``n`` bytes of the blob at ``pos`` (a block boundary) by reading them into
        this thread's scratch buffer: checking a memory map instead would fault in its pages
        a second time, in this thread, and cost a streamed GET a third of its speed."""
        buf: bytearray | None = getattr(_scratch, "buf", None)
        if buf is None or len(buf) < n:
            buf = _scratch.buf = bytearray(max(n, SCRATCH))
        view = memoryview(buf)[:n]
        if os.preadv(fd, [view], pos) != n:
            raise BlobFault("truncated", self.blob, f"shorter than its {self.size} bytes")
        self._check_evicting(fd, pos, view)

    def verify(self, fd: int, pos: int, data: bytes | bytearray | memoryview) -> None:
        """Check ``data``, just read from ``fd`` at ``pos`` (a block boundary)."""
        self._check_evicting(fd, pos, data)

    def _check_evicting(self, fd: int, pos: int,
                        data: bytes | bytearray | memoryview) -> None:
        """check(), and on damage drop the pages just read from the page cache: a cached
        window is trusted by streamed GETs (objects._windows), so damaged data read by a
        check must not stay there."""
        try:
            self.check(pos // BLOCK, data)
        except BlobFault:
            os.posix_fadvise(fd, pos, len(data), os.POSIX_FADV_DONTNEED)
            raise

    def read(self, fd: int, pos: int, n: int) -> bytes:
        """``n`` data bytes at ``pos``, read as the whole blocks covering them, verified."""
        if n <= 0:
            return b""
        lo = pos - pos % BLOCK if self.crcs is not None else pos
        hi = min(self.size, -(-(pos + n) // BLOCK) * BLOCK) if self.crcs is not None \
            else pos + n
        data = os.pread(fd, hi - lo, lo)
        if len(data) != hi - lo:
            raise BlobFault("truncated", self.blob, f"shorter than its {self.size} bytes")
        self._check_evicting(fd, lo, data)
        return data if (lo, hi) == (pos, pos + n) else data[pos - lo:pos - lo + n]
