"""Temp files of uploads cut off by kill -9 are removed at start-up and by a periodic sweep,
once older than --tmp-max-age (issue 9, item 9): an upload still running keeps touching its
file, so a sweep by another process sharing the directory never takes it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from harness import Server, new_server, temp_files
from test_durability import PartialPut

MiB = 1024 * 1024


def _server(tmp_path: Path, *extra: str) -> Server:
    return new_server(tmp_path / "data", "TMPCLEAN", list(extra))


def _wait(cond: object, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_kill_9_mid_upload_then_restart_removes_the_temp_file(tmp_path: Path) -> None:
    srv = _server(tmp_path, "--tmp-max-age", "1")
    srv.start()
    data = srv.data_dir
    try:
        srv.client().create_bucket(Bucket="cut")
        put = PartialPut(srv, "cut", "big", 64 * MiB)
        try:
            put.send(8 * MiB, os.urandom(MiB))
            assert _wait(lambda: any(p.stat().st_size >= MiB for p in temp_files(data)))
            srv.stop(signal.SIGKILL)
        finally:
            put.close()
        left = temp_files(data)
        assert len(left) == 1, "the cut-off upload's temp file is there after the kill"
        time.sleep(1.2)  # older than --tmp-max-age now
        srv.start()
        assert temp_files(data) == []
        assert "removed 1 stale temp files" in (srv.log_path.read_text() if srv.log_path
                                                else "")
    finally:
        srv.stop(signal.SIGKILL)


def test_periodic_sweep_spares_running_uploads(tmp_path: Path) -> None:
    srv = _server(tmp_path, "--tmp-max-age", "2")
    srv.start()
    tmp = srv.data_dir / "tmp"
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="sweep")
        stale = tmp / ("e" * 32)  # as if left by another gateway that died
        stale.write_bytes(b"x" * 1000)
        old = time.time() - 60
        os.utime(stale, (old, old))
        put = PartialPut(srv, "sweep", "slow", 6 * MiB)
        try:
            chunk = os.urandom(256 * 1024)
            for _ in range(20):  # 4 s of a slow but live upload, past the age limit
                put.send(256 * 1024, chunk)
                time.sleep(0.2)
            assert not stale.exists(), "the stale file was swept while serving"
            put.send(6 * MiB - put.sent, chunk)
            assert put.conn.getresponse().status == 200  # the live upload's file was spared
        finally:
            put.close()
        assert s3.head_object(Bucket="sweep", Key="slow")["ContentLength"] == 6 * MiB
    finally:
        srv.stop(signal.SIGKILL)
