"""GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl."""

from __future__ import annotations

from objectstore.s3 import acl as acls
from objectstore.s3 import ownership, xml
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    account_names,
    authorize,
    bucket_or_404,
    check_acl,
    empty,
    object_version_or_404,
    subresource_version_headers,
    which_version,
)
from objectstore.server.request import Response, xml_response
from objectstore.service import access


async def _requested_acl(ctx: Ctx, owner: str, bucket_owner: str) -> acls.Acl:
    emails = ctx.stores.meta.emails()
    from_headers = acls.from_headers(ctx.req.headers, owner, bucket_owner, resolve_email=emails,
                                     known_ids=ctx.stores.meta.account_names)
    body = await ctx.req.read_small()
    if from_headers is not None:
        if body.strip():
            raise S3Error("UnexpectedContent")
        return from_headers
    if not body.strip():
        raise S3Error("MissingSecurityHeader", MissingHeaderName="x-amz-acl")
    acl = xml.parse_acl(body, emails)
    if acl.owner != owner:
        raise S3Error("AccessDenied")
    known = account_names(ctx)
    for g in acl.grants:
        if g.kind == "CanonicalUser" and g.value not in known:
            raise S3Error("InvalidArgument", "Invalid id", ArgumentName="CanonicalUser/ID",
                          ArgumentValue=g.value)
    return acl


async def get_bucket_acl(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    return xml_response(xml.acl_policy(acls.Acl.from_json(bucket.acl), account_names(ctx)))


async def put_bucket_acl(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    acl = await _requested_acl(ctx, bucket.account_id, bucket.account_id)
    check_acl(ctx, bucket, acl, ctx.req.headers.get("x-amz-acl"))
    await ctx.stores.write(ctx.stores.meta.set_bucket_acl_txn(bucket.name, acl.to_json()))
    return empty()


async def get_object_acl(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    obj = object_version_or_404(ctx, bucket)
    authorize(ctx, bucket, obj)
    acl = acls.Acl.from_json(obj.acl)
    if bucket.ownership == ownership.ENFORCED:  # ACLs disabled: the bucket owner's control
        acl = acls.canned("private", bucket.account_id)
    return xml_response(xml.acl_policy(acl, account_names(ctx)),
                        headers=subresource_version_headers(ctx, bucket, obj))


async def put_object_acl(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    obj = object_version_or_404(ctx, bucket)
    authorize(ctx, bucket, obj)
    acl = await _requested_acl(ctx, access.object_owner(bucket, obj), bucket.account_id)
    check_acl(ctx, bucket, acl, ctx.req.headers.get("x-amz-acl"))
    await ctx.stores.write(ctx.stores.meta.set_object_acl_txn(bucket.name, obj.key,
                                                              acl.to_json(), which_version(ctx)))
    return empty(headers=subresource_version_headers(ctx, bucket, obj))
