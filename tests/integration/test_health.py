"""Health endpoints (issue 12): /_health/live and /_health/ready, unauthenticated; ready
turns 503 when the blob directory refuses writes and while draining after SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests
from harness import Server, new_server, running
from observe_util import fresh_get


def _get(server: Server, what: str) -> requests.Response:
    return requests.get(f"{server.endpoint}/_health/{what}", timeout=10)


def test_live_and_ready(server: Server) -> None:
    r = _get(server, "live")
    assert r.status_code == 200 and r.json() == {"status": "live"}
    assert r.headers["content-type"] == "application/json"
    r = _get(server, "ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"metadata": "ok", "blobs": "ok",
                                                      "draining": "ok"}}
    head = requests.head(f"{server.endpoint}/_health/ready", timeout=10)
    assert head.status_code == 200 and head.content == b""
    # unauthenticated even when a client sends a bad signature
    r = requests.get(f"{server.endpoint}/_health/live", timeout=10,
                     headers={"Authorization": "AWS4-HMAC-SHA256 garbage"})
    assert r.status_code == 200
    assert _get(server, "nothing").status_code == 404
    r = requests.post(f"{server.endpoint}/_health/ready", timeout=10)
    assert r.status_code == 405 and b"<Code>MethodNotAllowed</Code>" in r.content


def _mount(*args: str) -> None:
    res = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"cannot mount ({res.stderr.strip()})")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "data" / "tmp"  # where uploads are written, on its own file system
    mnt.mkdir(parents=True)
    _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def _wait_status(server: Server, status: int, timeout: float = 10.0) -> requests.Response:
    deadline = time.time() + timeout
    while True:
        r = _get(server, "ready")
        if r.status_code == status or time.time() > deadline:
            return r
        time.sleep(0.2)


def test_ready_turns_503_when_blobs_unwritable(tmpfs: Path) -> None:
    """The file system where uploads are written (DATA_DIR/tmp, its own mount here) turned
    read-only: ready answers 503 naming the blob check, and 200 again once writable."""
    data, mnt = tmpfs.parent, tmpfs
    with running(new_server(data, extra_args=["--min-free-space", "0"]),
                 sig=signal.SIGKILL) as server:
        assert _wait_status(server, 200).status_code == 200
        _mount("-o", "remount,ro", str(mnt))
        try:
            r = _wait_status(server, 503)
            assert r.status_code == 503, r.text
            assert r.json()["checks"]["blobs"] == "failed"
            assert r.json()["checks"]["metadata"] == "ok"
            assert r.json()["status"] == "not ready"
            assert _get(server, "live").status_code == 200  # alive all the same
        finally:
            _mount("-o", "remount,rw", str(mnt))
        assert _wait_status(server, 200).status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_drain_on_sigterm(tmp_path: Path, workers: int) -> None:
    """SIGTERM: ready answers 503 at once (every worker), S3 requests are still served
    for --drain-seconds, then the server stops cleanly."""
    server = new_server(tmp_path / "data", extra_args=["--drain-seconds", "3", "--workers",
                                                       str(workers)])
    server.start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="drain-bucket")
        s3.put_object(Bucket="drain-bucket", Key="k", Body=b"still served")
        assert _get(server, "ready").status_code == 200
        assert server.proc is not None
        t0 = time.time()
        server.proc.send_signal(signal.SIGTERM)
        r = _wait_status(server, 503, timeout=2)
        assert r.status_code == 503 and r.json()["checks"]["draining"] == "failed"
        assert time.time() - t0 < 2
        for _ in range(10):  # fresh connections: whichever worker answers is draining
            assert fresh_get(server, "/_health/ready")[0] == 503
        # S3 requests are still answered while the load balancer takes it out
        assert s3.get_object(Bucket="drain-bucket", Key="k")["Body"].read() == b"still served"
        assert _get(server, "live").status_code == 200
        code = server.proc.wait(timeout=20)
        took = time.time() - t0
        assert code == 0
        assert 2.5 <= took < 15, took
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
        server.proc = None
