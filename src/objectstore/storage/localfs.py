"""Blob files under a directory: tmp -> fsync -> rename -> directory fsync.

Blob ids are random hex chosen here, never derived from keys, so no key can name a path.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

FLUSH_EVERY = 64 << 20  # bytes of a blob written between background fdatasyncs
IOV_MAX = 1024
_FLUSHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="blob-flush")


class BlobWriter:
    def __init__(self, store: BlobStore, tmp_dir: Path | None = None,
                 locked: bool = False) -> None:
        """``tmp_dir``: where the partial file lives until commit (default the store's);
        ``locked``: hold an flock on it while writing, so that a cleaner can tell a live
        partial file from one left by a crash (see ``BlobStore.clean_unlocked``)."""
        self.id = secrets.token_hex(16)
        self._store = store
        self._tmp = (tmp_dir or store.tmp_dir) / self.id
        self._fd: int | None = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._lock_fd: int | None = None  # held until the file is renamed or removed
        if locked:
            self._lock_fd = os.open(self._tmp, os.O_RDONLY)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._holes = False
        self.size = 0
        self._flushed = 0
        self._flush: Future[None] | None = None

    def write(self, data: bytes | memoryview) -> None:
        self.write_many((data,))

    def write_many(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Append ``chunks`` in order with vectored writes; with fsync on, every
        FLUSH_EVERY bytes a background fdatasync starts writing them back, so the final
        fsync waits for little more than the tail."""
        assert self._fd is not None
        views = [memoryview(c) for c in chunks if len(c)]
        while views:
            n = os.writev(self._fd, views[:IOV_MAX])
            self.size += n
            while views and n >= len(views[0]):
                n -= len(views[0])
                views.pop(0)
            if n:
                views[0] = views[0][n:]
        if self._store.fsync and self.size - self._flushed >= FLUSH_EVERY:
            self._wait_flush()
            self._flushed = self.size
            self._flush = _FLUSHER.submit(os.fdatasync, self._fd)

    def skip(self, n: int) -> None:
        """Append ``n`` zero bytes as a hole: the file grows, the disk does not."""
        assert self._fd is not None
        if n > 0:
            self.size += n
            os.lseek(self._fd, self.size, os.SEEK_SET)
            self._holes = True

    def _wait_flush(self) -> None:
        """Never close (or fsync) the descriptor while a background flush still uses it."""
        if self._flush is not None:
            flush, self._flush = self._flush, None
            flush.exception()  # waits; an error shows up again in the final fsync

    def commit(self) -> None:
        """Make the blob durable under its final name."""
        assert self._fd is not None
        self._wait_flush()
        fd, self._fd = self._fd, None
        try:
            if self._holes:  # a hole at the end is only a length
                os.ftruncate(fd, self.size)
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
        self._unlock()
        if self._store.fsync:
            _fsync_dir(final.parent)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def abort(self) -> None:
        if self._fd is not None:
            self._wait_flush()
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass
        self._unlock()


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

    def writer(self, tmp_dir: Path | None = None, locked: bool = False) -> BlobWriter:
        return BlobWriter(self, tmp_dir, locked)

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


def clean_unlocked(folder: Path) -> int:
    """Remove the files of ``folder`` that no process holds an flock on (partial files of
    locked writers cut off by a crash); files still being written are left alone, also when
    other processes on other gateways share the folder."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            if st.st_size == 0 and st.st_mtime > time.time() - 10:
                continue  # maybe created an instant ago, its writer about to lock it
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its writer is alive
        try:
            os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
