"""Service and bucket operations: ListBuckets, Create/Head/Delete, location, versioning."""

from __future__ import annotations

from dataclasses import replace

from objectstore.s3 import acl as acls
from objectstore.s3 import actions, lock, ownership, xml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.s3.listing import decode_token, encode_token, parse_max_keys
from objectstore.s3.names import check_bucket_name, check_location_constraint
from objectstore.server.handlers.common import (
    Ctx,
    authorize,
    authorize_account,
    bucket_or_404,
    empty,
    owned_bucket,
)
from objectstore.server.request import Response, xml_response
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import Bucket, Principal


async def list_buckets(ctx: Ctx) -> Response:
    p = authorize_account(ctx, "*")
    buckets = ctx.stores.meta.list_buckets(p.account_id)
    prefix = ctx.ep.arg("prefix")
    if prefix:
        buckets = [b for b in buckets if b.name.startswith(prefix)]
    region = ctx.ep.arg("bucket-region")
    if region:
        buckets = [b for b in buckets if b.region == region]
    token = ctx.ep.arg("continuation-token")
    if token:
        after = decode_token(token)
        buckets = [b for b in buckets if b.name > after]
    limit = parse_max_keys(ctx.ep.arg("max-buckets"), "max-buckets", 10000)
    next_token = None
    if "max-buckets" in {k for k, _ in ctx.ep.query} and len(buckets) > limit:
        buckets = buckets[:limit]
        next_token = encode_token(buckets[-1].name) if buckets else None
    body = xml.list_buckets(p.account_id, p.account_name,
                            ((b.name, iso8601(b.created), b.region) for b in buckets),
                            continuation_token=next_token, prefix=prefix)
    return xml_response(body)


AWS_DEFAULTS = "aws"  # --bucket-defaults value: new buckets as Amazon S3 makes them


async def create_bucket(ctx: Ctx) -> Response:
    p = authorize_account(ctx, actions.bucket_arn(ctx.bucket_name))
    name = ctx.bucket_name
    check_bucket_name(name)
    body = await ctx.req.read_small()
    constraint = xml.parse_create_bucket(body)
    if constraint is not None:
        check_location_constraint(constraint, ctx.settings.region)
    region = constraint or ctx.settings.region
    acl = acls.from_headers(ctx.req.headers, p.account_id,
                            resolve_email=ctx.stores.meta.emails(),
                            known_ids=ctx.stores.meta.account_names)
    if acl is None:
        acl = acls.canned("private", p.account_id)
    owned = ctx.req.headers.get(ownership.HEADER)
    owned = ownership.header_value(owned) if owned is not None else None
    block = None
    if ctx.settings.bucket_defaults == AWS_DEFAULTS:  # Amazon S3's defaults since 2023
        owned = owned or ownership.ENFORCED
        block = ownership.PublicBlock(True, True, True, True)
    if owned == ownership.ENFORCED and not ownership.only_owner(acl, p.account_id):
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    if ownership.is_public(acl) and (block is not None or _account_blocks_acls(ctx, p)):
        raise S3Error("AccessDenied")
    bucket = Bucket(name, p.account_id, ctx.now(), region, acl.to_json(), ownership=owned,
                    public_block=block.to_json() if block is not None else None)
    if lock.bucket_header(ctx.req.headers):  # Object Lock: versioning Enabled for good
        bucket = replace(bucket, versioning="Enabled", object_lock=lock.LockConfig().to_json())
    try:
        await ctx.stores.write(ctx.stores.meta.create_bucket_txn(bucket))
    except Conflict as exc:
        if exc.reason != "owned":
            raise S3Error("BucketAlreadyExists", BucketName=name) from None
        current = ctx.stores.meta.get_bucket(name)
        if current is None or ctx.settings.region != "us-east-1" or region != current.region:
            raise S3Error("BucketAlreadyOwnedByYou", BucketName=name) from None
        if acls.Acl.from_json(current.acl) != acl:
            # us-east-1 answers an owner's re-create with 200, unless it asks for other grants
            raise S3Error("BucketAlreadyExists", BucketName=name) from None
    return empty(200, [("Location", f"/{name}")])


def _account_blocks_acls(ctx: Ctx, p: Principal) -> bool:
    """The creating account's account-wide BlockPublicAcls."""
    stored = ctx.stores.meta.account_public_block(p.account_id)
    return stored is not None and ownership.PublicBlock.from_json(stored).block_public_acls


async def head_bucket(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    return empty(200, [("x-amz-bucket-region", bucket.region)])


async def delete_bucket(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    try:
        await ctx.stores.write(ctx.stores.meta.delete_bucket_txn(bucket.name))
    except Conflict:
        raise S3Error("BucketNotEmpty", BucketName=bucket.name) from None
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket.name) from None
    return empty(204)


async def get_bucket_location(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    return xml_response(xml.location(bucket.region))


async def get_bucket_versioning(ctx: Ctx) -> Response:
    owned_bucket(ctx)
    return xml_response(xml.versioning(None))
