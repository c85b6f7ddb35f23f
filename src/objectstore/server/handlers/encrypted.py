"""The streamed GET of an encrypted object: each window (storage/sse_read.py) is read and
decrypted in a worker thread (OpenSSL lets go of the GIL) while the previous one is sent."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from objectstore.storage.faults import BlobFault
from objectstore.storage.model import Segment
from objectstore.storage.sse_read import LOOP_READ, close, read_all, read_blocking, windows

__all__ = ["LOOP_READ", "read_all", "read_blocking", "stream"]


async def stream(fds: list[int], segments: tuple[Segment, ...], data_key: bytes, start: int,
                 length: int, where: str) -> AsyncIterator[bytes | memoryview]:
    """Stream a range, decrypting the next window in a worker thread while the current one
    is sent; closes fds at the end, also when the client goes away."""
    loop = asyncio.get_running_loop()
    running: asyncio.Future[bytes | memoryview] | None = None
    try:
        todo = windows(fds, segments, data_key, start, length)
        first = next(todo, None)
        running = loop.run_in_executor(None, first) if first is not None else None
        while running is not None:
            current, running = running, None
            data = await current
            nxt = next(todo, None)
            if nxt is not None:
                running = loop.run_in_executor(None, nxt)
            yield data
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        if running is not None:  # let the worker finish with the descriptor first
            try:
                await asyncio.wait([running])
            except BaseException:  # noqa: BLE001 - only waiting for the worker to let go
                pass
        close(fds)
