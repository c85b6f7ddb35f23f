"""Helpers of the metadata-store contract tests (a module of its own: test directories
each have a conftest, so tests never import from one)."""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable

from objectstore.service.stores import Stores
from objectstore.storage.model import Bucket, ObjectRecord, Upload

Opener = Callable[[], Stores]


def bucket(stores: Stores, name: str = "b", versioning: str = "") -> str:
    stores.meta.run(stores.meta.create_bucket_txn(
        Bucket(name, "acct", time.time(), "us-east-1", "{}")))
    if versioning:
        stores.meta.run(stores.meta.set_versioning_txn(name, versioning))
    return name


def record(bucket: str, key: str, body: bytes = b"x", **kw: Any) -> ObjectRecord:
    return ObjectRecord(bucket, key, len(body), f'"{secrets.token_hex(16)}"', time.time(),
                        "acct", "{}", {"content-type": "text/plain"}, inline=body, **kw)


def put(stores: Stores, rec: ObjectRecord,
        check: Callable[[ObjectRecord | None], None] | None = None) -> ObjectRecord:
    return stores.meta.run(stores.meta.put_object_txn(rec, check))


def keys(stores: Stores, b: str, prefix: str = "", after: bytes = b"",
         batch: int = 1000) -> list[str]:
    return [r.key for r in stores.meta.scan_objects(b, prefix, after, batch)]


def upload(stores: Stores, b: str = "b", key: str = "k") -> str:
    uid = secrets.token_hex(8)
    stores.meta.run(stores.uploads.create_txn(
        Upload(uid, b, key, "acct", "user", "{}", {}, None, None, time.time())))
    return uid


def request(stores: Stores) -> None:
    """What the server does as each request starts (PostgreSQL: validate the caches)."""
    start = getattr(stores.meta, "new_request", None)
    if start is not None:
        start()
