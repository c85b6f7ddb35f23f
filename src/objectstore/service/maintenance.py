"""Background upkeep of a serving process: stale temp files and the periodic scrub.

Runs in one daemon thread. Several processes may share a data directory (serve --workers,
several gateways): temp files are removed only once older than the body-progress limit (an
upload still running keeps touching its file) and never from a running gateway's
directory; the periodic scrub runs once per interval across them all (the ``scrub`` lease
and its finish time), and only the process holding the scrub lock file scrubs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time

from objectstore.service.jobs import Lease, LeaseLost, Leases
from objectstore.service.stores import Stores
from objectstore.storage import scrub
from objectstore.storage.meta import Unavailable

log = logging.getLogger("objectstore.maintenance")
TMP_SWEEP_MAX = 300.0  # seconds between temp-file sweeps at most
SCRUB_JOB = "scrub"  # the lease of the periodic scrub


class Maintenance:
    def __init__(self, stores: Stores, *, tmp_max_age: float, scrub_interval: float,
                 scrub_rate: float, leases: Leases | None = None,
                 lease_ttl: float = 30.0) -> None:
        """``leases``: run the periodic scrub once per interval across every process and
        gateway sharing the metadata store (lease ``scrub``), not once in each."""
        self.stores = stores
        self.leases = leases
        self.lease_ttl = lease_ttl
        self.tmp_max_age = tmp_max_age
        self.scrub_interval = scrub_interval * 3600.0  # hours -> seconds
        self.scrub_rate = scrub_rate * 1e6  # MB/s -> bytes/s
        self.stop = threading.Event()
        self.last_report: scrub.Report | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="maintenance", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        sweep_every = max(1.0, min(TMP_SWEEP_MAX, self.tmp_max_age / 2))
        next_sweep = time.monotonic() + sweep_every
        next_scrub = time.monotonic() + self.scrub_interval if self.scrub_interval else None
        while not self.stop.is_set():
            now = time.monotonic()
            wake = min(next_sweep, next_scrub if next_scrub is not None else next_sweep)
            if self.stop.wait(max(0.0, wake - now)):
                return
            now = time.monotonic()
            try:
                if now >= next_sweep:
                    next_sweep = now + sweep_every
                    self.stores.blobs.ensure_ballast()  # again, once deletes made room
                    removed = self.stores.blobs.clean_tmp(self.tmp_max_age)
                    if removed:
                        log.info("removed %d stale temp files", removed)
                if next_scrub is not None and now >= next_scrub:
                    self.run_scrub()
                    next_scrub = time.monotonic() + self.scrub_interval
            except Unavailable as exc:  # (PostgreSQL down): retried next time
                log.warning("background maintenance: %s", exc)
            except Exception:  # noqa: BLE001 - upkeep must never take the server down
                log.exception("background maintenance failed")

    def run_scrub(self) -> scrub.Report | None:
        """One rate-limited scrub, unless another process sharing the data directory is
        running one or (with leases) ran one less than an interval ago; findings are
        logged as they are met."""
        if self.leases is None:
            return self._scrub_locked(self.stop)
        if self.leases.last_done(SCRUB_JOB) > time.time() - self.scrub_interval * 0.9:
            return None  # another gateway scrubbed lately
        lease = self.leases.acquire(SCRUB_JOB, self.lease_ttl)
        if lease is None:
            return None
        stop = threading.Event()  # set when the lease is lost, or the server stops
        renewing = threading.Thread(target=self._renew, args=(lease, stop), daemon=True,
                                    name="scrub-lease")
        renewing.start()
        try:
            report = self._scrub_locked(stop)
            if report is not None and not stop.is_set():
                self.leases.meta.run(self.leases.finished_txn(lease, time.time()))
            return report
        finally:
            stop.set()
            renewing.join(timeout=5)
            try:
                self.leases.release(lease)
            except Exception:  # noqa: BLE001 - it expires anyway
                log.debug("releasing the scrub lease failed", exc_info=True)

    def _renew(self, lease: Lease, stop: threading.Event) -> None:
        """Keep the scrub's lease while it runs (it writes nothing: the lease only keeps
        other gateways from scrubbing at the same time); stop it when the lease is lost."""
        assert self.leases is not None
        while not stop.wait(self.lease_ttl / 3):
            if self.stop.is_set():
                stop.set()
                return
            try:
                self.leases.renew(lease, self.lease_ttl)
            except LeaseLost:
                log.warning("background scrub: lease lost to another process; stopped")
                stop.set()
                return
            except Exception:  # noqa: BLE001 - the store may be back at the next try
                log.warning("background scrub: renewing its lease failed", exc_info=True)

    def _scrub_locked(self, stop: threading.Event) -> scrub.Report | None:
        lock = os.open(self.stores.blobs.root / "scrub.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            log.info("background scrub started (%.1f MB/s)", self.scrub_rate / 1e6)

            def found(f: scrub.Finding) -> None:
                if f.kind in scrub.PROBLEMS:
                    log.error("SCRUB %s", f.line())
                else:
                    log.info("scrub: %s", f.line())

            report = scrub.scrub(self.stores.meta.reader(), self.stores.blobs,
                                 rate=self.scrub_rate, grace=max(3600.0, self.tmp_max_age),
                                 stop=stop, on_finding=found)
            self.last_report = report
            log.log(logging.ERROR if report.problems else logging.INFO,
                    "background scrub done: %s", report.summary())
            return report
        finally:
            os.close(lock)
