"""Where a server with metrics and the access log on spends its time, by sampling: the
share of the server's busy samples in the operators' code (server/observe.py,
server/jsonlog.py, server/metrics.py). Needs py-spy (pip install py-spy).

    python bench/observe_spy.py [on|off] [--seconds 8] [--rate 500]

One keep-alive connection of presigned 4 KiB GETs while `py-spy record` samples the
server. Unlike an A/B of two runs, the share does not move when the machine's speed does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import conn, ensure_bucket, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

MINE = ("server/observe.py", "server/jsonlog.py", "server/metrics.py")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("on", "off"), nargs="?", default="on")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rate", type=int, default=500)
    args = ap.parse_args(argv)
    work = scratch("bench-spy-")
    if args.mode == "on":
        os.environ["OBJECTSTORE_METRICS"] = "1"
        os.environ["OBJECTSTORE_ACCESS_LOG"] = str(work / "access.jsonl")
    srv = Server("objectstore", "objectstore", work)
    srv.start()
    try:
        t = srv.target
        c = conn(t)
        body = os.urandom(4096)
        ensure_bucket(t, "spy")
        for i in range(200):
            request(c, "PUT", t.presign("PUT", "spy", f"w{i}"), body,
                    {"Content-Length": "4096"})
        urls = [t.presign("GET", "spy", f"w{i % 200}") for i in range(20000)]
        raw = work / "samples.txt"
        spy = subprocess.Popen(["py-spy", "record", "-p", str(srv.pid), "-d",
                                str(int(args.seconds)), "-r", str(args.rate), "-f", "raw",
                                "-o", str(raw)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        start, n = time.time(), 0
        while time.time() - start < args.seconds + 0.5:
            request(c, "GET", urls[n % len(urls)])
            n += 1
        spy.wait()
        rate = n / (time.time() - start)
    finally:
        srv.stop()
    main_thread = mine = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "Thread._bootstrap" in stack.split(";")[0]:
            continue
        main_thread += int(count)
        if any(m in stack for m in MINE):
            mine += int(count)
    print(f"{args.mode}: {rate:,.0f} GET/s; {mine} of {main_thread} main-thread samples "
          f"({100 * mine / max(1, main_thread):.2f}%) in {', '.join(MINE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
