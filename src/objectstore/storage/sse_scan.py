"""Which keyring keys the encrypted objects and uploads of a metadata database use."""

from __future__ import annotations

import json
import sqlite3

from objectstore.storage.db import Connection


def sse_key_ids(c: Connection) -> set[str]:
    """Ids of the keyring keys any stored data key is sealed with (SSE-S3 and SSE-KMS)."""
    used: set[str] = set()
    for table in ("objects", "uploads", "versions"):
        try:
            rows = c.execute(f"SELECT sse FROM {table} WHERE sse IS NOT NULL")  # noqa: S608
        except sqlite3.OperationalError:  # a table this database does not have (yet)
            continue
        for (value,) in rows:
            sealed = str(json.loads(value).get("k", ""))
            if sealed.startswith("v1:"):
                used.add(sealed.split(":")[1])
    return used
