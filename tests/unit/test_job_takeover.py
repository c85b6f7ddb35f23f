"""Leases across gateways (issue 12): a holder that dies mid-job is taken over after its
lease expires, with a new epoch; the new holder resumes from the saved cursor; the old one,
waking up late, can write nothing; and a periodic job runs once per interval across all
processes, not once in each."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from objectstore.service.jobs import Job, JobContext, JobRunner, LeaseLost, Leases
from objectstore.storage.sqlite import SqliteMeta


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[SqliteMeta]:
    m = SqliteMeta(tmp_path / "meta.sqlite3", fsync=False)
    m.reader().execute("CREATE TABLE IF NOT EXISTS marks (holder TEXT, item INTEGER)")
    yield m
    m.close()


def _mark(holder: str, item: int) -> object:
    def txn(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO marks VALUES (?, ?)", (holder, item))
    return txn


def test_a_holder_dying_mid_job_is_taken_over_and_fenced(meta: SqliteMeta) -> None:
    ttl = 0.3
    a = Leases(meta, "gw-a")
    lease = a.acquire("sweep", ttl)
    assert lease is not None and lease.epoch == 1
    ctx_a = JobContext(a, lease, threading.Event(), ttl)
    for item in range(3):  # a does items 0-2, with its cursor, then stalls (a GC pause,
        ctx_a.write(_mark("a", item))  # type: ignore[arg-type]  # a frozen VM, a dead host)
    ctx_a.save_state({"after": 2})
    time.sleep(ttl + 0.1)  # its lease expires unrenewed

    def resume(ctx: JobContext) -> None:
        start = ctx.state()["after"] + 1
        for item in range(start, 6):
            ctx.write(_mark("b", item))  # type: ignore[arg-type]
            ctx.save_state({"after": item})
        ctx.save_state(None)
    b = JobRunner(meta, [Job("sweep", 60, resume)], ttl=ttl, holder="gw-b")
    assert b.run_once(b.jobs[0])
    row = b.leases.row("sweep")
    assert row is not None and row[0] == "gw-b" and row[1] == 2  # a new fencing epoch
    with pytest.raises(LeaseLost):  # a wakes up: its writes are refused in their txn
        ctx_a.write(_mark("a", 3))  # type: ignore[arg-type]
    with pytest.raises(LeaseLost):
        ctx_a.save_state({"after": 3})
    with pytest.raises(LeaseLost):
        a.renew(lease, ttl)
    marks = meta.reader().execute("SELECT holder, item FROM marks ORDER BY item").fetchall()
    assert marks == [("a", 0), ("a", 1), ("a", 2), ("b", 3), ("b", 4), ("b", 5)]
    assert b.leases.last_done("sweep") > 0
    b.close()


def test_a_periodic_job_runs_once_per_interval_across_processes(meta: SqliteMeta) -> None:
    runs: list[tuple[str, float]] = []
    lock = threading.Lock()

    def job(name: str) -> Job:
        def run(ctx: JobContext) -> None:
            with lock:
                runs.append((name, time.monotonic()))
        return Job("rare", 0.6, run)  # an interval longer than the lease: released each run
    runners = [JobRunner(meta, [job(f"gw{i}")], ttl=0.2, holder=f"gw{i}") for i in range(3)]
    started = time.monotonic()
    for r in runners:
        r.start()
    time.sleep(3.2)
    for r in runners:
        r.close()
    elapsed = time.monotonic() - started
    assert 2 <= len(runs) <= elapsed / 0.6 + 2, runs  # not three times as many
    gaps = [b[1] - a[1] for a, b in zip(runs, runs[1:], strict=False)]
    assert min(gaps) > 0.3, runs  # never two runs back to back by two processes
