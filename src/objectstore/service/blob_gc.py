"""Garbage blobs unlinked only after a grace period (cluster mode, ``--blob-grace``).

On one machine the blob of an overwritten or deleted object is unlinked right after the
commit: a GET that opened it keeps reading (an open file survives its unlink). Across NFS
clients it does not (the reader gets ESTALE, or SIGBUS through a memory map), so with
several gateways the ``garbage`` rows (blob, since) wait: this job, run once per cluster
under its lease, unlinks the blobs whose rows are older than the grace (longer than any
transfer) and then drops those rows. Unlinking first makes a crash between the two steps
harmless (the next run unlinks again, finding nothing); a blob in ``garbage`` is never
referenced again, so the order of rows and unlinks cannot lose data.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from objectstore.service.jobs import Job, JobContext
from objectstore.service.stores import Stores
from objectstore.storage.db import Connection, Txn

JOB = "blob-gc"
BATCH = 1000
log = logging.getLogger("objectstore.gc")


def due(conn: Connection, cutoff: float, limit: int = BATCH) -> list[str]:
    """Garbage blobs recorded at or before ``cutoff``."""
    return [r[0] for r in conn.execute(
        "SELECT blob FROM garbage WHERE since <= ? LIMIT ?", (cutoff, limit))]


def _forget(blobs: list[str]) -> Txn[None]:
    def txn(c: Connection) -> None:
        c.executemany("DELETE FROM garbage WHERE blob=?", [(b,) for b in blobs])
    return txn


def reap(stores: Stores, grace: float, ctx: JobContext | None = None,
         now: Callable[[], float] = time.time) -> int:
    """Unlink every garbage blob older than ``grace`` seconds, then forget its row (with
    ``ctx``: through the lease's guarded writes, renewing it between batches); how many."""
    removed = 0
    while ctx is None or ctx.alive():
        blobs = due(stores.meta.reader(), now() - grace)
        if not blobs:
            break
        for blob in blobs:
            stores.blobs.delete(blob)
        if ctx is not None:
            ctx.write(_forget(blobs))
        else:
            stores.meta.run(_forget(blobs))
        removed += len(blobs)
        if len(blobs) < BATCH:
            break
    if removed:
        log.info("removed %d garbage blobs older than %.0f s", removed, grace)
    return removed


def job(stores: Stores, grace: float) -> Job:
    """The reaper job: every quarter of the grace (between 1 s and a minute)."""
    return Job(JOB, max(1.0, min(grace / 4, 60.0)), lambda ctx: reap(stores, grace, ctx))
