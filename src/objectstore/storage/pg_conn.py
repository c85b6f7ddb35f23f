"""A psycopg connection that runs the SQL written for both stores (storage/db.py).

The shared SQL uses SQLite's spelling where PostgreSQL's differs in ways a rewrite can
bridge exactly; each statement is rewritten once and the result cached:

- ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``);
- ``IS ?`` becomes ``IS NOT DISTINCT FROM %s`` (NULL-safe equality: version ids);
- ``CAST(? AS TEXT)``, a listing bound given as UTF-8 bytes, becomes ``%s`` with the bytes
  decoded; the upper bound ``prefix + b"\\xff"`` (no valid UTF-8) becomes the least string
  above every key with that prefix (db.key_upper_bound): the same rows, as keys are
  ``COLLATE "C"`` (UTF-8 byte order).

psycopg's errors become the neutral ones: a unique violation -> db.IntegrityError; a
lost connection, a server shutting down, a pool timeout -> meta.Unavailable. Serialization
failures and deadlocks -> db.Retry: the transaction runner runs the closure again.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator, Sequence

import psycopg
from psycopg import errors as pg_errors

from objectstore.storage.db import IntegrityError, Retry, key_upper_bound
from objectstore.storage.meta import Unavailable

_TOKEN = re.compile(r"(?:(>=|<=|>|<|=) ?)?CAST\(\? AS TEXT\)|\bIS \?|\?|%")
_HIGHEST = "\U0010ffff" * 4  # above every key a prefix of U+10FFFF characters can have
_NO_KEY = "\U0010ffff" * 300  # 1,200 bytes: longer than any key (1,024 bytes at most)
RETRY_ERRORS = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


# statements that change what the gateways' lookup caches hold (see PostgresMeta)
_CONFIG_WRITE = re.compile(
    r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:buckets|accounts|users|keys|user_certs)\b",
    re.IGNORECASE)


class Translation:
    __slots__ = ("sql", "text_params", "garbage", "config")

    def __init__(self, sql: str, text_params: tuple[tuple[int, str], ...]) -> None:
        self.sql = sql
        self.text_params = text_params  # (index, the comparison it bounds)
        self.garbage = False
        self.config = False


def translate(sql: str) -> Translation:
    index = 0
    text_params: list[tuple[int, str]] = []

    def sub(m: re.Match[str]) -> str:
        nonlocal index
        token = m.group(0)
        if token == "%":
            return "%%"
        if token.endswith("CAST(? AS TEXT)"):
            op = m.group(1) or ""
            text_params.append((index, op))
            index += 1
            return f"{op} %s" if op else "%s"
        index += 1
        return "IS NOT DISTINCT FROM %s" if token.startswith("IS") else "%s"

    out = _TOKEN.sub(sub, sql)
    return Translation(out, tuple(text_params))


def text_bound(value: Any, op: str = ">") -> Any:
    """A listing bound passed as bytes, as text PostgreSQL can compare (``key op bound``).

    A bound holding U+0000 (a client's marker) is replaced by one that selects the same
    keys, none of which holds U+0000: with ``s`` cut before its first U+0000, ``key > s``
    becomes ``key > cut``, ``key >= s`` and ``key < s`` become ``... cut + U+0001``, and
    ``key = s`` (never true) a string longer than any key."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode()
        except UnicodeDecodeError:
            if not value.endswith(b"\xff"):
                value = bytes(value).decode("utf-8", "replace")
            else:
                upper = key_upper_bound(bytes(value[:-1]).decode("utf-8", "replace"))
                value = _HIGHEST if upper is None else upper
    if not isinstance(value, str) or "\x00" not in value:
        return value
    cut = value[:value.index("\x00")]
    if op == ">":
        return cut
    if op in (">=", "<"):
        return cut + "\x01"
    if op == "<=":
        return cut
    return _NO_KEY


class _Empty:
    """The answer to a query about a string PostgreSQL cannot hold (U+0000): no rows."""

    rowcount = 0

    def fetchone(self) -> Any:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class PgConnection:
    """db.Connection over one psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any], cache: dict[str, Translation]) -> None:
        self.raw = conn
        self._cache = cache
        self.wrote_garbage = False  # recorded garbage blobs (to unlink after the commit)
        self.wrote_config = False  # changed what lookup caches hold (bump ``changes``)

    def _prepare(self, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        t = self._cache.get(sql)
        if t is None:
            t = translate(sql)
            t.garbage = "INTO garbage" in sql
            t.config = _CONFIG_WRITE.match(sql) is not None
            self._cache[sql] = t
        if t.text_params:
            params = list(params)
            for i, op in t.text_params:
                params[i] = text_bound(params[i], op)
        if t.garbage:
            self.wrote_garbage = True
        if t.config:
            self.wrote_config = True
        return t.sql, params

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        query, params = self._prepare(sql, parameters)
        try:
            return self.raw.execute(query, params, binary=True)
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.DataError) and "NUL" in str(exc) and \
                    query.startswith("SELECT"):
                return _Empty()  # a key with U+0000: no row has one
            new = neutral(exc)
            if new is exc:
                raise
            raise new from exc

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Any:
        rows = list(seq_of_parameters)
        if not rows:
            return _Empty()
        query, _ = self._prepare(sql, rows[0])
        t = self._cache[sql]
        if t.text_params:
            rows = [self._prepare(sql, r)[1] for r in rows]
        cur = self.raw.cursor(binary=True)
        try:
            cur.executemany(query, rows)
        except psycopg.Error as exc:
            new = neutral(exc)
            if new is exc:
                raise
            raise new from exc
        return cur


class ReaderConnection(PgConnection):
    """A thread's autocommit read connection: a statement that finds it dropped by the
    server (a restart, an idle timeout) runs once more on a new connection, so reads
    recover by themselves as soon as PostgreSQL is back."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]],
                 cache: dict[str, Translation]) -> None:
        super().__init__(connect(), cache)
        self._connect = connect

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        try:
            return super().execute(sql, parameters)
        except Unavailable:
            if not self.raw.broken:
                raise
            self.raw.close()
            try:
                self.raw = self._connect()
            except psycopg.OperationalError:
                raise Unavailable("PostgreSQL: cannot connect") from None
            return super().execute(sql, parameters)


def neutral(exc: psycopg.Error) -> Exception:
    if isinstance(exc, RETRY_ERRORS):
        return Retry(type(exc).__name__)
    if isinstance(exc, pg_errors.UniqueViolation):
        return IntegrityError(str(exc.diag.constraint_name or "unique"))
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return Unavailable(f"PostgreSQL: {type(exc).__name__}")
    return exc
