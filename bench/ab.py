"""A/B of one plain 4 KiB operation between two source trees, alternating, one connection.

    python bench/ab.py --before /path/to/old/checkout --after . --op get --rounds 12

Each round starts a fresh server from each tree (PYTHONPATH=<tree>/src), writes 200
objects, then times ``--count`` back-to-back presigned GETs (or PUTs) on one keep-alive
connection and reads the server's CPU time from /proc. Prints each round and the medians:
requests per second and server CPU µs per request (the figure other load on the machine
disturbs least). For checking the 3% rule on one row when the quick profile's run-to-run
noise is larger than the change.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import conn, cpu_seconds, ensure_bucket, medians, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

BUCKET = "bench-ab"


def one_round(tree: Path, op: str, count: int) -> tuple[float, float]:
    os.environ["PYTHONPATH"] = str(tree.resolve() / "src")
    srv = Server("objectstore", "objectstore", scratch("bench-ab-"))
    srv.start()
    try:
        t = srv.target
        c = conn(t)
        body = os.urandom(4096)
        ensure_bucket(t, BUCKET)
        for i in range(200):
            request(c, "PUT", t.presign("PUT", BUCKET, f"w{i}"), body,
                    {"Content-Length": "4096"})
        if op == "get":
            urls = [t.presign("GET", BUCKET, f"w{i % 200}") for i in range(count)]
        else:
            urls = [t.presign("PUT", BUCKET, f"k{i}") for i in range(count)]
        cpu, start = cpu_seconds(srv.pid), time.perf_counter()
        for url in urls:
            if op == "get":
                st, _, _ = request(c, "GET", url)
            else:
                st, _, _ = request(c, "PUT", url, body, {"Content-Length": "4096"})
            assert st == 200, st
        elapsed = time.perf_counter() - start
        return count / elapsed, (cpu_seconds(srv.pid) - cpu) / count * 1e6
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=Path("."))
    ap.add_argument("--op", choices=("get", "put"), default="get")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--count", type=int)
    args = ap.parse_args(argv)
    count = args.count or (4000 if args.op == "get" else 1500)
    trees = {"before": args.before, "after": args.after}
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    for r in range(args.rounds):
        order = list(trees.items()) if r % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            rate, cpu = one_round(tree, args.op, count)
            results[name].append((rate, cpu))
            print(f"round {r + 1} {name}: {rate:,.0f}/s, {cpu:.0f} µs server CPU", flush=True)
    med = medians(results)
    (rb, cb), (ra, ca) = med["before"], med["after"]
    print(f"4 KiB {args.op.upper()}: {rb:,.0f} -> {ra:,.0f} /s ({100 * (ra / rb - 1):+.1f}%), "
          f"server CPU {cb:.0f} -> {ca:.0f} µs ({100 * (ca / cb - 1):+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
