"""What a lifecycle expiration does to one object, following S3's delete rules: in an
unversioned bucket the object is deleted; in a versioned bucket the current version gets a
delete marker on top (never a permanent delete of it), while noncurrent versions and
expired delete markers are removed for good. The seam between the lifecycle sweeper and
versioning (storage/versions.py) / object lock: every permanent delete goes through
``SqliteMeta.remove_txn`` with a version id, the path object lock guards.

Each function returns a write transaction that re-checks, inside the transaction, that the
version is still what the sweeper judged (a write or delete that raced the sweep wins):
True when it did its work, False when things had changed."""

from __future__ import annotations

from objectstore.storage.db import Connection, Txn
from objectstore.storage.model import ObjectRecord
from objectstore.storage.sqlite import SqliteMeta


def expire_current_txn(meta: SqliteMeta, versioning: str, rec: ObjectRecord,
                       owner: str = "") -> Txn[bool]:
    """Expire the current version ``rec``: delete it (unversioned) or put a delete marker
    owned by ``owner`` on top of it (versioned; in a Suspended bucket the null version goes
    and a null marker takes its place, as a DeleteObject would)."""
    remove = meta.remove_txn(rec.bucket, rec.key, owner=owner)

    def txn(c: Connection) -> bool:
        row = c.execute("SELECT etag, mtime, seq FROM objects WHERE bucket=? AND key=?",
                        (rec.bucket, rec.key)).fetchone()
        if row is None or (row[0], row[1], row[2]) != (rec.etag, rec.last_modified, rec.seq):
            return False
        return remove(c).found
    return txn


def expire_noncurrent_txn(meta: SqliteMeta, rec: ObjectRecord) -> Txn[bool]:
    """Remove the noncurrent version (or noncurrent delete marker) ``rec`` for good — only
    while a newer version of its key exists, so it never removes a current version."""
    remove = meta.remove_txn(rec.bucket, rec.key, rec.version_id)

    def txn(c: Connection) -> bool:
        if c.execute("SELECT 1 FROM versions WHERE bucket=? AND key=? AND seq=?",
                     (rec.bucket, rec.key, rec.seq)).fetchone() is None:
            return False
        newer = c.execute("SELECT 1 FROM objects WHERE bucket=? AND key=?",
                          (rec.bucket, rec.key)).fetchone() or c.execute(
            "SELECT 1 FROM versions WHERE bucket=? AND key=? AND seq>? LIMIT 1",
            (rec.bucket, rec.key, rec.seq)).fetchone()
        if not newer:
            return False
        return remove(c).found
    return txn


def remove_expired_marker_txn(meta: SqliteMeta, rec: ObjectRecord) -> Txn[bool]:
    """Remove the delete marker ``rec`` if it is still the only version of its key (an
    "expired object delete marker")."""
    remove = meta.remove_txn(rec.bucket, rec.key, rec.version_id)

    def txn(c: Connection) -> bool:
        if c.execute("SELECT 1 FROM objects WHERE bucket=? AND key=?",
                     (rec.bucket, rec.key)).fetchone():
            return False
        rows = c.execute("SELECT seq, is_marker FROM versions WHERE bucket=? AND key=? "
                         "LIMIT 2", (rec.bucket, rec.key)).fetchall()
        if len(rows) != 1 or rows[0][0] != rec.seq or not rows[0][1]:
            return False
        return remove(c).found
    return txn
