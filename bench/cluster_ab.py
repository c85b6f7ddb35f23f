"""SQLite gateway vs one PostgreSQL gateway vs two PostgreSQL gateways, alternating rounds.

    python bench/cluster_ab.py --rounds 5 [--connections 4] [--port-base 3431]

Each round starts, in an order that rotates from round to round, three set-ups on fresh
data directories (and a new PostgreSQL database each):

- ``sqlite``: one `objectstore serve` on SQLite (the default, one machine);
- ``pg-1``: one gateway on PostgreSQL;
- ``pg-2``: two gateways on one PostgreSQL database and one data directory, the client
  connections spread across both (half on each).

and times, on ``--connections`` keep-alive connections driven by as many threads: 4 KiB
GETs, 4 KiB PUTs, 1 MiB PUTs (presigned URLs made beforehand). Prints each round and the
medians: requests per second, and server CPU per request (the gateways, plus PostgreSQL's
processes for the pg set-ups). PostgreSQL: OBJECTSTORE_TEST_PG_URL, or a private cluster
(tests/pgtest.py) with durable commits (fsync on), as SQLite's default is.

On a machine with few cores the two-gateway column measures contention, not scale: both
gateways, PostgreSQL and the client share the same cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import conn, cpu_seconds, ensure_bucket, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

import pgtest  # noqa: E402

BUCKET = "bench-cluster"
SETUPS = ("sqlite", "pg-1", "pg-2")
OPS = {"GET 4 KiB": ("GET", 4096), "PUT 4 KiB": ("PUT", 4096), "PUT 1 MiB": ("PUT", 1 << 20)}


def _postmaster(cluster: pgtest.Cluster) -> int | None:
    if cluster.directory is None:
        return None
    pidfile = cluster.directory / "data" / "postmaster.pid"
    return int(pidfile.read_text().split()[0])


def one_setup(tree: Path, setup: str, counts: dict[str, int], connections: int,
              cluster: pgtest.Cluster, ports: list[int]) -> dict[str, tuple[float, float]]:
    """{op: (requests per second, server CPU µs per request)} of one set-up."""
    os.environ["PYTHONPATH"] = str(tree.resolve() / "src")
    url = cluster.new_database("bench") if setup != "sqlite" else None
    if url:
        os.environ["OBJECTSTORE_META_URL"] = url
    else:
        os.environ.pop("OBJECTSTORE_META_URL", None)
    work = scratch("bench-cluster-")
    data = work / "data"
    n = 2 if setup == "pg-2" else 1
    servers = [Server("objectstore", f"{setup}-gw{i}", work, data_dir=data) for i in range(n)]
    pids = [p for p in [_postmaster(cluster)] if p is not None and url]
    out: dict[str, tuple[float, float]] = {}
    try:
        for i, srv in enumerate(servers):
            srv.start(fresh=i == 0, port=ports[i] if ports else None)
        targets = [servers[i % n].target for i in range(connections)]
        ensure_bucket(targets[0], BUCKET)
        small = os.urandom(4096)
        c0 = conn(targets[0])
        for i in range(200):
            request(c0, "PUT", targets[0].presign("PUT", BUCKET, f"w{i}"), small,
                    {"Content-Length": "4096"})
        c0.close()
        for name, (method, size) in OPS.items():
            body = small if size == 4096 else os.urandom(size)
            per = counts[name] // connections
            start = threading.Barrier(connections + 1)
            failed: list[str] = []

            def drive(k: int, method: str = method, body: bytes = body, per: int = per,
                      start: threading.Barrier = start, failed: list[str] = failed,
                      tag: str = name.replace(" ", "")) -> None:
                t = targets[k]
                c = conn(t)
                urls = [t.presign("GET", BUCKET, f"w{i % 200}") if method == "GET" else
                        t.presign("PUT", BUCKET, f"{tag}-{k}-{i}") for i in range(per)]
                headers = {"Content-Length": str(len(body))}
                start.wait()
                for u in urls:
                    st, _, _ = request(c, "GET", u) if method == "GET" else \
                        request(c, "PUT", u, body, headers)
                    if st != 200:
                        failed.append(f"{method} {st}")
                        return
                c.close()
            threads = [threading.Thread(target=drive, args=(k,)) for k in range(connections)]
            for t in threads:
                t.start()
            start.wait()
            cpu0 = sum(cpu_seconds(s.pid) for s in servers) + sum(map(cpu_seconds, pids))
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
            cpu = sum(cpu_seconds(s.pid) for s in servers) + sum(map(cpu_seconds, pids)) - cpu0
            assert not failed, failed
            done = per * connections
            out[name] = (done / elapsed, cpu / done * 1e6)
    finally:
        os.environ.pop("OBJECTSTORE_META_URL", None)
        for srv in servers:
            srv.stop()
        if url:
            cluster.drop_database(url)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the request counts")
    ap.add_argument("--port-base", type=int, default=0,
                    help="gateways on PORT and PORT+1 (default: free ports)")
    ap.add_argument("--pg-port", type=int, default=0, help="the private cluster's port")
    args = ap.parse_args(argv)
    counts = {name: int(c * args.scale) for name, c in
              (("GET 4 KiB", 4000), ("PUT 4 KiB", 1600), ("PUT 1 MiB", 240))}
    ports = [args.port_base, args.port_base + 1] if args.port_base else []
    os.environ["OBJECTSTORE_TEST_PG_DURABLE"] = "1"
    cluster = pgtest.start(args.pg_port or None)
    tree = HERE.parent
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        s: {op: [] for op in OPS} for s in SETUPS}
    try:
        for r in range(args.rounds):
            order = SETUPS[r % 3:] + SETUPS[:r % 3]
            for setup in order:
                got = one_setup(tree, setup, counts, args.connections, cluster, ports)
                for op, v in got.items():
                    results[setup][op].append(v)
                print(f"round {r + 1} {setup}: " + ", ".join(
                    f"{op} {rate:,.0f}/s {cpu:,.0f} µs" for op, (rate, cpu) in got.items()),
                    flush=True)
    finally:
        cluster.stop()
    print(f"\nmedians of {args.rounds} rounds, {args.connections} connections "
          "(rate; server CPU per request, gateways + PostgreSQL)")
    print("| op | " + " | ".join(SETUPS) + " |")
    print("|---|" + "---|" * len(SETUPS))
    for op in OPS:
        cells = []
        for s in SETUPS:
            rate = statistics.median(v[0] for v in results[s][op])
            cpu = statistics.median(v[1] for v in results[s][op])
            cells.append(f"{rate:,.0f}/s ({cpu:,.0f} µs)")
        print(f"| {op} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
