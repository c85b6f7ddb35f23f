"""PutObject, GetObject, HeadObject, DeleteObject."""

from __future__ import annotations

import asyncio
import functools
import mmap
import os
from typing import AsyncIterator, Callable, Iterator

from objectstore.s3 import checksums, lock, sse, tagging
from objectstore.s3.errors import S3Error
from objectstore.s3.headers import check_override, check_stored
from objectstore.s3.http import ByteRange, check_preconditions, http_date, parse_range
from objectstore.s3.names import check_key
from objectstore.s3.numbers import digits
from objectstore.s3.versioning import version_arg
from objectstore.server.body import payload, store
from objectstore.server.handlers import encrypted, object_lock
from objectstore.server.handlers.common import (
    Ctx,
    authorize,
    bucket_or_404,
    empty,
    object_version_or_404,
    version_headers,
)
from objectstore.server.handlers.encryption import read_key, write_key
from objectstore.server.handlers.lifecycle import expiration_headers
from objectstore.server.handlers.ownership import new_object_acl
from objectstore.server.request import Response
from objectstore.service.ingest import INLINE_LIMIT, Ingest
from objectstore.service.objects import publish
from objectstore.storage import residency
from objectstore.storage.blocksums import BLOCK, Sums
from objectstore.storage.faults import BlobFault
from objectstore.storage.localfs import BlobStore
from objectstore.storage.meta import Locked
from objectstore.storage.model import ObjectRecord, Segment
from objectstore.storage.sse_read import open_inline

MAX_PUT = 5 * 1024**3
STORED_HEADERS = ("content-type", "content-encoding", "content-disposition", "content-language",
                  "cache-control", "expires", "x-amz-website-redirect-location")
STORAGE_CLASSES = frozenset({"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                             "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR",
                             "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"})
READ_CHUNK = 4 << 20  # per read of a streamed GET (1 MiB reads: ~30% slower)
INLINE_READ = 256 * 1024
HEAD_STAT_MAX = 16  # HEAD checks the blobs of objects with at most this many segments


def object_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers stored with an object: content-*, cache-control, expires, x-amz-meta-*,
    checked (characters, sizes, redirect location) as S3 does."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name in STORED_HEADERS or name.startswith("x-amz-meta-"):
            out[name] = value
    check_stored(out)
    enc = out.get("content-encoding")
    if enc is not None and "aws-chunked" in enc:
        kept = [e.strip() for e in enc.split(",") if e.strip() and e.strip() != "aws-chunked"]
        if kept:
            out["content-encoding"] = ", ".join(kept)
        else:
            del out["content-encoding"]
    out.setdefault("content-type", "binary/octet-stream")
    return out


def requested_checksums(headers: dict[str, str]) -> dict[str, bytes]:
    """Checksum values sent in x-amz-checksum-* headers (validated, at most one)."""
    found = {alg: checksums.decode_checksum(alg, headers[h])
             for alg, h in checksums.HEADER.items() if h in headers}
    if len(found) > 1:
        raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                      "checksum Types are not allowed.")
    return found


def check_storage_class(headers: dict[str, str]) -> None:
    sc = headers.get("x-amz-storage-class")
    if sc is not None and sc not in STORAGE_CLASSES:
        raise S3Error("InvalidStorageClass", StorageClassRequested=sc)


Check = Callable[[ObjectRecord | None], None]


def conditional_write(headers: dict[str, str], key: str,
                      current: Callable[[], ObjectRecord | None]) -> Check | None:
    """If-None-Match / If-Match on a write: checked now against ``current()`` (412 or 404
    before any body is read), and again inside the metadata transaction, so racing writers
    see one winner. As in S3, a write whose object was deleted by a concurrent request
    between the two checks answers 409 ConditionalRequestConflict (retry the request);
    an object changed by a concurrent write answers 412."""
    if_none = headers.get("if-none-match")
    if_match = headers.get("if-match")
    if if_none is None and if_match is None:
        return None

    def check(obj: ObjectRecord | None) -> None:
        if if_none is not None and obj is not None:
            tags = [t.strip().strip('"') for t in if_none.split(",")]
            if "*" in tags or obj.etag.strip('"') in tags:
                raise S3Error("PreconditionFailed", Condition="If-None-Match")
        if if_match is not None:
            if obj is None:
                raise S3Error("NoSuchKey", Key=key)
            tags = [t.strip().strip('"') for t in if_match.split(",")]
            if "*" not in tags and obj.etag.strip('"') not in tags:
                raise S3Error("PreconditionFailed", Condition="If-Match")

    before = current()
    check(before)

    def at_commit(obj: ObjectRecord | None) -> None:
        if obj is None and before is not None:
            raise S3Error("ConditionalRequestConflict", Key=key)
        check(obj)
    return at_commit


async def put_object(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    key = ctx.key
    check_key(key)
    h = ctx.req.headers
    check_storage_class(h)
    dk = write_key(ctx, bucket)
    stored = object_headers(h)
    md5 = checksums.parse_content_md5(h["content-md5"]) if "content-md5" in h else None
    wanted = requested_checksums(h)
    owner, acl = new_object_acl(ctx, bucket, h)
    tags = tagging.parse_header(h["x-amz-tagging"]) if "x-amz-tagging" in h else ()
    algorithms = set(wanted)
    sdk_alg = (h.get("x-amz-sdk-checksum-algorithm") or h.get("x-amz-checksum-algorithm") or "")
    if sdk_alg:
        if sdk_alg.upper() not in checksums.ALGORITHMS:
            raise S3Error("InvalidRequest", "Checksum algorithm provided is unsupported. "
                          "Please try again with any of the valid types: [CRC32, CRC32C, "
                          "CRC64NVME, SHA1, SHA256]")
        algorithms.add(sdk_alg.upper())
    mode, until, hold = (object_lock.new_version_lock(ctx, bucket, with_body=True)
                         if bucket.object_lock is not None or lock.has_headers(h)
                         else object_lock.NO_LOCK)
    condition = conditional_write(h, key, lambda: ctx.stores.meta.get_object(bucket.name, key))
    body = payload(ctx, MAX_PUT)
    algorithms |= body.trailer_algorithms
    small = body.expected_size is not None and body.expected_size <= INLINE_LIMIT
    ing = Ingest(ctx.stores.blobs, algorithms, ctx.auth.payload_sha256 is not None, MAX_PUT,
                 inline_limit=INLINE_LIMIT if small else 0,
                 data_key=dk.key if dk is not None else None)
    digests = await store(body, ing, md5, wanted)
    sums = {alg: checksums.b64(v) for alg, v in digests.checksums.items()}
    etag = digests.md5.hex() if dk is None else dk.etag(digests.md5)
    rec = ObjectRecord(
        bucket=bucket.name, key=key, size=digests.size, etag=f'"{etag}"',
        last_modified=ctx.now(), owner=owner, acl=acl.to_json(), headers=stored,
        checksums=sums, checksum_type="FULL_OBJECT" if sums else None,
        segments=(Segment(ing.blob_id, digests.size),) if ing.blob_id else (),
        inline=ing.inline, tags=tags, lock_mode=mode, lock_until=until, legal_hold=hold,
        sse=dk.stored.to_json() if dk is not None else None,
    )
    written = await publish(ctx.stores, rec, condition)
    headers = [("ETag", rec.etag)]
    if dk is not None:
        headers += dk.stored.headers()
    headers += [(checksums.HEADER[alg], v) for alg, v in sums.items()]
    if sums:
        headers.append(("x-amz-checksum-type", "FULL_OBJECT"))
    if written.version_id is not None:
        headers.append(("x-amz-version-id", written.version_id))
    if bucket.lifecycle is not None:
        headers += expiration_headers(bucket, rec)
    return empty(200, headers)


def response_headers(ctx: Ctx, obj: ObjectRecord) -> list[tuple[str, str]]:
    out = [
        ("Last-Modified", http_date(obj.last_modified)),
        ("ETag", obj.etag),
        ("Accept-Ranges", "bytes"),
    ]
    overrides = {}
    if any(k.startswith("response-") for k, _ in ctx.ep.query):
        for name in ("content-type", "content-language", "expires", "cache-control",
                     "content-disposition", "content-encoding"):
            value = ctx.ep.arg("response-" + name)
            if value is not None:
                check_override("response-" + name, value)
                overrides[name] = value
    if overrides and ctx.principal is None:
        raise S3Error("InvalidRequest", "Request specific response headers cannot be used for "
                      "anonymous GET requests.")
    for name, value in obj.headers.items():
        if name not in overrides:
            out.append((_title(name), value))
    out += [(_title(n), v) for n, v in overrides.items()]
    if obj.tags:
        out.append(("x-amz-tagging-count", str(len(obj.tags))))
    return out


@functools.lru_cache(maxsize=512)
def _title(name: str) -> str:
    if name.startswith("x-amz-"):
        return name
    return "-".join(p.capitalize() for p in name.split("-"))


def _checksum_headers(ctx: Ctx, obj: ObjectRecord) -> list[tuple[str, str]]:
    if (ctx.header("x-amz-checksum-mode") or "").upper() != "ENABLED":
        return []
    out = [(checksums.HEADER[alg], v) for alg, v in obj.checksums.items()]
    if out and obj.checksum_type:
        out.append(("x-amz-checksum-type", obj.checksum_type))
    return out


def _select(ctx: Ctx, obj: ObjectRecord) -> tuple[ByteRange | None, list[tuple[str, str]]]:
    part = ctx.ep.arg("partNumber")
    if part is not None:
        n = digits(part.strip(), 10)
        if n is None or n < 1 or n > 10000:
            raise S3Error("InvalidArgument", "Part number must be an integer between 1 and "
                          "10000, inclusive", ArgumentName="partNumber",
                          ArgumentValue=part[:64])
        if "range" in ctx.req.headers:
            raise S3Error("InvalidRequest", "Cannot specify both Range header and partNumber "
                          "query parameter")
        if obj.part_count == 0:
            if n != 1:
                raise S3Error("InvalidPartNumber",
                              headers={"Content-Range": f"bytes */{obj.size}"})
            return None, []
        if n > len(obj.segments):
            raise S3Error("InvalidPartNumber", headers={"Content-Range": f"bytes */{obj.size}"})
        start = sum(s.size for s in obj.segments[: n - 1])
        parts_count = [("x-amz-mp-parts-count", str(obj.part_count))]
        segment = obj.segments[n - 1]
        alg = next(iter(obj.checksums), None)
        if alg is not None and obj.checksum_type:
            parts_count.append(("x-amz-checksum-type", obj.checksum_type))
            mode = (ctx.header("x-amz-checksum-mode") or "").upper()
            if segment.checksum and mode == "ENABLED":
                parts_count.append((checksums.HEADER[alg], segment.checksum))
        if obj.segments[n - 1].size == 0:
            return ByteRange(start, start - 1), parts_count  # an empty part: no Content-Range
        return ByteRange(start, start + obj.segments[n - 1].size - 1), parts_count
    return parse_range(ctx.header("range"), obj.size), []


async def get_object(ctx: Ctx, *, head: bool = False) -> Response:
    bucket = bucket_or_404(ctx)
    if "x-amz-server-side-encryption" in ctx.req.headers:
        sse.check_read(ctx.req.headers)
    for attempt in range(3):
        obj = object_version_or_404(ctx, bucket)
        authorize(ctx, bucket, obj)
        dk = read_key(ctx, obj.sse)
        check_preconditions(ctx.req.headers, obj.etag, obj.last_modified)
        headers = response_headers(ctx, obj)
        if dk is not None:
            headers += dk.stored.headers()
        if (obj.lock_mode is not None or obj.legal_hold) and \
                object_lock.is_bucket_owner(ctx.principal, bucket):
            headers += lock.response_headers(obj.lock_mode, obj.lock_until, obj.legal_hold)
        if bucket.versioning or obj.seq:
            headers += version_headers(bucket, obj)
        if bucket.lifecycle is not None and not ctx.ep.has("versionId"):
            headers += expiration_headers(bucket, obj)  # the current version's
        rng, extra = _select(ctx, obj)
        headers += extra
        if rng is None:
            headers += _checksum_headers(ctx, obj)
        start, length = (rng.start, rng.length) if rng is not None else (0, obj.size)
        status = 206 if rng is not None and rng.length else 200
        if rng is not None and rng.length:
            headers.append(("Content-Range", rng.content_range(obj.size)))
        if head:
            if obj.inline is None and len(obj.segments) <= HEAD_STAT_MAX:
                _stat_segments(ctx.stores.blobs, obj)
            return Response(status, headers, content_length=length)
        if obj.inline is not None:
            inline = obj.inline if dk is None else \
                open_inline(dk.key, obj.inline, f"{obj.bucket}/{obj.key}")
            return Response(status, headers, inline[start:start + length])
        if length == 0:
            return Response(status, headers)
        try:
            fds = open_segments(ctx.stores.blobs, obj.segments)
        except FileNotFoundError as exc:
            if attempt < 2:
                continue  # overwritten and collected between lookup and open: look again
            fault = BlobFault("missing", str(exc.filename or "").rsplit("/", 1)[-1])
            fault.where = f"{obj.bucket}/{obj.key}"
            raise fault from None
        where = f"{obj.bucket}/{obj.key}"
        if dk is not None:  # encrypted: read and decrypt only the segments needed
            if length <= INLINE_READ:
                args = (fds, obj.segments, dk.key, start, length, where)
                small = encrypted.read_all(*args) if length <= encrypted.LOOP_READ \
                    else await asyncio.to_thread(encrypted.read_all, *args)
                return Response(status, headers, small)
            stream = await primed(encrypted.stream(fds, obj.segments, dk.key, start, length,
                                                   where))
            return Response(status, headers, stream=stream, content_length=length)
        if length <= INLINE_READ:
            return Response(status, headers, _read_small(ctx.stores.blobs, fds, obj.segments,
                                                         start, length, where))
        stream = await primed(stream_segments(ctx.stores.blobs, fds, obj.segments, start,
                                              length, where))
        return Response(status, headers, stream=stream, content_length=length)
    raise AssertionError("unreachable")


def _stat_segments(blobs: BlobStore, obj: ObjectRecord) -> None:
    """HEAD does not read data, but a blob gone or cut short behind the server's back
    still shows (a stat each, for objects of a few segments; scrub finds the rest)."""
    for seg in obj.segments:
        if not seg.size:
            continue
        try:
            size = os.stat(blobs.path(seg.blob)).st_size
        except FileNotFoundError:
            size = -1
        if size < seg.size:
            fault = BlobFault("missing" if size < 0 else "truncated", seg.blob)
            fault.where = f"{obj.bucket}/{obj.key}"
            raise fault


def open_segments(blobs: BlobStore, segments: tuple[Segment, ...]) -> list[int]:
    """Open every segment's blob (-1 for empty ones); all or none stay open."""
    fds: list[int] = []
    try:
        for s in segments:
            fds.append(blobs.open(s.blob) if s.size else -1)
    except BaseException:
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        raise
    return fds


def _read_small(blobs: BlobStore, fds: list[int], segments: tuple[Segment, ...], start: int,
                length: int, where: str) -> bytes:
    """Read a small range at once (one response body, no thread hand-off), as the whole
    blocks covering it, verified against their checksums; closes fds."""
    out = bytearray()
    try:
        offset = 0
        for fd, seg in zip(fds, segments, strict=True):
            end = start + length
            if seg.size and offset < end and start < offset + seg.size:
                pos = max(0, start - offset)
                n = min(seg.size, end - offset) - pos
                out += blobs.sums(fd, seg.blob, seg.size).read(fd, pos, n)
            offset += seg.size
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        for fd in fds:
            if fd >= 0:
                os.close(fd)
    return bytes(out)


def _mapped(fd: int, pos: int, n: int, size: int, verify: bool) -> tuple[memoryview, int]:
    """``n`` bytes at ``pos`` of a blob (``size`` bytes long) as a read-only memory map, so
    sending it copies once, socket-ward, with no read() copy and no thread hand-off; the
    kernel is asked to start reading the next window ahead meanwhile. Blobs are immutable
    (replaced, never rewritten or truncated), so the mapping stays valid while the transport
    holds it; it is unmapped when the last view of it is released. With ``verify`` the map
    starts at the block holding ``pos`` and is returned whole (with the offset of ``pos``
    in it), so the caller can check the blocks before sending a byte of them."""
    if size < pos + n:
        raise OSError("blob shorter than recorded")
    base = pos - pos % (BLOCK if verify else mmap.ALLOCATIONGRANULARITY)
    m = mmap.mmap(fd, pos + n - base, prot=mmap.PROT_READ, offset=base)
    ahead = min(READ_CHUNK, size - pos - n)
    if ahead > 0 and not verify:  # verified windows are read ahead by their check
        os.posix_fadvise(fd, pos + n, ahead, os.POSIX_FADV_WILLNEED)
    return memoryview(m), pos - base


class _Unread:
    """The window of ``--blob-read pread`` until its fill (the window's check) has run:
    then ``data`` holds the bytes (read without zero-filling a buffer first)."""

    __slots__ = ("n", "data")

    def __init__(self, n: int) -> None:
        self.n = n
        self.data: bytes | memoryview = b""

    def __len__(self) -> int:
        return self.n


def _pread_window(blobs: BlobStore, fd: int, sums: Sums, pos: int, n: int
                  ) -> tuple[_Unread, Callable[[], None]]:
    """``--blob-read pread``: the window of ``n`` bytes at ``pos``, and the call that reads
    it with one pread (and checks it, as the whole blocks covering it, unless they are all
    in the page cache), run before it is sent. A memory map of a blob on a network file
    system dies with SIGBUS when another machine unlinks the file; a read only fails
    (ESTALE, or a short read: a fault answer), and the process lives."""
    verify = sums.crcs is not None
    lo = pos - pos % BLOCK if verify else pos
    hi = pos + min(n + (-(pos + n)) % BLOCK, sums.size - pos) if verify else pos + n
    if verify and not blobs.verify_all and residency.resident(fd, lo, hi - lo):
        verify = False
    window = _Unread(n)

    def fill() -> None:
        raw = os.pread(fd, hi - lo, lo)
        if len(raw) != hi - lo:
            raise BlobFault("truncated", sums.blob, f"shorter than its {sums.size} bytes")
        if verify:
            sums.verify(fd, lo, raw)
        window.data = raw if (lo, hi) == (pos, pos + n) else memoryview(raw)[pos - lo:pos - lo + n]
    return window, fill


def _windows(blobs: BlobStore, fds: list[int], segments: tuple[Segment, ...], start: int,
             length: int
             ) -> Iterator[tuple[bytes | memoryview | _Unread, Callable[[], None] | None]]:
    """The windows of a streamed read, each with the check still to run on it (None when
    it is checked already, or cannot be: an old-format blob)."""
    offset = 0
    remaining = length
    for fd, seg in zip(fds, segments, strict=True):
        if remaining <= 0:
            break
        if start >= offset + seg.size:
            offset += seg.size
            continue
        pos = max(0, start - offset)
        size = os.fstat(fd).st_size
        if size < seg.size:
            raise BlobFault("truncated", seg.blob, f"shorter than its {seg.size} bytes")
        sums = blobs.sums(fd, seg.blob, seg.size)
        while remaining > 0 and pos < seg.size:
            n = min(READ_CHUNK - pos % BLOCK, remaining, seg.size - pos)
            data: bytes | memoryview | _Unread
            check: Callable[[], None] | None = None
            if length <= INLINE_READ:
                data = sums.read(fd, pos, n)
            elif blobs.pread:  # read in the check's worker: no map a remote unlink can kill
                data, check = _pread_window(blobs, fd, sums, pos, n)
            elif sums.crcs is not None:
                whole, skip = _mapped(fd, pos, min(n + (-(pos + n)) % BLOCK, seg.size - pos),
                                      size, True)
                # Unless --verify-reads all, a window wholly in the page cache is trusted:
                # bit rot lives on the disk, and every cached page was written by the server
                # or read from the disk by a reader that checked it (this check, small
                # reads, copies, scrub). The probe (mincore, ~25 µs) runs here on the loop:
                # a thread hand-off per window cost a streamed GET a fifth of its speed, and
                # checking cached windows too costs a client on the same 2 cores ~30%.
                if blobs.verify_all or not residency.resident(fd, pos - skip, len(whole)):
                    check = functools.partial(sums.check_file, fd, pos - skip, len(whole))
                data = whole[skip:skip + n]
            else:
                whole, skip = _mapped(fd, pos, n, size, False)
                data = whole[skip:]
            if not data:
                raise BlobFault("truncated", seg.blob, f"shorter than its {seg.size} bytes")
            yield data, check
            pos += len(data)
            remaining -= len(data)
        offset += seg.size


async def stream_segments(blobs: BlobStore, fds: list[int], segments: tuple[Segment, ...],
                          start: int, length: int,
                          where: str = "") -> AsyncIterator[bytes | memoryview]:
    """Stream ``length`` bytes from ``start`` of the concatenated segments, closing the
    (already open) descriptors at the end, also when the client goes away.

    Every window is checked block by block against the blob's checksums before it is
    yielded (windows end on block boundaries, so each block is checked once; a range
    starting or ending inside a block checks that whole block). The check of the next
    window runs in a worker thread while the current one is being sent (CRC32C lets go of
    the GIL), so checking costs the event loop next to nothing. A mismatch raises
    BlobFault: before the first window the answer is still an error, after it the
    connection is dropped."""
    loop = asyncio.get_running_loop()
    running: asyncio.Future[None] | None = None

    def start_check(window: tuple[bytes | memoryview | _Unread, Callable[[], None] | None]
                    | None) -> asyncio.Future[None] | None:
        if window is None or window[1] is None:
            return None
        if len(window[0]) <= BLOCK:  # one block: cheaper here than a thread hand-off
            window[1]()
            return None
        return loop.run_in_executor(None, window[1])

    try:
        windows = _windows(blobs, fds, segments, start, length)
        nxt = next(windows, None)
        running = start_check(nxt)
        while nxt is not None:
            data = nxt[0]
            if running is not None:
                checking, running = running, None
                await checking
            nxt = next(windows, None)
            running = start_check(nxt)
            yield data.data if isinstance(data, _Unread) else data
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        if running is not None:
            running.cancel()
            try:
                await asyncio.wait([running])
            except BaseException:  # noqa: BLE001 - only waiting for the worker to let go
                pass
        for fd in fds:
            if fd >= 0:
                os.close(fd)


async def primed(stream: AsyncIterator[bytes | memoryview]
                 ) -> AsyncIterator[bytes | memoryview]:
    """``stream`` with its first chunk already read, so that a fault found there (a
    missing trailer, a corrupted first block) still becomes an error answer rather than
    a dropped connection."""
    gen = stream.__aiter__()
    try:
        first = await gen.__anext__()
    except BaseException:
        await gen.aclose()  # type: ignore[attr-defined]
        raise

    async def rest() -> AsyncIterator[bytes | memoryview]:
        try:
            yield first
            async for chunk in gen:
                yield chunk
        finally:
            await gen.aclose()  # type: ignore[attr-defined]
    return rest()


async def head_object(ctx: Ctx) -> Response:
    return await get_object(ctx, head=True)


async def delete_object(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    version = version_arg(ctx.ep.arg("versionId"))
    meta = ctx.stores.meta
    owner = ctx.principal.account_id if ctx.principal else bucket.account_id
    if version is False:
        done = await ctx.stores.write(meta.remove_txn(bucket.name, ctx.key, owner=owner))
    else:
        assert not isinstance(version, bool)
        bypass = object_lock.may_bypass(ctx, bucket)
        try:
            done = await ctx.stores.write(meta.remove_txn(bucket.name, ctx.key, version,
                                                          bypass_governance=bypass))
        except Locked as exc:
            raise S3Error("AccessDenied", str(exc)) from None
    headers: list[tuple[str, str]] = []
    if done.marker:
        headers.append(("x-amz-delete-marker", "true"))
    if done.version_id is not None and (done.found or version is not False):
        headers.append(("x-amz-version-id", done.version_id))
    return empty(204, headers)

