"""What a lifecycle expiration does to one object, following S3's delete rules: in an
unversioned bucket the object is deleted; in a versioned bucket the current version gets a
delete marker on top (never a permanent delete of it). The seam between the lifecycle
sweeper and the versioning/object-lock code: each function returns a write transaction
that re-checks, inside the transaction, that the object is still the one the sweeper
judged (a write that raced the sweep wins)."""

from __future__ import annotations

import sqlite3

from objectstore.storage.model import ObjectRecord
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.writer import Txn


def expire_current_txn(meta: SqliteMeta, versioning: str, rec: ObjectRecord) -> Txn[bool] | None:
    """A transaction expiring the current version ``rec`` (True: done; False: it changed
    meanwhile), or None where this build cannot expire it without breaking S3's rules
    (versioned buckets need versioning's delete markers)."""
    if versioning:
        return None
    delete = meta.delete_object_txn(rec.bucket, rec.key)

    def txn(c: sqlite3.Connection) -> bool:
        row = c.execute("SELECT etag, mtime FROM objects WHERE bucket=? AND key=?",
                        (rec.bucket, rec.key)).fetchone()
        if row is None or row[0] != rec.etag or row[1] != rec.last_modified:
            return False
        return delete(c)
    return txn
