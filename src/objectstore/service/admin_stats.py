"""Figures the admin API shows (server/handlers/admin.py): per-bucket object counts and
bytes, the data set's totals, free space, and how many keys each user holds.

Counts and sums come from the metadata store with portable SQL (one aggregate query, the
one server/metrics.py's cluster collector runs), never from a listing: a bucket of 10^7
objects costs one index scan in the database, not 10^4 listing pages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from objectstore.storage.model import Bucket

# (sums cast: PostgreSQL's SUM of a BIGINT is a NUMERIC)
_PER_BUCKET = ("SELECT b.name, COUNT(o.key), CAST(COALESCE(SUM(o.size), 0) AS BIGINT) "
               "FROM buckets b LEFT JOIN objects o ON o.bucket = b.name")
_NONCURRENT = ("SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM versions "
               "WHERE is_marker = 0")
_KEYS_PER_USER = "SELECT user_name, COUNT(*) FROM keys GROUP BY user_name"


@dataclass(frozen=True, slots=True)
class BucketStats:
    bucket: Bucket
    objects: int  # current objects (not noncurrent versions or delete markers)
    bytes: int  # their sizes' sum


@dataclass(frozen=True, slots=True)
class Totals:
    buckets: int
    objects: int  # current objects
    bytes_current: int
    bytes_noncurrent: int  # noncurrent versions (they use space too)


def bucket_stats(meta: Any, account_id: str | None) -> list[BucketStats]:
    """Every bucket of ``account_id`` (None: of every account), by name, with its current
    objects' count and bytes."""
    sql = _PER_BUCKET
    args: tuple[str, ...] = ()
    if account_id is not None:
        sql, args = sql + " WHERE b.account_id = ?", (account_id,)
    figures = {name: (int(count), int(size)) for name, count, size in
               meta.reader().execute(sql + " GROUP BY b.name", args).fetchall()}
    return [BucketStats(b, *figures.get(b.name, (0, 0)))
            for b in meta.list_buckets(account_id)]


def totals(meta: Any) -> Totals:
    """The whole data set: buckets, current objects and the bytes of all versions."""
    reader = meta.reader()
    buckets = objects = size = 0
    for _name, count, total in reader.execute(_PER_BUCKET + " GROUP BY b.name").fetchall():
        buckets += 1
        objects += int(count)
        size += int(total)
    row = reader.execute(_NONCURRENT).fetchone()
    return Totals(buckets, objects, size, int(row[1]) if row else 0)


def free_bytes(path: os.PathLike[str] | str) -> int:
    """Bytes an unprivileged writer may still use on the file system of ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def keys_per_user(meta: Any) -> dict[str, int]:
    return {name: int(n) for name, n in meta.reader().execute(_KEYS_PER_USER).fetchall()}
