"""Registered machine images in the SQLite metadata store."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Callable

from objectstore.storage.db import ADD_GARBAGE, INTEGRITY_ERRORS, Connection, Txn, upsert
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import Image
from objectstore.storage.sqlite import SqliteMeta

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
  image_id TEXT PRIMARY KEY, owner TEXT NOT NULL, location TEXT NOT NULL, state TEXT NOT NULL,
  reason TEXT NOT NULL, image_type TEXT NOT NULL, architecture TEXT NOT NULL, kernel_id TEXT,
  ramdisk_id TEXT, is_public INTEGER NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
  block_devices TEXT NOT NULL, size INTEGER NOT NULL, blob TEXT NOT NULL,
  registered_by TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS images_by_owner ON images(owner);
"""
# columns added later (ALTER TABLE on open)
ADDED = (("token", "TEXT NOT NULL DEFAULT ''"), ("declared_size", "INTEGER NOT NULL DEFAULT 0"),
         ("claim_holder", "TEXT NOT NULL DEFAULT ''"),
         ("claim_epoch", "INTEGER NOT NULL DEFAULT 0"),
         ("claim_expires", "REAL NOT NULL DEFAULT 0"))
# A pending registration's claim (claim_holder, claim_epoch, claim_expires): the process
# working on it, renewed while it works; the epoch, raised by each claim, fences a worker
# that lost its claim (service/registry.py). Not part of ``Image``.
COLUMNS = ("image_id, owner, location, state, reason, image_type, architecture, kernel_id, "
           "ramdisk_id, is_public, name, description, block_devices, size, blob, registered_by, "
           "created, token, declared_size")
N_COLUMNS = 19


_REPLACE = upsert("images", COLUMNS, "image_id")


class QuotaExceeded(Exception):
    """An account's pending registrations or image bytes would exceed its quota."""


def _image(row: tuple[Any, ...]) -> Image:
    return Image(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                 bool(row[9]), row[10], row[11],
                 tuple((v, d) for v, d in json.loads(row[12])), row[13], row[14], row[15],
                 row[16], row[17], row[18])


def _values(im: Image) -> tuple[Any, ...]:
    return (im.image_id, im.owner, im.location, im.state, im.reason, im.image_type,
            im.architecture, im.kernel_id, im.ramdisk_id, int(im.is_public), im.name,
            im.description, json.dumps([list(b) for b in im.block_devices]), im.size, im.blob,
            im.registered_by, im.created, im.token, im.declared_size)


class Images:
    def __init__(self, meta: SqliteMeta) -> None:
        self.meta = meta
        meta.ensure_schema(SCHEMA, "images", ADDED)

    def get(self, image_id: str) -> Image | None:
        row = self.meta.reader().execute(
            f"SELECT {COLUMNS} FROM images WHERE image_id=?", (image_id,)).fetchone()
        return _image(row) if row else None

    def all(self) -> list[Image]:
        return [_image(r) for r in self.meta.reader().execute(
            f"SELECT {COLUMNS} FROM images ORDER BY created, image_id")]

    def pending(self) -> list[Image]:
        return [_image(r) for r in self.meta.reader().execute(
            f"SELECT {COLUMNS} FROM images WHERE state='pending' ORDER BY created")]

    def add_txn(self, im: Image, *, max_pending: int | None = None,
                max_bytes: int | None = None,
                claim: tuple[str, float] | None = None) -> Txn[None]:
        """Insert ``im``; with limits, a pending image must fit the owner's quotas (counted
        in the same transaction, so concurrent registrations cannot overshoot them). With
        ``claim`` (holder, expires), the registration is claimed by ``holder`` (epoch 1)."""
        def txn(c: Connection) -> None:
            if im.state == "pending" and (max_pending is not None or max_bytes is not None):
                pending, used = c.execute(
                    "SELECT COALESCE(SUM(CASE WHEN state='pending' THEN 1 ELSE 0 END),0), "
                    "COALESCE(SUM(CASE WHEN size > declared_size THEN size "
                    "ELSE declared_size END),0) FROM images "
                    "WHERE owner=? AND state IN ('pending','available')",
                    (im.owner,)).fetchone()
                if max_pending is not None and pending >= max_pending:
                    raise QuotaExceeded(f"the account already has {pending} image "
                                        f"registrations pending (at most {max_pending})")
                if max_bytes is not None and used + im.declared_size > max_bytes:
                    raise QuotaExceeded(f"the account's images would hold "
                                        f"{used + im.declared_size} bytes, more than its "
                                        f"quota of {max_bytes}")
            try:
                c.execute(f"INSERT INTO images ({COLUMNS}) VALUES ({','.join('?' * N_COLUMNS)})",
                          _values(im))
            except INTEGRITY_ERRORS:
                raise Conflict("image id in use") from None
            if claim is not None:
                c.execute("UPDATE images SET claim_holder=?, claim_epoch=1, claim_expires=? "
                          "WHERE image_id=?", (claim[0], claim[1], im.image_id))
        return txn

    def update_txn(self, image_id: str, *, token: str | None = None,
                   claim: tuple[str, int] | None = None, **changes: Any) -> Txn[Image]:
        """Change fields of an image; a new blob replaces (and discards) the old one.

        With ``token``, only the pending registration of that token is changed (its worker
        finishing): an image deregistered meanwhile, or registered again under the same id,
        raises NotFound. With ``claim`` (holder, epoch) too, only while that claim stands:
        a worker whose claim was taken over raises NotFound (it is fenced off)."""
        def txn(c: Connection) -> Image:
            row = c.execute(f"SELECT {COLUMNS}, claim_holder, claim_epoch FROM images "
                            "WHERE image_id=?", (image_id,)).fetchone()
            if row is None:
                raise NotFound("image")
            old = _image(row[:N_COLUMNS])
            if token is not None and (old.token != token or old.state != "pending"):
                raise NotFound("registration")
            if claim is not None and (row[N_COLUMNS], row[N_COLUMNS + 1]) != claim:
                raise NotFound("claim")
            new = replace(old, **changes)
            if old.blob and old.blob != new.blob:
                c.execute(ADD_GARBAGE, (old.blob, time.time()))
            c.execute(_REPLACE, _values(new))
            return new
        return txn

    def delete_txn(self, image_id: str) -> Txn[Image]:
        def txn(c: Connection) -> Image:
            row = c.execute(f"SELECT {COLUMNS} FROM images WHERE image_id=?",
                            (image_id,)).fetchone()
            if row is None:
                raise NotFound("image")
            old = _image(row)
            c.execute("DELETE FROM images WHERE image_id=?", (image_id,))
            if old.blob:
                c.execute(ADD_GARBAGE, (old.blob, time.time()))
            return old
        return txn

    def claim_of(self, image_id: str) -> tuple[str, str, str, int, float] | None:
        """(state, token, claim holder, claim epoch, claim expires) of an image."""
        row = self.meta.reader().execute(
            "SELECT state, token, claim_holder, claim_epoch, claim_expires FROM images "
            "WHERE image_id=?", (image_id,)).fetchone()
        return (row[0], row[1], row[2], int(row[3]), float(row[4])) if row else None

    def claimable(self, now: float,
                  dead: Callable[[str], bool]) -> list[tuple[Image, str, int]]:
        """Pending registrations (with their claim's holder and epoch) whose claim expired
        (or was never made), or whose holder ``dead`` says is gone."""
        return [(_image(r[:N_COLUMNS]), r[N_COLUMNS], int(r[N_COLUMNS + 1]))
                for r in self.meta.reader().execute(
                    f"SELECT {COLUMNS}, claim_holder, claim_epoch, claim_expires FROM images "
                    "WHERE state='pending' ORDER BY created")
                if r[N_COLUMNS + 2] <= now or dead(r[N_COLUMNS])]

    def claim_txn(self, image_id: str, token: str, holder: str, expires: float,
                  seen: tuple[str, int]) -> Txn[int | None]:
        """Claim the pending registration ``token`` for ``holder``: only if its claim is
        still ``seen`` (holder, epoch), the one found expired or dead. The new epoch, or
        None when another process claimed it first (or it is no longer pending)."""
        def txn(c: Connection) -> int | None:
            row = c.execute("SELECT state, token, claim_holder, claim_epoch FROM images "
                            "WHERE image_id=?", (image_id,)).fetchone()
            if row is None or row[0] != "pending" or row[1] != token \
                    or (row[2], row[3]) != seen:
                return None
            epoch = int(row[3]) + 1
            c.execute("UPDATE images SET claim_holder=?, claim_epoch=?, claim_expires=? "
                      "WHERE image_id=?", (holder, epoch, expires, image_id))
            return epoch
        return txn

    def renew_claims_txn(self, holder: str, claims: list[tuple[str, int]],
                         expires: float) -> Txn[None]:
        """Extend the claims (image id, epoch) that ``holder`` still has."""
        def txn(c: Connection) -> None:
            c.executemany("UPDATE images SET claim_expires=? WHERE image_id=? AND "
                          "claim_holder=? AND claim_epoch=? AND state='pending'",
                          [(expires, i, holder, e) for i, e in claims])
        return txn

    def referenced_blobs(self) -> set[str]:
        return {r[0] for r in self.meta.reader().execute(
            "SELECT blob FROM images WHERE blob != ''")}
