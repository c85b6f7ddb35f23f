"""Finding and damaging an object's blob files on disk, for the storage-fault tests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from harness import META_URLS


def blob_paths(data_dir: Path, bucket: str, key: str) -> list[Path]:
    """The blob files of an object, in order (read from the metadata database)."""
    url = META_URLS.get(data_dir)
    if url is not None:  # the server keeps its metadata in PostgreSQL
        import psycopg

        with psycopg.connect(url) as pg:
            row = pg.execute("SELECT segments FROM objects WHERE bucket=%s AND key=%s",
                             (bucket, key)).fetchone()
    else:
        conn = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT segments FROM objects WHERE bucket=? AND key=?",
                               (bucket, key)).fetchone()
        finally:
            conn.close()
    assert row is not None, f"no object {bucket}/{key}"
    ids = [seg[0] for seg in json.loads(row[0]) if seg[0]]
    return [data_dir / "blobs" / b[:2] / b[2:4] / b for b in ids]


def flip_byte(path: Path, offset: int, *, evict: bool = True) -> None:
    """Damage one byte on the disk. With ``evict`` (bit rot as it happens) the file's pages
    then leave the page cache, so the server's next read of them comes from the disk."""
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(1)
        f.seek(offset)
        f.write(bytes([old[0] ^ 0xFF]))
        f.flush()
        os.fsync(f.fileno())
        if evict:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    url = META_URLS.get(data_dir)
    meta = ["--meta", url] if url else []
    return subprocess.run([sys.executable, "-m", "objectstore", *args, "--data-dir",
                           str(data_dir), *meta], capture_output=True, text=True, timeout=120)
