"""Background upkeep of a serving process: stale temp files and the periodic scrub.

Runs in one daemon thread. Several processes may share a data directory (serve --workers,
later several gateways): temp files are removed only once older than the body-progress
limit (an upload still running keeps touching its file), and only the process holding
the scrub lock scrubs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time

from objectstore.service.stores import Stores
from objectstore.storage import scrub

log = logging.getLogger("objectstore.maintenance")
TMP_SWEEP_MAX = 300.0  # seconds between temp-file sweeps at most


class Maintenance:
    def __init__(self, stores: Stores, *, tmp_max_age: float, scrub_interval: float,
                 scrub_rate: float) -> None:
        self.stores = stores
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
            except Exception:  # noqa: BLE001 - upkeep must never take the server down
                log.exception("background maintenance failed")

    def run_scrub(self) -> scrub.Report | None:
        """One rate-limited scrub, unless another process sharing the data directory is
        running one; findings are logged as they are met."""
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
                                 stop=self.stop, on_finding=found)
            self.last_report = report
            log.log(logging.ERROR if report.problems else logging.INFO,
                    "background scrub done: %s", report.summary())
            return report
        finally:
            os.close(lock)
