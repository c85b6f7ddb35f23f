"""A/B of --blob-read mmap against pread in one source tree: GETs of one object size,
alternating, one keep-alive connection (issue 12: what reading blobs with pread, as on a
network file system, costs on a local disk).

    python bench/blob_read.py --size 1M --rounds 8

Each round starts a fresh server with OBJECTSTORE_BLOB_READ set, writes 20 objects of
``--size``, reads them once (into the page cache, as a warm server has them), then times
``--count`` GETs and reads the server's CPU time from /proc. Prints each round and the
medians: requests (and MB) per second and server CPU µs per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import conn, cpu_seconds, ensure_bucket, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

BUCKET = "bench-blob-read"
SIZES = {"4K": 4096, "64K": 64 << 10, "256K": 256 << 10, "1M": 1 << 20, "16M": 16 << 20}


def one_round(mode: str, size: int, count: int) -> tuple[float, float]:
    os.environ["OBJECTSTORE_BLOB_READ"] = mode
    srv = Server("objectstore", "objectstore", scratch("bench-br-"))
    srv.start()
    try:
        t = srv.target
        c = conn(t)
        body = os.urandom(size)
        ensure_bucket(t, BUCKET)
        for i in range(20):
            request(c, "PUT", t.presign("PUT", BUCKET, f"o{i}"), body,
                    {"Content-Length": str(size)})
        sink = bytearray(size)
        urls = [t.presign("GET", BUCKET, f"o{i % 20}") for i in range(count)]
        for url in urls[:20]:
            request(c, "GET", url, sink=sink)
        cpu, start = cpu_seconds(srv.pid), time.perf_counter()
        for url in urls:
            st, n, _ = request(c, "GET", url, sink=sink)
            assert st == 200 and n == size, (st, n)
        elapsed = time.perf_counter() - start
        return count / elapsed, (cpu_seconds(srv.pid) - cpu) / count * 1e6
    finally:
        srv.stop()
        os.environ.pop("OBJECTSTORE_BLOB_READ", None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=sorted(SIZES), default="1M")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--count", type=int)
    args = ap.parse_args(argv)
    size = SIZES[args.size]
    count = args.count or max(200, min(4000, (400 << 20) // size))
    results: dict[str, list[tuple[float, float]]] = {"mmap": [], "pread": []}
    for r in range(args.rounds):
        order = ["mmap", "pread"] if r % 2 == 0 else ["pread", "mmap"]
        for mode in order:
            rate, cpu = one_round(mode, size, count)
            results[mode].append((rate, cpu))
            print(f"round {r + 1} {mode}: {rate:,.0f}/s, {cpu:.0f} µs server CPU", flush=True)
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for k, v in results.items()}
    (rm, cm), (rp, cp) = med["mmap"], med["pread"]
    mb = size / 1e6
    print(f"{args.size} GET: mmap {rm:,.0f}/s ({rm * mb:,.0f} MB/s) -> pread {rp:,.0f}/s "
          f"({rp * mb:,.0f} MB/s) ({100 * (rp / rm - 1):+.1f}%), server CPU {cm:.0f} -> "
          f"{cp:.0f} µs ({100 * (cp / cm - 1):+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
