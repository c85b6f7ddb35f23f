"""Object Lock: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
Put/GetObjectLegalHold, and the lock state of new versions (x-amz-object-lock-* headers
and the bucket's default retention) for PutObject, CopyObject and multipart uploads."""

from __future__ import annotations

from typing import Callable

from objectstore.s3 import actions, checksums, lock
from objectstore.s3.actions import Need
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    Handler,
    allowed,
    empty,
    object_version_or_404,
    owned_bucket,
    which_version,
)
from objectstore.server.request import Response, xml_response
from objectstore.storage.locks import LockState, set_bucket_lock_txn, set_object_lock_txn
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import Bucket, ObjectRecord, Principal

NO_LOCK: LockState = (None, None, False)


def is_bucket_owner(p: Principal | None, bucket: Bucket) -> bool:
    """The bucket owner's account users and admins: who see an object's lock headers."""
    return p is not None and (p.is_admin or p.account_id == bucket.account_id)


def may_bypass(ctx: Ctx, bucket: Bucket) -> bool:
    """x-amz-bypass-governance-retention: true, sent by a caller allowed
    s3:BypassGovernanceRetention."""
    return lock.bypass_asked(ctx.req.headers) and \
        allowed(ctx, bucket, Need(actions.BYPASS, "object"))



async def _checked_body(ctx: Ctx) -> bytes:
    """The body of an operation S3 requires a Content-MD5 or checksum for."""
    h = ctx.req.headers
    lock.require_integrity(h)
    body = await ctx.req.read_small()
    checksums.check_small_body(h, body)
    return body


def asked_lock(ctx: Ctx, bucket: Bucket) -> lock.LockRequest:
    """The x-amz-object-lock-* headers of a write, checked: InvalidRequest in a bucket
    without Object Lock, AccessDenied for callers who may not set retention."""
    h = ctx.req.headers
    if not lock.has_headers(h):
        return lock.LockRequest()
    if bucket.object_lock is None:
        raise S3Error("InvalidRequest", lock.MISSING_CONFIG)
    asked = lock.parse_headers(h, ctx.now())
    if not is_bucket_owner(ctx.principal, bucket):
        raise S3Error("AccessDenied")
    return asked


def new_version_lock(ctx: Ctx, bucket: Bucket, *, with_body: bool) -> LockState:
    """(mode, retain-until, legal hold) of the version a PutObject / CopyObject writes.
    ``with_body``: the request carries the object's data, so S3 requires a Content-MD5
    or checksum when any lock parameter applies."""
    asked = asked_lock(ctx, bucket)
    if with_body and lock.applies(bucket.object_lock, asked):
        lock.require_integrity_for_lock(ctx.req.headers)
    return lock.for_new_version(bucket.object_lock, asked, ctx.now())


# ---------------------------------------------------------------- bucket configuration

async def put_object_lock_configuration(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    cfg = lock.parse_configuration(await _checked_body(ctx))
    if bucket.object_lock is None:
        lock.check_can_configure(bucket.versioning)
    try:
        await ctx.stores.write(set_bucket_lock_txn(bucket.name, cfg.to_json()))
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket.name) from None
    except Conflict:
        lock.check_can_configure("")  # versioning changed meanwhile
    return empty(200)


async def get_object_lock_configuration(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    cfg = lock.LockConfig.from_json(bucket.object_lock)
    if cfg is None:
        raise S3Error("ObjectLockConfigurationNotFoundError", BucketName=bucket.name)
    return xml_response(lock.render_configuration(cfg))


# ---------------------------------------------------------------- per-version operations

def _lock_bucket(ctx: Ctx) -> Bucket:
    bucket = owned_bucket(ctx)
    if bucket.object_lock is None:
        raise S3Error("InvalidRequest", lock.MISSING_CONFIG)
    return bucket


def _version(ctx: Ctx, bucket: Bucket) -> ObjectRecord:
    """The version the request names (versionId, else the current one): NoSuchKey,
    NoSuchVersion, or 405 for a delete marker, as S3 answers."""
    return object_version_or_404(ctx, bucket)


async def _set_lock(ctx: Ctx, bucket: Bucket,
                    change: Callable[[ObjectRecord], LockState]) -> None:
    try:
        await ctx.stores.write(set_object_lock_txn(bucket.name, ctx.key, which_version(ctx),
                                                   change))
    except NotFound:  # deleted meanwhile
        raise S3Error("NoSuchKey", Key=ctx.key) from None


async def put_object_retention(ctx: Ctx) -> Response:
    bucket = _lock_bucket(ctx)
    new = lock.parse_retention(await _checked_body(ctx))
    now = ctx.now()
    lock.check_new_retention(new, now)
    bypass = may_bypass(ctx, bucket)

    def change(rec: ObjectRecord) -> LockState:
        refusal = lock.retention_change_refusal(rec.lock_mode, rec.lock_until, new, now, bypass)
        if refusal is not None:
            raise S3Error("AccessDenied", refusal)
        return new.mode, new.until, rec.legal_hold

    _version(ctx, bucket)
    await _set_lock(ctx, bucket, change)
    return empty(200)


async def get_object_retention(ctx: Ctx) -> Response:
    bucket = _lock_bucket(ctx)
    obj = _version(ctx, bucket)
    if obj.lock_mode is None or obj.lock_until is None:
        raise S3Error("NoSuchObjectLockConfiguration")
    return xml_response(lock.render_retention(obj.lock_mode, obj.lock_until))


async def put_object_legal_hold(ctx: Ctx) -> Response:
    bucket = _lock_bucket(ctx)
    on = lock.parse_legal_hold(await _checked_body(ctx))
    _version(ctx, bucket)
    await _set_lock(ctx, bucket, lambda rec: (rec.lock_mode, rec.lock_until, on))
    return empty(200)


async def get_object_legal_hold(ctx: Ctx) -> Response:
    bucket = _lock_bucket(ctx)
    obj = _version(ctx, bucket)
    return xml_response(lock.render_legal_hold(obj.legal_hold))


HANDLERS: dict[str, Handler] = {
    "PutObjectLockConfiguration": put_object_lock_configuration,
    "GetObjectLockConfiguration": get_object_lock_configuration,
    "PutObjectRetention": put_object_retention,
    "GetObjectRetention": get_object_retention,
    "PutObjectLegalHold": put_object_legal_hold,
    "GetObjectLegalHold": get_object_legal_hold,
}
