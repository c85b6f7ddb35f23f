"""Bucket lifecycle: Put/Get/DeleteBucketLifecycle(Configuration) and the x-amz-expiration
header of objects a rule will expire. The legacy PutBucketLifecycle/GetBucketLifecycle use
the same ?lifecycle sub-resource and document (a rule's top-level Prefix), so one handler
serves both."""

from __future__ import annotations

from objectstore.s3 import checksums, lifecycle, lifecycle_xml
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx, empty, owned_bucket
from objectstore.server.request import Response, xml_response
from objectstore.storage.model import Bucket, ObjectRecord

MIN_SIZE_HEADER = "x-amz-transition-default-minimum-object-size"


async def put_bucket_lifecycle(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    body = await ctx.req.read_small()
    checksums.check_small_body(ctx.req.headers, body)
    config = lifecycle_xml.parse_config(body, ctx.header(MIN_SIZE_HEADER))
    await ctx.stores.write(ctx.stores.meta.set_bucket_lifecycle_txn(
        bucket.name, lifecycle.to_json(config)))
    return empty(200, [(MIN_SIZE_HEADER, config.min_size)])



async def get_bucket_lifecycle(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    config = lifecycle.from_json(bucket.lifecycle)
    if config is None:
        raise S3Error("NoSuchLifecycleConfiguration", BucketName=bucket.name)
    return xml_response(lifecycle_xml.render(config), headers=[(MIN_SIZE_HEADER, config.min_size)])


async def delete_bucket_lifecycle(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if bucket.lifecycle is not None:
        await ctx.stores.write(ctx.stores.meta.set_bucket_lifecycle_txn(bucket.name, None))
    return empty(204)


def expiration_headers(bucket: Bucket, obj: ObjectRecord) -> list[tuple[str, str]]:
    """x-amz-expiration for an object a rule will expire ([] when the bucket has no
    configuration: one attribute test is all an unconfigured bucket pays)."""
    if bucket.lifecycle is None:
        return []
    value = lifecycle.expiration_header(bucket.lifecycle, obj.key, obj.size, obj.tags,
                                        obj.last_modified)
    return [("x-amz-expiration", value)] if value else []


HANDLERS = {
    "PutBucketLifecycleConfiguration": put_bucket_lifecycle,
    "GetBucketLifecycleConfiguration": get_bucket_lifecycle,
    "DeleteBucketLifecycle": delete_bucket_lifecycle,
    # The deprecated operations are the same requests (routing names them as above).
    "PutBucketLifecycle": put_bucket_lifecycle,
    "GetBucketLifecycle": get_bucket_lifecycle,
}
