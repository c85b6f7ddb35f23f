"""service/jobs.py on a real SQLite metadata store: one holder at a time, take-over after
expiry with a new epoch, and fencing (a replaced holder's writes are refused in their own
transaction)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterator

import pytest

from objectstore.service.jobs import Job, JobContext, JobRunner, LeaseLost, Leases
from objectstore.storage.sqlite import SqliteMeta


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[SqliteMeta]:
    m = SqliteMeta(tmp_path / "meta.sqlite3", fsync=False)
    m.reader().execute("CREATE TABLE IF NOT EXISTS marks (v TEXT)")
    yield m
    m.close()


def _mark(v: str) -> object:
    def txn(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO marks VALUES (?)", (v,))
    return txn


def test_one_holder_then_take_over_with_a_new_epoch(meta: SqliteMeta) -> None:
    clock = [1000.0]
    a, b = Leases(meta, "a"), Leases(meta, "b")
    first = a.acquire("job", ttl=10, now=lambda: clock[0])
    assert first is not None and first.epoch == 1
    assert b.acquire("job", ttl=10, now=lambda: clock[0]) is None
    clock[0] += 5
    again = a.acquire("job", ttl=10, now=lambda: clock[0])  # renewal keeps the epoch
    assert again is not None and again.epoch == 1
    clock[0] += 11  # a stops renewing: its lease expires
    taken = b.acquire("job", ttl=10, now=lambda: clock[0])
    assert taken is not None and taken.epoch == 2 and taken.holder == "b"
    assert a.acquire("job", ttl=10, now=lambda: clock[0]) is None


def test_fencing_refuses_a_replaced_holder(meta: SqliteMeta) -> None:
    clock = [0.0]
    a, b = Leases(meta, "a"), Leases(meta, "b")
    old = a.acquire("job", ttl=1, now=lambda: clock[0])
    assert old is not None
    meta.run(old.guard(_mark("a1")))  # type: ignore[arg-type]
    clock[0] = 5.0
    new = b.acquire("job", ttl=1, now=lambda: clock[0])
    assert new is not None
    with pytest.raises(LeaseLost):
        meta.run(old.guard(_mark("a2")))  # type: ignore[arg-type]
    with pytest.raises(LeaseLost):
        meta.run(old.save_state_txn({"after": "x"}))
    with pytest.raises(LeaseLost):
        a.renew(old)
    meta.run(new.save_state_txn({"after": "y"}))
    assert b.state("job") == {"after": "y"}
    rows = [r[0] for r in meta.reader().execute("SELECT v FROM marks")]
    assert rows == ["a1"]  # nothing of the stale holder's after it was replaced


def test_context_stops_on_lost_lease(meta: SqliteMeta) -> None:
    a, b = Leases(meta, "a"), Leases(meta, "b")
    lease = a.acquire("job", ttl=0.01)
    assert lease is not None
    ctx = JobContext(a, lease, threading.Event(), ttl=0.0)
    import time
    time.sleep(0.02)
    assert b.acquire("job") is not None
    with pytest.raises(LeaseLost):
        ctx.alive()


def test_runner_runs_a_job_in_one_runner_only(meta: SqliteMeta) -> None:
    ran: list[str] = []
    r1 = JobRunner(meta, [Job("j", 0.05, lambda ctx: ran.append("r1"))], holder="r1")
    r2 = JobRunner(meta, [Job("j", 0.05, lambda ctx: ran.append("r2"))], holder="r2")
    assert r1.run_once(r1.jobs[0]) and not r2.run_once(r2.jobs[0])
    r1.close()  # a clean stop releases the lease at once
    assert r2.run_once(r2.jobs[0])
    assert ran == ["r1", "r2"]
    r2.close()


def test_a_rare_job_releases_its_lease_after_each_run(meta: SqliteMeta) -> None:
    r1 = JobRunner(meta, [Job("rare", 3600, lambda ctx: None)], ttl=30, holder="r1")
    r2 = JobRunner(meta, [Job("rare", 3600, lambda ctx: None)], ttl=30, holder="r2")
    assert r1.run_once(r1.jobs[0])
    assert r2.run_once(r2.jobs[0])  # not held for 30 s after r1's run
    row = r2.leases.row("rare")
    assert row is not None and row[1] == 2
