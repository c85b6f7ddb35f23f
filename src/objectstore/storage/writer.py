"""The group-commit writer of the metadata database.

Writes are closures queued to one thread, which runs every queued closure in one
transaction (each in its own savepoint) and commits once: concurrent writers share one
fsync. Processes sharing the database take turns through a file lock. After each commit
the change stamp moves (before any caller hears of it), the callers' futures are settled,
and garbage blobs recorded by the transactions are handed to ``on_garbage``. A commit that
fails for want of space calls ``on_full`` (which may free the blob store's ballast) and is
tried once more, so that deletes go through on a disk filled from outside.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

from objectstore.storage import faults
from objectstore.storage.changes import ChangeStamp
from objectstore.storage.db import Txn

T = TypeVar("T")
# who waits for a write: a thread (concurrent future) or a coroutine (its loop and future)
Waiter = Future[Any] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class GroupCommitWriter:
    def __init__(self, connect: Callable[[], sqlite3.Connection], lock_path: Path,
                 stamp: ChangeStamp,
                 on_garbage: Callable[[list[str]], None] | None = None,
                 on_full: Callable[[], bool] | None = None) -> None:
        self._connect = connect
        self._stamp = stamp
        self._on_garbage = on_garbage
        self._on_full = on_full
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
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
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

    def _take_batch(self, first: tuple[Txn[Any], Waiter]) -> list[tuple[Txn[Any], Waiter]]:
        batch = [first]
        while len(batch) < 256:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)
                break
            batch.append(nxt)
        return batch

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
