"""Accounts, users, their certificates and access keys in the SQLite metadata store (a
part of SqliteMeta, kept apart by operation family)."""

from __future__ import annotations

import time
from typing import Any, Iterator, Mapping

from objectstore.storage import secrets_at_rest as at_rest
from objectstore.storage.db import INTEGRITY_ERRORS, Connection, Txn
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import AccessKey, Account, User

CACHE_LOOKUPS = 4096  # key and bucket lookups cached per thread (emptied when full) ...
CACHE_NAME_MAX = 128  # ... of names (clients' values, misses too) up to this length


_UNSET = object()
KEY_STATUSES = ("Active", "Inactive")


def bound(cache: dict[tuple[str, ...], Any]) -> None:
    if len(cache) >= CACHE_LOOKUPS:
        cache.clear()


class AccountTables:
    """The accounts, users, user_certs and keys tables. SqliteMeta provides the plumbing."""

    secrets: at_rest.SealedSecrets

    def reader(self) -> Connection:
        raise NotImplementedError

    def run(self, fn: Txn[Any]) -> Any:
        raise NotImplementedError

    def _cache(self) -> dict[tuple[str, ...], Any]:
        raise NotImplementedError

    def get_account(self, account_id: str) -> Account | None:
        row = self.reader().execute(
            "SELECT id, name, email, created, public_block FROM accounts WHERE id=?",
            (account_id,)).fetchone()
        return Account(*row) if row else None

    def account_by_name(self, name: str) -> Account | None:
        row = self.reader().execute(
            "SELECT id, name, email, created, public_block FROM accounts WHERE name=?",
            (name,)).fetchone()
        return Account(*row) if row else None

    def list_accounts(self) -> list[Account]:
        rows = self.reader().execute(
            "SELECT id, name, email, created, public_block FROM accounts ORDER BY name").fetchall()
        return [Account(*r) for r in rows]

    def account_names(self) -> dict[str, str]:
        rows = self.reader().execute("SELECT id, name FROM accounts").fetchall()
        return {r[0]: r[1] for r in rows}

    def emails(self) -> Mapping[str, str]:
        """E-mail address (lower case) -> account id, looked up only when asked."""
        return _Emails(self)

    def add_account(self, account: Account) -> None:
        def txn(c: Connection) -> None:
            try:
                c.execute("INSERT INTO accounts (id, name, email, created) VALUES (?,?,?,?)",
                          (account.id, account.name, account.email, account.created))
            except INTEGRITY_ERRORS:
                raise Conflict("account exists") from None
        self.run(txn)

    def delete_account(self, account_id: str) -> None:
        def txn(c: Connection) -> None:
            if c.execute("SELECT 1 FROM buckets WHERE account_id=? LIMIT 1",
                         (account_id,)).fetchone():
                raise Conflict("account owns buckets")
            users = [r[0] for r in c.execute("SELECT name FROM users WHERE account_id=?",
                                             (account_id,))]
            for u in users:
                c.execute("DELETE FROM keys WHERE user_name=?", (u,))
            c.execute("DELETE FROM users WHERE account_id=?", (account_id,))
            if c.execute("DELETE FROM accounts WHERE id=?", (account_id,)).rowcount == 0:
                raise NotFound("account")
        self.run(txn)

    # ------------------------------------------------------------ users and keys
    def get_user(self, name: str) -> User | None:
        row = self.reader().execute(
            "SELECT name, account_id, is_admin, created, policy FROM users WHERE name=?",
            (name,)).fetchone()
        return User(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    def list_users(self) -> list[User]:
        rows = self.reader().execute(
            "SELECT name, account_id, is_admin, created, policy FROM users ORDER BY name"
        ).fetchall()
        return [User(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    def add_user(self, user: User) -> None:
        def txn(c: Connection) -> None:
            if not c.execute("SELECT 1 FROM accounts WHERE id=?", (user.account_id,)).fetchone():
                raise NotFound("account")
            try:
                c.execute("INSERT INTO users (name, account_id, is_admin, created) "
                          "VALUES (?,?,?,?)",
                          (user.name, user.account_id, int(user.is_admin), user.created))
            except INTEGRITY_ERRORS:
                raise Conflict("user exists") from None
        self.run(txn)

    def set_user_policy(self, name: str, policy: str | None) -> None:
        """Attach (or with None, detach) the user's identity policy document."""
        def txn(c: Connection) -> None:
            if c.execute("UPDATE users SET policy=? WHERE name=?",
                         (policy, name)).rowcount == 0:
                raise NotFound("user")
        self.run(txn)

    def set_account_public_block(self, account_id: str, block: str | None) -> None:
        """The account-wide Block Public Access settings (JSON; None: none)."""
        def txn(c: Connection) -> None:
            if c.execute("UPDATE accounts SET public_block=? WHERE id=?",
                         (block, account_id)).rowcount == 0:
                raise NotFound("account")
        self.run(txn)

    def account_public_block(self, account_id: str) -> str | None:
        """The account-wide Block Public Access settings of a bucket owner (cached)."""
        cache = self._cache()
        found = cache.get(("pab", account_id), _UNSET)
        if found is _UNSET:
            row = self.reader().execute("SELECT public_block FROM accounts WHERE id=?",
                                        (account_id,)).fetchone()
            bound(cache)
            found = cache[("pab", account_id)] = row[0] if row else None
        return found  # type: ignore[no-any-return]

    def first_user(self, account_id: str) -> str | None:
        """The account's first user (created first): it may always manage bucket policies."""
        row = self.reader().execute(
            "SELECT name FROM users WHERE account_id=? ORDER BY created, name LIMIT 1",
            (account_id,)).fetchone()
        return row[0] if row else None

    def delete_user(self, name: str) -> None:
        def txn(c: Connection) -> None:
            now = time.time()  # its sessions end (a user made again later gets none back)
            c.execute("UPDATE sessions SET expires=? WHERE user_name=? AND expires>?",
                      (now, name, now))
            c.execute("DELETE FROM keys WHERE user_name=?", (name,))
            c.execute("DELETE FROM user_certs WHERE user_name=?", (name,))
            if c.execute("DELETE FROM users WHERE name=?", (name,)).rowcount == 0:
                raise NotFound("user")
        self.run(txn)

    def add_user_cert(self, user_name: str, pem: bytes) -> None:
        def txn(c: Connection) -> None:
            if not c.execute("SELECT 1 FROM users WHERE name=?", (user_name,)).fetchone():
                raise NotFound("user")
            c.execute("INSERT INTO user_certs VALUES (?,?,?)", (user_name, pem, time.time()))
        self.run(txn)

    def user_certs(self, user_name: str) -> list[bytes]:
        return [bytes(r[0]) for r in self.reader().execute(
            "SELECT pem FROM user_certs WHERE user_name=? ORDER BY added", (user_name,))]

    def add_key(self, key: AccessKey) -> None:
        sealed = self.secrets.seal(key.access_key, key.secret)

        def txn(c: Connection) -> None:
            if not c.execute("SELECT 1 FROM users WHERE name=?", (key.user_name,)).fetchone():
                raise NotFound("user")
            _insert_key(c, key, sealed)
        self.run(txn)

    def rotate_key(self, old_access_key: str, new: AccessKey) -> None:
        """Add ``new`` for the user of ``old_access_key`` and make the old key Inactive, in
        one transaction (NotFound: no such old key; Conflict: the new one exists)."""
        sealed = self.secrets.seal(new.access_key, new.secret)

        def txn(c: Connection) -> None:
            row = c.execute("SELECT user_name FROM keys WHERE access_key=?",
                            (old_access_key,)).fetchone()
            if row is None or row[0] != new.user_name:
                raise NotFound("key")
            _insert_key(c, new, sealed)
            c.execute("UPDATE keys SET status='Inactive' WHERE access_key=?",
                      (old_access_key,))
            _end_sessions(c, old_access_key)
        self.run(txn)

    def set_key_status(self, access_key: str, status: str) -> None:
        """Active or Inactive (an inactive key's requests get InvalidAccessKeyId, and the
        sessions made with it end)."""
        if status not in KEY_STATUSES:
            raise ValueError(f"not a key status: {status!r}")

        def txn(c: Connection) -> None:
            if c.execute("UPDATE keys SET status=? WHERE access_key=?",
                         (status, access_key)).rowcount == 0:
                raise NotFound("key")
            if status == "Inactive":
                _end_sessions(c, access_key)
        self.run(txn)

    def key_info(self, access_key: str) -> AccessKey | None:
        """A key without its secret (secret ""), whatever its status."""
        row = self.reader().execute(
            "SELECT access_key, user_name, created, status FROM keys WHERE access_key=?",
            (access_key,)).fetchone()
        return AccessKey(row[0], "", row[1], row[2], row[3]) if row else None

    def key_infos(self, user_name: str | None = None) -> list[AccessKey]:
        """Keys without their secrets (secret ""), oldest first: nothing is unsealed."""
        sql = "SELECT access_key, user_name, created, status FROM keys"
        args: tuple[str, ...] = ()
        if user_name is not None:
            sql += " WHERE user_name=?"
            args = (user_name,)
        return [AccessKey(r[0], "", r[1], r[2], r[3])
                for r in self.reader().execute(sql + " ORDER BY created, access_key", args)]

    def delete_key(self, access_key: str) -> None:
        def txn(c: Connection) -> None:
            if c.execute("DELETE FROM keys WHERE access_key=?", (access_key,)).rowcount == 0:
                raise NotFound("key")
            _end_sessions(c, access_key)  # a key made again with this id gets none back
        self.run(txn)

    def list_keys(self, user_name: str | None = None) -> list[AccessKey]:
        sql = "SELECT access_key, secret, user_name, created, status FROM keys"
        args: tuple[str, ...] = ()
        if user_name is not None:
            sql += " WHERE user_name=?"
            args = (user_name,)
        return [AccessKey(r[0], self.secrets.open(r[0], r[1]), r[2], r[3], r[4])
                for r in self.reader().execute(sql + " ORDER BY created", args)]

    def lookup_key(self, access_key: str) -> tuple[str, User, Account] | None:
        """The secret, user and account of an active access key, in one query (cached);
        None for an unknown or Inactive key."""
        cache = self._cache()
        if ("key", access_key) not in cache:
            if len(access_key) > CACHE_NAME_MAX:  # a client's value: remembered if short
                return self._lookup_key(access_key)
            bound(cache)
            cache[("key", access_key)] = self._lookup_key(access_key)
        found: tuple[str, User, Account] | None = cache[("key", access_key)]
        return found

    def _lookup_key(self, access_key: str) -> tuple[str, User, Account] | None:
        row = self.reader().execute(
            "SELECT k.secret, u.name, u.account_id, u.is_admin, u.created, a.name, a.email, "
            "a.created, u.policy, a.public_block, (SELECT f.name FROM users f WHERE "
            "f.account_id = u.account_id ORDER BY f.created, f.name LIMIT 1) "
            "FROM keys k JOIN users u ON u.name = k.user_name "
            "JOIN accounts a ON a.id = u.account_id WHERE k.access_key=? "
            "AND k.status='Active'",
            (access_key,)).fetchone()
        if row is None:
            return None
        user = User(row[1], row[2], bool(row[3]), row[4], row[8], first=row[10] == row[1])
        return (self.secrets.open(access_key, row[0]), user,
                Account(row[2], row[5], row[6], row[7], row[9]))


def _end_sessions(c: Connection, source_key: str) -> None:
    """Sessions made with a key that is deactivated or deleted end with it (revoked:
    ExpiredToken), and stay ended when it is activated (or made) again."""
    now = time.time()
    c.execute("UPDATE sessions SET expires=? WHERE source_key=? AND expires>?",
              (now, source_key, now))


def _insert_key(c: Connection, key: AccessKey, sealed: str) -> None:
    try:
        c.execute("INSERT INTO keys (access_key, secret, user_name, created, status) "
                  "VALUES (?,?,?,?,?)",
                  (key.access_key, sealed, key.user_name, key.created, key.status))
    except INTEGRITY_ERRORS:
        raise Conflict("key exists") from None


class _Emails(Mapping[str, str]):
    """Account ids by e-mail, queried on first use (most requests grant by e-mail never)."""

    def __init__(self, meta: AccountTables) -> None:
        self._meta = meta
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            rows = self._meta.reader().execute(
                "SELECT email, id FROM accounts WHERE email != ''").fetchall()
            self._data = {r[0].lower(): r[1] for r in rows}
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

