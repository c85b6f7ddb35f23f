"""Access-key secrets at rest: the ``keys`` table holds them sealed under the keyring's
active ``secrets`` key, each bound to its access key (a sealed value copied into another
row does not open).

A secret is opened once per process and kept by its sealed value (which never changes
meaning), so the per-request key lookup — re-queried after every commit, since commits
empty the lookup caches — costs one dict lookup more than a plain-text column did.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from objectstore.storage.db import Connection
from objectstore.storage.keyring import (
    SECRETS,
    Keyring,
    KeyringError,
    is_sealed,
    sealed_key_id,
)

OPENED_ENTRIES = 10_000  # opened secrets kept per process (all dropped when full)
PLAIN = "(plain text)"  # how key_ids() counts secrets not sealed yet


def _aad(access_key: str) -> bytes:
    return b"access-key:" + access_key.encode()


class SealedSecrets:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._opened: dict[tuple[str, str], str] = {}

    def seal(self, access_key: str, secret: str) -> str:
        return self.keyring.seal(SECRETS, secret.encode(), _aad(access_key))

    def open(self, access_key: str, stored: str) -> str:
        """The secret of a row; KeyringError if it does not open."""
        found = self._opened.get((access_key, stored))
        if found is None:
            found = self.keyring.open_sealed(stored, _aad(access_key)).decode()
            if len(self._opened) >= OPENED_ENTRIES:
                self._opened.clear()
            self._opened[(access_key, stored)] = found
        return found

    def seal_plaintext(self, c: Connection) -> int:
        """(In a write transaction.) Seal the secrets earlier versions stored in plain
        text; how many. Idempotent."""
        rows = [(a, s) for a, s in c.execute("SELECT access_key, secret FROM keys")
                if not is_sealed(s)]
        _overwrite(c, [(self.seal(a, s), a) for a, s in rows])
        return len(rows)

    def reseal(self, c: Connection) -> int:
        """(In a write transaction.) Seal again under the active key every secret sealed
        under another one (after a rotation); how many."""
        active = self.keyring.active_id(SECRETS)
        changed = []
        for access_key, stored in c.execute("SELECT access_key, secret FROM keys"):
            if is_sealed(stored) and sealed_key_id(stored) == active:
                continue
            plain = (self.keyring.open_sealed(stored, _aad(access_key)).decode()
                     if is_sealed(stored) else stored)
            changed.append((self.seal(access_key, plain), access_key))
        _overwrite(c, changed)
        # session credentials (short-lived) sealed under another key end instead: their
        # users sign in again, and no session outlives the key its secret needs
        ended = [(a,) for a, stored in c.execute("SELECT access_key, secret FROM sessions")
                 if sealed_key_id(stored) != active]
        for row in ended:
            c.execute("DELETE FROM sessions WHERE access_key=?", row)
        return len(changed)


def key_ids(c: Connection) -> dict[str, int]:
    """Key id -> how many secrets are sealed with it (PLAIN: not sealed yet)."""
    counts: dict[str, int] = {}
    for (stored,) in c.execute("SELECT secret FROM keys UNION ALL SELECT secret FROM sessions"):
        key_id = sealed_key_id(stored) if is_sealed(stored) else PLAIN
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def open_keyring(c: Connection, path: Path) -> Keyring:
    """The keyring of this database. A new one is made only while no secret is sealed:
    a missing keyring with sealed secrets is an error (a new key would lock everyone out).
    """
    used = set(key_ids(c)) - {PLAIN}
    if used and not path.exists():
        raise KeyringError(
            f"the keyring {path} is missing, but the metadata database holds access-key "
            f"secrets sealed with it (key {', '.join(sorted(used))}); restore the keyring "
            "from its backup, or point --keyring / OBJECTSTORE_KEYRING at it")
    keyring = Keyring.open(path, create=not used)
    unknown = used - {k.id for k in keyring.keys()}
    if unknown:
        raise KeyringError(
            f"the keyring {path} lacks key {', '.join(sorted(unknown))} that access-key "
            "secrets in the metadata database are sealed with; restore the keyring that "
            "holds it, or point --keyring / OBJECTSTORE_KEYRING at it")
    return keyring


def _overwrite(c: Connection, rows: list[tuple[str, str]]) -> None:
    """Store new secrets over the old ones, zeroing the bytes the old ones leave behind."""
    if not rows:
        return
    if not isinstance(c, sqlite3.Connection):  # PostgreSQL: no secure_delete to turn on
        c.executemany("UPDATE keys SET secret=? WHERE access_key=?", rows)
        return
    before = int(c.execute("PRAGMA secure_delete").fetchone()[0])
    c.execute("PRAGMA secure_delete=ON")
    try:
        c.executemany("UPDATE keys SET secret=? WHERE access_key=?", rows)
    finally:
        c.execute(f"PRAGMA secure_delete={before}")
