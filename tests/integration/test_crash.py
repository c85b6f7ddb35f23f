"""Kill -9 at random moments under concurrent writes: a short run of the crash harness
(the long soak: `python tests/integration/crash_harness.py --cycles 100`)."""

from __future__ import annotations

import signal
from pathlib import Path

from crash_harness import BUCKETS, KEYS, Content, CrashTest, crash_server, run


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
