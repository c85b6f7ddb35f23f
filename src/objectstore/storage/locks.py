"""Object Lock metadata writes: a bucket's lock configuration and a version's retention and
legal hold. (The check that refuses deleting a locked version lives in every delete
transaction: see meta.check_deletable.)"""

from __future__ import annotations

from typing import Callable

from objectstore.storage.db import Connection, Txn
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import ObjectRecord
from objectstore.storage.rows import OBJECT_COLUMNS, Current, row_to_object

# (mode, retain-until, legal hold) of a version
LockState = tuple[str | None, float | None, bool]


def set_bucket_lock_txn(name: str, object_lock: str) -> Txn[None]:
    """Store the bucket's lock configuration (JSON). A bucket gets one only while its
    versioning is Enabled (checked here, atomically); versioning then stays Enabled."""
    def txn(c: Connection) -> None:
        row = c.execute("SELECT versioning, object_lock FROM buckets WHERE name=?",
                        (name,)).fetchone()
        if row is None:
            raise NotFound("bucket")
        if row[1] is None and row[0] != "Enabled":
            raise Conflict("versioning")
        c.execute("UPDATE buckets SET object_lock=?, versioning='Enabled' WHERE name=?",
                  (object_lock, name))
    return txn


def set_object_lock_txn(bucket: str, key: str, version_id: str | None | Current,
                        change: Callable[[ObjectRecord], LockState]) -> Txn[ObjectRecord]:
    """Set a version's lock state to ``change(the version as stored)`` (which may raise to
    refuse it), atomically. ``version_id``: CURRENT for the current version, None for the
    null version, else an id; the version may be current (``objects``) or noncurrent
    (``versions``); delete markers have no lock state (NotFound)."""
    def txn(c: Connection) -> ObjectRecord:
        args: tuple[str | None, ...]
        if isinstance(version_id, Current):
            where, args = "bucket=? AND key=?", (bucket, key)
        else:
            where, args = "bucket=? AND key=? AND version_id IS ?", (bucket, key, version_id)
        for table, extra in (("objects", ""), ("versions", " AND is_marker=0")):
            row = c.execute(f"SELECT {OBJECT_COLUMNS} FROM {table} WHERE {where}{extra}",
                            args).fetchone()
            if row is not None:
                rec = row_to_object(row)
                mode, until, hold = change(rec)
                c.execute(f"UPDATE {table} SET lock_mode=?, lock_until=?, legal_hold=? "
                          "WHERE bucket=? AND key=? AND seq=?",
                          (mode, until, int(hold), bucket, key, rec.seq))
                return rec
            if isinstance(version_id, Current):
                break  # no current object (absent, or a delete marker on top)
        raise NotFound("key")
    return txn
