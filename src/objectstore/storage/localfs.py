"""Blob files under a directory: tmp -> fsync -> rename -> directory fsync.

Blob ids are random hex chosen here, never derived from keys, so no key can name a path.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Iterator


class BlobWriter:
    def __init__(self, store: BlobStore) -> None:
        self.id = secrets.token_hex(16)
        self._store = store
        self._tmp = store.tmp_dir / self.id
        self._fd: int | None = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self.size += len(data)

    def commit(self) -> None:
        """Make the blob durable under its final name."""
        assert self._fd is not None
        fd, self._fd = self._fd, None
        try:
            if self._store.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        final = self._store.path(self.id)
        try:
            os.rename(self._tmp, final)
        except FileNotFoundError:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self._tmp, final)
        if self._store.fsync:
            _fsync_dir(final.parent)

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


class BlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self.blob_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("bad blob id")
        return self.blob_dir / blob_id[:2] / blob_id[2:4] / blob_id

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def open(self, blob_id: str) -> int:
        """An open read-only descriptor; it keeps working if the blob is deleted meanwhile."""
        return os.open(self.path(blob_id), os.O_RDONLY)

    def delete(self, blob_id: str) -> None:
        try:
            os.unlink(self.path(blob_id))
        except FileNotFoundError:
            pass

    def all_ids(self) -> Iterator[tuple[str, float]]:
        """Every blob with its mtime (for gc of orphans; a directory walk, off the hot path)."""
        for dirpath, _dirs, files in os.walk(self.blob_dir):
            for name in files:
                try:
                    yield name, os.stat(os.path.join(dirpath, name)).st_mtime
                except FileNotFoundError:
                    continue

    def clean_tmp(self, older_than: float) -> int:
        """Remove temporary files of writes cut off more than ``older_than`` seconds ago."""
        removed = 0
        cutoff = time.time() - older_than
        for entry in os.scandir(self.tmp_dir):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
