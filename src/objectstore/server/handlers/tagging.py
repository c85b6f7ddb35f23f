"""Object and bucket tagging: Put/Get/Delete ObjectTagging and BucketTagging."""

from __future__ import annotations

from objectstore.s3 import tagging
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    authorize,
    bucket_or_404,
    empty,
    object_version_or_404,
    owned_bucket,
    subresource_version_headers,
    which_version,
)
from objectstore.server.request import Response, xml_response
from objectstore.storage.meta import NotFound


async def get_object_tagging(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    obj = object_version_or_404(ctx, bucket)
    authorize(ctx, bucket, obj)
    return xml_response(tagging.render(obj.tags),
                        headers=subresource_version_headers(ctx, bucket, obj))


async def _set_object_tags(ctx: Ctx, tags: tagging.Tags, status: int) -> Response:
    bucket = bucket_or_404(ctx)
    obj = object_version_or_404(ctx, bucket)
    authorize(ctx, bucket, obj)
    try:
        await ctx.stores.write(ctx.stores.meta.set_object_tags_txn(
            bucket.name, obj.key, tags, which_version(ctx)))
    except NotFound:
        raise S3Error("NoSuchKey", Key=obj.key) from None
    return empty(status, subresource_version_headers(ctx, bucket, obj))


async def put_object_tagging(ctx: Ctx) -> Response:
    tags = tagging.parse_document(await ctx.req.read_small())
    return await _set_object_tags(ctx, tags, 200)


async def delete_object_tagging(ctx: Ctx) -> Response:
    return await _set_object_tags(ctx, (), 204)


async def get_bucket_tagging(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if not bucket.tags:
        raise S3Error("NoSuchTagSet", BucketName=bucket.name)
    return xml_response(tagging.render(bucket.tags))


async def _set_bucket_tags(ctx: Ctx, tags: tagging.Tags, status: int) -> Response:
    bucket = owned_bucket(ctx)
    await ctx.stores.write(ctx.stores.meta.set_bucket_tags_txn(bucket.name, tags))
    return empty(status)


async def put_bucket_tagging(ctx: Ctx) -> Response:
    tags = tagging.parse_document(await ctx.req.read_small(), tagging.MAX_BUCKET_TAGS)
    return await _set_bucket_tags(ctx, tags, 204)


async def delete_bucket_tagging(ctx: Ctx) -> Response:
    return await _set_bucket_tags(ctx, (), 204)


HANDLERS = {
    "GetObjectTagging": get_object_tagging,
    "PutObjectTagging": put_object_tagging,
    "DeleteObjectTagging": delete_object_tagging,
    "GetBucketTagging": get_bucket_tagging,
    "PutBucketTagging": put_bucket_tagging,
    "DeleteBucketTagging": delete_bucket_tagging,
}
