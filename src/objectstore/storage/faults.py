"""Storage faults: blobs missing, truncated or corrupted behind the server's back, and
how OS and SQLite errors of a full or read-only data directory are told apart.

Every blob fault a request runs into is logged (one line) and counted here; `objectstore
scrub` finds the ones no request has touched yet.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("objectstore.storage")

KINDS = ("missing", "truncated", "corrupt")
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
READONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
SQLITE_FULL = 13
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CANTOPEN = 14
SQLITE_BUSY = 5
SQLITE_LOCKED = 6


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


def classify(exc: BaseException, root: Path | None = None) -> str | None:
    """"full" for out-of-space errors, "readonly" for a data directory that refuses
    writes, None for anything else. With ``root`` (the data directory), a plain I/O error
    on a file system the kernel has turned read-only (ext4's errors=remount-ro) counts as
    "readonly" too (found by trying to create a file there)."""
    if isinstance(exc, OSError):
        if exc.errno in FULL_ERRNOS:
            return "full"
        if exc.errno in READONLY_ERRNOS:
            return "readonly"
        return "readonly" if exc.errno == errno.EIO and _mounted_read_only(root) else None
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return None
        primary = code & 0xFF
        if primary == SQLITE_FULL:
            return "full"
        if primary == SQLITE_READONLY:
            return "readonly"
        if primary in (SQLITE_IOERR, SQLITE_CANTOPEN) and _mounted_read_only(root):
            return "readonly"
    return None


def unreachable(exc: sqlite3.Error) -> bool:
    """Whether the metadata database could not be used for now (locked by another process
    past the busy timeout): an answer of 503 with Retry-After, not 500."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def db_io_error(exc: sqlite3.Error) -> bool:
    """An I/O error on (or failure to open) the database file that is not a read-only
    file system: the file may be back in a moment (a network file system), so 503."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_IOERR, SQLITE_CANTOPEN)


def _mounted_read_only(root: Path | None) -> bool:
    """Whether a file can be created in the data directory (a probe: the mount flags do
    not show ext4's emergency read-only state)."""
    if root is None:
        return False
    probe = root / f".write-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        return exc.errno in READONLY_ERRNOS
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return False
