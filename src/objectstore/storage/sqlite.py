"""MetadataStore on SQLite (WAL): accounts, keys, buckets and objects.

Reads use one connection per thread, behind per-thread caches kept exact by the shared
change stamp. Writes are closures handed to the group-commit writer (storage/writer.py).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar, cast

from objectstore.storage import secrets_at_rest as at_rest
from objectstore.storage import sqlite_sessions, versions
from objectstore.storage.changes import ChangeStamp
from objectstore.storage.db import ADD_GARBAGE, Connection, Txn, upsert
from objectstore.storage.keyring import Keyring, default_path
from objectstore.storage.meta import Conflict, NotFound, check_deletable
from objectstore.storage.model import (
    Bucket,
    ObjectRecord,
    Segment,
)
from objectstore.storage.rows import (
    BUCKET_COLUMNS,
    CURRENT,
    OBJECT_COLUMNS,
    WITH_DATA,
    Current,
    object_values,
    row_to_bucket,
    row_to_object,
    segments_from_json,
    segments_json,
    tags_json,
)
from objectstore.storage.sqlite_accounts import CACHE_NAME_MAX, AccountTables, bound
from objectstore.storage.sqlite_sessions import SessionTables
from objectstore.storage.writer import GroupCommitWriter

T = TypeVar("T")
CACHE_CHECK = 0.05  # seconds between data_version checks (changes made without the stamp)
CACHE_ENTRIES = 10_000  # object records cached per thread (oldest dropped first) ...
CACHE_BYTES = 24 << 20  # ... and the inline object data they may hold
_MISSING = object()

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL, public_block TEXT);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, account_id TEXT NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0,
  created REAL NOT NULL, policy TEXT);
CREATE TABLE IF NOT EXISTS keys (
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL,
  created REAL NOT NULL, status TEXT NOT NULL DEFAULT 'Active');
CREATE INDEX IF NOT EXISTS keys_by_user ON keys(user_name);
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY, account_id TEXT NOT NULL, created REAL NOT NULL,
  region TEXT NOT NULL, acl TEXT NOT NULL, tags TEXT, cors TEXT,
  versioning TEXT NOT NULL DEFAULT '', object_lock TEXT, lifecycle TEXT, encryption TEXT,
  ownership TEXT, public_block TEXT, policy TEXT, website TEXT, logging TEXT);
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  mtime REAL NOT NULL, owner TEXT NOT NULL, acl TEXT NOT NULL, headers TEXT NOT NULL,
  checksums TEXT NOT NULL, checksum_type TEXT, segments TEXT NOT NULL,
  part_count INTEGER NOT NULL DEFAULT 0, data BLOB, tags TEXT,
  version_id TEXT, seq INTEGER NOT NULL DEFAULT 0, lock_mode TEXT, lock_until REAL,
  legal_hold INTEGER NOT NULL DEFAULT 0, sse TEXT,
  PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS user_certs (
  user_name TEXT NOT NULL, pem BLOB NOT NULL, added REAL NOT NULL);
CREATE INDEX IF NOT EXISTS user_certs_by_user ON user_certs(user_name);
CREATE TABLE IF NOT EXISTS garbage (blob TEXT PRIMARY KEY, since REAL NOT NULL);
"""

# Columns added since the first release: (table, column, type) for ALTER TABLE.
MIGRATIONS = (
    ("objects", "data", "BLOB"), ("objects", "tags", "TEXT"),
    ("buckets", "tags", "TEXT"), ("buckets", "cors", "TEXT"),
    ("objects", "version_id", "TEXT"), ("objects", "seq", "INTEGER NOT NULL DEFAULT 0"),
    ("objects", "lock_mode", "TEXT"), ("objects", "lock_until", "REAL"),
    ("objects", "legal_hold", "INTEGER NOT NULL DEFAULT 0"), ("objects", "sse", "TEXT"),
    ("buckets", "versioning", "TEXT NOT NULL DEFAULT ''"), ("buckets", "object_lock", "TEXT"),
    ("buckets", "lifecycle", "TEXT"), ("buckets", "encryption", "TEXT"),
    ("buckets", "ownership", "TEXT"), ("buckets", "public_block", "TEXT"),
    ("buckets", "policy", "TEXT"), ("buckets", "website", "TEXT"), ("buckets", "logging", "TEXT"),
    ("users", "policy", "TEXT"), ("accounts", "public_block", "TEXT"),
    ("keys", "status", "TEXT NOT NULL DEFAULT 'Active'"),
)




class SqliteMeta(AccountTables, SessionTables):
    def __init__(self, path: Path, *, fsync: bool = True,
                 on_garbage: Callable[[list[str]], None] | None = None,
                 on_full: Callable[[], bool] | None = None,
                 keyring: Path | None = None, timeout: float = 30.0) -> None:
        """``keyring``: the keyring file (default ``<db dir>/keyring/keyring.json``);
        ``timeout``: seconds an operation waits for a database another process has locked
        (then sqlite3 "database is locked", or Unavailable: 503 either way)."""
        self.path = path
        self.fsync = fsync
        self.timeout = timeout
        self._local = threading.local()
        self._stamp = ChangeStamp(path.with_name(path.name + "-changes"))
        lock_path = path.with_name(path.name + "-writer.lock")
        # Processes starting at once on one directory (gateways, workers) set up the schema,
        # the WAL mode and the keyring one at a time: the first makes them, the others find
        # them (PRAGMA journal_mode=WAL on a new database fails at once, without waiting,
        # when another connection is in the middle of the same).
        with _exclusive(lock_path):
            conn = self._connect()
            conn.executescript(SCHEMA + versions.SCHEMA + sqlite_sessions.SCHEMA)
            for table, column, kind in MIGRATIONS:
                columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in columns:  # databases made by earlier versions
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self.secrets = at_rest.SealedSecrets(
                at_rest.open_keyring(conn, keyring or default_path(path.parent)))
            plain = at_rest.PLAIN in at_rest.key_ids(conn)
            conn.close()
        self._writer = GroupCommitWriter(self._connect, lock_path, self._stamp, on_garbage,
                                         on_full, timeout)
        if plain:  # a database of an earlier version: seal its secrets now
            try:
                self.run(self.secrets.seal_plaintext)
                self._checkpoint()
            except BaseException:
                self._writer.close()
                raise

    # ------------------------------------------------------------ plumbing
    def ensure_schema(self, sql: str, table: str = "",
                      added: tuple[tuple[str, str], ...] = ()) -> None:
        """Create the tables of ``sql`` if missing and add ``added`` (column, declaration)
        to ``table`` in databases made before them. (PostgreSQL: its versioned migrations
        made them all at start-up.)"""
        conn = cast(sqlite3.Connection, self.reader())
        conn.executescript(sql)
        if not added:
            return
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in added:
            if name not in have:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
                except sqlite3.OperationalError:  # another process added it meanwhile
                    pass

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self.timeout)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'OFF'}")
        conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return conn

    def reader(self) -> Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _cache(self) -> dict[tuple[str, ...], Any]:
        """This thread's cache of lookups (keys, buckets, objects). It is emptied whenever
        the shared change stamp moves (a commit by any process through SqliteMeta), and
        when SQLite's data_version shows a change made some other way — checked at most
        every 50 ms."""
        local = self._local
        stamp = self._stamp.read()
        now = time.monotonic()
        if getattr(local, "stamp", None) != stamp or \
                now - getattr(local, "checked", 0.0) > CACHE_CHECK:
            version = self.reader().execute("PRAGMA data_version").fetchone()[0]
            if getattr(local, "stamp", None) != stamp or \
                    getattr(local, "version", None) != version:
                local.cache = {}
                local.objects = collections.OrderedDict()
                local.cached_bytes = 0
            local.stamp, local.version, local.checked = stamp, version, now
        cache: dict[tuple[str, ...], Any] = local.cache
        return cache

    def submit(self, fn: Txn[T]) -> Future[T]:
        return self._writer.submit(fn)

    def submit_async(self, fn: Txn[T]) -> asyncio.Future[T]:
        return self._writer.submit_async(fn)

    def run(self, fn: Txn[T]) -> T:
        """Run a write transaction and wait for its commit (for blocking callers)."""
        return self._writer.submit(fn).result()

    def close(self) -> None:
        self._writer.close()

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it (replaced secrets leave it)."""
        self.reader().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # ------------------------------------------------------------ secrets at rest
    @property
    def keyring(self) -> Keyring:
        return self.secrets.keyring

    def reseal_secrets(self) -> int:
        """After a rotation: every secret sealed under the new active key, in one
        transaction; how many were sealed again."""
        count = self.run(self.secrets.reseal)
        self._checkpoint()
        return count

    def secret_key_ids(self) -> dict[str, int]:
        """Key id -> how many access-key secrets are sealed with it."""
        return at_rest.key_ids(self.reader())

    # ------------------------------------------------------------ buckets
    def get_bucket(self, name: str) -> Bucket | None:
        cache = self._cache()
        if ("bucket", name) not in cache:
            if len(name) > CACHE_NAME_MAX:
                return self._get_bucket(name)
            bound(cache)
            cache[("bucket", name)] = self._get_bucket(name)
        bucket: Bucket | None = cache[("bucket", name)]
        return bucket

    def _get_bucket(self, name: str) -> Bucket | None:
        row = self.reader().execute(
            f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE name=?", (name,)).fetchone()
        return row_to_bucket(row) if row else None

    def list_buckets(self, account_id: str | None) -> list[Bucket]:
        sql = f"SELECT {BUCKET_COLUMNS} FROM buckets"
        args: tuple[str, ...] = ()
        if account_id is not None:
            sql += " WHERE account_id=?"
            args = (account_id,)
        return [row_to_bucket(r) for r in self.reader().execute(sql + " ORDER BY name", args)]

    def create_bucket_txn(self, bucket: Bucket) -> Txn[None]:
        def txn(c: Connection) -> None:
            row = c.execute("SELECT account_id FROM buckets WHERE name=?",
                            (bucket.name,)).fetchone()
            if row is not None:
                raise Conflict("owned" if row[0] == bucket.account_id else "exists")
            c.execute(f"INSERT INTO buckets ({BUCKET_COLUMNS}) VALUES ({_BUCKET_MARKS})",
                      (bucket.name, bucket.account_id, bucket.created, bucket.region, bucket.acl,
                       tags_json(bucket.tags), bucket.cors, bucket.versioning,
                       bucket.object_lock, bucket.lifecycle, bucket.encryption,
                       bucket.ownership, bucket.public_block, bucket.policy, bucket.website,
                       bucket.logging))
        return txn

    def delete_bucket_txn(self, name: str) -> Txn[None]:
        def txn(c: Connection) -> None:
            if c.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)).fetchone() \
                    or c.execute("SELECT 1 FROM versions WHERE bucket=? LIMIT 1",
                                 (name,)).fetchone():
                raise Conflict("not empty")
            if c.execute("DELETE FROM buckets WHERE name=?", (name,)).rowcount == 0:
                raise NotFound("bucket")
            _drop_uploads(c, name)
        return txn

    def set_bucket_acl_txn(self, name: str, acl: str) -> Txn[None]:
        def txn(c: Connection) -> None:
            if c.execute("UPDATE buckets SET acl=? WHERE name=?", (acl, name)).rowcount == 0:
                raise NotFound("bucket")
        return txn

    def set_bucket_tags_txn(self, name: str, tags: tuple[tuple[str, str], ...]) -> Txn[None]:
        def txn(c: Connection) -> None:
            if c.execute("UPDATE buckets SET tags=? WHERE name=?",
                         (tags_json(tags), name)).rowcount == 0:
                raise NotFound("bucket")
        return txn

    def set_bucket_cors_txn(self, name: str, cors: str | None) -> Txn[None]:
        return _set_bucket_column("cors", name, cors)

    def set_bucket_lifecycle_txn(self, name: str, lifecycle: str | None) -> Txn[None]:
        return _set_bucket_column("lifecycle", name, lifecycle)

    def set_bucket_encryption_txn(self, name: str, encryption: str | None) -> Txn[None]:
        return _set_bucket_column("encryption", name, encryption)

    def set_bucket_ownership_txn(self, name: str, ownership: str | None) -> Txn[None]:
        """Set (None: delete) the bucket's ObjectOwnership (OwnershipControls)."""
        return _set_bucket_column("ownership", name, ownership)

    def set_bucket_public_block_txn(self, name: str, block: str | None) -> Txn[None]:
        return _set_bucket_column("public_block", name, block)

    def set_bucket_setting_txn(self, column: str, name: str, value: str | None) -> Txn[None]:
        """One of the bucket's configuration documents by column (cors, lifecycle,
        encryption, ownership, public_block, policy, website, logging); None deletes it."""
        return _set_bucket_column(column, name, value)

    def set_object_tags_txn(self, bucket: str, key: str, tags: tuple[tuple[str, str], ...],
                            version_id: str | None | Current = CURRENT) -> Txn[None]:
        """Tags of the current object, or of version ``version_id`` (None: "null")."""
        return _update_version("tags", tags_json(tags), bucket, key, version_id)

    def bucket_is_empty(self, name: str) -> bool:
        conn = self.reader()
        return conn.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1",
                            (name,)).fetchone() is None and \
            conn.execute("SELECT 1 FROM versions WHERE bucket=? LIMIT 1",
                         (name,)).fetchone() is None

    # ------------------------------------------------------------ objects
    def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        self._cache()  # empties the object cache too when anything changed
        local = self._local
        objects: collections.OrderedDict[tuple[str, str], ObjectRecord | None] = local.objects
        hit = objects.get((bucket, key), _MISSING)
        if hit is not _MISSING:
            found: ObjectRecord | None = hit  # type: ignore[assignment]
            return found
        row = self.reader().execute(
            f"SELECT {WITH_DATA} FROM objects WHERE bucket=? AND key=?",
            (bucket, key)).fetchone()
        rec = row_to_object(row) if row else None
        size = len(rec.inline) if rec is not None and rec.inline else 0
        if size <= CACHE_BYTES // 64:
            while objects and (len(objects) >= CACHE_ENTRIES or
                               local.cached_bytes + size > CACHE_BYTES):
                _, old = objects.popitem(last=False)  # the oldest entry goes first
                local.cached_bytes -= len(old.inline) if old is not None and old.inline else 0
            local.cached_bytes += size
            objects[(bucket, key)] = rec
        return rec

    def scan_objects(self, bucket: str, prefix: str, after: bytes,
                     batch: int = 1000) -> Iterator[ObjectRecord]:
        """Objects whose key (UTF-8 bytes) sorts after ``after`` and starts with ``prefix``."""
        conn = self.reader()
        upper = prefix.encode() + b"\xff" if prefix else None
        lower = max(after, prefix.encode()) if prefix else after
        inclusive = bool(prefix) and prefix.encode() > after
        while True:
            op = ">=" if inclusive else ">"
            sql = (f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? "
                   f"AND key {op} CAST(? AS TEXT)")
            args: list[Any] = [bucket, lower]
            if upper is not None:
                sql += " AND key < CAST(? AS TEXT)"
                args.append(upper)
            sql += " ORDER BY key LIMIT ?"
            args.append(batch)
            rows = conn.execute(sql, args).fetchall()
            for row in rows:
                yield row_to_object(row)
            if len(rows) < batch:
                return
            lower = rows[-1][1].encode()
            inclusive = False

    def put_object_txn(self, rec: ObjectRecord,
                       check: Callable[[ObjectRecord | None], None] | None = None,
                       *, shared: ObjectRecord | None = None) -> Txn[ObjectRecord]:
        """Make ``rec`` the current object; ``check`` sees the current one first (atomically).
        In a versioned bucket the previous current version is kept (or, Suspended, the null
        version replaced); the stored record, with its version id and seq, is returned.
        ``shared``: the source whose blobs ``rec`` refers to too (a copy without bytes); it
        must still exist with those blobs (Conflict otherwise)."""
        def txn(c: Connection) -> ObjectRecord:
            mode = versions.versioning_of(c, rec.bucket)
            if mode is None:
                raise NotFound("bucket")
            if shared is not None and not versions.holds(c, shared, segments_json(
                    shared.segments)):
                raise Conflict("copy source changed")
            if check is not None:
                row = c.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=?",
                                (rec.bucket, rec.key)).fetchone()
                check(row_to_object(row) if row else None)
            if mode:
                return versions.put(c, rec, mode, shared is not None, object_values)
            if shared is not None:
                versions.share(c, rec.segments)
            old = c.execute("SELECT segments FROM objects WHERE bucket=? AND key=?",
                            (rec.bucket, rec.key)).fetchone()
            if old is not None and old[0] != "[]":
                _mark_garbage(c, segments_from_json(old[0]),
                              keep=() if shared is not None else rec.segments)
            c.execute(_PUT_OBJECT, object_values(rec))
            return rec
        return txn

    def delete_object_txn(self, bucket: str, key: str) -> Txn[bool]:
        """DeleteObject without a version id (a delete marker in a versioned bucket)."""
        delete = self.remove_txn(bucket, key)

        def txn(c: Connection) -> bool:
            return delete(c).found
        return txn

    def remove_txn(self, bucket: str, key: str, version_id: str | None | Current = CURRENT,
                   *, owner: str = "",
                   guard: Callable[[ObjectRecord, bool], None] | None = None,
                   bypass_governance: bool = False) -> Txn[versions.Outcome]:
        """DeleteObject: without ``version_id`` the current object goes (unversioned) or a
        delete marker owned by ``owner`` is added (versioned); with one (None: "null") that
        version or marker goes for good (``guard`` may refuse it first). Object Lock is
        checked inside the transaction on every permanent delete (meta.check_deletable:
        Locked when the version is under legal hold or binding retention), so no path
        that deletes — S3 requests, lifecycle, admin commands — can skip it;
        ``bypass_governance``: a permitted x-amz-bypass-governance-retention."""
        def txn(c: Connection) -> versions.Outcome:
            if not isinstance(version_id, Current):
                return versions.delete_version(c, bucket, key, version_id, guard,
                                               bypass_governance=bypass_governance)
            mode = versions.versioning_of(c, bucket)
            if mode:
                return versions.put_marker(c, bucket, key, mode, owner, time.time())
            row = c.execute("SELECT segments, lock_mode, lock_until, legal_hold FROM objects "
                            "WHERE bucket=? AND key=?", (bucket, key)).fetchone()
            if row is None:
                return versions.Outcome(None, found=False)
            check_deletable(row[1], row[2], bool(row[3]), bypass_governance)
            c.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
            _mark_garbage(c, segments_from_json(row[0]), keep=())
            return versions.Outcome(None)
        return txn

    def set_object_acl_txn(self, bucket: str, key: str, acl: str,
                           version_id: str | None | Current = CURRENT) -> Txn[None]:
        return _update_version("acl", acl, bucket, key, version_id)

    def get_version(self, bucket: str, key: str, version_id: str | None
                    ) -> versions.Version | None:
        """Version ``version_id`` (None: "null") of the key, current or not, or a marker."""
        rec = self.get_object(bucket, key)
        if rec is not None and rec.version_id == version_id:
            return versions.Version(rec, False, latest=True)
        return versions.get_version(self.reader(), bucket, key, version_id)

    def latest_marker(self, bucket: str, key: str) -> versions.Version | None:
        """When the key has no current object: its newest version if that is a marker."""
        found = versions.newest(self.reader(), bucket, key)
        return found if found is not None and found.is_marker else None

    def scan_versions(self, bucket: str, prefix: str, after: bytes, after_seq: int | None,
                      batch: int = 1000) -> Iterator[versions.Version]:
        return versions.scan(self.reader(), bucket, prefix, after, after_seq, batch)

    def version_seq(self, bucket: str, key: str, version_id: str | None) -> int | None:
        return versions.seq_of(self.reader(), bucket, key, version_id)

    def set_versioning_txn(self, name: str, status: str) -> Txn[None]:
        def txn(c: Connection) -> None:
            row = c.execute("SELECT object_lock FROM buckets WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("bucket")
            if row[0] is not None and status != "Enabled":
                raise Conflict("object lock")  # lock-enabled buckets stay Enabled
            c.execute("UPDATE buckets SET versioning=? WHERE name=?", (status, name))
        return txn

    def discard_blobs_txn(self, blobs: list[str]) -> Txn[None]:
        def txn(c: Connection) -> None:
            now = time.time()
            c.executemany(ADD_GARBAGE, [(b, now) for b in blobs])
        return txn

    def referenced_blobs(self) -> set[str]:
        out: set[str] = set()
        for table in ("objects", "versions"):
            for (segs,) in self.reader().execute(
                    f"SELECT segments FROM {table} WHERE segments != '[]'"):
                out.update(s.blob for s in segments_from_json(segs) if s.blob)
        return out


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """The writer lock file held exclusively (blocking) for the block."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _update_version(column: str, value: str | None, bucket: str, key: str,
                    version_id: str | None | Current) -> Txn[None]:
    def txn(c: Connection) -> None:
        if isinstance(version_id, Current):
            if c.execute(f"UPDATE objects SET {column}=? WHERE bucket=? AND key=?",
                         (value, bucket, key)).rowcount == 0:
                raise NotFound("key")
            return
        if c.execute(f"UPDATE objects SET {column}=? WHERE bucket=? AND key=? "
                     "AND version_id IS ?", (value, bucket, key, version_id)).rowcount:
            return
        if c.execute(f"UPDATE versions SET {column}=? WHERE bucket=? AND key=? "
                     "AND version_id IS ? AND is_marker=0",
                     (value, bucket, key, version_id)).rowcount == 0:
            raise NotFound("key")
    return txn


_PUT_OBJECT = upsert("objects", WITH_DATA, "bucket, key")
_BUCKET_MARKS = ",".join("?" * len(BUCKET_COLUMNS.split(",")))
_BUCKET_SETTINGS = frozenset({"cors", "lifecycle", "encryption", "ownership", "public_block",
                              "policy", "website", "logging"})


def _set_bucket_column(column: str, name: str, value: str | None) -> Txn[None]:
    """Set (None: delete) one of a bucket's configuration documents."""
    assert column in _BUCKET_SETTINGS  # a column name, never a client's value

    def txn(c: Connection) -> None:
        if c.execute(f"UPDATE buckets SET {column}=? WHERE name=?",
                     (value, name)).rowcount == 0:
            raise NotFound("bucket")
    return txn


def _drop_uploads(c: Connection, bucket: str) -> None:
    """In-progress multipart uploads go with their bucket (as in S3); their part blobs
    become garbage like a deleted object's."""
    if c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='uploads'"
                 ).fetchone() is None:
        return  # a metadata store used without multipart uploads
    ids = [r[0] for r in c.execute("SELECT upload_id FROM uploads WHERE bucket=?", (bucket,))]
    now = time.time()
    for upload_id in ids:
        c.execute("INSERT INTO garbage SELECT blob, ? FROM parts "
                  "WHERE upload_id=? AND blob != '' ON CONFLICT DO NOTHING", (now, upload_id))
        c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
    c.execute("DELETE FROM uploads WHERE bucket=?", (bucket,))
    c.execute("DELETE FROM completed_uploads WHERE bucket=?", (bucket,))


def _mark_garbage(c: Connection, segments: tuple[Segment, ...],
                  keep: tuple[Segment, ...]) -> None:
    versions.release(c, segments, keep)
