"""The lifecycle sweeper: applies each bucket's rules (Expiration, NoncurrentVersion-
Expiration, expired delete markers, AbortIncompleteMultipartUpload) as a job under the
``lifecycle`` lease (service/jobs.py). What expiring means (delete, delete marker,
permanent removal of a noncurrent version) is service/expiry.py's.

Resumable: the cursor (bucket, phase, last key) is saved with the lease in the same
transaction as each batch of work, so a process that takes the lease over after a crash
goes on from there. Small batches: one write transaction per ``batch`` expirations, so the
metadata writer is never held for long.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from objectstore.s3 import lifecycle
from objectstore.service import expiry
from objectstore.service.jobs import Job, JobContext
from objectstore.service.stores import Stores
from objectstore.storage.db import Connection, Retry, Txn
from objectstore.storage.meta import NotFound
from objectstore.storage.model import Bucket
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.versions import Version

JOB = "lifecycle"
BATCH = 100
log = logging.getLogger("objectstore.lifecycle")


@dataclass
class Stats:
    buckets: int = 0
    expired: int = 0
    aborted: int = 0
    noncurrent: int = 0  # noncurrent versions removed
    markers: int = 0  # expired delete markers removed
    refused: int = 0  # removals refused (object lock)

    def summary(self) -> str:
        text = (f"{self.buckets} buckets with lifecycle rules: {self.expired} objects expired, "
                f"{self.aborted} incomplete multipart uploads aborted")
        if self.noncurrent or self.markers:
            text += (f", {self.noncurrent} noncurrent versions and {self.markers} expired "
                     "delete markers removed")
        if self.refused:
            text += f", {self.refused} removals refused (object lock)"
        return text


def interval(day: float, configured: float) -> float:
    """Seconds between sweeps: as configured, else hourly with real days and a fifth of a
    shortened day (at least a second) so tests see expirations within a day or so."""
    if configured > 0:
        return configured
    return 3600.0 if day >= lifecycle.DAY else max(1.0, day / 5)


def job(stores: Stores, day: float, every: float) -> Job:
    return Job(JOB, interval(day, every), lambda ctx: sweep(stores, ctx, day=day))


def sweep(stores: Stores, ctx: JobContext, *, day: float = lifecycle.DAY,
          only_bucket: str | None = None, batch: int = BATCH,
          now: Callable[[], float] = time.time) -> Stats:
    """One pass over every bucket with a lifecycle configuration (or just ``only_bucket``,
    which neither uses nor moves the background sweep's cursor)."""
    stats = Stats()
    resume = only_bucket is None
    state: dict[str, Any] = (ctx.state() or {}) if resume else {}
    if only_bucket is not None:
        found = stores.meta.get_bucket(only_bucket)
        if found is None:
            raise NotFound("bucket")
        buckets = [found] if found.lifecycle else []
    else:
        buckets = [b for b in stores.meta.list_buckets(None) if b.lifecycle]
    start = state.get("bucket")
    for bucket in buckets:
        if start is not None and bucket.name < start:
            continue  # done before the crash (or before the lease changed hands)
        if not ctx.alive():
            return stats
        phase = state.get("phase", "objects") if bucket.name == start else "objects"
        after = state.get("after", "") if bucket.name == start else ""
        stats.buckets += 1
        _sweep_bucket(stores, ctx, bucket, phase, after, day, batch, now, resume, stats)
        if ctx.stop.is_set():
            return stats
    if resume:
        ctx.save_state(None)
    if stats.expired or stats.aborted or stats.noncurrent or stats.markers:
        log.info("lifecycle sweep: %s", stats.summary())
    return stats


def _sweep_bucket(stores: Stores, ctx: JobContext, bucket: Bucket, phase: str, after: str,
                  day: float, batch: int, now: Callable[[], float], resume: bool,
                  stats: Stats) -> None:
    config = lifecycle.from_json(bucket.lifecycle)
    if config is None:
        return
    meta = stores.meta
    if phase == "objects" and bucket.versioning:
        if any(r.enabled and (r.days is not None or r.date is not None or r.expired_marker
                              or r.noncurrent_days is not None) for r in config.rules):
            if not _sweep_versions(stores, ctx, bucket, config, after, day, batch, now,
                                   resume, stats):
                return
        if resume:
            ctx.save_state({"bucket": bucket.name, "phase": "uploads", "after": ""})
    elif phase == "objects":
        if any(r.enabled and (r.days is not None or r.date is not None) for r in config.rules):
            pending: list[Txn[bool]] = []
            last = after
            for prefix in lifecycle.prefixes(config):
                for seen, rec in enumerate(meta.scan_objects(bucket.name, prefix,
                                                             after.encode())):
                    if seen % 1000 == 999 and ctx.stop.is_set():
                        return
                    found = lifecycle.expiration(config, rec.key, rec.size, rec.tags,
                                                 rec.last_modified, day)
                    if found is None or found[0] > now():
                        continue
                    pending.append(expiry.expire_current_txn(meta, bucket.versioning, rec))
                    last = rec.key
                    if len(pending) >= batch:
                        stats.expired += _flush(ctx, pending, bucket.name, "objects", last,
                                                resume, stats)
                        pending = []
                        if not ctx.alive():
                            return
            if pending:
                stats.expired += _flush(ctx, pending, bucket.name, "objects", last, resume,
                                        stats)
        if resume:
            ctx.save_state({"bucket": bucket.name, "phase": "uploads", "after": ""})
    abort_rules = [r for r in config.rules if r.enabled and r.abort_days is not None]
    if not abort_rules:
        return
    doomed: list[Txn[bool]] = []
    for up in list(stores.uploads.scan(bucket.name, "", b"", None)):
        if any(lifecycle.upload_expired(r, up.key, up.created, now(), day) for r in abort_rules):
            doomed.append(_abort(stores, up.upload_id))
            if len(doomed) >= batch:
                stats.aborted += _flush(ctx, doomed, bucket.name, "uploads", "", resume, stats)
                doomed = []
                if not ctx.alive():
                    return
    if doomed:
        stats.aborted += _flush(ctx, doomed, bucket.name, "uploads", "", resume, stats)


def _abort(stores: Stores, upload_id: str) -> Txn[bool]:
    abort = stores.uploads.abort_txn(upload_id)

    def txn(c: Connection) -> bool:
        try:
            abort(c)
        except NotFound:  # completed or aborted meanwhile
            return False
        return True
    return txn


def _flush(ctx: JobContext, txns: Sequence[Txn[bool]], bucket: str, phase: str, after: str,
           resume: bool, stats: Stats) -> int:
    """One guarded transaction: the batch and (for the background sweep) the cursor. Each
    item runs in its own savepoint: one refused (a locked version) leaves the rest done."""
    save = ctx.lease.save_state_txn({"bucket": bucket, "phase": phase, "after": after})

    def txn(c: Connection) -> int:
        done = 0
        for t in txns:
            c.execute("SAVEPOINT lifecycle_item")
            try:
                done += bool(t(c))
            except Retry:  # the whole transaction runs again (PostgreSQL)
                raise
            except Exception as exc:  # noqa: BLE001 - refused (object lock): left alone
                c.execute("ROLLBACK TO lifecycle_item")
                stats.refused += 1
                log.debug("lifecycle: a version in %s left alone: %s", bucket, exc)
            c.execute("RELEASE lifecycle_item")
        if resume:
            save(c)
        return done
    return ctx.write(txn)


def _judge(meta: SqliteMeta, bucket: Bucket, config: lifecycle.Config,
           group: list[Version], day: float, now: float
           ) -> list[tuple[str, Txn[bool]]]:
    """What the rules do to the versions of one key (newest first): (counter, txn)."""
    out: list[tuple[str, Txn[bool]]] = []
    cur = group[0]
    if not cur.is_marker:  # the current version (the objects row)
        rec = cur.rec
        found = lifecycle.expiration(config, rec.key, rec.size, rec.tags, rec.last_modified,
                                     day)
        if found is not None and found[0] <= now:
            out.append(("expired", expiry.expire_current_txn(
                meta, bucket.versioning, rec, bucket.account_id)))
    doomed = 0
    nc_rules = [r for r in config.rules if r.enabled and r.noncurrent_days is not None]
    for i in range(1, len(group)):
        v = group[i]
        size, tags = (0, ()) if v.is_marker else (v.rec.size, v.rec.tags)
        since = group[i - 1].rec.last_modified  # noncurrent since its successor came
        if any(r.filter.matches(v.key, size, tags)
               and lifecycle.noncurrent_expired(r, since, i - 1, now, day) for r in nc_rules):
            out.append(("noncurrent", expiry.expire_noncurrent_txn(meta, v.rec)))
            doomed += 1
    if cur.is_marker and doomed == len(group) - 1:
        if any(r.filter.matches(cur.key, 0, ())
               and lifecycle.marker_expired(r, cur.rec.last_modified, now, day)
               for r in config.rules):
            out.append(("markers", expiry.remove_expired_marker_txn(meta, cur.rec)))
    return out


def _sweep_versions(stores: Stores, ctx: JobContext, bucket: Bucket, config: lifecycle.Config,
                    after: str, day: float, batch: int, now: Callable[[], float],
                    resume: bool, stats: Stats) -> bool:
    """A versioned bucket: every version of every key under the rules' prefixes, a key at
    a time (the cursor is the last key done). False when stopped."""
    meta = stores.meta
    pending: list[tuple[str, Txn[bool]]] = []

    def flush(last: str) -> None:
        counted = {"expired": 0, "noncurrent": 0, "markers": 0}
        _flush(ctx, [_counting(t, what, counted) for what, t in pending], bucket.name,
               "objects", last, resume, stats)
        stats.expired += counted["expired"]
        stats.noncurrent += counted["noncurrent"]
        stats.markers += counted["markers"]
        pending.clear()

    for prefix in lifecycle.prefixes(config):
        group: list[Version] = []
        for seen, v in enumerate(meta.scan_versions(bucket.name, prefix, after.encode(), None)):
            if seen % 1000 == 999 and ctx.stop.is_set():
                return False
            if group and v.key != group[0].key:
                pending.extend(_judge(meta, bucket, config, group, day, now()))
                if len(pending) >= batch:
                    flush(group[0].key)
                    if not ctx.alive():
                        return False
                group = []
            group.append(v)
        if group:
            pending.extend(_judge(meta, bucket, config, group, day, now()))
            if pending:
                flush(group[0].key)
    return True


def _counting(t: Txn[bool], what: str, counted: dict[str, int]) -> Txn[bool]:
    def txn(c: Connection) -> bool:
        done = t(c)
        if done:
            counted[what] += 1
        return done
    return txn
