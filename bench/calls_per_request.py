"""Python calls per 4 KiB GET and PUT of two source trees: cProfile around `serve` (its
main thread, where requests run), 500 then 1,500 requests, (calls(1500) - calls(500)) /
1000. Deterministic where timings on a shared machine are not.

    python bench/calls_per_request.py /path/to/before/checkout /path/to/after/checkout
"""

from __future__ import annotations

import os
import pstats
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import conn, ensure_bucket, request  # noqa: E402
from servers import Server  # noqa: E402


def calls(tree: str, op: str, n: int) -> int:
    os.environ["PYTHONPATH"] = tree + "/src"
    work = tempfile.mkdtemp(prefix="calls-")
    prof = os.path.join(work, "p.prof")
    srv = Server("objectstore", "objectstore", Path(work))
    plain = srv.command

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        cmd, env = plain(port)
        return [sys.executable, "-m", "cProfile", "-o", prof, *cmd[1:]], env
    srv.command = command  # type: ignore[method-assign]
    srv.start()
    t = srv.target
    c = conn(t)
    body = os.urandom(4096)
    ensure_bucket(t, "calls")
    for i in range(20):
        request(c, "PUT", t.presign("PUT", "calls", f"w{i}"), body,
                {"Content-Length": "4096"})
    for i in range(n):
        if op == "get":
            st, _, _ = request(c, "GET", t.presign("GET", "calls", f"w{i % 20}"))
        else:
            st, _, _ = request(c, "PUT", t.presign("PUT", "calls", f"k{i}"), body,
                               {"Content-Length": "4096"})
        assert st == 200
    c.close()
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGINT)
    srv.proc.wait(30)
    return int(pstats.Stats(prof).total_calls)  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    for op in ("get", "put"):
        for tree in argv:
            a, b = calls(tree, op, 500), calls(tree, op, 1500)
            print(f"4 KiB {op.upper()} {tree}: {(b - a) / 1000:.1f} Python calls per request",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
