"""A change stamp shared by every process that opens one metadata database.

Each commit writes a value never written before into a small memory-mapped file beside
the database, so any process (another `serve --workers` process, the admin CLI) can tell
with one memory read whether lookups it cached are still current. The writer stamps after
its commit and before acknowledging it, and a reader takes the stamp before its query, so a
request that starts after a write was acknowledged never sees an older cached answer.
"""

from __future__ import annotations

import itertools
import mmap
import os
import secrets
from pathlib import Path

SIZE = 8


class ChangeStamp:
    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self._origin = secrets.randbits(32) << 32  # this process's values differ from others'
        self._count = itertools.count(1)

    def read(self) -> bytes:
        return self._map[:SIZE]

    def bump(self) -> None:
        value = self._origin | (next(self._count) & 0xFFFFFFFF)
        self._map[:SIZE] = value.to_bytes(SIZE, "little")

    def close(self) -> None:
        self._map.close()
