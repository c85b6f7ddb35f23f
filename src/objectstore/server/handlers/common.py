"""What every handler gets (Ctx) and the lookups they share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from objectstore.config import Settings
from objectstore.s3 import versioning
from objectstore.s3.errors import S3Error
from objectstore.s3.http import http_date
from objectstore.s3.routing import Endpoint
from objectstore.server.auth import Auth
from objectstore.server.request import Request, Response
from objectstore.service import access
from objectstore.service.registry import Registry
from objectstore.service.stores import Stores
from objectstore.storage.model import Bucket, ObjectRecord, Principal
from objectstore.storage.rows import CURRENT, Current


@dataclass(slots=True)
class Trace:
    """What the server shell learns of a request while handlers run, for its access log
    record: the bucket row a handler loaded (its ``logging`` decides whether a record is
    kept: no extra lookup) and who the request acts as."""

    bucket_name: str | None = None  # the request's (None: no bucket, or not routed)
    op: str = ""
    key: str | None = None
    version_id: str | None = None  # the request's versionId argument
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
    """The request's bucket, for operations only its owner's account (and admins) may do."""
    bucket = bucket_or_404(ctx)
    access.require_bucket_owner(ctx.principal, bucket)
    return bucket


async def clear_setting(ctx: Ctx, column: str) -> Response:
    """Delete<Configuration> of a bucket setting: 204, also when none was set."""
    bucket = owned_bucket(ctx)
    await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn(column, bucket.name, None))
    return empty(204)


def check_owner(bucket: Bucket, expected: str | None) -> None:
    """``x-amz-expected-bucket-owner`` (``x-amz-source-expected-bucket-owner`` for a copy
    source): a bucket owned by another account answers 403 AccessDenied, as in S3. The
    account is named by its canonical id (what ``objectstore account list`` shows)."""
    if expected is not None and expected != bucket.account_id:
        raise S3Error("AccessDenied")


def object_or_404(ctx: Ctx, bucket: Bucket, key: str | None = None) -> ObjectRecord:
    """The object, or NoSuchKey — AccessDenied instead when the caller may not list."""
    key = ctx.key if key is None else key
    obj = ctx.stores.meta.get_object(bucket.name, key)
    if obj is None:
        if not access.may_bucket(ctx.principal, bucket, "READ"):
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
        if not access.may_bucket(ctx.principal, bucket, "READ"):
            raise S3Error("AccessDenied")
        marker = ctx.stores.meta.latest_marker(bucket.name, key) if bucket.versioning else None
        if marker is not None:
            raise S3Error("NoSuchKey", Key=key, headers={
                "x-amz-delete-marker": "true", "x-amz-version-id": marker.version_id})
        raise S3Error("NoSuchKey", Key=key, headers={"x-amz-delete-marker": "false"})
    assert not isinstance(version, bool)
    found = ctx.stores.meta.get_version(bucket.name, key, version)
    if found is None:
        if not access.may_bucket(ctx.principal, bucket, "READ"):
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
