"""What every handler gets (Ctx) and the lookups they share."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Awaitable, Callable

from objectstore.config import Settings
from objectstore.s3 import actions, conditions, identity, versioning
from objectstore.s3.acl import Acl
from objectstore.s3.actions import Need
from objectstore.s3.errors import S3Error
from objectstore.s3.http import http_date
from objectstore.s3.routing import Endpoint, Query
from objectstore.server.auth import Auth
from objectstore.server.request import Request, Response
from objectstore.service import access
from objectstore.service.registry import Registry
from objectstore.service.stores import Stores
from objectstore.storage.model import Bucket, ObjectRecord, Principal, Upload
from objectstore.storage.rows import CURRENT, Current


@dataclass(slots=True)
class Trace:
    """What the server shell learns of a request while handlers run, for its access log
    record: the bucket row a handler loaded (its ``logging`` decides whether a record is
    kept: no extra lookup) and who the request acts as."""

    bucket_name: str | None = None  # the request's (None: no bucket, or not routed)
    op: str = ""
    key: str | None = None
    query: Query = ()  # the request's query (its versionId is the record's version id)
    bucket: Bucket | None = None
    principal: Principal | None = None
    # more records the request makes, in logged buckets: (bucket, Operation, key, version)
    also: list[tuple[Bucket, str, str, str | None]] | None = None


def also_log(ctx: Ctx, bucket: Bucket, operation: str, key: str,
             version_id: str | None = None) -> None:
    """One more access log record of this request, if ``bucket`` has logging enabled: a
    copy's read of its source (REST.COPY.OBJECT_GET), each key of a DeleteObjects
    (BATCH.DELETE.OBJECT)."""
    if bucket.logging is None or ctx.trace is None:
        return
    if ctx.trace.also is None:
        ctx.trace.also = []
    ctx.trace.also.append((bucket, operation, key, version_id))


@dataclass(slots=True)
class Ctx:
    settings: Settings
    stores: Stores
    req: Request
    ep: Endpoint
    auth: Auth
    request_id: str
    registry: Registry | None = None
    trace: Trace | None = None

    @property
    def principal(self) -> Principal | None:
        return self.auth.principal

    @property
    def bucket_name(self) -> str:
        assert self.ep.bucket is not None
        return self.ep.bucket

    @property
    def key(self) -> str:
        assert self.ep.key is not None
        return self.ep.key

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.req.headers.get(name, default)

    def now(self) -> float:
        return time.time()


Handler = Callable[[Ctx], Awaitable[Response]]


def bucket_or_404(ctx: Ctx) -> Bucket:
    bucket = ctx.stores.meta.get_bucket(ctx.bucket_name)
    if bucket is None:
        raise S3Error("NoSuchBucket", BucketName=ctx.bucket_name)
    if ctx.trace is not None:
        ctx.trace.bucket = bucket
    check_owner(bucket, ctx.req.headers.get("x-amz-expected-bucket-owner"))
    return bucket


def owned_bucket(ctx: Ctx) -> Bucket:
    """The request's bucket, for bucket operations: its owner's account (and admins) and
    whom the bucket policy allows the operation's action."""
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    return bucket


# ------------------------------------------------------------------------- authorization
NO_EXTRA: Mapping[str, Sequence[str]] = MappingProxyType({})  # no keys from the handler
def facts(ctx: Ctx, obj: ObjectRecord | None = None,
          extra: dict[str, list[str]] | None = None) -> conditions.Facts:
    """What the request tells a policy's conditions (computed when a condition asks)."""
    p = ctx.principal
    number = (p.account_number or identity.account_number(p.account_id)) if p else None
    user = p.user if p else None
    return conditions.Facts(
        ctx.req.method, ctx.req.headers, ctx.ep.query, ctx.req.client,
        ctx.req.scheme == "https", ctx.now(), number, None, user, user,
        (lambda: obj.tags) if obj is not None else conditions.no_tags, extra or NO_EXTRA)


def unrestricted(p: Principal | None, bucket: Bucket, owner: str) -> bool:
    """Answered as before policies existed: no policy anywhere, the owner's account."""
    return p is not None and (p.is_admin or (
        p.policy is None and bucket.policy is None and p.account_id == owner))


def allowed(ctx: Ctx, bucket: Bucket, need: Need | str, *, obj: ObjectRecord | None = None,
            key: str | None = None, upload_owner: str | None = None,
            acl_as: str | None = None, principal: Principal | None | bool = False) -> bool:
    """Whether the request may do one action (on the bucket, or on object ``key``);
    ``principal``: who asks, when not the request's signer (a POST form's)."""
    if isinstance(need, str):
        need = Need(need, "object" if key is not None or obj is not None else "bucket")
    on_object = need.on != "bucket"
    if on_object and key is None:
        key = obj.key if obj is not None else ctx.ep.key
    who = ctx.principal if principal is False else principal
    assert not isinstance(who, bool)
    return access.decide(who, bucket, need.action,
                         key=key if on_object else None, obj=obj if on_object else None,
                         upload_owner=upload_owner,
                         context=conditions.lazy(lambda: facts(ctx, obj if on_object else None)),
                         account_block=ctx.stores.meta.account_public_block, acl_as=acl_as)


def authorize(ctx: Ctx, bucket: Bucket, obj: ObjectRecord | None = None, *,
              key: str | None = None, upload: Upload | None = None) -> None:
    """AccessDenied unless the request may do every action it asks for (s3/actions.py) on
    ``bucket`` / object ``key`` (``obj``: the existing object). A copy's source is
    authorized by ``authorize_source``."""
    p = ctx.auth.principal
    if p is not None and (p.is_admin or (  # the fast path: unrestricted(), inlined
            p.policy is None and bucket.policy is None and p.account_id == (
                bucket.account_id if obj is None else access.object_owner(bucket, obj)))):
        return
    if upload is not None and unrestricted(p, bucket, upload.owner):
        return
    needs = actions.for_request(ctx.ep.op, ctx.req.headers,
                                versioned=ctx.ep.arg("versionId") is not None,
                                bucket_owner=bucket.account_id)
    first = needs[0].action
    for need in needs:
        if need.on == "source":
            continue
        if not allowed(ctx, bucket, need, obj=obj, key=key,
                       upload_owner=upload.owner if upload is not None else None,
                       acl_as=None if need.action == first else first):
            raise S3Error("AccessDenied")


def authorize_source(ctx: Ctx, bucket: Bucket, obj: ObjectRecord, versioned: bool) -> None:
    """s3:GetObject (GetObjectVersion) on a copy's source object."""
    if unrestricted(ctx.principal, bucket, access.object_owner(bucket, obj)):
        return
    action = "s3:GetObjectVersion" if versioned else "s3:GetObject"
    if not allowed(ctx, bucket, Need(action, "source"), obj=obj):
        raise S3Error("AccessDenied")


def authorize_account(ctx: Ctx, resource: str) -> Principal:
    """Requests on no existing bucket (ListBuckets, CreateBucket): authenticated, and a
    user's identity policy must allow every action the request asks for."""
    p = access.require_authenticated(ctx.principal)
    if p.policy is None or p.is_admin:
        return p
    context = conditions.context(facts(ctx))
    for need in actions.for_request(ctx.ep.op, ctx.req.headers):
        if not access.identity_allows(p, need.action, resource, context):
            raise S3Error("AccessDenied")
    return p


def check_acl(ctx: Ctx, bucket: Bucket, acl: Acl, canned_acl: str | None) -> None:
    """The ACL a write sets, refused when Object Ownership / Block Public Access say so."""
    access.check_acl(bucket, acl, canned_acl, ctx.stores.meta.account_public_block)


def may_list(ctx: Ctx, bucket: Bucket, key: str) -> bool:
    """s3:ListBucket: whether a missing key is 404 NoSuchKey (else 403 AccessDenied); the
    policy's conditions see the key as the listing's ``s3:prefix``, as S3 evaluates it."""
    if unrestricted(ctx.principal, bucket, bucket.account_id):
        return True
    context = conditions.context(facts(ctx, extra={"s3:prefix": [key]}))
    return access.decide(ctx.principal, bucket, "s3:ListBucket", context=context,
                         account_block=ctx.stores.meta.account_public_block)


async def clear_setting(ctx: Ctx, column: str) -> Response:
    """Delete<Configuration> of a bucket setting: 204, also when none was set."""
    bucket = owned_bucket(ctx)
    await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn(column, bucket.name, None))
    return empty(204)


def check_owner(bucket: Bucket, expected: str | None) -> None:
    """``x-amz-expected-bucket-owner`` (``x-amz-source-expected-bucket-owner`` for a copy
    source): a bucket owned by another account answers 403 AccessDenied, as in S3. The
    account is named by its 12-digit account id or its canonical id (both shown by
    ``objectstore account list``)."""
    if expected is not None and expected != bucket.account_id and \
            expected != identity.account_number(bucket.account_id):
        raise S3Error("AccessDenied")


def object_or_404(ctx: Ctx, bucket: Bucket, key: str | None = None) -> ObjectRecord:
    """The object, or NoSuchKey — AccessDenied instead when the caller may not list."""
    key = ctx.key if key is None else key
    obj = ctx.stores.meta.get_object(bucket.name, key)
    if obj is None:
        if not may_list(ctx, bucket, key):
            raise S3Error("AccessDenied")
        raise S3Error("NoSuchKey", Key=key)
    return obj


def object_version_or_404(ctx: Ctx, bucket: Bucket, key: str | None = None,
                          version: str | None | bool | None = False) -> ObjectRecord:
    """The object named by the request: its ``versionId`` argument (or ``version``: False
    for the current version, None for "null", else an id) picks a version. The current
    version being a delete marker is NoSuchKey with ``x-amz-delete-marker: true``; asking
    for a delete marker by id is 405 MethodNotAllowed (S3's answers)."""
    key = ctx.key if key is None else key
    if version is False:
        version = versioning.version_arg(ctx.ep.arg("versionId"))
    if version is False:
        obj = ctx.stores.meta.get_object(bucket.name, key)
        if obj is not None:
            return obj
        if not may_list(ctx, bucket, key):
            raise S3Error("AccessDenied")
        marker = ctx.stores.meta.latest_marker(bucket.name, key) if bucket.versioning else None
        if marker is not None:
            raise S3Error("NoSuchKey", Key=key, headers={
                "x-amz-delete-marker": "true", "x-amz-version-id": marker.version_id})
        raise S3Error("NoSuchKey", Key=key, headers={"x-amz-delete-marker": "false"})
    assert not isinstance(version, bool)
    found = ctx.stores.meta.get_version(bucket.name, key, version)
    if found is None:
        if not may_list(ctx, bucket, key):
            raise S3Error("AccessDenied")
        raise S3Error("NoSuchVersion", Key=key, VersionId=version or "null")
    if found.is_marker:
        raise S3Error("MethodNotAllowed", Method=ctx.req.method, ResourceType="DeleteMarker",
                      headers={"x-amz-delete-marker": "true",
                               "x-amz-version-id": found.version_id,
                               "Last-Modified": http_date(found.rec.last_modified),
                               "Allow": "DELETE"})
    return found.rec


def which_version(ctx: Ctx) -> str | None | Current:
    """The version a write to an object's sub-resource (ACL, tags) applies to."""
    version = versioning.version_arg(ctx.ep.arg("versionId"))
    return CURRENT if version is False else version  # type: ignore[return-value]


def version_headers(bucket: Bucket, obj: ObjectRecord) -> list[tuple[str, str]]:
    """x-amz-version-id of an object in a versioned bucket (none in unversioned ones)."""
    if not bucket.versioning and not obj.seq:
        return []
    return [("x-amz-version-id", obj.version_id or "null")]


def subresource_version_headers(ctx: Ctx, bucket: Bucket,
                                obj: ObjectRecord) -> list[tuple[str, str]]:
    """x-amz-version-id of an object sub-resource operation (ACL, tagging): the version
    it applied to, when the bucket is versioned or a version was addressed."""
    if ctx.ep.arg("versionId") is not None:
        return [("x-amz-version-id", obj.version_id or "null")]
    return version_headers(bucket, obj)


def account_names(ctx: Ctx) -> dict[str, str]:
    return ctx.stores.meta.account_names()


def empty(status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, headers or [])
