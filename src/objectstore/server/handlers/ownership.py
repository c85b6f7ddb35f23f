"""S3 Object Ownership (Put/Get/DeleteBucketOwnershipControls) and Block Public Access
(Put/Get/DeletePublicAccessBlock) of a bucket, and the ACL a write may set under them."""

from __future__ import annotations

from typing import Mapping

from objectstore.s3 import acl as acls
from objectstore.s3 import ownership
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    Handler,
    check_acl,
    clear_setting,
    empty,
    owned_bucket,
)
from objectstore.server.request import Response, xml_response
from objectstore.storage.model import Bucket


def new_object_acl(ctx: Ctx, bucket: Bucket, headers: Mapping[str, str], *,
                   check_ids: bool = True, writer: str | None = None
                   ) -> tuple[str, acls.Acl]:
    """The owner and ACL of an object a request writes into ``bucket`` (PUT, Copy,
    CreateMultipartUpload, POST): the bucket's Object Ownership decides the owner, and an
    ACL the bucket refuses (ACLs disabled, or public while BlockPublicAcls) is an error.
    ``writer``: the writing account (default: the request's; anonymous: the bucket owner)."""
    if writer is None:
        writer = ctx.principal.account_id if ctx.principal else bucket.account_id
    owner = ownership.object_owner(bucket.ownership, bucket.account_id, writer,
                                   headers.get("x-amz-acl"))
    acl = acls.from_headers(headers, owner, bucket.account_id,
                            resolve_email=ctx.stores.meta.emails(),
                            known_ids=ctx.stores.meta.account_names if check_ids else None)
    if acl is None:
        return owner, acls.canned("private", owner)
    check_acl(ctx, bucket, acl, headers.get("x-amz-acl"))
    return owner, acl


# ------------------------------------------------------------------------ ownership controls
async def put_ownership_controls(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    value = ownership.parse_controls(await ctx.req.read_small())
    if value == ownership.ENFORCED and \
            not ownership.only_owner(acls.Acl.from_json(bucket.acl), bucket.account_id):
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    await ctx.stores.write(ctx.stores.meta.set_bucket_ownership_txn(bucket.name, value))
    return empty(200)


async def get_ownership_controls(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if bucket.ownership is None:
        raise S3Error("OwnershipControlsNotFoundError", BucketName=bucket.name)
    return xml_response(ownership.render_controls(bucket.ownership))


async def delete_ownership_controls(ctx: Ctx) -> Response:
    return await clear_setting(ctx, "ownership")


# ---------------------------------------------------------------------- public access block
async def put_public_access_block(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    block = ownership.parse_public_block(await ctx.req.read_small())
    await ctx.stores.write(ctx.stores.meta.set_bucket_public_block_txn(bucket.name,
                                                                       block.to_json()))
    return empty(200)


async def get_public_access_block(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    if bucket.public_block is None:
        raise S3Error("NoSuchPublicAccessBlockConfiguration", BucketName=bucket.name)
    return xml_response(ownership.render_public_block(
        ownership.PublicBlock.from_json(bucket.public_block)))


async def delete_public_access_block(ctx: Ctx) -> Response:
    return await clear_setting(ctx, "public_block")


HANDLERS: dict[str, Handler] = {
    "PutBucketOwnershipControls": put_ownership_controls,
    "GetBucketOwnershipControls": get_ownership_controls,
    "DeleteBucketOwnershipControls": delete_ownership_controls,
    "PutPublicAccessBlock": put_public_access_block,
    "GetPublicAccessBlock": get_public_access_block,
    "DeletePublicAccessBlock": delete_public_access_block,
}
