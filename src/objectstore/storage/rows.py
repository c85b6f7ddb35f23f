"""Rows of the objects and buckets tables <-> frozen records (shared by every module that
reads or writes those tables: sqlite.py, versions.py, locks.py, scrub.py)."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from objectstore.storage.model import Bucket, ObjectRecord, Segment

OBJECT_COLUMNS = ("bucket, key, size, etag, mtime, owner, acl, headers, checksums, "
                  "checksum_type, segments, part_count, tags, version_id, seq, lock_mode, "
                  "lock_until, legal_hold, sse")
WITH_DATA = OBJECT_COLUMNS + ", data"  # listings never read inline data
OBJECT_MARKS = ",".join("?" * len(WITH_DATA.split(",")))


def segments_json(segments: tuple[Segment, ...]) -> str:
    return json.dumps([[s.blob, s.size] if s.checksum is None else [s.blob, s.size, s.checksum]
                       for s in segments])


def segments_from_json(text: str) -> tuple[Segment, ...]:
    if text == "[]":
        return ()
    return tuple(Segment(*item) for item in json.loads(text))


def _json(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)


# Object headers stored before values were checked on arrival may hold what cannot go on
# the wire (a CR/LF from a form field, say): such entries are left out when the row is read
# (rows are cached, so this is not per request). JSON escapes control characters, so one
# search of the text tells whether any entry needs a look.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00[01][0-9a-fA-F]|u007[fF]|[nrbf])")
_UNSENDABLE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def _stored_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = _json(text)
    if _ESCAPED_CONTROL.search(text) or not text.isascii():
        headers = {k: v for k, v in headers.items()
                   if _HEADER_NAME.match(k) and not _UNSENDABLE_VALUE.search(v)}
    return headers


def row_to_object(row: sqlite3.Row | tuple[Any, ...]) -> ObjectRecord:
    return ObjectRecord(
        bucket=row[0], key=row[1], size=row[2], etag=row[3], last_modified=row[4],
        owner=row[5], acl=row[6], headers=_stored_headers(row[7]), checksums=_json(row[8]),
        checksum_type=row[9], segments=segments_from_json(row[10]),
        part_count=row[11], tags=tags_from_json(row[12]), version_id=row[13], seq=row[14],
        lock_mode=row[15], lock_until=row[16], legal_hold=bool(row[17]), sse=row[18],
        inline=bytes(row[19]) if len(row) > 19 and row[19] is not None else None,
    )


def object_values(rec: ObjectRecord) -> tuple[Any, ...]:
    """The row of ``rec``, in WITH_DATA's order."""
    return (rec.bucket, rec.key, rec.size, rec.etag, rec.last_modified, rec.owner, rec.acl,
            json.dumps(dict(rec.headers)), json.dumps(dict(rec.checksums)),
            rec.checksum_type, segments_json(rec.segments), rec.part_count,
            tags_json(rec.tags), rec.version_id, rec.seq, rec.lock_mode, rec.lock_until,
            int(rec.legal_hold), rec.sse, rec.inline)


def tags_from_json(text: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in json.loads(text)) if text else ()


def tags_json(tags: tuple[tuple[str, str], ...]) -> str | None:
    return json.dumps([list(t) for t in tags]) if tags else None


BUCKET_COLUMNS = ("name, account_id, created, region, acl, tags, cors, versioning, object_lock, "
                  "lifecycle, encryption, ownership, public_block, policy, website, logging")


def row_to_bucket(row: tuple[Any, ...]) -> Bucket:
    return Bucket(row[0], row[1], row[2], row[3], row[4], tags_from_json(row[5]), row[6], row[7],
                  row[8], row[9], row[10], row[11], row[12], row[13], row[14], row[15])


class Current:
    """The current version (no versionId given), as opposed to None, the "null" version."""


CURRENT = Current()
