"""The group-commit writer of the metadata database.

Writes are closures queued to one thread, which runs every queued closure in one
transaction (each in its own savepoint) and commits once: concurrent writers share one
fsync. Processes sharing the database take turns through a file lock. After each commit
the change stamp moves (before any caller hears of it), the callers' futures are settled,
and garbage blobs recorded by the transactions are handed to ``on_garbage``. A commit that
fails for want of space calls ``on_full`` (which may free the blob store's ballast) and is
tried once more, so that deletes go through on a disk filled from outside.

Without ``on_garbage`` garbage rows stay for a reaper (``service/blob_gc.py``: blobs are
unlinked only after a grace period, when several gateways share the blob directory). A
write that cannot get the database within ``timeout`` seconds (another process holds the
writer lock or the database's own lock) fails with ``Unavailable`` (503 + Retry-After),
never having run: the request neither hangs nor half-succeeds.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import sqlite3
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

from objectstore.storage import faults
from objectstore.storage.changes import ChangeStamp
from objectstore.storage.db import Txn
from objectstore.storage.meta import Unavailable

T = TypeVar("T")
# who waits for a write: a thread (concurrent future) or a coroutine (its loop and future)
Waiter = Future[Any] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class GroupCommitWriter:
    def __init__(self, connect: Callable[[], sqlite3.Connection], lock_path: Path,
                 stamp: ChangeStamp,
                 on_garbage: Callable[[list[str]], None] | None = None,
                 on_full: Callable[[], bool] | None = None, timeout: float = 30.0) -> None:
        self._connect = connect
        self._stamp = stamp
        self._on_garbage = on_garbage
        self._on_full = on_full
        self.timeout = timeout
        self._cond = threading.Condition()  # between the writer and its watchdog
        self._waiting: tuple[Txn[Any], Waiter] | None = None  # taken, waiting for the lock
        self._blocked_since: float | None = None  # when the writer began to wait for it
        self._watchdog: threading.Thread | None = None
        self._queue: queue.SimpleQueue[tuple[Txn[Any], Waiter] | None] = queue.SimpleQueue()
        self._lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._thread = threading.Thread(target=self._write_loop, name="meta-writer",
                                        daemon=True)
        self._thread.start()

    def submit(self, fn: Txn[T]) -> Future[T]:
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return fut

    def submit_async(self, fn: Txn[T]) -> asyncio.Future[T]:
        """Like submit, for a caller on an event loop: the writer settles every such future
        of a commit with one call into the loop (no thread-safe future per write)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, (loop, fut)))
        return fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _write_loop(self) -> None:
        conn = self._connect()
        pending_garbage: list[str] = []
        while True:
            item = self._queue.get()
            if item is None:
                return
            # Processes sharing the database (serve --workers N, the admin CLI) take turns
            # through a file lock: a blocked writer wakes the moment the lock is free, where
            # SQLite's own busy handler would sleep-poll for up to 100 ms at a time. The
            # batch is gathered after the wait, so writes queued meanwhile share the commit.
            # A lock not free within ``timeout`` (a stuck process) fails writes with 503.
            if not self._lock(item):
                continue  # the wait timed out: item was answered Unavailable
            try:
                batch = self._take_batch(item)
                results = self._commit(conn, batch, pending_garbage)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            if results is None:
                continue
            pending_garbage = []
            _settle(results)
            collected = self._collect_garbage(conn)
            if collected:
                pending_garbage.extend(collected)

    def _lock(self, item: tuple[Txn[Any], Waiter]) -> bool:
        """Take the writer lock for ``item``: at once when it is free (the common case: the
        same one system call as a blocking lock), else by blocking, woken the moment the
        lock is free, while the watchdog refuses writes that waited ``timeout``. False when
        ``item`` was refused meanwhile (the lock is then not held)."""
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        with self._cond:
            self._waiting = item
            self._blocked_since = time.monotonic()
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name="meta-watchdog",
                                                  daemon=True)
                self._watchdog.start()
            self._cond.notify()
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        with self._cond:  # from here on the watchdog takes nothing from the queue
            self._blocked_since = None
            still = self._waiting is item
            self._waiting = None
        if not still:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        return still

    def _watch(self) -> None:
        """(watchdog thread) While the writer waits for a lock held by another process: every
        ``timeout`` seconds, the write it waits for and those queued behind it fail with
        Unavailable, none having run (a write waits at most ``timeout``)."""
        while True:
            with self._cond:
                while self._blocked_since is None:
                    self._cond.wait()
                left = self._blocked_since + self.timeout - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._blocked_since = time.monotonic()  # the next round of waiters
                failed = [self._waiting] if self._waiting is not None else []
                self._waiting = None
                failed += self._queued(sys.maxsize)
            if failed:
                logging.getLogger("objectstore").warning(
                    "%d metadata writes refused (503): the writer lock was not free for "
                    "%.0f s", len(failed), self.timeout)
                exc = Unavailable("the metadata database is locked by another process")
                _settle([(fut, False, exc) for _fn, fut in failed])

    def _take_batch(self, first: tuple[Txn[Any], Waiter]) -> list[tuple[Txn[Any], Waiter]]:
        return [first, *self._queued(255)]

    def _queued(self, room: int) -> list[tuple[Txn[Any], Waiter]]:
        """Up to ``room`` writes already queued, without waiting (the close marker, None,
        stays queued)."""
        got: list[tuple[Txn[Any], Waiter]] = []
        while len(got) < room:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)
                break
            got.append(nxt)
        return got

    def _commit(self, conn: sqlite3.Connection, batch: list[tuple[Txn[Any], Waiter]],
                pending_garbage: list[str],
                retry: bool = True) -> list[tuple[Waiter, bool, Any]] | None:
        """Run ``batch`` in one transaction (each closure in a savepoint unless alone) and
        commit; the results to hand out, or None when the commit failed (already told)."""
        results: list[tuple[Waiter, bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if pending_garbage:
                conn.executemany("DELETE FROM garbage WHERE blob=?",
                                 [(b,) for b in pending_garbage])
            alone = len(batch) == 1 and not pending_garbage
            for fn, fut in batch:
                if alone:  # one closure: its failure may simply roll back the whole txn
                    try:
                        results.append((fut, True, fn(conn)))
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        conn.execute("ROLLBACK")
                        conn.execute("BEGIN IMMEDIATE")
                        results.append((fut, False, exc))
                    continue
                conn.execute("SAVEPOINT op")
                try:
                    value = fn(conn)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    results.append((fut, False, exc))
                else:
                    conn.execute("RELEASE op")
                    results.append((fut, True, value))
            conn.execute("COMMIT")
            self._stamp.bump()  # before any caller hears of the commit
        except sqlite3.Error as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if retry and self._on_full is not None and faults.classify(exc) == "full" \
                    and self._on_full():
                return self._commit(conn, batch, pending_garbage, retry=False)
            _settle([(fut, False, exc) for _fn, fut in batch])
            return None
        return results

    def _collect_garbage(self, conn: sqlite3.Connection) -> list[str]:
        if self._on_garbage is None:
            return []  # left for the reaper, after the grace period
        rows = conn.execute("SELECT blob FROM garbage LIMIT 1000").fetchall()
        blobs = [r[0] for r in rows]
        if blobs and self._on_garbage is not None:
            try:
                self._on_garbage(blobs)
            except Exception:  # noqa: BLE001 - gc must never stop the writer
                logging.getLogger("objectstore").exception("removing garbage blobs failed")
        return blobs


def _settle(results: list[tuple[Waiter, bool, Any]]) -> None:
    """Hand each caller its result: thread futures directly, event-loop futures in one
    call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for waiter, ok, value in results:
        if isinstance(waiter, Future):
            if ok:
                waiter.set_result(value)
            else:
                waiter.set_exception(value)
        else:
            loop, fut = waiter
            by_loop.setdefault(loop, []).append((fut, ok, value))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_in_loop, items)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _settle_in_loop(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for fut, ok, value in items:
        if fut.cancelled():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
