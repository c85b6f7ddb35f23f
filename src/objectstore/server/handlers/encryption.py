"""Bucket default encryption (Put/Get/DeleteBucketEncryption) and the encryption of each
write and read: which data key a request writes with, which one it reads with."""

from __future__ import annotations

from objectstore.s3 import sse
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    Handler,
    clear_setting,
    empty,
    owned_bucket,
)
from objectstore.server.request import Response, xml_response
from objectstore.service.sse import DataKey, kms_purpose, new_key, open_key
from objectstore.storage.model import Bucket

SSE_S3_DEFAULT = "sse-s3"  # --default-encryption value: every new object SSE-S3


def _check_transport(ctx: Ctx, req: sse.Requested | None) -> None:
    if req is not None and req.customer and ctx.req.scheme != "https" \
            and not ctx.settings.allow_sse_c_over_http:
        raise S3Error("InvalidRequest", sse.INSECURE)


def requested(ctx: Ctx, bucket: Bucket, fields: dict[str, str] | None = None) -> sse.Requested:
    """The encryption a write asks for (in its headers, or a POST's ``fields``), else the
    bucket's default, else the server's."""
    req = sse.requested(ctx.req.headers if fields is None else fields)
    _check_transport(ctx, req)
    if req.mode is None:
        if bucket.encryption:
            return sse.BucketDefault.from_json(bucket.encryption).as_requested()
        if ctx.settings.default_encryption == SSE_S3_DEFAULT:
            return sse.Requested(sse.AES256)
    return req


def write_key(ctx: Ctx, bucket: Bucket, fields: dict[str, str] | None = None
              ) -> DataKey | None:
    """A fresh data key for a new object of ``bucket`` (None: stored in the clear)."""
    req = requested(ctx, bucket, fields)
    if req.mode is None:
        return None
    return new_key(ctx.stores.meta.keyring, req)


def customer(ctx: Ctx, prefix: str = sse.PREFIX) -> sse.Requested | None:
    """The SSE-C key a request carries (checked; refused over plain HTTP)."""
    found = sse.customer_key(ctx.req.headers, prefix)
    _check_transport(ctx, found)
    return found


def read_key(ctx: Ctx, stored: str | None, prefix: str = sse.PREFIX) -> DataKey | None:
    """The data key to read an object (or write a part of an upload) with."""
    if stored is None and not sse.has_customer_headers(ctx.req.headers, prefix):
        return None
    return open_key(ctx.stores.meta.keyring, stored, customer(ctx, prefix))


# ---------------------------------------------------------------- bucket default encryption
async def put_bucket_encryption(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    config = sse.parse_bucket_config(await ctx.req.read_small())
    if config.algorithm == sse.KMS and config.kms_key:
        kms_purpose(ctx.stores.meta.keyring, config.kms_key)  # KMS.NotFoundException
    await ctx.stores.write(ctx.stores.meta.set_bucket_encryption_txn(bucket.name,
                                                                     config.to_json()))
    return empty(200)


async def get_bucket_encryption(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if not bucket.encryption:
        raise S3Error("ServerSideEncryptionConfigurationNotFoundError", BucketName=bucket.name)
    return xml_response(sse.render_bucket_config(sse.BucketDefault.from_json(bucket.encryption)))


async def delete_bucket_encryption(ctx: Ctx) -> Response:
    return await clear_setting(ctx, "encryption")


HANDLERS: dict[str, Handler] = {
    "PutBucketEncryption": put_bucket_encryption,
    "GetBucketEncryption": get_bucket_encryption,
    "DeleteBucketEncryption": delete_bucket_encryption,
}
