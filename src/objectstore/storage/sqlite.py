"""MetadataStore on SQLite (WAL): accounts, keys, buckets and objects.

Reads use one connection per thread, behind per-thread caches kept exact by the shared
change stamp. Writes are closures handed to the group-commit writer (storage/writer.py).
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

from objectstore.storage import secrets_at_rest as at_rest
from objectstore.storage import versions
from objectstore.storage.changes import ChangeStamp
from objectstore.storage.keyring import Keyring, default_path
from objectstore.storage.meta import Conflict, NotFound, check_deletable
from objectstore.storage.model import (
    AccessKey,
    Account,
    Bucket,
    ObjectRecord,
    Segment,
    User,
)
from objectstore.storage.writer import GroupCommitWriter, Txn

T = TypeVar("T")
CACHE_CHECK = 0.05  # seconds between data_version checks (changes made without the stamp)
CACHE_ENTRIES = 10_000  # object records cached per thread (oldest dropped first) ...
CACHE_BYTES = 24 << 20  # ... and the inline object data they may hold
CACHE_LOOKUPS = 4096  # key and bucket lookups cached per thread (emptied when full) ...
CACHE_NAME_MAX = 128  # ... of names (clients' values, misses too) up to this length
_MISSING = object()

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, account_id TEXT NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL,
  created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS keys_by_user ON keys(user_name);
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY, account_id TEXT NOT NULL, created REAL NOT NULL,
  region TEXT NOT NULL, acl TEXT NOT NULL, tags TEXT, cors TEXT,
  versioning TEXT NOT NULL DEFAULT '', object_lock TEXT, lifecycle TEXT, encryption TEXT,
  ownership TEXT, public_block TEXT);
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

OBJECT_COLUMNS = ("bucket, key, size, etag, mtime, owner, acl, headers, checksums, "
                  "checksum_type, segments, part_count, tags, version_id, seq, lock_mode, "
                  "lock_until, legal_hold, sse")
WITH_DATA = OBJECT_COLUMNS + ", data"  # listings never read inline data
OBJECT_MARKS = ",".join("?" * len(WITH_DATA.split(",")))


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
)


def _bound(cache: dict[tuple[str, ...], Any]) -> None:
    if len(cache) >= CACHE_LOOKUPS:
        cache.clear()


def _segments_json(segments: tuple[Segment, ...]) -> str:
    return json.dumps([[s.blob, s.size] if s.checksum is None else [s.blob, s.size, s.checksum]
                       for s in segments])


def segments_from_json(text: str) -> tuple[Segment, ...]:
    if text == "[]":
        return ()
    return tuple(Segment(*item) for item in json.loads(text))


def _json(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)


# Object headers stored before values were checked on arrival may hold what cannot go on
# the wire (a CR/LF from a form field, say): such entries are left out when the row is read
# (rows are cached, so this is not per request). JSON escapes control characters, so one
# search of the text tells whether any entry needs a look.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00[01][0-9a-fA-F]|u007[fF]|[nrbf])")
_UNSENDABLE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def _stored_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = _json(text)
    if _ESCAPED_CONTROL.search(text) or not text.isascii():
        headers = {k: v for k, v in headers.items()
                   if _HEADER_NAME.match(k) and not _UNSENDABLE_VALUE.search(v)}
    return headers


def row_to_object(row: sqlite3.Row | tuple[Any, ...]) -> ObjectRecord:
    return ObjectRecord(
        bucket=row[0], key=row[1], size=row[2], etag=row[3], last_modified=row[4],
        owner=row[5], acl=row[6], headers=_stored_headers(row[7]), checksums=_json(row[8]),
        checksum_type=row[9], segments=segments_from_json(row[10]),
        part_count=row[11], tags=_tags(row[12]), version_id=row[13], seq=row[14],
        lock_mode=row[15], lock_until=row[16], legal_hold=bool(row[17]), sse=row[18],
        inline=bytes(row[19]) if len(row) > 19 and row[19] is not None else None,
    )


def object_values(rec: ObjectRecord) -> tuple[Any, ...]:
    """The row of ``rec``, in WITH_DATA's order."""
    return (rec.bucket, rec.key, rec.size, rec.etag, rec.last_modified, rec.owner, rec.acl,
            json.dumps(dict(rec.headers)), json.dumps(dict(rec.checksums)),
            rec.checksum_type, _segments_json(rec.segments), rec.part_count,
            _tags_json(rec.tags), rec.version_id, rec.seq, rec.lock_mode, rec.lock_until,
            int(rec.legal_hold), rec.sse, rec.inline)


def _tags(text: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in json.loads(text)) if text else ()


def _tags_json(tags: tuple[tuple[str, str], ...]) -> str | None:
    return json.dumps([list(t) for t in tags]) if tags else None


BUCKET_COLUMNS = ("name, account_id, created, region, acl, tags, cors, versioning, object_lock, "
                  "lifecycle, encryption, ownership, public_block")


def _bucket(row: tuple[Any, ...]) -> Bucket:
    return Bucket(row[0], row[1], row[2], row[3], row[4], _tags(row[5]), row[6], row[7],
                  row[8], row[9], row[10], row[11], row[12])


class Current:
    """The current version (no versionId given), as opposed to None, the "null" version."""


CURRENT = Current()


class SqliteMeta:
    def __init__(self, path: Path, *, fsync: bool = True,
                 on_garbage: Callable[[list[str]], None] | None = None,
                 on_full: Callable[[], bool] | None = None,
                 keyring: Path | None = None) -> None:
        """``keyring``: the keyring file (default ``<db dir>/keyring/keyring.json``)."""
        self.path = path
        self.fsync = fsync
        self._local = threading.local()
        self._stamp = ChangeStamp(path.with_name(path.name + "-changes"))
        conn = self._connect()
        conn.executescript(SCHEMA + versions.SCHEMA)
        for table, column, kind in MIGRATIONS:
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:  # databases made by earlier versions
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self.secrets = at_rest.SealedSecrets(
            at_rest.open_keyring(conn, keyring or default_path(path.parent)))
        plain = at_rest.PLAIN in at_rest.key_ids(conn)
        conn.close()
        self._writer = GroupCommitWriter(self._connect,
                                         path.with_name(path.name + "-writer.lock"),
                                         self._stamp, on_garbage, on_full)
        if plain:  # a database of an earlier version: seal its secrets now
            try:
                self.run(self.secrets.seal_plaintext)
                self._checkpoint()
            except BaseException:
                self._writer.close()
                raise

    # ------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'OFF'}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def reader(self) -> sqlite3.Connection:
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

    # ------------------------------------------------------------ accounts
    def get_account(self, account_id: str) -> Account | None:
        row = self.reader().execute(
            "SELECT id, name, email, created FROM accounts WHERE id=?", (account_id,)).fetchone()
        return Account(*row) if row else None

    def account_by_name(self, name: str) -> Account | None:
        row = self.reader().execute(
            "SELECT id, name, email, created FROM accounts WHERE name=?", (name,)).fetchone()
        return Account(*row) if row else None

    def list_accounts(self) -> list[Account]:
        rows = self.reader().execute(
            "SELECT id, name, email, created FROM accounts ORDER BY name").fetchall()
        return [Account(*r) for r in rows]

    def account_names(self) -> dict[str, str]:
        rows = self.reader().execute("SELECT id, name FROM accounts").fetchall()
        return {r[0]: r[1] for r in rows}

    def emails(self) -> Mapping[str, str]:
        """E-mail address (lower case) -> account id, looked up only when asked."""
        return _Emails(self)

    def add_account(self, account: Account) -> None:
        def txn(c: sqlite3.Connection) -> None:
            try:
                c.execute("INSERT INTO accounts VALUES (?,?,?,?)",
                          (account.id, account.name, account.email, account.created))
            except sqlite3.IntegrityError:
                raise Conflict("account exists") from None
        self.run(txn)

    def delete_account(self, account_id: str) -> None:
        def txn(c: sqlite3.Connection) -> None:
            if c.execute("SELECT 1 FROM buckets WHERE account_id=? LIMIT 1",
                         (account_id,)).fetchone():
                raise Conflict("account owns buckets")
            users = [r[0] for r in c.execute("SELECT name FROM users WHERE account_id=?",
                                             (account_id,))]
            for u in users:
                c.execute("DELETE FROM keys WHERE user_name=?", (u,))
            c.execute("DELETE FROM users WHERE account_id=?", (account_id,))
            if c.execute("DELETE FROM accounts WHERE id=?", (account_id,)).rowcount == 0:
                raise NotFound("account")
        self.run(txn)

    # ------------------------------------------------------------ users and keys
    def get_user(self, name: str) -> User | None:
        row = self.reader().execute(
            "SELECT name, account_id, is_admin, created FROM users WHERE name=?",
            (name,)).fetchone()
        return User(row[0], row[1], bool(row[2]), row[3]) if row else None

    def list_users(self) -> list[User]:
        rows = self.reader().execute(
            "SELECT name, account_id, is_admin, created FROM users ORDER BY name").fetchall()
        return [User(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def add_user(self, user: User) -> None:
        def txn(c: sqlite3.Connection) -> None:
            if not c.execute("SELECT 1 FROM accounts WHERE id=?", (user.account_id,)).fetchone():
                raise NotFound("account")
            try:
                c.execute("INSERT INTO users VALUES (?,?,?,?)",
                          (user.name, user.account_id, int(user.is_admin), user.created))
            except sqlite3.IntegrityError:
                raise Conflict("user exists") from None
        self.run(txn)

    def delete_user(self, name: str) -> None:
        def txn(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM keys WHERE user_name=?", (name,))
            c.execute("DELETE FROM user_certs WHERE user_name=?", (name,))
            if c.execute("DELETE FROM users WHERE name=?", (name,)).rowcount == 0:
                raise NotFound("user")
        self.run(txn)

    def add_user_cert(self, user_name: str, pem: bytes) -> None:
        def txn(c: sqlite3.Connection) -> None:
            if not c.execute("SELECT 1 FROM users WHERE name=?", (user_name,)).fetchone():
                raise NotFound("user")
            c.execute("INSERT INTO user_certs VALUES (?,?,?)", (user_name, pem, time.time()))
        self.run(txn)

    def user_certs(self, user_name: str) -> list[bytes]:
        return [bytes(r[0]) for r in self.reader().execute(
            "SELECT pem FROM user_certs WHERE user_name=? ORDER BY added", (user_name,))]

    def add_key(self, key: AccessKey) -> None:
        sealed = self.secrets.seal(key.access_key, key.secret)

        def txn(c: sqlite3.Connection) -> None:
            if not c.execute("SELECT 1 FROM users WHERE name=?", (key.user_name,)).fetchone():
                raise NotFound("user")
            try:
                c.execute("INSERT INTO keys VALUES (?,?,?,?)",
                          (key.access_key, sealed, key.user_name, key.created))
            except sqlite3.IntegrityError:
                raise Conflict("key exists") from None
        self.run(txn)

    def delete_key(self, access_key: str) -> None:
        def txn(c: sqlite3.Connection) -> None:
            if c.execute("DELETE FROM keys WHERE access_key=?", (access_key,)).rowcount == 0:
                raise NotFound("key")
        self.run(txn)

    def list_keys(self, user_name: str | None = None) -> list[AccessKey]:
        sql = "SELECT access_key, secret, user_name, created FROM keys"
        args: tuple[str, ...] = ()
        if user_name is not None:
            sql += " WHERE user_name=?"
            args = (user_name,)
        return [AccessKey(r[0], self.secrets.open(r[0], r[1]), r[2], r[3])
                for r in self.reader().execute(sql + " ORDER BY created", args)]

    def lookup_key(self, access_key: str) -> tuple[str, User, Account] | None:
        """The secret, user and account of an access key, in one query (cached)."""
        cache = self._cache()
        if ("key", access_key) not in cache:
            if len(access_key) > CACHE_NAME_MAX:  # a client's value: remembered if short
                return self._lookup_key(access_key)
            _bound(cache)
            cache[("key", access_key)] = self._lookup_key(access_key)
        found: tuple[str, User, Account] | None = cache[("key", access_key)]
        return found

    def _lookup_key(self, access_key: str) -> tuple[str, User, Account] | None:
        row = self.reader().execute(
            "SELECT k.secret, u.name, u.account_id, u.is_admin, u.created, a.name, a.email, "
            "a.created FROM keys k JOIN users u ON u.name = k.user_name "
            "JOIN accounts a ON a.id = u.account_id WHERE k.access_key=?",
            (access_key,)).fetchone()
        if row is None:
            return None
        user = User(row[1], row[2], bool(row[3]), row[4])
        return (self.secrets.open(access_key, row[0]), user,
                Account(row[2], row[5], row[6], row[7]))

    # ------------------------------------------------------------ buckets
    def get_bucket(self, name: str) -> Bucket | None:
        cache = self._cache()
        if ("bucket", name) not in cache:
            if len(name) > CACHE_NAME_MAX:
                return self._get_bucket(name)
            _bound(cache)
            cache[("bucket", name)] = self._get_bucket(name)
        bucket: Bucket | None = cache[("bucket", name)]
        return bucket

    def _get_bucket(self, name: str) -> Bucket | None:
        row = self.reader().execute(
            f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE name=?", (name,)).fetchone()
        return _bucket(row) if row else None

    def list_buckets(self, account_id: str | None) -> list[Bucket]:
        sql = f"SELECT {BUCKET_COLUMNS} FROM buckets"
        args: tuple[str, ...] = ()
        if account_id is not None:
            sql += " WHERE account_id=?"
            args = (account_id,)
        return [_bucket(r) for r in self.reader().execute(sql + " ORDER BY name", args)]

    def create_bucket_txn(self, bucket: Bucket) -> Txn[None]:
        def txn(c: sqlite3.Connection) -> None:
            row = c.execute("SELECT account_id FROM buckets WHERE name=?",
                            (bucket.name,)).fetchone()
            if row is not None:
                raise Conflict("owned" if row[0] == bucket.account_id else "exists")
            c.execute(f"INSERT INTO buckets ({BUCKET_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (bucket.name, bucket.account_id, bucket.created, bucket.region, bucket.acl,
                       _tags_json(bucket.tags), bucket.cors, bucket.versioning,
                       bucket.object_lock, bucket.lifecycle, bucket.encryption,
                       bucket.ownership, bucket.public_block))
        return txn

    def delete_bucket_txn(self, name: str) -> Txn[None]:
        def txn(c: sqlite3.Connection) -> None:
            if c.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)).fetchone() \
                    or c.execute("SELECT 1 FROM versions WHERE bucket=? LIMIT 1",
                                 (name,)).fetchone():
                raise Conflict("not empty")
            if c.execute("DELETE FROM buckets WHERE name=?", (name,)).rowcount == 0:
                raise NotFound("bucket")
            _drop_uploads(c, name)
        return txn

    def set_bucket_acl_txn(self, name: str, acl: str) -> Txn[None]:
        def txn(c: sqlite3.Connection) -> None:
            if c.execute("UPDATE buckets SET acl=? WHERE name=?", (acl, name)).rowcount == 0:
                raise NotFound("bucket")
        return txn

    def set_bucket_tags_txn(self, name: str, tags: tuple[tuple[str, str], ...]) -> Txn[None]:
        def txn(c: sqlite3.Connection) -> None:
            if c.execute("UPDATE buckets SET tags=? WHERE name=?",
                         (_tags_json(tags), name)).rowcount == 0:
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

    def set_object_tags_txn(self, bucket: str, key: str, tags: tuple[tuple[str, str], ...],
                            version_id: str | None | Current = CURRENT) -> Txn[None]:
        """Tags of the current object, or of version ``version_id`` (None: "null")."""
        return _update_version("tags", _tags_json(tags), bucket, key, version_id)

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
        def txn(c: sqlite3.Connection) -> ObjectRecord:
            mode = versions.versioning_of(c, rec.bucket)
            if mode is None:
                raise NotFound("bucket")
            if shared is not None and not versions.holds(c, shared, _segments_json(
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
            c.execute(f"INSERT OR REPLACE INTO objects ({WITH_DATA}) VALUES ({OBJECT_MARKS})",
                      object_values(rec))
            return rec
        return txn

    def delete_object_txn(self, bucket: str, key: str) -> Txn[bool]:
        """DeleteObject without a version id (a delete marker in a versioned bucket)."""
        delete = self.remove_txn(bucket, key)

        def txn(c: sqlite3.Connection) -> bool:
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
        def txn(c: sqlite3.Connection) -> versions.Outcome:
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
        def txn(c: sqlite3.Connection) -> None:
            row = c.execute("SELECT object_lock FROM buckets WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("bucket")
            if row[0] is not None and status != "Enabled":
                raise Conflict("object lock")  # lock-enabled buckets stay Enabled
            c.execute("UPDATE buckets SET versioning=? WHERE name=?", (status, name))
        return txn

    def discard_blobs_txn(self, blobs: list[str]) -> Txn[None]:
        def txn(c: sqlite3.Connection) -> None:
            now = time.time()
            c.executemany("INSERT OR IGNORE INTO garbage VALUES (?,?)", [(b, now) for b in blobs])
        return txn

    def referenced_blobs(self) -> set[str]:
        out: set[str] = set()
        for table in ("objects", "versions"):
            for (segs,) in self.reader().execute(
                    f"SELECT segments FROM {table} WHERE segments != '[]'"):
                out.update(s.blob for s in segments_from_json(segs) if s.blob)
        return out


def _update_version(column: str, value: str | None, bucket: str, key: str,
                    version_id: str | None | Current) -> Txn[None]:
    def txn(c: sqlite3.Connection) -> None:
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


_BUCKET_SETTINGS = frozenset({"cors", "lifecycle", "encryption", "ownership", "public_block"})


def _set_bucket_column(column: str, name: str, value: str | None) -> Txn[None]:
    """Set (None: delete) one of a bucket's configuration documents."""
    assert column in _BUCKET_SETTINGS  # a column name, never a client's value

    def txn(c: sqlite3.Connection) -> None:
        if c.execute(f"UPDATE buckets SET {column}=? WHERE name=?",
                     (value, name)).rowcount == 0:
            raise NotFound("bucket")
    return txn


def _drop_uploads(c: sqlite3.Connection, bucket: str) -> None:
    """In-progress multipart uploads go with their bucket (as in S3); their part blobs
    become garbage like a deleted object's."""
    if c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='uploads'"
                 ).fetchone() is None:
        return  # a metadata store used without multipart uploads
    ids = [r[0] for r in c.execute("SELECT upload_id FROM uploads WHERE bucket=?", (bucket,))]
    now = time.time()
    for upload_id in ids:
        c.execute("INSERT OR IGNORE INTO garbage SELECT blob, ? FROM parts "
                  "WHERE upload_id=? AND blob != ''", (now, upload_id))
        c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
    c.execute("DELETE FROM uploads WHERE bucket=?", (bucket,))
    c.execute("DELETE FROM completed_uploads WHERE bucket=?", (bucket,))


def _mark_garbage(c: sqlite3.Connection, segments: tuple[Segment, ...],
                  keep: tuple[Segment, ...]) -> None:
    versions.release(c, segments, keep)


class _Emails(Mapping[str, str]):
    """Account ids by e-mail, queried on first use (most requests grant by e-mail never)."""

    def __init__(self, meta: SqliteMeta) -> None:
        self._meta = meta
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            rows = self._meta.reader().execute(
                "SELECT email, id FROM accounts WHERE email != ''").fetchall()
            self._data = {r[0].lower(): r[1] for r in rows}
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
