"""Bucket website configuration: Put/Get/DeleteBucketWebsite (the bucket owner's)."""

from __future__ import annotations

from objectstore.s3 import website
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx, Handler, clear_setting, empty, owned_bucket
from objectstore.server.request import Response, xml_response


async def put_bucket_website(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    config = website.parse_config(await ctx.req.read_small())
    await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn(
        "website", bucket.name, website.to_json(config)))
    return empty()


async def get_bucket_website(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if not bucket.website:
        raise S3Error("NoSuchWebsiteConfiguration", BucketName=bucket.name)
    return xml_response(website.render(website.from_json(bucket.website)))


async def delete_bucket_website(ctx: Ctx) -> Response:
    return await clear_setting(ctx, "website")


HANDLERS: dict[str, Handler] = {
    "PutBucketWebsite": put_bucket_website,
    "GetBucketWebsite": get_bucket_website,
    "DeleteBucketWebsite": delete_bucket_website,
}
