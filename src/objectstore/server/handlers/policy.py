"""Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus."""

from __future__ import annotations

from objectstore.s3 import ownership, xml
from objectstore.s3 import policy as pol
from objectstore.s3.acl import Acl
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx, Handler, empty, owned_bucket
from objectstore.server.request import Response, xml_response
from objectstore.service import access
from objectstore.storage.model import Bucket


def _policy_bucket(ctx: Ctx) -> Bucket:
    """The bucket, for Get/Put/DeleteBucketPolicy: allowed callers outside the bucket
    owner's account get 405 MethodNotAllowed, as S3 documents for these operations."""
    bucket = owned_bucket(ctx)
    p = ctx.principal
    if p is not None and not p.is_admin and p.account_id != bucket.account_id:
        raise S3Error("MethodNotAllowed", Method=ctx.req.method, ResourceType="BUCKET")
    return bucket


async def put_bucket_policy(ctx: Ctx) -> Response:
    """Validated as S3 validates (MalformedPolicy); a public policy is refused with 403
    AccessDenied while BlockPublicPolicy (the bucket's or its account's) is on."""
    bucket = _policy_bucket(ctx)
    body = await ctx.req.read_small()  # at most 2 MiB; the parser applies S3's 20 KB rule
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise S3Error("MalformedPolicy", "Policies must be valid JSON and the first byte "
                      "must be '{'") from None
    parsed = pol.parse_bucket_policy(text, bucket.name)
    if parsed.public and access.blocks_public_policy(bucket,
                                                     ctx.stores.meta.account_public_block):
        raise S3Error("AccessDenied")
    await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn("policy", bucket.name, text))
    return empty(204)


async def get_bucket_policy(ctx: Ctx) -> Response:
    bucket = _policy_bucket(ctx)
    if bucket.policy is None:
        raise S3Error("NoSuchBucketPolicy", BucketName=bucket.name)
    return Response(200, [("Content-Type", "application/json")], bucket.policy.encode())


async def delete_bucket_policy(ctx: Ctx) -> Response:
    bucket = _policy_bucket(ctx)
    await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn("policy", bucket.name, None))
    return empty(204)


def is_public(ctx: Ctx, bucket: Bucket) -> bool:
    """IsPublic: the bucket policy grants public access (S3's rules, Policy.public), or
    the bucket's ACL grants AllUsers / AuthenticatedUsers while public ACLs count."""
    if bucket.policy is not None:
        parsed = access.bucket_policy(bucket.name, bucket.policy)
        if parsed is not None and parsed.public:
            return True
    block = access.effective_block(bucket, ctx.stores.meta.account_public_block)
    return bucket.ownership != ownership.ENFORCED and not block.ignore_public_acls and \
        ownership.is_public(Acl.from_json(bucket.acl))


async def get_bucket_policy_status(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    public = "true" if is_public(ctx, bucket) else "false"
    return xml_response(xml.doc("PolicyStatus", xml.el("IsPublic", public)))


HANDLERS: dict[str, Handler] = {
    "PutBucketPolicy": put_bucket_policy,
    "GetBucketPolicy": get_bucket_policy,
    "DeleteBucketPolicy": delete_bucket_policy,
    "GetBucketPolicyStatus": get_bucket_policy_status,
}
