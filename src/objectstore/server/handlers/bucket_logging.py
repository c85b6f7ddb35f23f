"""Put/GetBucketLogging: a bucket's server access logging configuration (its owner only).
Capture and delivery of the records: service/access_logs.py."""

from __future__ import annotations

from objectstore.s3 import lock, ownership
from objectstore.s3 import logging as access_logging
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx, Handler, account_names, empty, owned_bucket
from objectstore.server.request import Response, xml_response
from objectstore.service import access
from objectstore.service.access_logs import may_deliver_logs
from objectstore.storage.model import Bucket

NOT_ALLOWED = ("You must give the log-delivery group WRITE and READ_ACP permissions to the "
               "target bucket")


def _owner_only(ctx: Ctx) -> Bucket:
    """S3: "To set the logging status of a bucket, you must be the bucket owner" — a bucket
    policy cannot hand Put/GetBucketLogging to another account (ceph/s3-tests'
    test_bucket_logging_owner checks it), whatever owned_bucket's policy evaluation allows."""
    bucket = owned_bucket(ctx)
    access.require_owner_account(ctx.principal, bucket)
    return bucket


async def put_bucket_logging(ctx: Ctx) -> Response:
    bucket = _owner_only(ctx)
    config = access_logging.parse(await ctx.req.read_small(), ctx.stores.meta.emails())
    value = None
    if config is not None:
        check_target(ctx, bucket, config)
        value = config.to_json()
    if value != bucket.logging:
        await ctx.stores.write(ctx.stores.meta.set_bucket_setting_txn("logging", bucket.name,
                                                                      value))
    return empty(200)


def check_target(ctx: Ctx, source: Bucket, config: access_logging.LoggingConfig) -> None:
    """What S3 requires of a target bucket: it exists, in the same account and region,
    has no default Object Lock retention, takes TargetGrants only with ACLs enabled, and
    lets the log delivery service write (bucket policy, or the LogDelivery group's grant)."""
    target = ctx.stores.meta.get_bucket(config.target_bucket)
    if target is None:
        raise S3Error("InvalidTargetBucketForLogging", TargetBucket=config.target_bucket)
    if target.account_id != source.account_id:
        raise S3Error("InvalidTargetBucketForLogging",
                      "The owner for the bucket to be logged and the target bucket must be "
                      "the same.", TargetBucket=config.target_bucket)
    if target.region != source.region:
        raise S3Error("CrossLocationLoggingProhibitted", SourceBucketLocation=source.region,
                      TargetBucketLocation=target.region)
    locked = lock.LockConfig.from_json(target.object_lock)
    if locked is not None and locked.rule is not None:
        raise S3Error("InvalidTargetBucketForLogging",
                      "The target bucket for logging must not have a default retention "
                      "period configured for S3 Object Lock.",
                      TargetBucket=config.target_bucket)
    if config.grants and target.ownership == ownership.ENFORCED:
        raise S3Error("InvalidTargetBucketForLogging",
                      "Target grants are not supported on a target bucket that uses the "
                      "bucket owner enforced setting for S3 Object Ownership.",
                      TargetBucket=config.target_bucket)
    if not may_deliver_logs(target, source, config.target_prefix, config.target_prefix):
        if target.policy is None and target.ownership != ownership.ENFORCED:
            raise S3Error("InvalidTargetBucketForLogging", NOT_ALLOWED,
                          TargetBucket=config.target_bucket)
        raise S3Error("AccessDenied")


async def get_bucket_logging(ctx: Ctx) -> Response:
    bucket = _owner_only(ctx)
    config = access_logging.from_json(bucket.logging)
    return xml_response(access_logging.render(config, account_names(ctx)))


HANDLERS: dict[str, Handler] = {
    "PutBucketLogging": put_bucket_logging,
    "GetBucketLogging": get_bucket_logging,
}
