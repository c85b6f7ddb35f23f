"""CopyObject and DeleteObjects."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from urllib.parse import unquote

from objectstore.s3 import acl as acls
from objectstore.s3 import checksums, sse, tagging, xml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import check_preconditions, iso8601
from objectstore.s3.names import check_key
from objectstore.server.handlers import encrypted
from objectstore.server.handlers.common import Ctx, bucket_or_404, object_or_404
from objectstore.server.handlers.encryption import read_key, write_key
from objectstore.server.handlers.objects import (
    check_storage_class,
    conditional_write,
    object_headers,
)
from objectstore.server.request import Response, xml_response
from objectstore.service import access
from objectstore.service.ingest import INLINE_LIMIT, Ingest, commit
from objectstore.service.objects import publish
from objectstore.storage.blocksums import BLOCK
from objectstore.storage.faults import BlobFault
from objectstore.storage.localfs import BlobStore
from objectstore.storage.model import ObjectRecord, Segment
from objectstore.storage.sse_read import open_inline

COPY_CHUNK = 1 << 20
MAX_COPY = 5 * 1024**3


def parse_copy_source(value: str) -> tuple[str, str]:
    path, _, _version = value.partition("?")
    path = unquote(path)
    if path.startswith("/"):
        path = path[1:]
    bucket, sep, key = path.partition("/")
    if not sep or not bucket or not key:
        raise S3Error("InvalidArgument", "Invalid copy source object key",
                      ArgumentName="x-amz-copy-source", ArgumentValue=value)
    return bucket, key


def copy_blob(blobs: BlobStore, src: ObjectRecord, ing: Ingest, start: int = 0,
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
    src_bucket_name, src_key = parse_copy_source(h["x-amz-copy-source"])
    dest = bucket_or_404(ctx)
    access.require_bucket(ctx.principal, dest, "WRITE")
    check_key(ctx.key)
    check_storage_class(h)
    src_bucket = ctx.stores.meta.get_bucket(src_bucket_name)
    if src_bucket is None:
        raise S3Error("NoSuchBucket", BucketName=src_bucket_name)
    src = object_or_404(ctx, src_bucket, src_key)
    access.require_object(ctx.principal, src, "READ")
    src_dk = read_key(ctx, src.sse, prefix=sse.COPY_PREFIX)
    check_preconditions(h, src.etag, src.last_modified, prefix="x-amz-copy-source-")
    dest_dk = write_key(ctx, dest)
    directive = h.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.",
                      ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    same = src_bucket_name == dest.name and src_key == ctx.key
    if same and directive == "COPY" and not any(
        n in h for n in ("x-amz-storage-class", "x-amz-website-redirect-location",
                         "x-amz-server-side-encryption", "x-amz-checksum-algorithm",
                         "x-amz-server-side-encryption-customer-algorithm")
    ):
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to "
                      "copy an object to itself without changing the object's metadata, "
                      "storage class, website redirect location or encryption attributes.")
    stored = object_headers(h) if directive == "REPLACE" else dict(src.headers)
    owner = ctx.principal.account_id if ctx.principal else dest.account_id
    acl = acls.from_headers(h, owner, dest.account_id, resolve_email=ctx.stores.meta.emails(),
                            known_ids=ctx.stores.meta.account_names)
    acl = acl or acls.canned("private", owner)
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
    condition = conditional_write(h, ctx.key,
                                  lambda: ctx.stores.meta.get_object(dest.name, ctx.key))
    # The bytes are always read (and decrypted if the source is encrypted) and written
    # again (encrypted under the destination's own data key if it is encrypted): a copy
    # whose encryption differs from its source's must never share the source's blobs.
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
    rec = ObjectRecord(
        bucket=dest.name, key=ctx.key, size=digests.size, etag=f'"{etag}"',
        last_modified=ctx.now(), owner=owner, acl=acl.to_json(), headers=stored,
        checksums=sums, checksum_type="FULL_OBJECT" if sums else None,
        segments=(Segment(ing.blob_id, digests.size),) if ing.blob_id else (),
        inline=ing.inline, tags=tags,
        sse=dest_dk.stored.to_json() if dest_dk is not None else None,
    )
    await publish(ctx.stores, rec, condition)
    body = xml.copy_result("CopyObjectResult", rec.etag, iso8601(rec.last_modified), sums)
    return xml_response(body, headers=dest_dk.stored.headers() if dest_dk is not None else [])


async def delete_objects(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    h = ctx.req.headers
    body = await ctx.req.read_small()
    if "content-md5" in h:
        if checksums.parse_content_md5(h["content-md5"]) != hashlib.md5(body).digest():
            raise S3Error("BadDigest")
    for alg, value in _sent_checksums(h).items():
        hasher = checksums.new_hasher(alg)
        hasher.update(body)
        if hasher.digest() != value:
            raise S3Error("BadDigest", f"The {alg} you specified did not match the calculated "
                          "checksum.")
    keys, quiet = xml.parse_delete(body)
    allowed = access.may(ctx.principal, bucket.account_id, bucket.acl, "WRITE")
    meta = ctx.stores.meta
    errors: list[tuple[str, str, str]] = []
    todo = []
    for key in keys:
        if not allowed:
            errors.append((key, "AccessDenied", "Access Denied"))
        else:
            todo.append(key)

    def txn(c: sqlite3.Connection) -> None:
        for key in todo:
            meta.delete_object_txn(bucket.name, key)(c)

    if todo:
        await ctx.stores.write(txn)
    deleted = [] if quiet else todo
    return xml_response(xml.delete_result(deleted, errors))


def _sent_checksums(h: dict[str, str]) -> dict[str, bytes]:
    return {alg: checksums.decode_checksum(alg, h[name])
            for alg, name in checksums.HEADER.items() if name in h}

