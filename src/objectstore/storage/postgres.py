"""MetadataStore on PostgreSQL (psycopg 3 and a connection pool), for several gateways.

It runs the very SQL SqliteMeta runs (the queries and write closures are inherited; the
connection adapter, storage/pg_conn.py, bridges the spelling): only the plumbing differs.

- Writes: each closure runs in its own transaction at SERIALIZABLE isolation on a pool
  connection, from a thread pool of the pool's size. A serialization failure or deadlock
  rolls it back and runs it again (closures are retry-safe: no effect outside the
  database), so every race SQLite's single writer decides — If-None-Match: *, racing
  CompleteMultipartUploads, racing CreateBucket — has exactly one winner here too, across
  any number of gateways. Garbage blobs recorded by a transaction are unlinked after its
  commit, by the gateway that committed it.
- Reads: one autocommit connection per thread; every statement sees every transaction
  committed before it started, whichever gateway committed it. Nothing is cached across
  requests (bucket, key and object lookups are each a primary-key query), so what any
  gateway acknowledged is what the next request to any other sees — configuration,
  policies, keys and users included.
- Unreachable or restarting PostgreSQL, an exhausted pool: meta.Unavailable (503); a
  broken connection is replaced on the next use, so gateways recover by themselves.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg_pool

from objectstore.storage import secrets_at_rest as at_rest
from objectstore.storage.db import Connection, Retry, Txn
from objectstore.storage.keyring import default_path
from objectstore.storage.meta import Unavailable
from objectstore.storage.model import ObjectRecord
from objectstore.storage.pg_conn import PgConnection, ReaderConnection, Translation, neutral
from objectstore.storage.pg_schema import migrate
from objectstore.storage.rows import WITH_DATA, row_to_object
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.writer import Waiter, _settle

T = TypeVar("T")
log = logging.getLogger("objectstore.postgres")

_STAMPS = "SELECT (SELECT last_value FROM changes), (SELECT last_value FROM config_changes)"
_BUMP_CONFIG = "SELECT nextval('changes'), nextval('config_changes')"
_COMMIT = "COMMIT; SELECT nextval('changes')"
_COMMIT_CONFIG = "COMMIT; " + _BUMP_CONFIG
POOL_SIZE = 16  # write connections (and writer threads) per process
POOL_TIMEOUT = 10.0  # seconds a write waits for a connection before 503
CONNECT_TIMEOUT = 5  # seconds
MAX_ATTEMPTS = 50  # runs of one transaction that keeps losing races


def is_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password (for logs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class PostgresMeta(SqliteMeta):
    def __init__(self, url: str, data_dir: Path, *,
                 on_garbage: Callable[[list[str]], None] | None = None,
                 keyring: Path | None = None, pool_size: int = POOL_SIZE) -> None:
        """``keyring``: the keyring file (default ``<data_dir>/keyring/keyring.json``)."""
        self.url = url
        self.path = data_dir / "meta.postgresql"  # (no file: names the store in messages)
        self.fsync = True
        self._local = threading.local()
        self._sql: dict[str, Translation] = {}
        self._on_garbage = on_garbage
        self._kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT}
        try:
            with psycopg.connect(url, **self._kwargs) as conn:
                migrate(conn)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"cannot reach PostgreSQL at {redacted(url)}: "
                              f"{_first_line(exc)}") from None
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs=self._kwargs, timeout=POOL_TIMEOUT,
            name="objectstore-meta", open=True)
        self._executor = ThreadPoolExecutor(pool_size, thread_name_prefix="meta-pg")
        reader = self.reader()
        self.secrets = at_rest.SealedSecrets(
            at_rest.open_keyring(reader, keyring or default_path(data_dir)))
        if at_rest.PLAIN in at_rest.key_ids(reader):  # keys added by an older release
            self.run(self.secrets.seal_plaintext)

    def describe(self) -> str:
        return f"PostgreSQL {redacted(self.url)}"

    # ------------------------------------------------------------ plumbing
    def ensure_schema(self, sql: str, table: str = "",
                      added: tuple[tuple[str, str], ...] = ()) -> None:
        """(The versioned migrations made every table at start-up.)"""

    def reader(self) -> Connection:
        conn: ReaderConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.raw.closed:
            try:
                conn = ReaderConnection(self._pg_connect, self._sql)
            except psycopg.OperationalError as exc:
                raise Unavailable(f"PostgreSQL: {_first_line(exc)}") from None
            self._local.conn = conn
        return conn

    def _pg_connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, **self._kwargs)

    def pool_stats(self) -> dict[str, float]:
        """The write pool's figures (psycopg_pool's get_stats: pool_size, pool_available,
        requests_waiting, ...), for the metrics (server/metrics.py, POOL_HOOK)."""
        return {k: float(v) for k, v in self._pool.get_stats().items()
                if isinstance(v, (int, float))}

    def new_request(self) -> None:
        """(The server, as each request starts.) Validate this thread's caches against the
        change stamps, in one query: object records are dropped when ``changes`` moved
        (any committed write), key, bucket and account lookups when ``config_changes``
        moved. Every write takes new stamp values after its COMMIT and before it is
        acknowledged, and a cached entry was fetched after the stamp it is kept under was
        read: a request that starts after a write was acknowledged, by any gateway, never
        sees an older answer (the protocol of SQLite's ChangeStamp, storage/changes.py)."""
        local = self._local
        row = self.reader().execute(_STAMPS).fetchone()
        if getattr(local, "stamp", None) != row[0]:
            local.objects = collections.OrderedDict()
            local.cached_bytes = 0
            local.stamp = row[0]
        # (compared on its own: a read between a commit's two nextval calls sees ``changes``
        # moved and ``config_changes`` not yet; the next request must still see it move)
        if getattr(local, "config_stamp", None) != row[1]:
            local.cache = {}
            local.config_stamp = row[1]

    def _cache(self) -> dict[tuple[str, ...], Any]:
        """The thread's lookup cache when its requests validate it (new_request); else a
        new empty one: background threads and admin commands query every time."""
        cache: dict[tuple[str, ...], Any] | None = getattr(self._local, "cache", None)
        return {} if cache is None else cache

    def submit(self, fn: Txn[T]) -> Future[T]:
        fut: Future[T] = Future()
        self._executor.submit(self._work, fn, fut)
        return fut

    def submit_async(self, fn: Txn[T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._executor.submit(self._work, fn, (loop, fut))
        return fut

    def run(self, fn: Txn[T]) -> T:
        """Run a write transaction and wait for its commit (for blocking callers)."""
        return self.submit(fn).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._pool.close()
        conn: ReaderConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.raw.close()

    def _checkpoint(self) -> None:
        pass

    def _work(self, fn: Txn[Any], waiter: Waiter) -> None:
        try:
            result, garbage = self.transact(fn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            _settle([(waiter, False, exc)])
            return
        _settle([(waiter, True, result)])
        if garbage:
            self._collect_garbage()

    def transact(self, fn: Txn[T]) -> tuple[T, bool]:
        """Run ``fn`` in a SERIALIZABLE transaction until it commits (or fails for a
        reason of its own): its result, and whether it recorded garbage blobs."""
        stale = 0
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._pool.connection() as raw:
                    conn = PgConnection(raw, self._sql)
                    try:
                        conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    except Unavailable:
                        if raw.broken and stale < 3:  # an idle connection the server
                            stale += 1  # dropped (a restart): the pool discards it
                            continue
                        raise
                    try:
                        result = fn(conn)
                    except BaseException:
                        if not raw.broken:
                            raw.execute("ROLLBACK")
                        raise
                    # COMMIT and the stamps' move in one round trip (simple protocol): the
                    # stamps move after the commit, before anyone hears of it; a COMMIT
                    # that fails (serialization) stops the string there
                    try:
                        cur = raw.execute(_COMMIT_CONFIG if conn.wrote_config else _COMMIT)
                    except psycopg.Error as exc:
                        mapped = neutral(exc)
                        if mapped is exc:
                            raise
                        if isinstance(mapped, Unavailable):  # lost during the COMMIT
                            mapped.outcome_unknown = True
                        raise mapped from exc
                    if cur.statusmessage != "COMMIT":  # an error a closure swallowed
                        raise RuntimeError("the metadata transaction was rolled back")
                    return result, conn.wrote_garbage
            except Retry:
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** attempt)))
            except psycopg_pool.PoolTimeout:
                raise Unavailable("PostgreSQL: no connection free in the pool") from None
            except psycopg.OperationalError as exc:  # connecting failed, or the server left
                raise Unavailable(f"PostgreSQL: {_first_line(exc)}") from None
            except Unavailable:  # a COMMIT whose outcome is unknown may have committed
                self._bump_elsewhere()
                raise
        raise Unavailable("PostgreSQL: the transaction kept losing races; try again")

    def _bump_elsewhere(self) -> None:
        """Move both stamps through another connection (best effort: when PostgreSQL is
        down, there is no cache to keep exact with it)."""
        try:
            with self._pool.connection(timeout=1.0) as raw:
                raw.execute(_BUMP_CONFIG)
        except Exception:  # noqa: BLE001 - unreachable: nothing to do
            log.debug("could not move the change stamps", exc_info=True)

    def _collect_garbage(self) -> None:
        """Unlink the blobs transactions released, then forget them (a crash between the
        two leaves them listed: unlinked again later, harmlessly)."""
        if self._on_garbage is None:
            return
        try:
            with self._pool.connection() as raw:
                blobs = [r[0] for r in raw.execute("SELECT blob FROM garbage LIMIT 1000")]
                if not blobs:
                    return
                self._on_garbage(blobs)
                raw.execute("DELETE FROM garbage WHERE blob = ANY(%s)", (blobs,))
        except Exception:  # noqa: BLE001 - gc must never fail a write
            log.exception("removing garbage blobs failed")

    # ------------------------------------------------------------ objects
    def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        """From this thread's object cache when its requests validate it (new_request);
        otherwise (background jobs, admin commands) straight from the database."""
        if hasattr(self._local, "objects"):
            return super().get_object(bucket, key)
        row = self.reader().execute(
            f"SELECT {WITH_DATA} FROM objects WHERE bucket=? AND key=?",
            (bucket, key)).fetchone()
        return row_to_object(row) if row else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
