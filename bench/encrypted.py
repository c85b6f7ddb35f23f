"""objectstore with encryption at rest: 4 KiB and large PUT/GET, plain vs SSE-S3 vs SSE-C.

    python bench/encrypted.py                 # 1 GiB streams, 5 rounds (~3 min)
    python bench/encrypted.py --quick         # 256 MiB streams, 3 rounds
    python bench/encrypted.py --out /tmp/e.md

One objectstore (fsync on, as the benchmark's "objectstore" column, plus
--allow-sse-c-over-http) serves all three modes; the modes are interleaved round by round
and each figure is the median of the rounds, so machine noise hits every mode alike.
4 KiB rates are one keep-alive connection sending requests back to back (presigned URLs;
the SSE headers ride along unsigned), large ones a single streamed PUT and GET.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    GiB,
    MiB,
    RssSampler,
    Target,
    conn,
    emit_table,
    ensure_bucket,
    pattern,
    request,
    scratch,
)
from loads import _gen  # noqa: E402
from servers import Server  # noqa: E402

KEY = bytes(range(32))
MODES: dict[str, dict[str, str]] = {
    "plain": {},
    "SSE-S3": {"x-amz-server-side-encryption": "AES256"},
    "SSE-C": {"x-amz-server-side-encryption-customer-algorithm": "AES256",
              "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
              "x-amz-server-side-encryption-customer-key-md5":
                  base64.b64encode(hashlib.md5(KEY).digest()).decode()},
}


def read_headers(mode: str) -> dict[str, str]:
    return MODES[mode] if mode == "SSE-C" else {}


def small(t: Target, bucket: str, mode: str, seconds: float) -> tuple[float, float]:
    """4 KiB PUT and GET requests per second on one connection."""
    body = os.urandom(4096)
    c = conn(t)
    try:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            st, _, _ = request(c, "PUT", t.presign("PUT", bucket, f"{mode}/{n % 200}"), body,
                               {"Content-Length": "4096", **MODES[mode]})
            assert st == 200, st
            n += 1
        put = n / (time.perf_counter() - start)
        urls = [t.presign("GET", bucket, f"{mode}/{i}") for i in range(min(n, 200))]
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            st, size, _ = request(c, "GET", urls[n % len(urls)], None, read_headers(mode))
            assert st == 200 and size == 4096, st
            n += 1
        get = n / (time.perf_counter() - start)
    finally:
        c.close()
    return put, get


def stream(t: Target, bucket: str, mode: str, size: int, pid: int) -> tuple[float, float, int]:
    """MB/s of one streamed PUT and one streamed GET of ``size`` bytes; peak RSS."""
    block = pattern(MiB)
    c = conn(t, timeout=600)
    sampler = RssSampler(pid)
    try:
        with sampler:
            start = time.perf_counter()
            st, _, body = request(c, "PUT", t.presign("PUT", bucket, f"big-{mode}"),
                                  _gen(size, block), {"Content-Length": str(size),
                                                      **MODES[mode]})
            put = size / (time.perf_counter() - start) / 1e6
            assert st == 200, (st, body[:200])
            time.sleep(0.5)
            sink = bytearray(MiB)
            start = time.perf_counter()
            st, n, _ = request(c, "GET", t.presign("GET", bucket, f"big-{mode}"), None,
                               read_headers(mode), sink=sink)
            get = size / (time.perf_counter() - start) / 1e6
            assert st == 200 and n == size, (st, n)
    finally:
        c.close()
    return put, get, sampler.peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    size = 256 * MiB if args.quick else GiB
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = 2.0 if args.quick else 4.0
    work = scratch("bench-sse-")
    srv = Server("objectstore", "objectstore", work)
    orig = srv.command

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        cmd, env = orig(port)
        return [*cmd, "--allow-sse-c-over-http"], env
    srv.command = command  # type: ignore[method-assign]
    srv.start()
    results: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    try:
        t = srv.target
        ensure_bucket(t, "bench-sse")
        for r in range(rounds):
            for mode in MODES:
                put4k, get4k = small(t, "bench-sse", mode, seconds)
                put, get, peak = stream(t, "bench-sse", mode, size, srv.pid)
                for name, value in (("put4k", put4k), ("get4k", get4k), ("put", put),
                                    ("get", get), ("rss", peak / 1e6)):
                    results[mode].setdefault(name, []).append(value)
                print(f"round {r + 1} {mode}: 4 KiB PUT {put4k:,.0f}/s GET {get4k:,.0f}/s; "
                      f"{size // MiB} MiB PUT {put:,.0f} MB/s GET {get:,.0f} MB/s, peak RSS "
                      f"{peak / 1e6:.0f} MB", flush=True)
    finally:
        srv.stop()
    med = {m: {k: statistics.median(v) for k, v in d.items()} for m, d in results.items()}
    big = f"{size // MiB} MiB" if size < GiB else "1 GiB"
    lines = [f"| mode | 4 KiB PUT /s | 4 KiB GET /s | {big} PUT MB/s | {big} GET MB/s | "
             "GET vs plain | peak RSS MB |", "|---|---|---|---|---|---|---|"]
    for mode, v in med.items():
        lines.append(f"| {mode} | {v['put4k']:,.0f} | {v['get4k']:,.0f} | {v['put']:,.0f} | "
                     f"{v['get']:,.0f} | {100 * v['get'] / med['plain']['get']:.0f}% | "
                     f"{v['rss']:.0f} |")
    emit_table(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
