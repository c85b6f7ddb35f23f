"""The database connection every metadata query is written against.

SQL in storage/ and service/ is written once, in the dialect both stores understand
(``?`` placeholders, ``INSERT ... ON CONFLICT``, ``IS NOT DISTINCT FROM``): SQLite's own
connection runs it as it is; storage/pg_conn.py adapts it to PostgreSQL. Write transactions
are closures ``Txn[T]`` over a ``Connection``; they must be retry-safe (PostgreSQL runs one
again after a serialization failure): no effect outside the database.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

T = TypeVar("T")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /
                    ) -> Cursor: ...


Txn = Callable[[Connection], T]


class IntegrityError(Exception):
    """A unique or foreign-key constraint refused a write (PostgreSQL's UniqueViolation)."""


class Retry(Exception):
    """The transaction lost a race (PostgreSQL: a serialization failure or deadlock): it was
    rolled back and runs again. A closure that catches broad exceptions lets this one go."""


# what a closure catches for "the row exists already", whichever store runs it
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, IntegrityError)


def key_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix`` (code point,
    hence UTF-8 byte, order); None when there is none (a prefix of U+10FFFF only)."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            last += 1
            if 0xD800 <= last <= 0xDFFF:  # surrogates are no characters
                last = 0xE000
            return "".join(chars) + chr(last)
    return None


ADD_GARBAGE = "INSERT INTO garbage VALUES (?,?) ON CONFLICT DO NOTHING"  # (blob, since)


def upsert(table: str, columns: str, key: str) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of every other column: INSERT OR REPLACE
    in SQL both stores run (a row replaced in place; no triggers or foreign keys here)."""
    names = [c.strip() for c in columns.split(",")]
    keys = {k.strip() for k in key.split(",")}
    sets = ", ".join(f"{n}=excluded.{n}" for n in names if n not in keys)
    return (f"INSERT INTO {table} ({columns}) VALUES ({','.join('?' * len(names))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}")
