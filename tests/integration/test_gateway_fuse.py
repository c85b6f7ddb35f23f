"""A data directory on a FUSE file system (bindfs, where installed) is found to be shared:
cluster mode on its own, blobs read with pread and kept for the grace, and a warning that
SQLite there may be served from one machine only. A blob cut short through the file
system underneath ends one answer, not the gateway."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from harness import Server, new_server, read_until_cut, running

MiB = 1024 * 1024


@pytest.fixture
def fuse_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(mount point, the directory underneath it)."""
    if shutil.which("bindfs") is None or not os.path.exists("/dev/fuse"):
        pytest.skip("bindfs (FUSE) not available")
    lower, mnt = tmp_path / "lower", tmp_path / "mnt"
    lower.mkdir()
    mnt.mkdir()
    if subprocess.run(["bindfs", str(lower), str(mnt)], capture_output=True,
                      timeout=30).returncode != 0:
        pytest.skip("cannot mount FUSE here")
    try:
        yield mnt, lower
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], capture_output=True, timeout=30)


def test_a_fuse_data_directory_is_served_in_cluster_mode(
        fuse_dir: tuple[Path, Path]) -> None:
    mnt, lower = fuse_dir
    srv: Server = new_server(mnt / "data", "FUSE")
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket="fuse", ACL="public-read")
        body = os.urandom(24 * MiB)
        s3.put_object(Bucket="fuse", Key="big", Body=body, ACL="public-read")
        log = srv.log_path.read_text() if srv.log_path else ""
        assert "cluster mode: gateway" in log and "blobs read with pread" in log
        assert "unlinked 3600 s after" in log
        assert "WARNING: the data directory is on a network file system (fuse)" in log
        (blob,) = [p for p in (lower / "data" / "blobs").rglob("*")
                   if p.is_file() and len(p.name) == 32]
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", "/fuse/big")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read(MiB) == body[:MiB]
        os.truncate(blob, 0)  # another machine's doing, through the file system underneath
        read_until_cut(conn, resp)
        assert srv.proc is not None and srv.proc.poll() is None, "the gateway died"
        s3.put_object(Bucket="fuse", Key="small", Body=b"still serving")
        assert s3.get_object(Bucket="fuse", Key="small")["Body"].read() == b"still serving"
