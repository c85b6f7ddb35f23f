"""Server access log records waiting for delivery: the ``access_log`` table of the metadata
database. Requests append through the group-commit writer (so they share its commits and
fsync, and survive restarts like any other metadata); the delivery job reads a source
bucket's records, writes them as one object and deletes them in that object's own
transaction, so each record is delivered once."""

from __future__ import annotations

from dataclasses import dataclass

from objectstore.storage.db import Connection, Txn

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, bucket TEXT NOT NULL, config TEXT NOT NULL,
  time REAL NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS access_log_bucket ON access_log (bucket, config, id);
"""


@dataclass(frozen=True, slots=True)
class Pending:
    """The waiting records of one source bucket under one logging configuration."""

    bucket: str
    config: str  # the source bucket's logging JSON when the records were made
    first: float  # time of the oldest record
    count: int


def append_txn(records: list[tuple[str, str, float, str]]) -> Txn[None]:
    """Add (bucket, config, time, line) records."""
    def txn(c: Connection) -> None:
        c.executemany("INSERT INTO access_log (bucket, config, time, line) VALUES (?,?,?,?)",
                      records)
    return txn


def pending(c: Connection) -> list[Pending]:
    rows = c.execute("SELECT bucket, config, MIN(time), COUNT(*) FROM access_log "
                     "GROUP BY bucket, config ORDER BY MIN(id)").fetchall()
    return [Pending(r[0], r[1], r[2], r[3]) for r in rows]


def take(c: Connection, bucket: str, config: str, limit: int
         ) -> list[tuple[int, float, str]]:
    """The oldest ``limit`` records of a group: (id, time, line)."""
    return [(r[0], r[1], r[2]) for r in c.execute(
        "SELECT id, time, line FROM access_log WHERE bucket=? AND config=? ORDER BY id "
        "LIMIT ?", (bucket, config, limit))]


def delete_txn(ids: list[int]) -> Txn[int]:
    def txn(c: Connection) -> int:
        c.executemany("DELETE FROM access_log WHERE id=?", [(i,) for i in ids])
        return len(ids)
    return txn
