"""`objectstore migrate`: copy every metadata table from one store to another (SQLite ->
PostgreSQL, or back), verified by row counts and checksums, resumable, with progress.

Run it with the gateways stopped (the source must not change meanwhile). Each table is
copied in batches, each batch one transaction of ``INSERT ... ON CONFLICT DO NOTHING``:
a run that was cut off is simply run again — tables already equal (same count and
checksum) are skipped, the others continue where the copy stands (rows already there
are left as they are). A table without a primary key (user certificates) is copied whole
in one transaction. The checksum of a table is order-independent (the sum of a SHA-256 of
each row's canonical form, modulo 2^256), so the two engines' orderings do not matter.

Blobs are not copied: they stay in the data directory, which the gateways of the new
store use as before. Access-key secrets are copied sealed: the new store's gateways need
the same keyring. PostgreSQL text cannot hold U+0000: rows holding it (keys written by an
older release) are listed and the migration refused, unless ``skip_nul`` leaves them out.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TextIO

from objectstore.service.stores import Stores
from objectstore.storage import access_log
from objectstore.storage.db import Connection, Txn

# (table, primary key columns; "" for none) in the order they are copied
TABLES: tuple[tuple[str, str], ...] = (
    ("accounts", "id"), ("users", "name"), ("keys", "access_key"), ("user_certs", ""),
    ("buckets", "name"), ("objects", "bucket, key"), ("versions", "bucket, key, seq"),
    ("counters", "name"), ("blob_refs", "blob"), ("garbage", "blob"),
    ("uploads", "upload_id"), ("parts", "upload_id, number"),
    ("completed_uploads", "upload_id"), ("images", "image_id"), ("leases", "name"),
    ("access_log", "id"),
)
BATCH = 500


class MigrationError(Exception):
    pass


@dataclass
class TableReport:
    table: str
    rows: int
    copied: int = 0
    skipped_nul: list[str] = field(default_factory=list)
    equal: bool = False


def canonical(value: Any) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"B" + bytes(value).hex().encode()
    if isinstance(value, float):
        return b"F" + repr(value).encode()
    if isinstance(value, bool):
        return b"I" + str(int(value)).encode()
    if isinstance(value, int):
        return b"I" + str(value).encode()
    return b"T" + str(value).encode("utf-8", "surrogatepass")


def row_digest(row: Iterable[Any]) -> int:
    h = hashlib.sha256()
    for v in row:
        c = canonical(v)
        h.update(len(c).to_bytes(4, "big"))
        h.update(c)
    return int.from_bytes(h.digest(), "big")


def _columns(conn: Connection, table: str) -> list[str]:
    cur: Any = conn.execute(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608 - fixed names
    cur.fetchall()
    return [d[0] for d in cur.description]


def summary(conn: Connection, table: str, columns: list[str]) -> tuple[int, int]:
    """(rows, checksum) of a table over ``columns``."""
    total, count = 0, 0
    for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table}"):  # noqa: S608
        total = (total + row_digest(row)) % (1 << 256)
        count += 1
    return count, total


def _has_nul(row: tuple[Any, ...]) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in row)


def _insert_txn(table: str, columns: list[str], key: str, rows: list[tuple[Any, ...]],
                replace_all: bool) -> Txn[None]:
    marks = ",".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    if key:
        sql += f" ON CONFLICT ({key}) DO NOTHING"

    def txn(c: Connection) -> None:
        if replace_all:
            c.execute(f"DELETE FROM {table}")  # noqa: S608
        if rows:
            c.executemany(sql, rows)
    return txn


def migrate(source: Stores, dest: Stores, *, skip_nul: bool = False, batch: int = BATCH,
            progress: TextIO | None = sys.stderr,
            after_table: Callable[[TableReport], None] | None = None) -> list[TableReport]:
    """Copy every table of ``source`` into ``dest`` and verify it; the reports. Raises
    MigrationError when rows hold U+0000 (without ``skip_nul``) or a table differs after
    the copy."""
    for meta in (source.meta, dest.meta):
        meta.ensure_schema(access_log.SCHEMA)
        from objectstore.service.jobs import SCHEMA as LEASES

        meta.ensure_schema(LEASES)
    src, dst = source.meta.reader(), dest.meta.reader()
    reports = []
    nul_rows: list[str] = []
    for table, key in TABLES:
        columns = _columns(src, table)
        rows_total, src_sum = summary(src, table, columns)
        report = TableReport(table, rows_total)
        dst_count, dst_sum = summary(dst, table, columns)
        if (dst_count, dst_sum) == (rows_total, src_sum):
            report.equal = True
            _bar(progress, table, rows_total, rows_total, "already there")
            reports.append(report)
            continue
        pending: list[tuple[Any, ...]] = []
        done = 0
        whole = not key
        every: list[tuple[Any, ...]] = []
        for row in src.execute(f"SELECT {', '.join(columns)} FROM {table}"):  # noqa: S608
            row = tuple(row)
            done += 1
            if _has_nul(row):
                report.skipped_nul.append(f"{table}: {row[:2]!r}")
                continue
            if whole:
                every.append(row)
                continue
            pending.append(row)
            if len(pending) >= batch:
                dest.meta.run(_insert_txn(table, columns, key, pending, False))
                report.copied += len(pending)
                pending = []
                _bar(progress, table, done, rows_total)
        if whole:
            dest.meta.run(_insert_txn(table, columns, key, every, True))
            report.copied = len(every)
        elif pending:
            dest.meta.run(_insert_txn(table, columns, key, pending, False))
            report.copied += len(pending)
        _bar(progress, table, done, rows_total)
        nul_rows.extend(report.skipped_nul)
        if report.skipped_nul and not skip_nul:
            raise MigrationError(
                f"{len(report.skipped_nul)} rows of {table} hold U+0000, which PostgreSQL "
                f"cannot store (first: {report.skipped_nul[0]}); rename those objects "
                "first, or run again with --skip-nul to leave them out")
        if table == "access_log":
            _advance_identity(dest, table)
        if not report.skipped_nul:
            count, dsum = summary(dst, table, columns)
            if (count, dsum) != (rows_total, src_sum):
                raise MigrationError(
                    f"{table}: {count} rows with checksum {dsum:x} in the destination, "
                    f"{rows_total} with {src_sum:x} in the source (the destination held "
                    "other rows before, or the source changed during the copy)")
            report.equal = True
        if after_table is not None:
            after_table(report)
        reports.append(report)
    return reports


def _advance_identity(dest: Stores, table: str) -> None:
    """PostgreSQL: the next generated id comes after the copied ones."""
    if not hasattr(dest.meta, "url"):
        return

    def txn(c: Connection) -> None:
        c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                  f"GREATEST((SELECT MAX(id) FROM {table}), 1))")  # noqa: S608
    dest.meta.run(txn)


def _bar(out: TextIO | None, table: str, done: int, total: int, note: str = "") -> None:
    if out is None:
        return
    width = 30
    filled = width if total == 0 else width * done // total
    pct = 100 if total == 0 else 100 * done // total
    end = "\n" if done >= total else ""
    out.write(f"\r{table:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
              f"{pct:3d}% {note}{end}")
    out.flush()
