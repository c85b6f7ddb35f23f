"""Kill -9 at random moments under concurrent writes: a short run of the crash harness
(the long soak: `python tests/integration/crash_harness.py --cycles 100`)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from crash_harness import BUCKETS, KEYS, Content, CrashTest, crash_server, new_client, run


def test_random_kills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    stats = run(tmp_path, cycles=8, threads=4, seed=20261130, min_run=0.3, max_run=1.5)
    summary = stats.summary()
    assert stats.failures == [], summary
    assert stats.kills == 8 and stats.cycles == 8
    assert summary["operations_acknowledged"] > 100, summary
    assert stats.verified_objects == 8 * len(BUCKETS) * len(KEYS)
    for op in ("PutObject", "CopyObject", "DeleteObject", "DeleteObjects",
               "CreateMultipartUpload", "UploadPart"):
        assert stats.acked[op] > 0, (op, summary)


def test_the_checker_notices_a_lost_write(tmp_path: Path) -> None:
    """The verifier is not vacuous: a write the model believes acknowledged but the server
    never got is reported after the next restart."""
    server = crash_server(tmp_path)
    server.start()
    try:
        test = CrashTest(server, threads=1, seed=1)
        test.setup()
        test.cycle(7)
        assert test.stats.failures == []
        slot = test.slots[(BUCKETS[0], KEYS[0])]
        slot.states = {Content.of(b"never written")}
        server.stop(signal.SIGKILL)
        server.start()
        test.verify()
        assert any(KEYS[0] in f for f in test.stats.failures), test.stats.failures
    finally:
        if server.proc is not None:
            server.stop(signal.SIGKILL)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its new parent) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_do_not_outlive_a_killed_serve_process(tmp_path: Path) -> None:
    """kill -9 of `serve --workers 2`: its workers stop serving within seconds (they used
    to serve on as orphans, and kept a restarted server off the port)."""
    server = crash_server(tmp_path)
    server.extra_args = ["--workers", "2"]
    server.start()
    kids: list[int] = []
    try:
        s3 = new_client(server)
        deadline = time.time() + 20
        while True:  # workers take a moment to start after the port opens
            try:
                s3.create_bucket(Bucket="orphans")
                break
            except Exception:  # noqa: BLE001
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        s3.put_object(Bucket="orphans", Key="k", Body=b"kept")
        assert server.proc is not None
        kids = _children(server.proc.pid)
        assert len(kids) >= 2, kids
        server.stop(signal.SIGKILL)
        deadline = time.time() + 15
        while any(_alive(k) for k in kids) and time.time() < deadline:
            time.sleep(0.2)
        assert not any(_alive(k) for k in kids), "workers outlived their serve process"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
        server.extra_args = []
        server.start()
        s3 = new_client(server)
        assert s3.get_object(Bucket="orphans", Key="k")["Body"].read() == b"kept"
    finally:
        if server.proc is not None:
            kids += _children(server.proc.pid)
            server.stop(signal.SIGKILL)
        for k in kids:  # whatever the outcome: no orphan left behind by this test
            if _alive(k):
                os.kill(k, signal.SIGKILL)
