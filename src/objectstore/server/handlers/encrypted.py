"""The streamed GET of an encrypted object: each window (storage/sse_read.py) is read and
decrypted in a worker thread (OpenSSL lets go of the GIL) while the previous one is sent."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import AsyncIterator

from objectstore.storage.faults import BlobFault
from objectstore.storage.model import Segment
from objectstore.storage.sse_read import LOOP_READ, close, read_all, read_blocking, windows

__all__ = ["LOOP_READ", "read_all", "read_blocking", "stream"]
AHEAD = 1  # windows being decrypted while one is sent (2 measured slower: on two cores the
# second decrypting thread competes with the loop's sends and the client)


async def stream(fds: list[int], segments: tuple[Segment, ...], data_key: bytes, start: int,
                 length: int, where: str) -> AsyncIterator[bytes | memoryview]:
    """Stream a range, decrypting the next AHEAD windows in worker threads while the current
    one is sent; closes fds at the end, also when the client goes away. At most AHEAD + 1
    windows (4 MiB each) are held."""
    loop = asyncio.get_running_loop()
    running: deque[asyncio.Future[bytes | memoryview]] = deque()
    try:
        todo = windows(fds, segments, data_key, start, length)
        for job in itertools.islice(todo, AHEAD):
            running.append(loop.run_in_executor(None, job))
        while running:
            data = await running.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                running.append(loop.run_in_executor(None, nxt))
            yield data
    except BlobFault as fault:
        fault.where = where
        raise
    finally:
        if running:  # let the workers finish with the descriptors first
            try:
                await asyncio.wait(running)
            except BaseException:  # noqa: BLE001 - only waiting for the workers to let go
                pass
            for fut in running:  # their faults are moot now: the stream has ended
                if fut.done() and not fut.cancelled():
                    fut.exception()
        close(fds)
