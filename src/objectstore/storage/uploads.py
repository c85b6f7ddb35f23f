"""Multipart uploads in the SQLite metadata store: uploads, parts, completion."""

from __future__ import annotations

import json
import time
from typing import Callable, Iterator

from objectstore.storage.db import ADD_GARBAGE, Connection, Txn, upsert
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import ObjectRecord, Part, Upload
from objectstore.storage.sqlite import SqliteMeta

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
  initiator TEXT NOT NULL, acl TEXT NOT NULL, headers TEXT NOT NULL,
  checksum_algorithm TEXT, checksum_type TEXT, created REAL NOT NULL, sse TEXT, lock TEXT);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, created, upload_id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, number INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, checksum TEXT, mtime REAL NOT NULL,
  PRIMARY KEY (upload_id, number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS completed_uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
  at REAL NOT NULL);
"""
COMPLETED_KEPT = 24 * 3600  # a repeated Complete within a day answers like the first

UPLOAD_COLUMNS = ("upload_id, bucket, key, owner, initiator, acl, headers, checksum_algorithm, "
                  "checksum_type, created, sse, lock")

_PUT_PART = upsert("parts", "upload_id, number, blob, size, etag, checksum, mtime",
                   "upload_id, number")
_COMPLETED = upsert("completed_uploads", "upload_id, bucket, key, etag, at", "upload_id")


def _upload(row: tuple[object, ...]) -> Upload:
    return Upload(row[0], row[1], row[2], row[3], row[4], row[5],  # type: ignore[arg-type]
                  json.loads(row[6]), row[7], row[8], row[9],  # type: ignore[arg-type]
                  row[10], row[11])  # type: ignore[arg-type]


def _part(row: tuple[object, ...]) -> Part:
    return Part(*row)  # type: ignore[arg-type]


class Uploads:
    def __init__(self, meta: SqliteMeta) -> None:
        self.meta = meta
        # columns sse and lock: databases made by earlier versions lack them
        meta.ensure_schema(SCHEMA, "uploads", (("sse", "TEXT"), ("lock", "TEXT")))

    def get(self, upload_id: str) -> Upload | None:
        row = self.meta.reader().execute(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id=?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def create_txn(self, up: Upload) -> Txn[None]:
        def txn(c: Connection) -> None:
            if not c.execute("SELECT 1 FROM buckets WHERE name=?", (up.bucket,)).fetchone():
                raise NotFound("bucket")
            c.execute(f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      (up.upload_id, up.bucket, up.key, up.owner, up.initiator, up.acl,
                       json.dumps(dict(up.headers)), up.checksum_algorithm, up.checksum_type,
                       up.created, up.sse, up.lock))
        return txn

    def put_part_txn(self, part: Part) -> Txn[None]:
        def txn(c: Connection) -> None:
            if not c.execute("SELECT 1 FROM uploads WHERE upload_id=?",
                             (part.upload_id,)).fetchone():
                raise NotFound("upload")
            old = c.execute("SELECT blob FROM parts WHERE upload_id=? AND number=?",
                            (part.upload_id, part.number)).fetchone()
            if old is not None and old[0]:
                c.execute(ADD_GARBAGE, (old[0], time.time()))
            c.execute(_PUT_PART,
                      (part.upload_id, part.number, part.blob, part.size, part.etag,
                       part.checksum, part.last_modified))
        return txn

    def parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[Part]:
        rows = self.meta.reader().execute(
            "SELECT upload_id, number, blob, size, etag, checksum, mtime FROM parts "
            "WHERE upload_id=? AND number>? ORDER BY number LIMIT ?",
            (upload_id, after, limit)).fetchall()
        return [_part(r) for r in rows]

    def abort_txn(self, upload_id: str) -> Txn[None]:
        def txn(c: Connection) -> None:
            if c.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,)).rowcount == 0:
                raise NotFound("upload")
            now = time.time()
            c.execute("INSERT INTO garbage SELECT blob, ? FROM parts "
                      "WHERE upload_id=? AND blob != '' ON CONFLICT DO NOTHING", (now, upload_id))
            c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
        return txn

    def complete_txn(self, upload_id: str, rec: ObjectRecord, used: set[int],
                     check: Callable[[ObjectRecord | None], None] | None
                     ) -> Txn[ObjectRecord]:
        """Make the object from the parts (no data copied); unused parts become garbage.
        The stored record (its version id in a versioned bucket) is returned."""
        put = self.meta.put_object_txn(rec, check)

        def txn(c: Connection) -> ObjectRecord:
            if not c.execute("SELECT 1 FROM uploads WHERE upload_id=?", (upload_id,)).fetchone():
                raise Conflict("upload gone")
            current = {r[0]: r[1] for r in c.execute(
                "SELECT number, blob FROM parts WHERE upload_id=?", (upload_id,))}
            wanted = {s.blob for s in rec.segments}
            if any(current.get(n) is None for n in used) or \
                    not wanted <= set(current.values()) | {""}:
                raise Conflict("parts changed")
            stored = put(c)
            now = time.time()
            c.executemany(ADD_GARBAGE,
                          [(b, now) for n, b in current.items() if n not in used and b])
            c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
            c.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
            c.execute("DELETE FROM completed_uploads WHERE at < ?", (now - COMPLETED_KEPT,))
            c.execute(_COMPLETED,
                      (upload_id, rec.bucket, rec.key, rec.etag, now))
            return stored
        return txn

    def completed(self, upload_id: str) -> tuple[str, str, str] | None:
        """(bucket, key, etag) of an upload completed in the last day."""
        row = self.meta.reader().execute(
            "SELECT bucket, key, etag FROM completed_uploads WHERE upload_id=? AND at >= ?",
            (upload_id, time.time() - COMPLETED_KEPT)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def scan(self, bucket: str, prefix: str, after_key: bytes,
             after_upload: str | None) -> Iterator[Upload]:
        """Uploads ordered by (key bytes, upload id) after the given markers."""
        conn = self.meta.reader()
        marker = self.get(after_upload) if after_upload is not None else None
        if marker is None:
            sql = f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket=? AND key > CAST(? AS TEXT)"
            args: list[object] = [bucket, after_key]
        else:
            sql = (f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket=? AND "
                   "(key > CAST(? AS TEXT) OR (key = CAST(? AS TEXT) AND "
                   "(created > ? OR (created = ? AND upload_id > ?))))")
            args = [bucket, after_key, after_key, marker.created, marker.created,
                    marker.upload_id]
        if prefix:
            sql += " AND key >= ? AND key < CAST(? AS TEXT)"
            args += [prefix, prefix.encode() + b"\xff"]
        sql += " ORDER BY key, created, upload_id"
        for row in conn.execute(sql, args):
            yield _upload(row)

    def abandoned(self, older_than: float) -> list[str]:
        """Ids of uploads started more than ``older_than`` seconds ago."""
        cutoff = time.time() - older_than
        return [r[0] for r in self.meta.reader().execute(
            "SELECT upload_id FROM uploads WHERE created < ?", (cutoff,))]

    def referenced_blobs(self) -> set[str]:
        return {r[0] for r in self.meta.reader().execute("SELECT blob FROM parts WHERE blob != ''")}

