"""Server access logs: keeping each request's record, and delivering the records of a
source bucket as log objects into its target bucket.

Capture: the server shell formats a request's record (s3.logging) after its response went
out and hands it to ``capture``, which queues an insert into the ``access_log`` table on the
metadata group-commit writer (no waiting: the record shares the next commit with whatever
else is being written). Only requests to buckets with logging enabled get here.

Delivery: the ``access-logs`` job (service/jobs.py lease: one deliverer across
``serve --workers N`` processes) looks every few seconds for source buckets whose oldest
waiting record is about ``interval`` seconds old, and writes all their waiting records as
one object, owned by the target bucket's owner, in ONE guarded transaction with the
records' deletion: a record is delivered once, and a crash before the commit leaves it
waiting. The server's shutdown delivers everything that waits. A delivery the target
bucket does not allow (any more) is dropped, as S3 does.
"""

from __future__ import annotations

import logging
import secrets
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from objectstore.s3 import identity, sse
from objectstore.s3 import logging as access_logging
from objectstore.s3.acl import Acl, canned
from objectstore.service import access
from objectstore.service.ingest import INLINE_LIMIT, Ingest
from objectstore.service.jobs import Job, JobContext, LeaseLost
from objectstore.service.sse import new_key
from objectstore.service.stores import Stores
from objectstore.storage import access_log
from objectstore.storage.db import Connection
from objectstore.storage.meta import Unavailable, may_have_committed
from objectstore.storage.model import Bucket, ObjectRecord, Segment
from objectstore.storage.sqlite import SqliteMeta

JOB = "access-logs"
MAX_RECORDS = 20000  # records per log object at most (a bucket with more gets several)
MAX_OBJECT = 64 << 20
log = logging.getLogger("objectstore.access_logs")


def ensure_schema(meta: SqliteMeta) -> None:
    meta.ensure_schema(access_log.SCHEMA)


def capture(meta: SqliteMeta, records: list[tuple[Bucket, str]], when: float) -> None:
    """Keep the records (bucket with logging enabled, line) of one request."""
    rows = [(b.name, b.logging, when, line) for b, line in records if b.logging is not None]
    if rows:
        fut = meta.submit(access_log.append_txn(rows))
        fut.add_done_callback(_report)


def _report(fut: Future[None]) -> None:
    exc = fut.exception()
    if exc is not None:
        log.error("a server access log record could not be kept: %s", exc)


# ---------------------------------------------------------------- authorization

def may_deliver_logs(target: Bucket, source: Bucket, prefix: str, key: str) -> bool:
    """Whether S3's log delivery service may write log object ``key`` (under the
    configured target ``prefix``) of ``source`` into ``target``: the one evaluator's
    decision (``access.may_deliver_logs``)."""
    return access.may_deliver_logs(target, source.name, source.account_id, key=key,
                                   prefix=prefix)


# ---------------------------------------------------------------- delivery

@dataclass
class Stats:
    objects: int = 0
    records: int = 0
    dropped: int = 0


def poll_interval(interval: float) -> float:
    """How often the deliverer looks for due records: a tenth of the delivery interval
    (between 0.2 s and 10 s), so records wait at most about ``interval``."""
    return max(0.2, min(10.0, interval / 10))


def job(stores: Stores, interval: float, default_encryption: str = "") -> Job:
    return Job(JOB, poll_interval(interval),
               lambda ctx: deliver(stores, ctx, interval, default_encryption=default_encryption))


def deliver(stores: Stores, ctx: JobContext, interval: float, *, force: bool = False,
            default_encryption: str = "", now: Callable[[], float] = time.time) -> Stats:
    """Deliver every source bucket's records whose oldest is due (all of them: ``force``)."""
    stats = Stats()
    due = now() - interval + poll_interval(interval)
    for group in access_log.pending(stores.meta.reader()):
        if not force and group.first > due:
            continue
        while ctx.alive() or force:
            rows = access_log.take(stores.meta.reader(), group.bucket, group.config,
                                   MAX_RECORDS)
            if not rows:
                break
            try:
                _deliver_batch(stores, ctx, group.bucket, group.config, rows, now(),
                               default_encryption, stats)
            except (LeaseLost, Unavailable):  # (the store is down: the runner says so)
                raise
            except Exception:  # noqa: BLE001 - kept for the next round; the others go on
                log.exception("access logs of %s: delivery failed, records kept",
                              group.bucket)
                break
            if len(rows) < MAX_RECORDS:
                break
    if stats.objects or stats.dropped:
        log.info("access logs: %d records delivered in %d objects, %d dropped",
                 stats.records, stats.objects, stats.dropped)
    return stats


def _deliver_batch(stores: Stores, ctx: JobContext, source_name: str, config_json: str,
                   rows: list[tuple[int, float, str]], delivered: float,
                   default_encryption: str, stats: Stats) -> None:
    meta = stores.meta
    ids = [r[0] for r in rows]
    config = access_logging.LoggingConfig.from_json(config_json)
    source = meta.get_bucket(source_name)
    target = meta.get_bucket(config.target_bucket)
    key = access_logging.object_key(
        config, source_account=identity.account_number(
            source.account_id if source is not None else ""),
        source_region=source.region if source is not None else "-",
        source_bucket=source_name, delivered=delivered, first_event=rows[0][1],
        unique=secrets.token_hex(8).upper())
    if source is None or target is None or not may_deliver_logs(target, source,
                                                                config.target_prefix, key):
        why = "source bucket gone" if source is None else \
            "target bucket gone" if target is None else "not allowed by the target bucket"
        log.warning("access logs of %s: %d records dropped (%s)", source_name, len(rows), why)
        ctx.write(access_log.delete_txn(ids))
        stats.dropped += len(rows)
        return
    body = "".join(line + "\n" for _, _, line in rows).encode("utf-8", "surrogateescape")
    rec = _store(stores, target, key, body, config, delivered, default_encryption)
    put = meta.put_object_txn(rec)
    drop = access_log.delete_txn(ids)

    def txn(c: Connection) -> None:
        put(c)
        drop(c)
    try:
        ctx.write(txn)
    except BaseException as exc:
        if not may_have_committed(exc):
            for seg in rec.segments:
                if seg.blob:
                    stores.blobs.delete(seg.blob)
        raise
    stats.objects += 1
    stats.records += len(rows)


def _store(stores: Stores, target: Bucket, key: str, body: bytes,
           config: access_logging.LoggingConfig, now: float,
           default_encryption: str) -> ObjectRecord:
    """The log object's bytes kept (inline or a durable blob, encrypted as the target
    bucket's default encryption asks), and its record: owned by the target bucket's
    owner, readable by the TargetGrants' grantees."""
    if target.encryption:
        req = sse.BucketDefault.from_json(target.encryption).as_requested()
    else:
        req = sse.Requested(sse.AES256 if default_encryption == "sse-s3" else None)
    dk = new_key(stores.meta.keyring, req)
    small = len(body) <= INLINE_LIMIT
    ing = Ingest(stores.blobs, (), False, MAX_OBJECT + len(body),
                 inline_limit=INLINE_LIMIT if small else 0,
                 data_key=dk.key if dk is not None else None)
    try:
        ing.feed(body)
        ing.commit()
    except BaseException:
        ing.abort()
        raise
    digests = ing.digests()
    owner = target.account_id
    acl = canned("private", owner)
    acl = Acl(owner, acl.grants + config.grants)
    etag = digests.md5.hex() if dk is None else dk.etag(digests.md5)
    return ObjectRecord(
        bucket=target.name, key=key, size=digests.size, etag=f'"{etag}"',
        last_modified=now, owner=owner, acl=acl.to_json(),
        headers={"content-type": "text/plain"},
        segments=(Segment(ing.blob_id, digests.size),) if ing.blob_id else (),
        inline=ing.inline, sse=dk.stored.to_json() if dk is not None else None)
