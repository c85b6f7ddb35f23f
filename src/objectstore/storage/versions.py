"""Versions on SQLite: the ``versions`` table, the sequence and blob reference counts.

The ``objects`` table holds the current, non-delete-marker version of each key (so
listings and unversioned GET/PUT are unchanged). ``versions`` holds every other version:
noncurrent ones and delete markers. Invariant: a key's ``objects`` row, when there is one,
is its newest version (highest ``seq``); without one, the newest row in ``versions`` is a
delete marker (or the key has no versions at all).

Order comes from ``counters.seq``, incremented in the writing transaction; version ids are
random and opaque. ``blob_refs`` counts the references to blobs that more than one record
refers to (a CopyObject that shares data): a blob without a row there has one owner.

All functions here run inside a writer transaction (``c`` is the writer's connection).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from objectstore.storage.db import ADD_GARBAGE, Connection
from objectstore.storage.meta import check_deletable
from objectstore.storage.model import ObjectRecord, Segment
from objectstore.storage.rows import row_to_object, segments_from_json

COLUMNS = ("bucket, key, size, etag, mtime, owner, acl, headers, checksums, "
           "checksum_type, segments, part_count, tags, version_id, seq, lock_mode, "
           "lock_until, legal_hold, sse")
WITH_DATA = COLUMNS + ", data"

SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
  bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  mtime REAL NOT NULL, owner TEXT NOT NULL, acl TEXT NOT NULL, headers TEXT NOT NULL,
  checksums TEXT NOT NULL, checksum_type TEXT, segments TEXT NOT NULL,
  part_count INTEGER NOT NULL DEFAULT 0, tags TEXT,
  version_id TEXT, seq INTEGER NOT NULL, lock_mode TEXT, lock_until REAL,
  legal_hold INTEGER NOT NULL DEFAULT 0, sse TEXT, data BLOB,
  is_marker INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, key, seq DESC)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_id ON versions(bucket, key, version_id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blob_refs (blob TEXT PRIMARY KEY, refs INTEGER NOT NULL);
"""
_ = WITH_DATA  # the column list of both tables
MARKS = ",".join("?" * 20)
_VERSION_ID = re.compile(r"[A-Za-z0-9_-]{32}\Z")


def new_version_id() -> str:
    """Opaque, unique (192 random bits), URL-safe, 32 characters, never "null"."""
    vid = secrets.token_urlsafe(24)
    # never a leading "-": command lines (the AWS CLI's --version-id) read it as an option
    return vid if vid[0] != "-" else "A" + vid[1:]


def well_formed(version_id: str) -> bool:
    return version_id == "null" or _VERSION_ID.match(version_id) is not None


def next_seq(c: Connection) -> int:
    row = c.execute("INSERT INTO counters VALUES ('seq', 1) ON CONFLICT(name) "
                    "DO UPDATE SET value = counters.value + 1 RETURNING value").fetchone()
    return int(row[0])


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a key: an object version or a delete marker (``rec`` carries its key,
    version id, seq, owner and time either way)."""
    rec: ObjectRecord
    is_marker: bool
    latest: bool = False

    @property
    def key(self) -> str:
        return self.rec.key

    @property
    def version_id(self) -> str:
        return self.rec.version_id or "null"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a versioned write or delete did: the version id it wrote or removed ("null"
    for the null version; None in an unversioned bucket) and whether that was a marker."""
    version_id: str | None
    marker: bool = False
    found: bool = True


# ---------------------------------------------------------------- blob references

def release(c: Connection, segments: tuple[Segment, ...],
            keep: tuple[Segment, ...] = ()) -> None:
    """One reference to each blob of ``segments`` is gone: a blob nobody else refers to
    becomes garbage (unlinked after the commit); a shared one loses one count."""
    keep_ids = {s.blob for s in keep}
    now = time.time()
    for s in segments:
        if not s.blob or s.blob in keep_ids:
            continue
        row = c.execute("SELECT refs FROM blob_refs WHERE blob=?", (s.blob,)).fetchone()
        if row is None:
            c.execute(ADD_GARBAGE, (s.blob, now))
        elif row[0] <= 2:
            c.execute("DELETE FROM blob_refs WHERE blob=?", (s.blob,))
        else:
            c.execute("UPDATE blob_refs SET refs = refs - 1 WHERE blob=?", (s.blob,))


def share(c: Connection, segments: tuple[Segment, ...]) -> None:
    """One more record refers to each blob of ``segments``."""
    c.executemany("INSERT INTO blob_refs VALUES (?, 2) ON CONFLICT(blob) "
                  "DO UPDATE SET refs = blob_refs.refs + 1",
                  [(s.blob,) for s in segments if s.blob])


def holds(c: Connection, src: ObjectRecord, segments_json: str) -> bool:
    """Does version ``src`` still exist with these blobs (a copy may share them)?"""
    for table in ("objects", "versions"):
        if c.execute(f"SELECT 1 FROM {table} WHERE bucket=? AND key=? AND version_id IS ? "
                     "AND segments=?", (src.bucket, src.key, src.version_id,
                                        segments_json)).fetchone():
            return True
    return False


# ---------------------------------------------------------------- rows

def _row_segments(text: str) -> tuple[Segment, ...]:
    return segments_from_json(text)


def _to_versions(c: Connection, bucket: str, key: str) -> None:
    """Move the current object (if any) into ``versions``, as a noncurrent version."""
    c.execute(f"INSERT INTO versions ({WITH_DATA}, is_marker) SELECT {WITH_DATA}, 0 "
              "FROM objects WHERE bucket=? AND key=?", (bucket, key))
    c.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))


def _drop_null(c: Connection, bucket: str, key: str) -> None:
    """Remove the null version in ``versions`` (a Suspended write or delete replaces it)."""
    rows = c.execute("SELECT seq, segments FROM versions WHERE bucket=? AND key=? "
                     "AND version_id IS NULL", (bucket, key)).fetchall()
    for seq, segs in rows:
        c.execute("DELETE FROM versions WHERE bucket=? AND key=? AND seq=?", (bucket, key, seq))
        release(c, _row_segments(segs))


def _replace_current(c: Connection, bucket: str, key: str, mode: str,
                     old: tuple[Any, ...] | None, keep: tuple[Segment, ...] = ()) -> None:
    """Before a new version or marker: the current object becomes noncurrent; in a
    Suspended bucket the null version (current or not) goes for good."""
    if old is not None:
        if mode == "Suspended" and old[1] is None:
            c.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
            release(c, _row_segments(old[0]), keep)
        else:
            _to_versions(c, bucket, key)
    if mode == "Suspended":
        _drop_null(c, bucket, key)


def put(c: Connection, rec: ObjectRecord, mode: str, shared: bool,
        values: Callable[[ObjectRecord], tuple[Any, ...]]) -> ObjectRecord:
    """Make ``rec`` the current version in a versioned bucket (``mode`` Enabled or
    Suspended); the stored record (with its version id and seq) is returned."""
    rec = dataclasses.replace(rec, seq=next_seq(c),
                              version_id=new_version_id() if mode == "Enabled" else None)
    if shared:
        share(c, rec.segments)
    old = c.execute("SELECT segments, version_id FROM objects WHERE bucket=? AND key=?",
                    (rec.bucket, rec.key)).fetchone()
    _replace_current(c, rec.bucket, rec.key, mode, old)
    c.execute(f"INSERT INTO objects ({WITH_DATA}) VALUES ({MARKS})", values(rec))
    return rec


def put_marker(c: Connection, bucket: str, key: str, mode: str, owner: str,
               now: float) -> Outcome:
    """DeleteObject without a version id in a versioned bucket: a new delete marker."""
    vid = new_version_id() if mode == "Enabled" else None
    old = c.execute("SELECT segments, version_id FROM objects WHERE bucket=? AND key=?",
                    (bucket, key)).fetchone()
    _replace_current(c, bucket, key, mode, old)
    c.execute(f"INSERT INTO versions ({WITH_DATA}, is_marker) VALUES ({MARKS}, 1)",
              (bucket, key, 0, "", now, owner, "", "{}", "{}", None, "[]", 0, None, vid,
               next_seq(c), None, None, 0, None, None))
    return Outcome(vid or "null", marker=True)


def _promote(c: Connection, bucket: str, key: str) -> None:
    """With no current object: the newest remaining version becomes current, unless it is
    a delete marker."""
    if c.execute("SELECT 1 FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchone():
        return
    row = c.execute("SELECT seq, is_marker FROM versions WHERE bucket=? AND key=? "
                    "ORDER BY seq DESC LIMIT 1", (bucket, key)).fetchone()
    if row is None or row[1]:
        return
    c.execute(f"INSERT INTO objects ({WITH_DATA}) SELECT {WITH_DATA} FROM versions "
              "WHERE bucket=? AND key=? AND seq=?", (bucket, key, row[0]))
    c.execute("DELETE FROM versions WHERE bucket=? AND key=? AND seq=?", (bucket, key, row[0]))


def delete_version(c: Connection, bucket: str, key: str,
                   version_id: str | None,
                   guard: Callable[[ObjectRecord, bool], None] | None = None, *,
                   bypass_governance: bool = False) -> Outcome:
    """Remove one version (None: the null version) for good. Object Lock refuses it first
    (Locked) when the version is under legal hold or binding retention
    (``bypass_governance``: a permitted governance bypass); ``guard`` sees the version
    too and may refuse by raising."""
    shown = version_id or "null"
    row = c.execute(f"SELECT {WITH_DATA} FROM objects WHERE bucket=? AND key=? "
                    "AND version_id IS ?", (bucket, key, version_id)).fetchone()
    if row is not None:
        check_deletable(row[15], row[16], bool(row[17]), bypass_governance)
        if guard is not None:
            guard(row_to_object(row), False)
        c.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
        release(c, _row_segments(row[10]))
        _promote(c, bucket, key)
        return Outcome(shown)
    row = c.execute(f"SELECT {WITH_DATA}, is_marker FROM versions WHERE bucket=? AND key=? "
                    "AND version_id IS ?", (bucket, key, version_id)).fetchone()
    if row is None:
        return Outcome(shown, found=False)
    marker = bool(row[20])
    if not marker:
        check_deletable(row[15], row[16], bool(row[17]), bypass_governance)
    if guard is not None:
        guard(row_to_object(row[:20]), marker)
    c.execute("DELETE FROM versions WHERE bucket=? AND key=? AND seq=?", (bucket, key, row[14]))
    release(c, _row_segments(row[10]))
    _promote(c, bucket, key)
    return Outcome(shown, marker=marker)


def versioning_of(c: Connection, bucket: str) -> str | None:
    """The bucket's versioning state; None when there is no such bucket."""
    row = c.execute("SELECT versioning FROM buckets WHERE name=?", (bucket,)).fetchone()
    return None if row is None else str(row[0])


# ---------------------------------------------------------------- reads

def get_version(conn: Connection, bucket: str, key: str,
                version_id: str | None) -> Version | None:
    """The noncurrent version or marker ``version_id`` (None: "null") from ``versions``."""
    row = conn.execute(f"SELECT {WITH_DATA}, is_marker FROM versions WHERE bucket=? AND key=? "
                       "AND version_id IS ?", (bucket, key, version_id)).fetchone()
    if row is None:
        return None
    return Version(row_to_object(row[:20]), bool(row[20]))


def newest(conn: Connection, bucket: str, key: str) -> Version | None:
    """The newest row of ``versions`` for the key (a marker when the key has no current
    object but has versions)."""
    row = conn.execute(f"SELECT {COLUMNS}, is_marker FROM versions WHERE bucket=? AND key=? "
                       "ORDER BY seq DESC LIMIT 1", (bucket, key)).fetchone()
    if row is None:
        return None
    return Version(row_to_object(row[:19]), bool(row[19]), latest=True)


def seq_of(conn: Connection, bucket: str, key: str, version_id: str | None) -> int | None:
    row = conn.execute("SELECT seq FROM objects WHERE bucket=? AND key=? AND version_id IS ?",
                       (bucket, key, version_id)).fetchone()
    if row is None:
        row = conn.execute("SELECT seq FROM versions WHERE bucket=? AND key=? "
                           "AND version_id IS ?", (bucket, key, version_id)).fetchone()
    return None if row is None else int(row[0])


def scan(conn: Connection, bucket: str, prefix: str, after: bytes,
         after_seq: int | None, batch: int = 1000) -> Iterator[Version]:
    """Every version and marker whose (key, seq) comes after (``after``, ``after_seq``) in
    listing order — key ascending (UTF-8 bytes), newest first within a key; ``after_seq``
    None: after every version of key ``after``. Keys start with ``prefix``. Each batch is
    a merge of index range scans of both tables (no sort, no full scan)."""
    upper = prefix.encode() + b"\xff" if prefix else None
    lower = after
    inclusive = bool(prefix) and prefix.encode() > after and after_seq is None
    if inclusive:
        lower = prefix.encode()
    seq = after_seq
    last_key: str | None = after.decode("utf-8", "replace") if seq is not None else None
    while True:
        op = ">=" if inclusive else ">"
        bound = f"key {op} CAST(? AS TEXT)" + (" AND key < CAST(? AS TEXT)" if upper else "")
        bargs: list[Any] = [lower] + ([upper] if upper else [])
        arms = [f"SELECT {COLUMNS}, 0 AS m, 1 AS cur FROM objects WHERE bucket=? AND {bound}",
                f"SELECT {COLUMNS}, is_marker AS m, 0 AS cur FROM versions "
                f"WHERE bucket=? AND {bound}"]
        args: list[Any] = [bucket, *bargs, bucket, *bargs]
        if seq is not None:  # the rest of key ``lower`` first (its current row too, for
            # a marker that no longer exists: anything older than it is still to come)
            arms[:0] = [f"SELECT {COLUMNS}, 0 AS m, 1 AS cur FROM objects "
                        "WHERE bucket=? AND key = CAST(? AS TEXT) AND seq < ?",
                        f"SELECT {COLUMNS}, is_marker AS m, 0 AS cur FROM versions "
                        "WHERE bucket=? AND key = CAST(? AS TEXT) AND seq < ?"]
            args = [bucket, lower, seq, bucket, lower, seq, *args]
        sql = " UNION ALL ".join(arms) + " ORDER BY key, seq DESC LIMIT ?"
        args.append(batch)
        rows = conn.execute(sql, args).fetchall()
        for row in rows:
            key = row[1]
            yield Version(row_to_object(row[:19]), bool(row[19]), latest=key != last_key)
            last_key = key
        if len(rows) < batch:
            return
        lower = rows[-1][1].encode()
        seq = rows[-1][14]
        inclusive = False
