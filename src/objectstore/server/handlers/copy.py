"""CopyObject and DeleteObjects."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
from typing import Mapping, Protocol
from urllib.parse import unquote

from objectstore.s3 import checksums, lock, sse, tagging, versioning, xml
from objectstore.s3.errors import S3Error
from objectstore.s3.headers import check_redirect
from objectstore.s3.http import check_preconditions, iso8601
from objectstore.s3.names import check_key
from objectstore.s3.versioning import version_arg
from objectstore.server.handlers import encrypted, object_lock
from objectstore.server.handlers.common import (
    Ctx,
    allowed,
    also_log,
    authorize,
    authorize_source,
    bucket_or_404,
    check_owner,
    object_version_or_404,
    unrestricted,
)
from objectstore.server.handlers.encryption import read_key, write_key
from objectstore.server.handlers.lifecycle import expiration_headers
from objectstore.server.handlers.objects import (
    Check,
    check_storage_class,
    conditional_write,
    object_headers,
)
from objectstore.server.handlers.ownership import new_object_acl
from objectstore.server.request import Response, xml_response
from objectstore.service.ingest import INLINE_LIMIT, Ingest, commit
from objectstore.service.objects import publish
from objectstore.service.sse import DataKey
from objectstore.storage.blocksums import BLOCK
from objectstore.storage.db import Connection
from objectstore.storage.faults import BlobFault
from objectstore.storage.localfs import BlobStore
from objectstore.storage.meta import Conflict, Locked
from objectstore.storage.model import ObjectRecord, Segment
from objectstore.storage.sse_read import open_inline
from objectstore.storage.versions import Outcome

COPY_CHUNK = 1 << 20
MAX_COPY = 5 * 1024**3


def parse_copy_source(value: str) -> tuple[str, str]:
    bucket, key, _version = copy_source(value)
    return bucket, key


def copy_source(value: str) -> tuple[str, str, str | None | bool]:
    """Bucket, key and version (False: current; None: "null") of x-amz-copy-source."""
    path, _, query = value.partition("?")
    path = unquote(path)
    if path.startswith("/"):
        path = path[1:]
    bucket, sep, key = path.partition("/")
    if not sep or not bucket or not key:
        raise S3Error("InvalidArgument", "Invalid copy source object key",
                      ArgumentName="x-amz-copy-source", ArgumentValue=value)
    version: str | None | bool = False
    if query:
        name, eq, vid = query.partition("=")
        if name != "versionId" or not eq:
            raise S3Error("InvalidArgument", "Invalid copy source object key",
                          ArgumentName="x-amz-copy-source", ArgumentValue=value)
        version = version_arg(unquote(vid))
    return bucket, key, version


class Sink(Protocol):
    def feed(self, data: bytes) -> None: ...


def copy_blob(blobs: BlobStore, src: ObjectRecord, ing: Sink, start: int = 0,
              length: int | None = None, src_key: bytes | None = None) -> None:
    """Copy ``length`` bytes from ``start`` of ``src`` into ``ing`` (blocking, bounded memory).
    An encrypted source (``src_key``: its data key) is decrypted as it is read; ``ing``
    encrypts again if the destination is encrypted (its own data key)."""
    remaining = src.size - start if length is None else length
    if src_key is not None and src.inline is not None:
        plain = open_inline(src_key, src.inline, f"{src.bucket}/{src.key}")
        ing.feed(plain[start:start + remaining])
        return
    if src_key is not None:
        for piece in encrypted.read_blocking(blobs, src.segments, src_key, start, remaining,
                                             f"{src.bucket}/{src.key}"):
            ing.feed(bytes(piece))
        return
    if src.inline is not None:
        ing.feed(src.inline[start:start + remaining])
        return
    offset = 0
    for seg in src.segments:
        if remaining <= 0:
            break
        if seg.size == 0 or start >= offset + seg.size:
            offset += seg.size
            continue
        try:
            fd = blobs.open(seg.blob)
        except FileNotFoundError:
            fault = BlobFault("missing", seg.blob)
            fault.where = f"{src.bucket}/{src.key}"
            raise fault from None
        try:
            sums = blobs.sums(fd, seg.blob, seg.size)  # the copy is verified as it is read
            pos = max(0, start - offset)
            while remaining > 0 and pos < seg.size:
                data = sums.read(fd, pos, min(COPY_CHUNK - pos % BLOCK, remaining,
                                              seg.size - pos))
                ing.feed(data)
                pos += len(data)
                remaining -= len(data)
        except BlobFault as fault:
            fault.where = f"{src.bucket}/{src.key}"
            raise
        finally:
            os.close(fd)
        offset += seg.size


async def copy_object(ctx: Ctx) -> Response:
    h = ctx.req.headers
    src_bucket_name, src_key, src_version = copy_source(h["x-amz-copy-source"])
    dest = bucket_or_404(ctx)
    authorize(ctx, dest)
    check_key(ctx.key)
    check_storage_class(h)
    src_bucket = ctx.stores.meta.get_bucket(src_bucket_name)
    if src_bucket is None:
        raise S3Error("NoSuchBucket", BucketName=src_bucket_name)
    check_owner(src_bucket, h.get("x-amz-source-expected-bucket-owner"))
    src = object_version_or_404(ctx, src_bucket, src_key, src_version)
    authorize_source(ctx, src_bucket, src, src_version is not False)
    also_log(ctx, src_bucket, "REST.COPY.OBJECT_GET", src_key,
             None if isinstance(src_version, bool) else src_version or "null")
    src_dk = read_key(ctx, src.sse, prefix=sse.COPY_PREFIX)
    check_preconditions(h, src.etag, src.last_modified, prefix="x-amz-copy-source-")
    dest_dk = write_key(ctx, dest)
    directive = h.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.",
                      ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    same = src_bucket_name == dest.name and src_key == ctx.key and src_version is False
    if same and directive == "COPY" and not any(
        n in h for n in ("x-amz-storage-class", "x-amz-website-redirect-location",
                         "x-amz-server-side-encryption", "x-amz-checksum-algorithm",
                         "x-amz-server-side-encryption-customer-algorithm")
    ):
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to "
                      "copy an object to itself without changing the object's metadata, "
                      "storage class, website redirect location or encryption attributes.")
    stored = object_headers(h) if directive == "REPLACE" else _copied_headers(src.headers, h)
    owner, acl = new_object_acl(ctx, dest, h)
    directive_tags = h.get("x-amz-tagging-directive", "COPY").upper()
    if directive_tags not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown tagging directive.",
                      ArgumentName="x-amz-tagging-directive", ArgumentValue=directive_tags)
    tags = src.tags if directive_tags == "COPY" else (
        tagging.parse_header(h["x-amz-tagging"]) if "x-amz-tagging" in h else ())
    alg = (h.get("x-amz-checksum-algorithm") or "").upper()
    algorithms = {alg} if alg else set(src.checksums)
    if alg and alg not in checksums.ALGORITHMS:
        raise S3Error("InvalidRequest", "Checksum algorithm provided is unsupported.")
    mode, until, hold = (object_lock.new_version_lock(ctx, dest, with_body=False)
                         if dest.object_lock is not None or lock.has_headers(h)
                         else object_lock.NO_LOCK)
    condition = conditional_write(h, ctx.key,
                                  lambda: ctx.stores.meta.get_object(dest.name, ctx.key))
    if src.size > MAX_COPY:
        raise S3Error("InvalidRequest", "The specified copy source is larger than the maximum "
                      f"allowable size for a copy source: {MAX_COPY}")
    base = ObjectRecord(
        bucket=dest.name, key=ctx.key, size=0, etag="", last_modified=ctx.now(),
        owner=owner, acl=acl.to_json(), headers=stored, tags=tags, lock_mode=mode,
        lock_until=until, legal_hold=hold)
    if dest_dk is None and shares_data(src):  # plain to plain: the copy shares the blobs
        stored_rec, sums = await _share_blobs(ctx, src, algorithms, base, condition)
    else:
        # Encrypted source or destination: the bytes are read (decrypted with the source's
        # key) and written again (encrypted under the destination's own new data key): a
        # copy whose encryption differs from its source's never shares the source's blobs.
        stored_rec, sums = await _copy_bytes(ctx, src, algorithms, base, condition, src_dk,
                                             dest_dk)
    body = xml.copy_result("CopyObjectResult", stored_rec.etag,
                           iso8601(stored_rec.last_modified), sums)
    headers: list[tuple[str, str]] = dest_dk.stored.headers() if dest_dk is not None else []
    if src_bucket.versioning or src.seq:
        headers.append(("x-amz-copy-source-version-id", src.version_id or "null"))
    if stored_rec.version_id is not None:
        headers.append(("x-amz-version-id", stored_rec.version_id))
    headers += expiration_headers(dest, stored_rec)
    return xml_response(body, headers=headers)


# ---------------------------------------------------------------- blob sharing

def shares_data(src: ObjectRecord) -> bool:
    """A copy can refer to the source's blobs (every segment, multipart or not): the data
    is in blob files (not inline) and stored as plain bytes (no encryption), so the copy's
    bytes are exactly the source's."""
    return src.inline is None and src.sse is None and any(s.blob for s in src.segments)


class _Digest:
    """A sink for copy_blob that only hashes (the bytes stay where they are)."""

    def __init__(self, algorithms: set[str]) -> None:
        self.md5 = hashlib.md5()
        self.checks = {alg: checksums.new_hasher(alg) for alg in algorithms}

    def feed(self, data: bytes) -> None:
        self.md5.update(data)
        for h in self.checks.values():
            h.update(data)


async def _share_blobs(ctx: Ctx, src: ObjectRecord, algorithms: set[str],
                       base: ObjectRecord, condition: Check | None
                       ) -> tuple[ObjectRecord, dict[str, str]]:
    """CopyObject without copying bytes: the new version refers to the source's blobs
    (each gets one more reference, in the transaction that checks the source still holds
    them). As in S3, a copy is a single-part object: its ETag is the MD5 of the data and
    its checksums are full-object ones. A single-blob source already has both (when every
    requested checksum is known); otherwise the source is read once (verified against its
    block checksums) to compute them, and nothing is written."""
    known = src.part_count == 0 and algorithms <= set(src.checksums) and (
        src.checksum_type in (None, "FULL_OBJECT"))
    if known:
        etag = src.etag
        sums = {a: v for a, v in src.checksums.items() if a in algorithms}
    else:
        digest = _Digest(algorithms)
        await asyncio.to_thread(copy_blob, ctx.stores.blobs, src, digest)
        etag = f'"{digest.md5.hexdigest()}"'
        sums = {a: checksums.b64(h.digest()) for a, h in digest.checks.items()}
    rec = dataclasses.replace(
        base, size=src.size, etag=etag, checksums=sums,
        checksum_type="FULL_OBJECT" if sums else None, part_count=0,
        segments=tuple(Segment(s.blob, s.size) for s in src.segments))
    try:
        return await publish(ctx.stores, rec, condition, shared=src), sums
    except Conflict:  # the source version went away meanwhile
        raise S3Error("NoSuchKey", Key=src.key) from None


async def _copy_bytes(ctx: Ctx, src: ObjectRecord, algorithms: set[str],
                      base: ObjectRecord, condition: Check | None,
                      src_dk: DataKey | None = None, dest_dk: DataKey | None = None
                      ) -> tuple[ObjectRecord, dict[str, str]]:
    ing = Ingest(ctx.stores.blobs, algorithms, False, MAX_COPY,
                 inline_limit=INLINE_LIMIT if src.size <= INLINE_LIMIT else 0,
                 data_key=dest_dk.key if dest_dk is not None else None)
    try:
        await asyncio.to_thread(copy_blob, ctx.stores.blobs, src, ing, 0, None,
                                src_dk.key if src_dk is not None else None)
        digests = ing.digests()
        await commit(ing)
    except BaseException:
        ing.abort()
        raise
    sums = {a: checksums.b64(v) for a, v in digests.checksums.items()}
    etag = digests.md5.hex() if dest_dk is None else dest_dk.etag(digests.md5)
    rec = dataclasses.replace(
        base, size=digests.size, etag=f'"{etag}"',
        checksums=sums, checksum_type="FULL_OBJECT" if sums else None,
        segments=(Segment(ing.blob_id, digests.size),) if ing.blob_id else (),
        inline=ing.inline, sse=dest_dk.stored.to_json() if dest_dk is not None else None,
    )
    return await publish(ctx.stores, rec, condition), sums


async def delete_objects(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    h = ctx.req.headers
    if "x-amz-sdk-checksum-algorithm" not in h:  # S3 wants Content-MD5 or a checksum
        lock.require_integrity(h)                 # on every DeleteObjects (any bucket)
    body = await ctx.req.read_small()
    checksums.check_small_body(h, body)
    entries, quiet = versioning.parse_delete(body)
    everything = unrestricted(ctx.principal, bucket, bucket.account_id)
    meta = ctx.stores.meta
    owner = ctx.principal.account_id if ctx.principal else bucket.account_id
    errors: list[tuple[str, str | None, str, str]] = []
    todo = []
    for entry in entries:
        action = "s3:DeleteObject" if entry.version is False else "s3:DeleteObjectVersion"
        if not everything and not allowed(ctx, bucket, action, key=entry.key):
            errors.append((entry.key, entry.sent_version, "AccessDenied", "Access Denied"))
        else:
            todo.append(entry)

    bypass = object_lock.may_bypass(ctx, bucket)

    def txn(c: Connection) -> list[Outcome | None]:
        out: list[Outcome | None] = []
        for entry in todo:
            if entry.version is False:
                out.append(meta.remove_txn(bucket.name, entry.key, owner=owner)(c))
                continue
            assert not isinstance(entry.version, bool)
            try:
                out.append(meta.remove_txn(bucket.name, entry.key, entry.version,
                                           bypass_governance=bypass)(c))
            except Locked as exc:  # refused before anything changed: the others go on
                errors.append((entry.key, entry.sent_version, "AccessDenied", str(exc)))
                out.append(None)
        return out

    outcomes = await ctx.stores.write(txn) if todo else []
    deleted = [] if quiet else [_deleted(e, o) for e, o in zip(todo, outcomes, strict=True)
                                if o is not None]
    if bucket.logging is not None:
        for e, o in zip(todo, outcomes, strict=True):
            if o is not None:
                also_log(ctx, bucket, "BATCH.DELETE.OBJECT", e.key, e.sent_version)
    return xml_response(versioning.delete_result(deleted, errors))


def _deleted(entry: versioning.DeleteEntry, done: Outcome) -> versioning.Deleted:
    if entry.version is False:
        if done.marker:
            return versioning.Deleted(entry.key, None, True, done.version_id)
        return versioning.Deleted(entry.key)
    return versioning.Deleted(entry.key, entry.sent_version, done.marker,
                              entry.sent_version if done.marker else None)


REDIRECT = "x-amz-website-redirect-location"


def _copied_headers(source: Mapping[str, str], request: Mapping[str, str]) -> dict[str, str]:
    """The stored headers of a copy with the COPY metadata directive: the source's, but for
    its website redirect location, which S3 does not copy; the request's own (checked)
    applies instead."""
    out = {k: v for k, v in source.items() if k != REDIRECT}
    if REDIRECT in request:
        check_redirect(request[REDIRECT])
        out[REDIRECT] = request[REDIRECT]
    return out
