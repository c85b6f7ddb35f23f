"""Object use cases shared by PutObject, CopyObject and CompleteMultipartUpload."""

from __future__ import annotations

from typing import Callable, TypeVar

from objectstore.s3.errors import S3Error
from objectstore.service.stores import Stores
from objectstore.storage.db import Txn
from objectstore.storage.meta import NotFound, may_have_committed
from objectstore.storage.model import ObjectRecord

T = TypeVar("T")


async def publish(stores: Stores, rec: ObjectRecord,
                  check: Callable[[ObjectRecord | None], None] | None = None,
                  *, shared: ObjectRecord | None = None) -> ObjectRecord:
    """Make ``rec`` (whose blobs are already durable) the current object.

    Blob first, metadata second: if the metadata write fails the new blobs are removed
    and the previous version stays current.
    """
    try:
        return await stores.write(stores.meta.put_object_txn(rec, check, shared=shared))
    except BaseException as exc:
        if shared is not None:  # the blobs are the source's: they stay
            if isinstance(exc, NotFound):
                raise S3Error("NoSuchBucket", BucketName=rec.bucket) from None
            raise
        if may_have_committed(exc):  # the record may point at them: gc decides later
            raise
        for seg in rec.segments:
            if seg.blob:
                stores.blobs.delete(seg.blob)
        if isinstance(exc, NotFound):
            raise S3Error("NoSuchBucket", BucketName=rec.bucket) from None
        raise


async def publish_txn(stores: Stores, txn: Txn[T], bucket: str) -> T:
    """Run an object-publishing transaction whose blobs stay owned by someone else on failure."""
    try:
        return await stores.write(txn)
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket) from None
