"""Storage faults: blobs missing, truncated or corrupted behind the server's back, and
how OS and SQLite errors of a full or read-only data directory are told apart.

Every blob fault a request runs into is logged (one line) and counted here; `objectstore
scrub` finds the ones no request has touched yet.
"""

from __future__ import annotations

import collections
import errno
import logging
import sqlite3
import threading

log = logging.getLogger("objectstore.storage")

KINDS = ("missing", "truncated", "corrupt")
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
READONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
SQLITE_FULL = 13
SQLITE_READONLY = 8
SQLITE_CANTOPEN = 14


class BlobFault(Exception):
    """A blob that does not hold what the metadata says: ``kind`` is one of KINDS."""

    def __init__(self, kind: str, blob: str, detail: str = "") -> None:
        super().__init__(f"blob {blob} {kind}" + (f": {detail}" if detail else ""))
        self.kind = kind
        self.blob = blob
        self.detail = detail
        self.where = ""  # "bucket/key" when known


class Counters:
    """Blob faults met while serving, by kind (process-wide; read by tests and, later,
    metrics)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: self._counts[k] for k in (*KINDS, "aborted_bodies")}


COUNTERS = Counters()


def report(fault: BlobFault, request_id: str = "") -> None:
    COUNTERS.add(fault.kind)
    log.error("STORAGE FAULT blob %s %s%s%s%s", fault.blob, fault.kind,
              f" object {fault.where}" if fault.where else "",
              f": {fault.detail}" if fault.detail else "",
              f" (request {request_id})" if request_id else "")


def classify(exc: BaseException) -> str | None:
    """"full" for out-of-space errors, "readonly" for a data directory that refuses
    writes, None for anything else."""
    if isinstance(exc, OSError):
        if exc.errno in FULL_ERRNOS:
            return "full"
        if exc.errno in READONLY_ERRNOS:
            return "readonly"
        return None
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return None
        primary = code & 0xFF
        if primary == SQLITE_FULL:
            return "full"
        if primary == SQLITE_READONLY:
            return "readonly"
    return None
