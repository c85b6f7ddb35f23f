"""Blob files under a directory: tmp -> fsync -> rename -> directory fsync.

Blob ids are random hex chosen here, never derived from keys, so no key can name a path.
Each blob carries a CRC32C per MiB of its data in a trailer (see blocksums). New data is
refused (ENOSPC) while the file system's free space is below the store's reserve, so that
deleting (a metadata commit) still finds room.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

from objectstore.storage import blocksums

SUMS_CACHED = 4096  # blobs whose block checksums are remembered (4 bytes per MiB each)
FLUSH_EVERY = 64 << 20  # bytes of a blob written between background fdatasyncs
IOV_MAX = 1024
SPACE_CHECK_EVERY = 4 << 20  # bytes of a blob written between free-space checks
BALLAST = "reserve.bin"  # room kept allocated, released when a metadata commit finds none
BALLAST_MAX = 32 << 20
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
        store.check_space()
        self._fd: int | None = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._lock_fd: int | None = None  # held until the file is renamed or removed
        if locked:
            # opened for writing: NFS emulates flock with byte-range locks, and an
            # exclusive one needs a descriptor open for writing
            self._lock_fd = os.open(self._tmp, os.O_RDWR)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = 0
        self._flushed = 0
        self._checked = 0
        self._flush: Future[None] | None = None
        self._sums = blocksums.Summer()

    def write(self, data: bytes | memoryview) -> None:
        self.write_many((data,))

    def write_many(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Append ``chunks`` in order with vectored writes; with fsync on, every
        FLUSH_EVERY bytes a background fdatasync starts writing them back, so the final
        fsync waits for little more than the tail."""
        assert self._fd is not None
        views = [memoryview(c) for c in chunks if len(c)]
        for v in views:
            self._sums.update(v)
        if self.size - self._checked >= SPACE_CHECK_EVERY:
            self._checked = self.size
            self._store.check_space()
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
            self._sums.zeros(n)
            self.size += n
            os.lseek(self._fd, self.size, os.SEEK_SET)

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
            _write_all(fd, self._sums.trailer(self.size))  # also ends a trailing hole
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
    def __init__(self, root: Path, *, fsync: bool = True, min_free: int = 0,
                 gateway: str = "") -> None:
        """``gateway``: the directory name of this gateway's temp files (``tmp/<gateway>``;
        "": ``tmp`` itself, for admin commands)."""
        self.root = root
        self.fsync = fsync
        self.verify_all = False  # check cached windows of streamed GETs too
        self.pread = False  # GETs read blobs with pread, never mmap (network file systems)
        self._room_until = 0.0  # check_space: no statvfs needed before this time
        self._sums: dict[str, blocksums.Sums] = {}
        self.min_free = min_free  # bytes of free space kept for metadata commits
        self.ballast_size = min(BALLAST_MAX, min_free // 4)
        self.blob_dir = root / "blobs"
        self.tmp_root = root / "tmp"
        self.tmp_dir = self.tmp_root / gateway if gateway else self.tmp_root
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._alive_fd = -1
        if gateway:  # held (shared, by every process of this gateway) while it runs
            self._alive_fd = os.open(self.tmp_dir / ALIVE, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._alive_fd, fcntl.LOCK_SH)

    def close(self) -> None:
        if self._alive_fd >= 0:
            os.close(self._alive_fd)
            self._alive_fd = -1

    def path(self, blob_id: str) -> Path:
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("bad blob id")
        return self.blob_dir / blob_id[:2] / blob_id[2:4] / blob_id

    def writer(self, tmp_dir: Path | None = None, locked: bool = False) -> BlobWriter:
        return BlobWriter(self, tmp_dir, locked)

    def free_space(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def check_space(self) -> None:
        """Refuse new data (ENOSPC) while free space is below the reserve. A statvfs per
        small PUT cost ~3% of its CPU, so after a look that found room, the next looks are
        skipped for as long as writing at 4 GB/s could not use that room up (at most
        0.1 s): the reserve is kept within that margin, and the ballast backs it up."""
        if not self.min_free:
            return
        now = time.monotonic()
        if now < self._room_until:
            return
        free = self.free_space()
        if free < self.min_free:
            raise OSError(errno.ENOSPC, "free space is below the reserve kept for deletes",
                          str(self.root))
        self._room_until = now + min(0.1, (free - self.min_free) / 4e9)

    def ensure_ballast(self) -> bool:
        """Allocate the ballast file (a quarter of the reserve, at most 32 MiB) when there
        is room for it beyond the reserve; True if it is in place."""
        if not self.ballast_size:
            return False
        path = self.root / BALLAST
        try:
            if path.stat().st_size >= self.ballast_size:
                return True
        except FileNotFoundError:
            pass
        if self.free_space() < self.min_free + self.ballast_size:
            return False
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, self.ballast_size)
            if self.fsync:
                os.fsync(fd)
        except OSError:
            os.close(fd)
            fd = -1
            path.unlink(missing_ok=True)
            return False
        finally:
            if fd >= 0:
                os.close(fd)
        return True

    def release_ballast(self) -> bool:
        """Free the ballast so that a metadata commit (a delete) finds room on a disk that
        filled up from outside; False if there was none."""
        try:
            os.unlink(self.root / BALLAST)
        except FileNotFoundError:
            return False
        logging.getLogger("objectstore.storage").warning(
            "out of space: released the %d-byte ballast %s for metadata commits",
            self.ballast_size, self.root / BALLAST)
        return True

    def sums(self, fd: int, blob_id: str, size: int) -> blocksums.Sums:
        """The block checksums of the blob open as ``fd`` holding ``size`` data bytes.
        Blobs never change, so checksums once read are remembered (a bounded number;
        an old-format blob's lack of them is not, since fsck --repair may add them)."""
        found = self._sums.get(blob_id)
        if found is not None and found.size == size:
            return found
        found = blocksums.Sums.load(fd, blob_id, size)
        if found.crcs is not None:
            if len(self._sums) >= SUMS_CACHED:
                self._sums.clear()
            self._sums[blob_id] = found
        return found

    def add_trailer(self, blob_id: str, size: int) -> bool:
        """Give an old-format blob (data only) its block checksums; False if it has some
        already or is not ``size`` bytes long."""
        fd = os.open(self.path(blob_id), os.O_RDWR)
        try:
            if os.fstat(fd).st_size != size:
                return False
            trailer = blocksums.encode(blocksums.compute(fd, size), size)
            os.pwrite(fd, trailer, size)  # one write: readers see all of it or nothing
            os.fsync(fd)
            return True
        finally:
            os.close(fd)

    def open(self, blob_id: str) -> int:
        """An open read-only descriptor; it keeps working if the blob is deleted meanwhile.
        The kernel reads ahead nothing through it: every page of a blob in the page cache
        must be one the server wrote or a check read, since streamed GETs trust cached
        windows (the disk here reads ahead 8 MiB, two whole windows)."""
        fd = os.open(self.path(blob_id), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        return fd

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        try:
            os.unlink(self.path(blob_id))
        except FileNotFoundError:
            pass

    def all_ids(self) -> Iterator[tuple[str, float]]:
        """Every blob with its mtime (for gc of orphans; a directory walk, off the hot path)."""
        for dirpath, _dirs, files in os.walk(self.blob_dir):
            for name in files:
                if len(name) != 32:
                    continue  # not a blob (an editor's or a tool's leftover)
                try:
                    yield name, os.stat(os.path.join(dirpath, name)).st_mtime
                except FileNotFoundError:
                    continue

    def clean_tmp(self, older_than: float, every: bool = False) -> int:
        """Remove temporary files of writes cut off more than ``older_than`` seconds ago
        (see ``stale_tmp``; ``every``: running gateways' too, by age alone — an operator's
        `gc`/`fsck`)."""
        removed = 0
        for path in self.stale_tmp(older_than, every):
            try:
                os.unlink(path)
                removed += 1
            except FileNotFoundError:
                continue
        return removed

    def stale_tmp(self, older_than: float, every: bool = False) -> Iterator[str]:
        """Temp files not touched for ``older_than`` seconds that may be removed: this
        gateway's, those directly in ``tmp/`` (earlier versions'), and those of gateways
        that are not running (nobody holds their ``.alive`` lock). A running gateway's
        directory is never swept by another's periodic sweep (only it knows which of its
        uploads are alive) unless ``every`` (the admin commands, with their own age)."""
        cutoff = time.time() - older_than
        own = os.path.realpath(self.tmp_dir)
        for entry in _entries(self.tmp_root):
            if entry.is_dir(follow_symlinks=False):
                if every or os.path.realpath(entry.path) == own:
                    yield from _old_files(entry.path, cutoff)
                    continue
                held = _hold_if_dead(Path(entry.path) / ALIVE)
                if held is None:
                    continue  # its gateway is running
                try:
                    yield from _old_files(entry.path, cutoff)
                finally:
                    os.close(held)
            elif not entry.name.startswith("."):
                yield from _old_files(self.tmp_root, cutoff, [entry])


ALIVE = ".alive"  # the lock file of a gateway's temp-file directory


def _entries(folder: Path | str) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(folder))
    except FileNotFoundError:
        return []


def _old_files(folder: Path | str, cutoff: float,
               entries: list[os.DirEntry[str]] | None = None) -> Iterator[str]:
    for entry in entries if entries is not None else _entries(folder):
        if entry.name.startswith("."):
            continue  # the .alive lock file
        try:
            if entry.is_file(follow_symlinks=False) and \
                    entry.stat(follow_symlinks=False).st_mtime < cutoff:
                yield entry.path
        except FileNotFoundError:
            continue


def _hold_if_dead(alive: Path) -> int | None:
    """An fd holding ``alive``'s exclusive lock when no gateway holds it (None while one
    does). A directory without the file (made by hand, or mid-creation) counts as live
    until it is older than a minute."""
    try:
        fd = os.open(alive, os.O_RDWR)  # for writing: an exclusive lock on NFS needs it
    except FileNotFoundError:
        try:
            if os.stat(alive.parent).st_mtime > time.time() - 60:
                return None
        except FileNotFoundError:
            return None
        return os.open(os.devnull, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


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
            fd = os.open(entry.path, os.O_RDWR)  # for writing: NFS's exclusive locks need it
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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
