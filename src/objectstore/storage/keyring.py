"""The keyring: master keys kept apart from the metadata database.

One JSON file (mode 0600, by default ``<data-dir>/keyring/keyring.json``, anywhere else
with ``--keyring`` / ``OBJECTSTORE_KEYRING``) holds versioned 256-bit keys, each with a
purpose: ``secrets`` (access-key secrets in the metadata database) today; ``sse`` (the
encryption-at-rest master key) and ``kms:<name>`` keys later. One key per purpose is
active (encrypts); the others are retired (still decrypt) until pruned.

A value is sealed with AES-256-GCM under the active key, with a random 96-bit nonce and
associated data naming the row it belongs to (a ciphertext copied to another row does not
open), as ``v1:<key id>:<base64 nonce+ciphertext>``.

The file is replaced atomically (temporary file, fsync, rename; the first one is linked
in place so two processes starting at once agree on one key). Readers notice a replaced
file by its stat and load it again, so a rotation by the admin command reaches running
servers.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
SEALED_PREFIX = "v1:"
SECRETS = "secrets"  # purpose of the key that seals access-key secrets
SSE = "sse"  # purpose of the master key that wraps SSE-S3 data keys
KMS_PREFIX = "kms:"  # purpose "kms:<name>": the KMS key <name> (SSE-KMS)
PURPOSES = (SECRETS, SSE)  # and every "kms:<name>"
ENV = "OBJECTSTORE_KEYRING"


class KeyringError(Exception):
    """The keyring is missing, unreadable, or lacks a key something was sealed with."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown of a key: never the key itself."""

    id: str
    purpose: str
    created: float
    active: bool


def valid_purpose(purpose: str) -> bool:
    """``secrets``, ``sse``, or ``kms:<name>`` (a KMS key name: 1-256 of A-Z a-z 0-9
    ``/_-.``)."""
    if purpose in PURPOSES:
        return True
    name = purpose.removeprefix(KMS_PREFIX)
    return purpose.startswith(KMS_PREFIX) and 0 < len(name) <= 256 and all(
        c.isascii() and (c.isalnum() or c in "/_-.") for c in name)


def default_path(data_dir: Path) -> Path:
    return data_dir / "keyring" / "keyring.json"


def is_sealed(value: str) -> bool:
    """Whether ``value`` has the sealed form (``v1:<key id>:<base64>``)."""
    if not value.startswith(SEALED_PREFIX):
        return False
    parts = value.split(":")
    return len(parts) == 3 and bool(parts[1]) and len(parts[2]) >= 40


def sealed_key_id(value: str) -> str:
    return value.split(":")[1]


class Keyring:
    def __init__(self, path: Path) -> None:
        """The keyring in ``path``, which must exist (see ``open``)."""
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeyInfo, AESGCM]] = {}
        self._active: dict[str, str] = {}
        self._stat: tuple[int, int, int] | None = None
        self._load()

    @staticmethod
    def open(path: Path, *, create: bool) -> Keyring:
        """Load the keyring; when it does not exist, make one with a first ``secrets`` key
        if ``create``, else raise KeyringError."""
        if not path.exists():
            if not create:
                raise KeyringError(f"the keyring {path} does not exist")
            _create(path)
        return Keyring(path)

    # ------------------------------------------------------------ reading
    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise KeyringError(f"the keyring {self.path} does not exist") from None
        except OSError as exc:
            raise KeyringError(f"cannot read the keyring {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            raw = f.read()
        keys, active = _parse(raw, self.path)
        if st.st_mode & 0o077 and self._stat is None:
            logging.getLogger("objectstore").warning(
                "the keyring %s may be read by other users (mode %o): chmod 600 it",
                self.path, st.st_mode & 0o777)
        with self._lock:
            self._keys, self._active = keys, active
            self._stat = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _current_stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def refresh(self) -> bool:
        """Load the file again if it was replaced since; whether it was."""
        now = self._current_stat()
        if now is None or now == self._stat:
            return False
        self._load()
        return True

    def keys(self) -> list[KeyInfo]:
        return sorted((info for info, _ in self._keys.values()), key=lambda k: k.created)

    def active_id(self, purpose: str) -> str:
        try:
            return self._active[purpose]
        except KeyError:
            raise KeyringError(f"the keyring {self.path} has no active {purpose!r} key") \
                from None

    # ------------------------------------------------------------ sealing
    def seal(self, purpose: str, plaintext: bytes, aad: bytes) -> str:
        """``plaintext`` sealed under the purpose's active key, bound to ``aad``."""
        self.refresh()  # writes are rare: never seal under a key rotated out meanwhile
        key_id = self.active_id(purpose)
        aead = self._keys[key_id][1]
        nonce = secrets.token_bytes(12)
        body = base64.b64encode(nonce + aead.encrypt(nonce, plaintext, aad)).decode()
        return f"{SEALED_PREFIX}{key_id}:{body}"

    def open_sealed(self, value: str, aad: bytes) -> bytes:
        """The plaintext of a sealed value; KeyringError when it cannot be opened."""
        if not is_sealed(value):
            raise KeyringError("not a sealed value")
        _, key_id, body = value.split(":")
        found = self._keys.get(key_id)
        if found is None and self.refresh():  # rotated by another process
            found = self._keys.get(key_id)
        if found is None:
            raise KeyringError(f"the keyring {self.path} has no key {key_id!r}")
        try:
            blob = base64.b64decode(body, validate=True)
            return found[1].decrypt(blob[:12], blob[12:], aad)
        except (binascii.Error, ValueError, InvalidTag):
            raise KeyringError(f"a value sealed with key {key_id!r} does not open "
                               "(corrupted, or moved to another row)") from None

    # ------------------------------------------------------------ changing
    def rotate(self, purpose: str) -> str:
        """Add a new active key for ``purpose`` (the old one stays, retired); its id."""
        if not valid_purpose(purpose):
            raise KeyringError(f"unknown key purpose {purpose!r}")
        new = _new_entry(purpose)

        def change(entries: list[dict[str, object]]) -> list[dict[str, object]]:
            for entry in entries:
                if entry["purpose"] == purpose:
                    entry["active"] = False
            return [*entries, new]
        self._change(change)
        return str(new["id"])

    def ensure(self, purpose: str) -> str:
        """The active key of ``purpose``, made first if there is none (several processes
        may race: the write lock lets one make it, the others find it)."""
        if not valid_purpose(purpose):
            raise KeyringError(f"unknown key purpose {purpose!r}")
        found = self._active.get(purpose)
        if found is None and self.refresh():
            found = self._active.get(purpose)
        if found is not None:
            return found

        def change(entries: list[dict[str, object]]) -> list[dict[str, object]]:
            if any(e["purpose"] == purpose and e["active"] for e in entries):
                return entries
            return [*entries, _new_entry(purpose)]
        self._change(change)
        return self.active_id(purpose)

    def has(self, purpose: str) -> bool:
        """Whether ``purpose`` has an active key (looking at the file again if not)."""
        return purpose in self._active or (self.refresh() and purpose in self._active)

    def purposes(self) -> list[str]:
        return sorted(self._active)

    def prune(self, purpose: str, in_use: set[str]) -> list[str]:
        """Drop the retired keys of ``purpose`` whose ids are not in ``in_use``."""
        dropped: list[str] = []

        def change(entries: list[dict[str, object]]) -> list[dict[str, object]]:
            dropped.extend(str(e["id"]) for e in entries if e["purpose"] == purpose
                           and not e["active"] and e["id"] not in in_use)
            return [e for e in entries if e["id"] not in dropped]
        self._change(change)
        return dropped

    def _change(self, change: Callable[[list[dict[str, object]]], list[dict[str, object]]]
                ) -> None:
        """Replace the file with ``change`` of its entries (one writer at a time)."""
        try:
            with _write_lock(self.path):
                self._load()
                entries: list[dict[str, object]] = json.loads(self.path.read_bytes())["keys"]
                updated = change(list(entries))
                if updated != entries:
                    _replace(self.path, updated)
                    self._load()
        except OSError as exc:
            raise KeyringError(f"cannot change the keyring {self.path}: {exc.strerror}") \
                from None


# ---------------------------------------------------------------- the file
def _new_entry(purpose: str) -> dict[str, object]:
    return {"id": "k" + secrets.token_hex(6), "purpose": purpose, "created": time.time(),
            "active": True, "key": base64.b64encode(AESGCM.generate_key(256)).decode()}


def _document(entries: list[dict[str, object]]) -> bytes:
    return (json.dumps({"version": FORMAT_VERSION, "keys": entries}, indent=1) + "\n").encode()


def _parse(raw: bytes, path: Path) -> tuple[dict[str, tuple[KeyInfo, AESGCM]], dict[str, str]]:
    try:
        doc = json.loads(raw)
        if doc.get("version") != FORMAT_VERSION:
            raise KeyringError(f"the keyring {path} has an unknown format version "
                               f"{doc.get('version')!r}")
        keys: dict[str, tuple[KeyInfo, AESGCM]] = {}
        active: dict[str, str] = {}
        for entry in doc["keys"]:
            key_id, purpose = str(entry["id"]), str(entry["purpose"])
            material = base64.b64decode(entry["key"], validate=True)
            if len(material) != 32 or not key_id or ":" in key_id:
                raise ValueError("bad key entry")
            info = KeyInfo(key_id, purpose, float(entry["created"]), bool(entry["active"]))
            keys[key_id] = (info, AESGCM(material))
            if info.active:
                active[purpose] = key_id
    except KeyringError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise KeyringError(f"the keyring {path} is damaged (not a keyring document)") from None
    return keys, active


def _write_file(path: Path, data: bytes) -> Path:
    """``data`` in a new temporary file next to ``path`` (mode 0600, fsynced)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path) -> None:
    """A first keyring (one ``secrets`` key), unless another process made one first."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = _write_file(path, _document([_new_entry(SECRETS)]))
        try:
            os.link(tmp, path)  # fails if it exists: then everyone uses the first one made
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        _fsync_dir(path.parent)
    except OSError as exc:
        raise KeyringError(f"cannot create the keyring {path}: {exc.strerror}") from None


def _replace(path: Path, entries: list[dict[str, object]]) -> None:
    tmp = _write_file(path, _document(entries))
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class _write_lock:  # noqa: N801 - used like a function
    """Rotations and prunes of one keyring take turns (a lock file next to it)."""

    def __init__(self, path: Path) -> None:
        self._path = path.with_name(path.name + ".lock")
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
