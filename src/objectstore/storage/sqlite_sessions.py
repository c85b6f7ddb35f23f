"""Session credentials (STS GetSessionToken) in the metadata store: a part of SqliteMeta
beside the account tables, shared by the PostgreSQL store.

A session row holds its own access key and sealed secret, the SHA-256 of its token, the
user it acts as and the long-term key it came from. A session is valid while it has not
expired and its long-term key still exists (lookups join the ``keys`` table: deleting a
key, or its user, ends the sessions made with it). Revoking sets ``expires`` to now, so a
revoked session answers ExpiredToken like an expired one; rows a day past their expiry
are removed when new sessions are made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from objectstore.storage import secrets_at_rest as at_rest
from objectstore.storage.db import Connection, Txn
from objectstore.storage.meta import NotFound
from objectstore.storage.model import Account, User

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, token_sha256 TEXT NOT NULL,
  user_name TEXT NOT NULL, source_key TEXT NOT NULL, created REAL NOT NULL,
  expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_source ON sessions(source_key);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires);
"""
KEEP_EXPIRED = 86400.0  # seconds an ended session's row stays (ExpiredToken, not unknown)


@dataclass(frozen=True, slots=True)
class Session:
    access_key: str
    secret: str
    token_sha256: str
    user: User
    account: Account
    source_key: str
    created: float
    expires: float


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as listed (no secret, no token)."""

    access_key: str
    user_name: str
    source_key: str
    created: float
    expires: float


class SessionTables:
    secrets: at_rest.SealedSecrets

    def reader(self) -> Connection:
        raise NotImplementedError

    def run(self, fn: Txn[Any]) -> Any:
        raise NotImplementedError

    def add_session(self, access_key: str, secret: str, token_sha256: str, user_name: str,
                    source_key: str, expires: float) -> None:
        sealed = self.secrets.seal(access_key, secret)
        now = time.time()

        def txn(c: Connection) -> None:
            c.execute("DELETE FROM sessions WHERE expires < ?", (now - KEEP_EXPIRED,))
            # the long-term key must still be active when the session is stored: a key
            # deactivated (or deleted) since the request was authenticated makes none
            if not c.execute("SELECT 1 FROM keys WHERE access_key=? AND status='Active'",
                             (source_key,)).fetchone():
                raise NotFound("key")
            c.execute("INSERT INTO sessions VALUES (?,?,?,?,?,?,?)",
                      (access_key, sealed, token_sha256, user_name, source_key, now, expires))
        self.run(txn)

    def lookup_session(self, access_key: str) -> Session | None:
        """The session of a temporary access key, with its user and account, while the
        long-term key it came from exists (expired and revoked ones included). Not cached:
        sessions are few and revocation must be seen by the next request."""
        row = self.reader().execute(
            "SELECT s.secret, s.token_sha256, u.name, u.account_id, u.is_admin, u.created, "
            "a.name, a.email, a.created, u.policy, a.public_block, (SELECT f.name FROM "
            "users f WHERE f.account_id = u.account_id ORDER BY f.created, f.name LIMIT 1), "
            "s.source_key, s.created, s.expires "
            "FROM sessions s JOIN keys k ON k.access_key = s.source_key "
            "JOIN users u ON u.name = k.user_name "
            "JOIN accounts a ON a.id = u.account_id WHERE s.access_key=?",
            (access_key,)).fetchone()
        if row is None:
            return None
        user = User(row[2], row[3], bool(row[4]), row[5], row[9], first=row[11] == row[2])
        account = Account(row[3], row[6], row[7], row[8], row[10])
        return Session(access_key, self.secrets.open(access_key, row[0]), row[1], user,
                       account, row[12], row[13], row[14])

    def revoke_session(self, access_key: str) -> bool:
        """End a session now; False when there is no such session (or it already ended)."""
        now = time.time()

        def txn(c: Connection) -> bool:
            cur = c.execute("UPDATE sessions SET expires=? WHERE access_key=? AND expires>?",
                            (now, access_key, now))
            return bool(cur.rowcount)
        return bool(self.run(txn))

    def list_sessions(self, user_name: str | None = None) -> list[SessionInfo]:
        """Sessions that have not ended, oldest first."""
        sql = ("SELECT access_key, user_name, source_key, created, expires FROM sessions "
               "WHERE expires > ?")
        args: tuple[Any, ...] = (time.time(),)
        if user_name is not None:
            sql += " AND user_name=?"
            args += (user_name,)
        return [SessionInfo(*r) for r in self.reader().execute(sql + " ORDER BY created", args)]
