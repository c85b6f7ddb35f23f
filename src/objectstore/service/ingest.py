"""Stream a request body into a blob while computing MD5 and any checksums asked for.

Hashing and disk writes run in a worker thread in 1 MiB batches (the received chunks
themselves, never joined), so the event loop never hashes or writes large buffers, and
memory stays bounded whatever the size.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable

from objectstore.s3 import checksums
from objectstore.s3.errors import S3Error
from objectstore.storage import crypto
from objectstore.storage.crypto import Encryptor
from objectstore.storage.localfs import BlobStore, BlobWriter

BATCH = 1 << 20
INLINE_LIMIT = 64 * 1024


@dataclass(slots=True)
class Digests:
    size: int
    md5: bytes
    sha256: str | None
    checksums: dict[str, bytes] = field(default_factory=dict)


class Ingest:
    """Hashes a body while keeping it: in memory up to ``inline_limit`` bytes (small objects
    live in the metadata row), in a blob file beyond that. With a ``data_key`` the body is
    encrypted (storage.crypto) before it reaches a blob; a small encrypted body is held in
    memory only, and ``inline`` is its ciphertext (crypto.INLINE_ID's key)."""

    def __init__(self, blobs: BlobStore, algorithms: Iterable[str], sha256: bool,
                 max_size: int, inline_limit: int = 0, data_key: bytes | None = None) -> None:
        self._blobs = blobs
        self._data_key = data_key
        if inline_limit:
            blobs.check_space()  # an inline body takes room in the metadata database
        self._writer: BlobWriter | None = None if inline_limit else blobs.writer()
        self._buf: bytearray | None = bytearray() if inline_limit else None
        self._inline_limit = inline_limit
        self._md5 = hashlib.md5()
        self._sha = hashlib.sha256() if sha256 else None
        self._checks = {alg: checksums.new_hasher(alg) for alg in algorithms}
        self._max = max_size
        self._done = False
        self.size = 0
        self._enc = Encryptor(data_key, self._writer.id) \
            if data_key is not None and self._writer is not None else None

    @property
    def blob_id(self) -> str:
        """The blob holding the body, "" when it is kept inline or empty."""
        return self._writer.id if self._writer is not None and self.size else ""

    @property
    def inline(self) -> bytes | None:
        if self._buf is None or not self.size:
            return None
        if self._data_key is not None:
            return crypto.encrypt(self._data_key, crypto.INLINE_ID, bytes(self._buf))
        return bytes(self._buf)

    def feed(self, data: bytes) -> None:
        """Hash and keep ``data`` in the calling thread."""
        self.count(len(data))
        self._md5.update(data)
        if self._sha is not None:
            self._sha.update(data)
        for h in self._checks.values():
            h.update(data)
        self._keep(data)

    def count(self, n: int) -> None:
        """Account for ``n`` more bytes (EntityTooLarge beyond the limit)."""
        size = self.size + n
        if size > self._max:
            raise S3Error("EntityTooLarge", ProposedSize=str(size),
                          MaxSizeAllowed=str(self._max))
        self.size = size

    def jobs(self, data: bytes) -> list[Callable[[], None]]:
        """The independent pieces of work ``data`` needs, in the order of the body: MD5,
        the other digests, and keeping it. Each must run after the same job of the previous
        ``data``; the three may run at the same time (on separate cores: hashlib and writes
        let go of the GIL)."""
        out: list[Callable[[], None]] = [functools.partial(self._md5.update, data)]
        others = [*self._checks.values(), *([self._sha] if self._sha is not None else [])]
        if others:
            out.append(functools.partial(_update_all, others, data))
        out.append(functools.partial(self._keep, data))
        return out

    def _keep(self, data: bytes | memoryview) -> None:
        if self._buf is not None:
            if len(self._buf) + len(data) <= self._inline_limit:
                self._buf += data
                return
            self._writer = self._blobs.writer()  # larger than announced: spill to a blob
            if self._data_key is not None:
                self._enc = Encryptor(self._data_key, self._writer.id)
                self._writer.write_many(self._enc.feed(bytes(self._buf)))
            else:
                self._writer.write(bytes(self._buf))
            self._buf = None
        assert self._writer is not None
        if self._enc is not None:
            self._writer.write_many(self._enc.feed(data))
            return
        self._writer.write(data)

    def digests(self) -> Digests:
        return Digests(
            self.size,
            self._md5.digest(),
            self._sha.hexdigest() if self._sha is not None else None,
            {alg: h.digest() for alg, h in self._checks.items()},
        )

    @property
    def needs_commit(self) -> bool:
        return self._writer is not None and not self._done

    def commit(self) -> None:
        """Make the blob durable; an empty or inline body leaves no blob at all."""
        if self._writer is not None and not self._done:
            if self.size == 0:
                self._writer.abort()
            else:
                if self._enc is not None:
                    self._writer.write(self._enc.finish())
                self._writer.commit()
        self._done = True

    def abort(self) -> None:
        if self._writer is not None and not self._done:
            self._writer.abort()
        self._done = True


def _update_all(hashers: list[Any], data: bytes) -> None:
    for h in hashers:
        h.update(data)


async def ingest(ing: Ingest, body: AsyncIterator[bytes]) -> Digests:
    """Feed ``body`` to ``ing``; the caller commits or aborts.

    Receiving overlaps hashing and writing: while worker threads digest and write one
    1 MiB batch (MD5, the other digests and the write each in its own thread), the event
    loop collects the next, so at most two batches are held at once. A batch is joined
    once: one call per hasher and one write per MiB, because each call lets go of the GIL
    and taking it back per 64 KiB chunk (up to sys.getswitchinterval() while the event loop
    runs Python) held large uploads to a third of hashing speed.
    """
    loop = asyncio.get_running_loop()
    batch: list[bytes] = []
    held = 0
    running: list[asyncio.Future[None]] = []
    try:
        async for chunk in body:
            batch.append(chunk)
            held += len(chunk)
            if held >= BATCH:
                data = b"".join(batch)
                batch, held = [], 0
                ing.count(len(data))
                for fut in running:
                    await fut
                running = [loop.run_in_executor(None, job) for job in ing.jobs(data)]
        for fut in running:
            await fut
        running = []
    finally:
        if running:  # the body failed mid-way: let the workers finish first
            await asyncio.wait(running)
    if batch:
        data = b"".join(batch)
        if ing.size == 0 and held <= INLINE_LIMIT:
            ing.feed(data)
        else:
            await asyncio.to_thread(ing.feed, data)
    return ing.digests()


async def commit(ing: Ingest) -> None:
    """Make the body durable: an fsync in a worker thread for blobs, nothing for inline."""
    if ing.needs_commit:
        await asyncio.to_thread(ing.commit)
    else:
        ing.commit()
