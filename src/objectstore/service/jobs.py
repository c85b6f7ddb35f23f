"""Background jobs under leases: each job runs in at most one process at a time, across
`serve --workers N` processes sharing a data directory today and gateways sharing a
metadata store later.

A lease is a row of the ``leases`` table (name, holder, epoch, expires, state). A process
runs a job only while it holds the job's lease; it renews the lease between small batches
of work. When the holder dies its lease expires and another process takes it over with
the epoch raised by one. Every write a job makes goes through ``Lease.guard``: inside the
write's own transaction it checks that the lease row still names this holder and epoch,
so a holder that stalled past expiry (and was replaced) can never write again — the epoch
is a fencing token. ``state`` holds the job's progress cursor (JSON), written in the same
transactions as its work, so a new holder resumes where the old one stopped.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from objectstore.storage.db import Connection, Txn
from objectstore.storage.meta import Unavailable
from objectstore.storage.sqlite import SqliteMeta

T = TypeVar("T")
log = logging.getLogger("objectstore.jobs")

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch INTEGER NOT NULL,
  expires REAL NOT NULL, state TEXT, done REAL NOT NULL DEFAULT 0);
"""
# ``done``: when the job last finished a run (any holder), so that several processes, each
# with its own timer, run a job once per interval across the cluster, not once each.
DEFAULT_TTL = 30.0  # seconds a lease lasts unless renewed


def holder_gone(holder: str) -> bool:
    """Whether the process named by a holder id (``holder_id``: host:pid:random) is known
    to be gone: on this host, no such pid (another host's processes are known dead only by
    the expiry of what they hold)."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # this process (or an earlier one with its pid: by expiry)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive (another user's)
    return False


class LeaseLost(Exception):
    """This process no longer holds the lease (it expired and another process took it)."""


def holder_id() -> str:
    """Names this process among all that share the metadata store."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    epoch: int

    def check(self, c: Connection) -> None:
        row = c.execute("SELECT holder, epoch FROM leases WHERE name=?", (self.name,)).fetchone()
        if row is None or row[0] != self.holder or row[1] != self.epoch:
            raise LeaseLost(self.name)

    def guard(self, txn: Txn[T]) -> Txn[T]:
        """``txn``, run only if this lease still holds (checked in the same transaction)."""
        def guarded(c: Connection) -> T:
            self.check(c)
            return txn(c)
        return guarded

    def save_state_txn(self, state: Any) -> Txn[None]:
        """Record the job's progress (with the lease check); ``None`` clears it."""
        text = None if state is None else json.dumps(state)

        def txn(c: Connection) -> None:
            self.check(c)
            c.execute("UPDATE leases SET state=? WHERE name=?", (text, self.name))
        return txn


class Leases:
    def __init__(self, meta: SqliteMeta, holder: str | None = None) -> None:
        self.meta = meta
        self.holder = holder or holder_id()
        meta.ensure_schema(SCHEMA, "leases", (("done", "REAL NOT NULL DEFAULT 0"),))

    def acquire(self, name: str, ttl: float = DEFAULT_TTL,
                now: Callable[[], float] = time.time) -> Lease | None:
        """The lease ``name`` for this process (renewed if already held), or None while
        another live process holds it."""
        holder = self.holder

        def txn(c: Connection) -> Lease | None:
            t = now()
            row = c.execute("SELECT holder, epoch, expires FROM leases WHERE name=?",
                            (name,)).fetchone()
            if row is None:
                c.execute("INSERT INTO leases (name, holder, epoch, expires) VALUES (?,?,?,?)",
                          (name, holder, 1, t + ttl))
                return Lease(name, holder, 1)
            if row[0] == holder and row[2] > t:
                c.execute("UPDATE leases SET expires=? WHERE name=?", (t + ttl, name))
                return Lease(name, holder, row[1])
            if row[2] > t:
                return None
            epoch = row[1] + 1  # taken over (or retaken after expiry): a new fencing token
            c.execute("UPDATE leases SET holder=?, epoch=?, expires=? WHERE name=?",
                      (holder, epoch, t + ttl, name))
            return Lease(name, holder, epoch)
        return self.meta.run(txn)

    def renew(self, lease: Lease, ttl: float = DEFAULT_TTL) -> None:
        """Extend the lease; LeaseLost if another process has taken it."""
        def txn(c: Connection) -> None:
            lease.check(c)
            c.execute("UPDATE leases SET expires=? WHERE name=?", (time.time() + ttl, lease.name))
        self.meta.run(txn)

    def release(self, lease: Lease) -> None:
        """Give the lease up now (another process may take it at once)."""
        def txn(c: Connection) -> None:
            c.execute("UPDATE leases SET expires=0 WHERE name=? AND holder=? AND epoch=?",
                      (lease.name, lease.holder, lease.epoch))
        self.meta.run(txn)

    def finished_txn(self, lease: Lease, when: float) -> Txn[None]:
        """Record that a run of the job finished at ``when`` (with the lease check)."""
        def txn(c: Connection) -> None:
            lease.check(c)
            c.execute("UPDATE leases SET done=? WHERE name=?", (when, lease.name))
        return txn

    def last_done(self, name: str) -> float:
        """When a run of job ``name`` last finished, by any process (0: never)."""
        row = self.meta.reader().execute("SELECT done FROM leases WHERE name=?",
                                         (name,)).fetchone()
        return float(row[0]) if row else 0.0

    def state(self, name: str) -> Any:
        row = self.meta.reader().execute("SELECT state FROM leases WHERE name=?",
                                         (name,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def row(self, name: str) -> tuple[str, int, float] | None:
        """(holder, epoch, expires) of a lease (for status and tests)."""
        row = self.meta.reader().execute(
            "SELECT holder, epoch, expires FROM leases WHERE name=?", (name,)).fetchone()
        return (row[0], row[1], row[2]) if row else None


class JobContext:
    """What a running job gets: its lease, guarded writes, and a check between batches
    that renews the lease (and stops the job when it is lost or the server stops)."""

    def __init__(self, leases: Leases, lease: Lease, stop: threading.Event,
                 ttl: float = DEFAULT_TTL) -> None:
        self.leases = leases
        self.lease = lease
        self.stop = stop
        self.ttl = ttl
        self._renewed = time.monotonic()

    def write(self, txn: Txn[T]) -> T:
        return self.leases.meta.run(self.lease.guard(txn))

    def state(self) -> Any:
        return self.leases.state(self.lease.name)

    def save_state(self, state: Any) -> None:
        self.leases.meta.run(self.lease.save_state_txn(state))

    def alive(self) -> bool:
        """False once the server is stopping; renews the lease every third of its life;
        raises LeaseLost if another process has it."""
        if self.stop.is_set():
            return False
        if time.monotonic() - self._renewed > self.ttl / 3:
            self.leases.renew(self.lease, self.ttl)
            self._renewed = time.monotonic()
        return True


@dataclass(frozen=True)
class Job:
    name: str  # also the lease's name
    interval: float  # seconds between runs
    run: Callable[[JobContext], object]


class JobRunner:
    """One daemon thread that runs each job every ``interval`` seconds while holding its
    lease. Processes that do not get the lease try again at the next interval."""

    def __init__(self, meta: SqliteMeta, jobs: list[Job], ttl: float = DEFAULT_TTL,
                 holder: str | None = None) -> None:
        self.leases = Leases(meta, holder)
        self.jobs = jobs
        self.ttl = ttl
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._held: dict[str, Lease] = {}

    def start(self) -> None:
        if not self.jobs:
            return
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for lease in self._held.values():  # a clean stop lets others (or the CLI) go on now
            try:
                self.leases.release(lease)
            except Exception:  # noqa: BLE001 - it expires anyway
                log.debug("releasing lease %s failed", lease.name, exc_info=True)
        self._held.clear()

    def run_once(self, job: Job, *, once_per_interval: bool = False) -> bool:
        """Run ``job`` now if this process gets its lease; whether it ran.
        ``once_per_interval``: not if another process finished a run of it less than an
        interval ago (looked at under the lease: the periodic loop's check before taking
        it could be overtaken by another process's whole run)."""
        held_before = job.name in self._held
        lease = self.leases.acquire(job.name, self.ttl)
        if lease is None:
            self._held.pop(job.name, None)
            return False
        if (once_per_interval and not held_before
                and time.time() - self.leases.last_done(job.name) < job.interval):
            # another process finished a run between this one's look at ``done`` and its
            # taking the lease: that run was this interval's
            self.leases.release(lease)
            return False
        self._held[job.name] = lease
        try:
            job.run(JobContext(self.leases, lease, self.stop, self.ttl))
            if not self.stop.is_set():
                self.leases.meta.run(self.leases.finished_txn(lease, time.time()))
        except LeaseLost:
            self._held.pop(job.name, None)
            log.warning("job %s: lease lost to another process; stopped", job.name)
            return True
        if job.interval > self.ttl:  # it would lapse before the next run anyway: let others
            self._held.pop(job.name, None)  # (the admin CLI) have it now
            self.leases.release(lease)
        return True

    def _loop(self) -> None:
        due = {job.name: time.monotonic() + min(job.interval, 1.0) for job in self.jobs}
        while not self.stop.is_set():
            wake = min(due.values())
            if self.stop.wait(max(0.0, wake - time.monotonic())):
                return
            for job in self.jobs:
                if time.monotonic() < due[job.name] or self.stop.is_set():
                    continue
                due[job.name] = time.monotonic() + job.interval
                try:
                    # run by another process less than an interval ago: wait for the next
                    wait = self.leases.last_done(job.name) + job.interval - time.time()
                    if 0 < wait <= job.interval and job.name not in self._held:
                        due[job.name] = time.monotonic() + wait
                        continue
                    self.run_once(job, once_per_interval=True)
                except Unavailable as exc:  # (PostgreSQL down): no traceback, next interval
                    log.warning("background job %s: %s", job.name, exc)
                except Exception:  # noqa: BLE001 - a failed run is retried next interval
                    log.exception("background job %s failed", job.name)
                due[job.name] = time.monotonic() + job.interval
