"""The lifecycle sweeper: applies each bucket's rules (Expiration, AbortIncompleteMultipart-
Upload; versioned expirations once versioning provides delete markers) as a job under the
``lifecycle`` lease (service/jobs.py).

Resumable: the cursor (bucket, phase, last key) is saved with the lease in the same
transaction as each batch of work, so a process that takes the lease over after a crash
goes on from there. Small batches: one write transaction per ``batch`` expirations, so the
metadata writer is never held for long.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from objectstore.s3 import lifecycle
from objectstore.service import expiry
from objectstore.service.jobs import Job, JobContext
from objectstore.service.stores import Stores
from objectstore.storage.meta import NotFound
from objectstore.storage.model import Bucket
from objectstore.storage.writer import Txn

JOB = "lifecycle"
BATCH = 100
log = logging.getLogger("objectstore.lifecycle")


@dataclass
class Stats:
    buckets: int = 0
    expired: int = 0
    aborted: int = 0
    skipped: list[str] = field(default_factory=list)  # buckets this build cannot sweep fully

    def summary(self) -> str:
        text = (f"{self.buckets} buckets with lifecycle rules: {self.expired} objects expired, "
                f"{self.aborted} incomplete multipart uploads aborted")
        if self.skipped:
            text += f"; versioned buckets not expired: {', '.join(self.skipped)}"
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
    if stats.expired or stats.aborted:
        log.info("lifecycle sweep: %s", stats.summary())
    return stats


def _sweep_bucket(stores: Stores, ctx: JobContext, bucket: Bucket, phase: str, after: str,
                  day: float, batch: int, now: Callable[[], float], resume: bool,
                  stats: Stats) -> None:
    config = lifecycle.from_json(bucket.lifecycle)
    if config is None:
        return
    meta = stores.meta
    if phase == "objects":
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
                    txn = expiry.expire_current_txn(meta, bucket.versioning, rec)
                    if txn is None:
                        if bucket.name not in stats.skipped:
                            stats.skipped.append(bucket.name)
                        continue
                    pending.append(txn)
                    last = rec.key
                    if len(pending) >= batch:
                        stats.expired += _flush(ctx, pending, bucket.name, "objects", last,
                                                resume)
                        pending = []
                        if not ctx.alive():
                            return
            if pending:
                stats.expired += _flush(ctx, pending, bucket.name, "objects", last, resume)
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
                stats.aborted += _flush(ctx, doomed, bucket.name, "uploads", "", resume)
                doomed = []
                if not ctx.alive():
                    return
    if doomed:
        stats.aborted += _flush(ctx, doomed, bucket.name, "uploads", "", resume)


def _abort(stores: Stores, upload_id: str) -> Txn[bool]:
    abort = stores.uploads.abort_txn(upload_id)

    def txn(c: sqlite3.Connection) -> bool:
        try:
            abort(c)
        except NotFound:  # completed or aborted meanwhile
            return False
        return True
    return txn


def _flush(ctx: JobContext, txns: list[Txn[bool]], bucket: str, phase: str, after: str,
           resume: bool) -> int:
    """One guarded transaction: the batch and (for the background sweep) the cursor."""
    save = ctx.lease.save_state_txn({"bucket": bucket, "phase": phase, "after": after})

    def txn(c: sqlite3.Connection) -> int:
        done = sum(1 for t in txns if t(c))
        if resume:
            save(c)
        return done
    return ctx.write(txn)
