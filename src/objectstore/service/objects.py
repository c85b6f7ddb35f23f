"""Object use cases shared by PutObject, CopyObject and CompleteMultipartUpload."""

from __future__ import annotations

from typing import Callable

from objectstore.s3.errors import S3Error
from objectstore.service.stores import Stores
from objectstore.storage.meta import NotFound
from objectstore.storage.model import ObjectRecord
from objectstore.storage.writer import Txn


async def publish(stores: Stores, rec: ObjectRecord,
                  check: Callable[[ObjectRecord | None], None] | None = None) -> None:
    """Make ``rec`` (whose blobs are already durable) the current object.

    Blob first, metadata second: if the metadata write fails the new blobs are removed
    and the previous version stays current.
    """
    try:
        await stores.write(stores.meta.put_object_txn(rec, check))
    except BaseException as exc:
        for seg in rec.segments:
            if seg.blob:
                stores.blobs.delete(seg.blob)
        if isinstance(exc, NotFound):
            raise S3Error("NoSuchBucket", BucketName=rec.bucket) from None
        raise


async def publish_txn(stores: Stores, txn: Txn[None], bucket: str) -> None:
    """Run an object-publishing transaction whose blobs stay owned by someone else on failure."""
    try:
        await stores.write(txn)
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket) from None
