"""Who is serving, and when the upkeep jobs last ran: what ``objectstore status`` shows.

Two small tables of the metadata store (portable SQL):

- ``gateways``: one row per serving process (gateway id ``host:port`` and pid), written at
  start-up and every ``HEARTBEAT`` seconds by a daemon thread; rows not seen for a day are
  removed by the next heartbeat of any process.
- ``job_runs``: the last run of each upkeep job — gc and scrub from the admin commands,
  the background scrub, lifecycle sweeps, log delivery — with its outcome and a summary.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from objectstore.storage.db import Txn

log = logging.getLogger("objectstore.gateways")

SCHEMA = """
CREATE TABLE IF NOT EXISTS gateways (
  gateway TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
  started REAL NOT NULL, seen REAL NOT NULL, PRIMARY KEY (gateway, pid));
CREATE TABLE IF NOT EXISTS job_runs (
  job TEXT PRIMARY KEY, finished REAL NOT NULL, ok INTEGER NOT NULL, summary TEXT NOT NULL,
  gateway TEXT NOT NULL);
"""
HEARTBEAT = 15.0  # seconds between a serving process's gateway row updates
FORGET_AFTER = 86400.0  # seconds after which a silent process's row is removed
ADMIN = "admin command"  # the gateway column of runs made by `objectstore gc|scrub|fsck`
RECENT = 300.0  # status: processes seen this recently are listed


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("objectstore")
    except metadata.PackageNotFoundError:
        return "unknown"


def ensure_schema(meta: Any) -> None:
    meta.ensure_schema(SCHEMA)  # (PostgreSQL: made by its migrations, storage/pg_schema.py)


@dataclass(frozen=True)
class GatewayRow:
    gateway: str
    pid: int
    version: str
    started: float
    seen: float


@dataclass(frozen=True)
class JobRun:
    job: str
    finished: float
    ok: bool
    summary: str
    gateway: str


def _beat_txn(gateway: str, pid: int, ver: str, started: float, now: float) -> Txn[None]:
    def txn(c: Any) -> None:
        c.execute("INSERT INTO gateways (gateway, pid, version, started, seen) "
                  "VALUES (?,?,?,?,?) ON CONFLICT (gateway, pid) DO UPDATE SET seen=?",
                  (gateway, pid, ver, started, now, now))
        c.execute("DELETE FROM gateways WHERE seen < ?", (now - FORGET_AFTER,))
    return txn


def _stop_txn(gateway: str, pid: int) -> Txn[None]:
    def txn(c: Any) -> None:
        c.execute("DELETE FROM gateways WHERE gateway=? AND pid=?", (gateway, pid))
    return txn


def record_run_txn(job: str, ok: bool, summary: str, gateway: str,
                   now: float | None = None) -> Txn[None]:
    at = time.time() if now is None else now

    def txn(c: Any) -> None:
        c.execute("INSERT INTO job_runs (job, finished, ok, summary, gateway) "
                  "VALUES (?,?,?,?,?) ON CONFLICT (job) DO UPDATE SET finished=?, ok=?, "
                  "summary=?, gateway=?", (job, at, int(ok), summary[:500], gateway,
                                           at, int(ok), summary[:500], gateway))
    return txn


def record_run(meta: Any, job: str, ok: bool, summary: str, gateway: str) -> None:
    """Note a finished run (never raises: it is a report, not the work)."""
    try:
        ensure_schema(meta)
        meta.run(record_run_txn(job, ok, summary, gateway))
    except Exception:  # noqa: BLE001
        log.warning("could not record the run of %s", job, exc_info=True)


def gateways(meta: Any, since: float) -> list[GatewayRow]:
    ensure_schema(meta)
    rows = meta.reader().execute(
        "SELECT gateway, pid, version, started, seen FROM gateways WHERE seen >= ? "
        "ORDER BY gateway, pid", (since,)).fetchall()
    return [GatewayRow(*r) for r in rows]


def job_runs(meta: Any) -> list[JobRun]:
    ensure_schema(meta)
    rows = meta.reader().execute(
        "SELECT job, finished, ok, summary, gateway FROM job_runs ORDER BY job").fetchall()
    return [JobRun(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]


class Heartbeat:
    """The serving process's row in ``gateways``, kept fresh by a daemon thread."""

    def __init__(self, meta: Any, gateway: str, interval: float = HEARTBEAT) -> None:
        self.meta = meta
        self.gateway = gateway
        self.pid = os.getpid()
        self.interval = interval
        self.started = time.time()
        self.version = version()
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        ensure_schema(meta)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        self.meta.run(_beat_txn(self.gateway, self.pid, self.version, self.started,
                                time.time()))

    def _run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.debug("gateway heartbeat failed", exc_info=True)
            if self.stop.wait(self.interval):
                return

    def close(self) -> None:
        """A clean stop removes the row (status then lists only live processes)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.meta.run(_stop_txn(self.gateway, self.pid))
        except Exception:  # noqa: BLE001 - it ages out
            log.debug("removing the gateway row failed", exc_info=True)


def tracked(meta: Any, name: str, run: Callable[..., Any], gateway: str,
            summary: Callable[[Any], str | None] = lambda _r: "") -> Callable[..., Any]:
    """``run`` with each run recorded in ``job_runs`` (``summary`` of its result; None:
    it did not run, e.g. another process was scrubbing)."""
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            result = run(*args, **kwargs)
        except Exception as exc:
            record_run(meta, name, False, f"{type(exc).__name__}: {exc}", gateway)
            raise
        text = summary(result)
        if text is not None:
            record_run(meta, name, True, text, gateway)
        return result
    return wrapped
