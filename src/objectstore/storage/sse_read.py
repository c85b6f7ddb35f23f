"""Reading encrypted blobs: only the segments a read needs are read and decrypted
(blocking; the async GET stream in server/handlers/encrypted.py runs these windows in
worker threads).

A read is cut into windows of up to WINDOW plaintext bytes (whole segments of one blob),
each read with one pread and decrypted into one buffer. A segment that does not
authenticate (a flipped bit on disk) raises BlobFault("corrupt"): never returned as data.
The blocksums trailer is not needed here (GCM authenticates every byte); scrub still checks
it without any key.
"""

from __future__ import annotations

import functools
import os
from typing import Callable, Iterator

from objectstore.storage import crypto
from objectstore.storage.faults import BlobFault
from objectstore.storage.localfs import BlobStore
from objectstore.storage.model import Segment

WINDOW = 64 * crypto.SEGMENT  # 4 MiB of plaintext per read and decrypt
LOOP_READ = 2 * crypto.SEGMENT  # reads up to this size decrypt on the loop (no hand-off)


def _window(fd: int, blob: str, aead: object, plain_size: int, pos: int, n: int
            ) -> bytes | memoryview:
    """``n`` plaintext bytes at ``pos`` of the blob open as ``fd`` (blocking)."""
    first, count, at, stored = crypto.span(plain_size, pos, n)
    data = os.pread(fd, stored, at)
    if len(data) != stored:
        raise BlobFault("truncated", blob, f"shorter than its {crypto.stored_size(plain_size)} "
                        "encrypted bytes")
    try:
        plain = crypto.decrypt_segments(aead, first, data)  # type: ignore[arg-type]
    except crypto.Tampered as exc:
        os.posix_fadvise(fd, at, stored, os.POSIX_FADV_DONTNEED)
        raise BlobFault("corrupt", blob, f"encrypted segment {exc.index} does not "
                        "authenticate") from None
    skip = pos - first * crypto.SEGMENT
    return memoryview(plain) if skip == 0 and len(plain) == n \
        else memoryview(plain)[skip:skip + n]


def open_inline(data_key: bytes, stored: bytes, where: str) -> bytes:
    """The plaintext of an encrypted object kept inline in its metadata row."""
    try:
        return bytes(crypto.decrypt_segments(crypto.blob_cipher(data_key, crypto.INLINE_ID), 0,
                                             stored))
    except crypto.Tampered as exc:
        fault = BlobFault("corrupt", "", f"inline encrypted segment {exc.index} does not "
                          "authenticate")
        fault.where = where
        raise fault from None


def windows(fds: list[int], segments: tuple[Segment, ...], data_key: bytes, start: int,
            length: int) -> Iterator[Callable[[], bytes | memoryview]]:
    """The blocking reads of ``length`` plaintext bytes from ``start`` of the object whose
    (open) blobs are ``fds``, one callable per window."""
    offset = 0
    remaining = length
    for fd, seg in zip(fds, segments, strict=True):
        if remaining <= 0:
            break
        if start >= offset + seg.size or seg.size == 0:
            offset += seg.size
            continue
        aead = crypto.blob_cipher(data_key, seg.blob)
        pos = max(0, start - offset)
        while remaining > 0 and pos < seg.size:
            n = min(WINDOW - pos % crypto.SEGMENT, remaining, seg.size - pos)
            yield functools.partial(_window, fd, seg.blob, aead, seg.size, pos, n)
            pos += n
            remaining -= n
        offset += seg.size


def read_all(fds: list[int], segments: tuple[Segment, ...], data_key: bytes,
             start: int, length: int, where: str) -> bytes:
    """A small range at once (closes fds)."""
    try:
        return b"".join(w() for w in windows(fds, segments, data_key, start, length))
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        close(fds)


def read_blocking(blobs: BlobStore, segments: tuple[Segment, ...], data_key: bytes,
                  start: int, length: int, where: str) -> Iterator[bytes | memoryview]:
    """Plaintext pieces of a range, for copies (opens and closes the blobs itself)."""
    fds: list[int] = []
    try:
        for seg in segments:
            fds.append(blobs.open(seg.blob) if seg.size else -1)
    except FileNotFoundError:
        close(fds)
        fault = BlobFault("missing", "")
        fault.where = where
        raise fault from None
    try:
        for w in windows(fds, segments, data_key, start, length):
            yield w()
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        close(fds)


def close(fds: list[int]) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)
