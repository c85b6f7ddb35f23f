"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
ListMultipartUploads. Completing copies no data: the object is the ordered part blobs."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from typing import Iterator
from urllib.parse import quote

from awscrt import checksums as crt

from objectstore.s3 import acl as acls
from objectstore.s3 import checksums, lock, sse, tagging, xml
from objectstore.s3 import xml_multipart as mxml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import check_preconditions, iso8601
from objectstore.s3.listing import list_page, parse_max_keys
from objectstore.s3.names import check_key
from objectstore.s3.numbers import digits, signed
from objectstore.server.body import payload, store
from objectstore.server.handlers import object_lock
from objectstore.server.handlers.common import (
    Ctx,
    account_names,
    also_log,
    authorize,
    authorize_source,
    bucket_or_404,
    check_owner,
    empty,
    object_version_or_404,
)
from objectstore.server.handlers.copy import copy_blob, copy_source
from objectstore.server.handlers.encryption import read_key, write_key
from objectstore.server.handlers.lifecycle import expiration_headers
from objectstore.server.handlers.objects import (
    check_storage_class,
    conditional_write,
    object_headers,
    requested_checksums,
)
from objectstore.server.handlers.ownership import new_object_acl
from objectstore.server.request import Response, xml_response
from objectstore.service.ingest import Ingest, commit
from objectstore.service.objects import publish_txn
from objectstore.service.sse import DataKey
from objectstore.storage.meta import Conflict, NotFound, may_have_committed
from objectstore.storage.model import ObjectRecord, Part, Segment, Upload

TAGS_HEADER = "x-amz-tagging"  # kept with the upload's headers until completion
MAX_PART = 5 * 1024**3
MIN_PART = 5 * 1024**2
MAX_PARTS = 10000
_COPY_RANGE = re.compile(r"^bytes=([0-9]{1,19})-([0-9]{1,19})$", re.ASCII)


def _upload_or_404(ctx: Ctx) -> Upload:
    upload_id = ctx.ep.arg("uploadId") or ""
    up = ctx.stores.uploads.get(upload_id)
    if up is None or up.bucket != ctx.bucket_name or up.key != ctx.key:
        raise S3Error("NoSuchUpload", UploadId=upload_id)
    return up


def _part_number(ctx: Ctx) -> int:
    raw = ctx.ep.arg("partNumber") or ""
    n = digits(raw, 10) or 0
    if not 1 <= n <= MAX_PARTS:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, "
                      "inclusive", ArgumentName="partNumber", ArgumentValue=raw)
    return n


async def create_multipart_upload(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    check_key(ctx.key)
    h = ctx.req.headers
    check_storage_class(h)
    dk = write_key(ctx, bucket)
    _, acl = new_object_acl(ctx, bucket, h)  # the ACL names the object's owner-to-be
    owner = ctx.principal.account_id if ctx.principal else bucket.account_id  # initiator
    alg = (h.get("x-amz-checksum-algorithm") or "").upper() or None
    if alg is not None and alg not in checksums.ALGORITHMS:
        raise S3Error("InvalidRequest", "Checksum algorithm provided is unsupported.")
    ctype = (h.get("x-amz-checksum-type") or "").upper() or None
    if ctype is not None and ctype not in ("COMPOSITE", "FULL_OBJECT"):
        raise S3Error("InvalidRequest", "The x-amz-checksum-type header value is invalid.")
    if alg is not None and ctype is None:
        ctype = "FULL_OBJECT" if alg == "CRC64NVME" else "COMPOSITE"
    if ctype is not None and alg is None:
        raise S3Error("InvalidRequest", "The x-amz-checksum-type header can only be used with "
                      "the x-amz-checksum-algorithm header.")
    if ctype == "FULL_OBJECT" and alg in ("SHA1", "SHA256"):
        raise S3Error("InvalidRequest", f"The {alg} checksum algorithm does not support the "
                      "FULL_OBJECT checksum type.")
    if ctype == "COMPOSITE" and alg == "CRC64NVME":
        raise S3Error("InvalidRequest", "The CRC64NVME checksum algorithm does not support the "
                      "COMPOSITE checksum type.")
    stored = object_headers(h)
    if "x-amz-tagging" in h:
        tagging.parse_header(h["x-amz-tagging"])  # validated now, applied on completion
        stored[TAGS_HEADER] = h["x-amz-tagging"]
    asked = object_lock.asked_lock(ctx, bucket)
    up = Upload(secrets.token_hex(24), bucket.name, ctx.key, owner,
                ctx.principal.user if ctx.principal else "anonymous", acl.to_json(),
                stored, alg, ctype, ctx.now(), lock=asked.to_json(),
                sse=dk.stored.to_json() if dk is not None else None)
    try:
        await ctx.stores.write(ctx.stores.uploads.create_txn(up))
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket.name) from None
    headers = dk.stored.headers() if dk is not None else []
    if alg:
        headers += [("x-amz-checksum-algorithm", alg), ("x-amz-checksum-type", ctype or "")]
    return xml_response(mxml.initiate(bucket.name, ctx.key, up.upload_id), headers=headers)


def _part_target(ctx: Ctx, *, with_body: bool = False) -> tuple[int, Upload, DataKey | None]:
    """The part number and upload a part write addresses, after the access checks, and the
    upload's data key (SSE-C uploads need the customer key with every part)."""
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    number = _part_number(ctx)
    up = _upload_or_404(ctx)
    if with_body and bucket.object_lock is not None and \
            lock.applies(bucket.object_lock, lock.LockRequest.from_json(up.lock)):
        lock.require_integrity_for_lock(ctx.req.headers)
    return number, up, read_key(ctx, up.sse)


def _etag(dk: DataKey | None, md5: bytes) -> str:
    return f'"{md5.hex() if dk is None else dk.etag(md5)}"'


async def upload_part(ctx: Ctx) -> Response:
    number, up, dk = _part_target(ctx, with_body=True)
    h = ctx.req.headers
    md5 = checksums.parse_content_md5(h["content-md5"]) if "content-md5" in h else None
    wanted = requested_checksums(h)
    body = payload(ctx, MAX_PART)
    algorithms = set(wanted) | body.trailer_algorithms
    if up.checksum_algorithm:
        mismatch = algorithms - {up.checksum_algorithm}
        if mismatch:
            raise S3Error("InvalidRequest", "Checksum Type mismatch occurred, expected checksum "
                          f"Type: {up.checksum_algorithm.lower()}, actual checksum Type: "
                          f"{sorted(mismatch)[0].lower()}")
        algorithms.add(up.checksum_algorithm)
    ing = Ingest(ctx.stores.blobs, algorithms, ctx.auth.payload_sha256 is not None, MAX_PART,
                 data_key=dk.key if dk is not None else None)
    digests = await store(body, ing, md5, wanted)
    part_alg = up.checksum_algorithm or next(iter(wanted), None)
    checksum = checksums.b64(digests.checksums[part_alg]) if part_alg else None
    part = Part(up.upload_id, number, ing.blob_id, digests.size,
                _etag(dk, digests.md5), checksum, ctx.now())
    await _save_part(ctx, part)
    headers = [("ETag", part.etag)]
    if dk is not None:
        headers += dk.stored.headers()
    if part_alg and checksum:
        headers.append((checksums.HEADER[part_alg], checksum))
    return empty(200, headers)


async def _save_part(ctx: Ctx, part: Part) -> None:
    try:
        await ctx.stores.write(ctx.stores.uploads.put_part_txn(part))
    except BaseException as exc:
        if part.blob and not may_have_committed(exc):
            ctx.stores.blobs.delete(part.blob)
        if isinstance(exc, NotFound):
            raise S3Error("NoSuchUpload", UploadId=part.upload_id) from None
        raise


async def upload_part_copy(ctx: Ctx) -> Response:
    number, up, dk = _part_target(ctx)
    h = ctx.req.headers
    src_bucket_name, src_key, src_version = copy_source(h["x-amz-copy-source"])
    src_bucket = ctx.stores.meta.get_bucket(src_bucket_name)
    if src_bucket is None:
        raise S3Error("NoSuchBucket", BucketName=src_bucket_name)
    check_owner(src_bucket, h.get("x-amz-source-expected-bucket-owner"))
    # absent and unreadable keys answer alike (AccessDenied) unless the caller may list
    src = object_version_or_404(ctx, src_bucket, src_key, src_version)
    authorize_source(ctx, src_bucket, src, src_version is not False)
    also_log(ctx, src_bucket, "REST.COPY.PART_GET", src_key,
             None if isinstance(src_version, bool) else src_version or "null")
    src_dk = read_key(ctx, src.sse, prefix=sse.COPY_PREFIX)
    check_preconditions(h, src.etag, src.last_modified, prefix="x-amz-copy-source-")
    start, length = 0, src.size
    rng = h.get("x-amz-copy-source-range")
    if rng is not None:
        m = _COPY_RANGE.match(rng.strip())
        if not m or int(m.group(2)) < int(m.group(1)):
            raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the "
                          "form bytes=first-last where first and last are the zero-based offsets "
                          "of the first and last bytes to copy",
                          ArgumentName="x-amz-copy-source-range", ArgumentValue=rng)
        start, last = int(m.group(1)), int(m.group(2))
        if last >= src.size:
            raise S3Error("InvalidRange", headers={"Content-Range": f"bytes */{src.size}"})
        length = last - start + 1
    algorithms = {up.checksum_algorithm} if up.checksum_algorithm else set()
    # decrypted from the source's key (if any), encrypted under the upload's (if any)
    ing = Ingest(ctx.stores.blobs, algorithms, False, MAX_PART,
                 data_key=dk.key if dk is not None else None)
    try:
        await asyncio.to_thread(copy_blob, ctx.stores.blobs, src, ing, start, length,
                                src_dk.key if src_dk is not None else None)
        digests = ing.digests()
        await commit(ing)
    except BaseException:
        ing.abort()
        raise
    alg = up.checksum_algorithm
    checksum = checksums.b64(digests.checksums[alg]) if alg else None
    part = Part(up.upload_id, number, ing.blob_id, digests.size,
                _etag(dk, digests.md5), checksum, ctx.now())
    await _save_part(ctx, part)
    sums = {alg: checksum} if alg and checksum else {}
    headers = [("x-amz-copy-source-version-id", src.version_id or "null")] \
        if src_bucket.versioning or src.seq else []
    if dk is not None:
        headers += dk.stored.headers()
    return xml_response(xml.copy_result("CopyPartResult", part.etag,
                                        iso8601(part.last_modified), sums), headers=headers)


def _combine(alg: str, parts: list[Part]) -> str:
    """FULL_OBJECT CRC of the whole object, combined from the part CRCs (no data reread)."""
    combine = {"CRC32": crt.combine_crc32, "CRC32C": crt.combine_crc32c,
               "CRC64NVME": crt.combine_crc64nvme}[alg]
    width = checksums.digest_length(alg)
    value = 0
    for i, p in enumerate(parts):
        crc = int.from_bytes(base64.b64decode(p.checksum or ""), "big")
        value = crc if i == 0 else combine(value, crc, p.size)
    return checksums.b64(value.to_bytes(width, "big"))


def _composite(alg: str, parts: list[Part]) -> str:
    h = checksums.new_hasher(alg)
    for p in parts:
        h.update(base64.b64decode(p.checksum or ""))
    return f"{checksums.b64(h.digest())}-{len(parts)}"


async def complete_multipart_upload(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    again = _completed_again(ctx)
    if again is not None:
        return again
    up = _upload_or_404(ctx)
    # an SSE-C upload needs its customer key here too, as for its parts
    dk = read_key(ctx, up.sse) if sse.mode_of(up.sse) == sse.SSE_C else None
    h = ctx.req.headers
    ctype = (h.get("x-amz-checksum-type") or "").upper()
    if ctype and up.checksum_algorithm and ctype != up.checksum_type:
        raise S3Error("BadDigest", f"The checksum type {ctype} does not match the type "
                      f"{up.checksum_type} given when the upload was created.")
    condition = conditional_write(h, up.key,
                                  lambda: ctx.stores.meta.get_object(bucket.name, up.key))
    requested = mxml.parse_complete(await ctx.req.read_small())
    stored = {p.number: p for p in ctx.stores.uploads.parts(up.upload_id)}
    if any(rp.number not in stored for rp in requested) and \
            ctx.stores.uploads.get(up.upload_id) is None:
        # completed (or aborted) by a racing request since ``up`` was read: its parts went
        # with it, which is not the client's InvalidPart
        again = _completed_again(ctx)
        if again is None:
            raise S3Error("NoSuchUpload", UploadId=up.upload_id)
        return again
    chosen: list[Part] = []
    last = 0
    for i, rp in enumerate(requested):
        if rp.number <= last:
            raise S3Error("InvalidPartOrder", UploadId=up.upload_id)
        last = rp.number
        part = stored.get(rp.number)
        if part is None or part.etag.strip('"') != rp.etag.strip('"'):
            raise S3Error("InvalidPart", UploadId=up.upload_id, PartNumber=str(rp.number),
                          ETag=rp.etag)
        alg = up.checksum_algorithm
        if alg and rp.checksums.get(alg) not in (None, part.checksum):
            raise S3Error("InvalidPart", f"The {alg} you specified for part {rp.number} did not "
                          "match what we received.", UploadId=up.upload_id,
                          PartNumber=str(rp.number))
        if i < len(requested) - 1 and part.size < MIN_PART:
            raise S3Error("EntityTooSmall", ProposedSize=str(part.size),
                          MinSizeAllowed=str(MIN_PART), PartNumber=str(rp.number),
                          ETag=part.etag.strip('"'))
        chosen.append(part)
    object_size = h.get("x-amz-mp-object-size")
    if object_size is not None and object_size != str(sum(p.size for p in chosen)):
        raise S3Error("InvalidRequest", "The provided x-amz-mp-object-size does not match the "
                      "size of the parts.")
    mode, until, hold = lock.for_new_version(bucket.object_lock,
                                             lock.LockRequest.from_json(up.lock), ctx.now())
    md5s = [bytes.fromhex(p.etag.strip('"')) for p in chosen]
    etag = checksums.multipart_etag(md5s)
    sums: dict[str, str] = {}
    alg = up.checksum_algorithm
    if alg and all(p.checksum for p in chosen):
        sums[alg] = (_combine(alg, chosen) if up.checksum_type == "FULL_OBJECT"
                     else _composite(alg, chosen))
        sent = ctx.req.headers.get(checksums.HEADER[alg])
        if sent is not None and sent != sums[alg]:
            raise S3Error("BadDigest", f"The {alg} you specified did not match the calculated "
                          "checksum.")
    rec = ObjectRecord(
        bucket=bucket.name, key=up.key, size=sum(p.size for p in chosen), etag=etag,
        last_modified=ctx.now(), owner=acls.Acl.from_json(up.acl).owner, acl=up.acl,
        headers={k: v for k, v in up.headers.items() if k != TAGS_HEADER},
        tags=tagging.parse_header(up.headers[TAGS_HEADER]) if TAGS_HEADER in up.headers else (),
        checksums=sums, checksum_type=up.checksum_type if sums else None,
        segments=tuple(Segment(p.blob, p.size, p.checksum) for p in chosen),
        part_count=len(chosen), lock_mode=mode, lock_until=until, legal_hold=hold,
        sse=up.sse,
    )
    txn = ctx.stores.uploads.complete_txn(up.upload_id, rec, {p.number for p in chosen},
                                          condition)
    try:
        written = await publish_txn(ctx.stores, txn, rec.bucket)
    except Conflict:
        raise S3Error("NoSuchUpload", UploadId=up.upload_id) from None
    location = f"{ctx.req.scheme}://{ctx.req.host}/{bucket.name}/{quote(up.key)}"
    body = mxml.complete(location, bucket.name, up.key, etag, sums, rec.checksum_type)
    headers = [(checksums.HEADER[a], v) for a, v in sums.items()]
    headers += dk.stored.headers() if dk is not None else sse.response_headers(up.sse)
    if written.version_id is not None:
        headers.append(("x-amz-version-id", written.version_id))
    headers += expiration_headers(bucket, rec)
    return xml_response(body, headers=headers)


def _completed_again(ctx: Ctx) -> Response | None:
    """A repeated Complete of an upload that made the current object answers as the first."""
    done = ctx.stores.uploads.completed(ctx.ep.arg("uploadId") or "")
    if done is None or done[0] != ctx.bucket_name or done[1] != ctx.key:
        return None
    obj = ctx.stores.meta.get_object(done[0], done[1])
    if obj is None or obj.etag != done[2]:
        return None
    location = f"{ctx.req.scheme}://{ctx.req.host}/{done[0]}/{quote(done[1])}"
    body = mxml.complete(location, done[0], done[1], obj.etag,
                         obj.checksums, obj.checksum_type)
    return xml_response(body)


async def abort_multipart_upload(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    up = _upload_or_404(ctx)
    authorize(ctx, bucket, upload=up)
    try:
        await ctx.stores.write(ctx.stores.uploads.abort_txn(up.upload_id))
    except NotFound:
        raise S3Error("NoSuchUpload", UploadId=up.upload_id) from None
    return empty(204)


async def list_parts(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    up = _upload_or_404(ctx)
    authorize(ctx, bucket, upload=up)
    marker_raw = ctx.ep.arg("part-number-marker") or "0"
    marker = signed(marker_raw.strip(), 10)
    if marker is None or marker > 2147483647:
        raise S3Error("InvalidArgument", "Provided part-number-marker not an integer",
                      ArgumentName="part-number-marker", ArgumentValue=marker_raw[:64])
    max_parts = parse_max_keys(ctx.ep.arg("max-parts"), "max-parts")
    parts = ctx.stores.uploads.parts(up.upload_id, marker, max_parts + 1)
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    names = account_names(ctx)
    alg = up.checksum_algorithm
    owner = acls.Acl.from_json(up.acl).owner  # the object's owner-to-be (Object Ownership)
    listed = [mxml.ListedPart(p.number, iso8601(p.last_modified), p.etag, p.size, alg,
                              p.checksum) for p in parts]
    body = mxml.list_parts(
        bucket=bucket.name, key=up.key, upload_id=up.upload_id, marker=marker,
        next_marker=parts[-1].number if parts else None, max_parts=max_parts,
        truncated=truncated, parts=listed, initiator=(up.owner, up.initiator),
        owner_=(owner, names.get(owner, owner)), checksum_algorithm=alg,
        checksum_type=up.checksum_type)
    return xml_response(body)


class _Keyed:
    __slots__ = ("key", "upload")

    def __init__(self, upload: Upload) -> None:
        self.key = upload.key
        self.upload = upload


async def list_multipart_uploads(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    prefix = ctx.ep.arg("prefix", "") or ""
    delimiter = ctx.ep.arg("delimiter", "") or ""
    key_marker = ctx.ep.arg("key-marker", "") or ""
    id_marker = ctx.ep.arg("upload-id-marker", "") or ""
    url = (ctx.ep.arg("encoding-type") or "").lower() == "url"
    max_uploads = parse_max_keys(ctx.ep.arg("max-uploads"), "max-uploads")
    uploads = ctx.stores.uploads
    first = [True]

    def scan(after: bytes) -> Iterator[_Keyed]:
        # The first scan honours upload-id-marker within key-marker; later ones skip prefixes.
        use_id = id_marker if first[0] and key_marker and id_marker else None
        first[0] = False
        return (_Keyed(u) for u in uploads.scan(bucket.name, prefix, after, use_id))

    page = list_page(scan, prefix=prefix, delimiter=delimiter, start_after=key_marker,
                     max_keys=max_uploads)
    names = account_names(ctx)
    listed = [
        mxml.ListedUpload(k.key, k.upload.upload_id, (k.upload.owner, k.upload.initiator),
                          (k.upload.owner, names.get(k.upload.owner, k.upload.owner)),
                          iso8601(k.upload.created), k.upload.checksum_algorithm)
        for k in page.contents
    ]
    next_key = next_id = None
    if page.is_truncated:
        next_key = page.last
        next_id = page.contents[-1].upload.upload_id if page.contents and \
            page.contents[-1].key == page.last else None
    body = mxml.list_uploads(
        bucket=bucket.name, key_marker=key_marker, upload_id_marker=id_marker,
        next_key_marker=next_key, next_upload_id_marker=next_id, max_uploads=max_uploads,
        truncated=page.is_truncated, prefix=prefix, delimiter=delimiter, url=url,
        uploads=listed, prefixes=page.common_prefixes)
    return xml_response(body)

