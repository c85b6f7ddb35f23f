"""Reading a bundle's stored objects for the image registry (manifest and parts): plain,
inline or SSE-S3/SSE-KMS encrypted, checked block by block; a missing or damaged blob
fails the registration as ``failed_download``."""

from __future__ import annotations

import os
from typing import Iterator

from objectstore.s3 import sse
from objectstore.s3.errors import S3Error
from objectstore.service.sse import open_key
from objectstore.service.stores import Stores
from objectstore.service.unbundle import UnbundleFailed
from objectstore.storage import faults
from objectstore.storage.faults import BlobFault
from objectstore.storage.model import ObjectRecord
from objectstore.storage.sse_read import open_inline, read_blocking

MAX_MANIFEST = 1 << 20
READ_CHUNK = 1 << 20


def read_object(stores: Stores, obj: ObjectRecord) -> Iterator[bytes]:
    """The bytes of a stored object (a bundle part or manifest), decrypted when SSE-S3 or
    SSE-KMS; a missing or damaged blob ends the registration as ``failed_download``."""
    if obj.inline is not None and obj.sse is None:
        yield obj.inline
        return
    if obj.sse is not None:
        yield from _read_encrypted(stores, obj)
        return
    for seg in obj.segments:
        if not seg.size:
            continue
        try:
            fd = stores.blobs.open(seg.blob)
        except FileNotFoundError:
            raise UnbundleFailed("failed_download", "a stored part is gone "
                                 "(overwritten or deleted meanwhile?)") from None
        try:
            sums = stores.blobs.sums(fd, seg.blob, seg.size)
            pos = 0
            while pos < seg.size:
                data = sums.read(fd, pos, min(READ_CHUNK, seg.size - pos))
                pos += len(data)
                yield data
        except BlobFault as fault:
            fault.where = f"{obj.bucket}/{obj.key}"
            faults.report(fault)
            raise UnbundleFailed("failed_download", "a stored part is damaged") from None
        finally:
            os.close(fd)


def _read_encrypted(stores: Stores, obj: ObjectRecord) -> Iterator[bytes]:
    """An SSE-S3 or SSE-KMS object, decrypted (SSE-C ones cannot be: no key here)."""
    if sse.mode_of(obj.sse) == sse.SSE_C:
        raise UnbundleFailed("failed_download", f"{obj.bucket}/{obj.key} is encrypted "
                             "with a customer-provided key (SSE-C)")
    try:
        dk = open_key(stores.meta.keyring, obj.sse, None)
    except S3Error:
        raise UnbundleFailed("failed_download", "the data key of an encrypted part does "
                             "not open") from None
    assert dk is not None
    try:
        if obj.inline is not None:
            yield open_inline(dk.key, obj.inline, f"{obj.bucket}/{obj.key}")
            return
        for piece in read_blocking(stores.blobs, obj.segments, dk.key, 0, obj.size,
                                   f"{obj.bucket}/{obj.key}"):
            yield bytes(piece)
    except BlobFault as fault:
        faults.report(fault)
        raise UnbundleFailed("failed_download", "a stored part is damaged or gone") \
            from None


def read_whole(stores: Stores, obj: ObjectRecord) -> bytes:
    """A manifest, whole (at most MAX_MANIFEST bytes)."""
    if obj.size > MAX_MANIFEST:
        raise UnbundleFailed("failed_download", "the manifest is larger than 1 MiB")
    return b"".join(read_object(stores, obj))
