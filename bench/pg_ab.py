"""4 KiB GET/PUT of one gateway on SQLite vs on PostgreSQL, alternating rounds (ab.py's loop).

    python bench/pg_ab.py --op get --rounds 6      # OBJECTSTORE_TEST_PG_URL, or a private
                                                   # cluster (durable: fsync on)
    python bench/pg_ab.py --op put --gateways 2    # PostgreSQL: 1 gateway x 2 connections
                                                   # vs 2 gateways x 1 connection each

Each PostgreSQL round gets a new database. Prints each round and the medians; the issue's
target is PostgreSQL >= 50% of SQLite's rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from ab import BUCKET, one_round  # noqa: E402
from common import conn, ensure_bucket, medians, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

import pgtest  # noqa: E402


def gateways_round(tree: Path, op: str, count: int, url: str, gateways: int) -> float:
    """Requests per second of 2 client threads, each on its own connection, against one
    gateway or (``gateways`` 2) one gateway each; all on one database and data dir."""
    import threading
    import time

    os.environ["PYTHONPATH"] = str(tree.resolve() / "src")
    os.environ["OBJECTSTORE_META_URL"] = url
    data = scratch("bench-gw-") / "data"
    servers = [Server("objectstore", f"gw{i}", data.parent, data_dir=data)
               for i in range(gateways)]
    try:
        for i, srv in enumerate(servers):
            srv.start(fresh=i == 0)
        targets = [servers[i % gateways].target for i in range(2)]
        ensure_bucket(targets[0], BUCKET)
        body = os.urandom(4096)
        c0 = conn(targets[0])
        for i in range(200):
            request(c0, "PUT", targets[0].presign("PUT", BUCKET, f"w{i}"), body,
                    {"Content-Length": "4096"})
        per = count // 2
        start = threading.Barrier(3)

        def drive(n: int) -> None:
            t = targets[n]
            c = conn(t)
            urls = [t.presign("GET", BUCKET, f"w{i % 200}") if op == "get" else
                    t.presign("PUT", BUCKET, f"g{n}-{i}") for i in range(per)]
            start.wait()
            for u in urls:
                st, _, _ = request(c, "GET", u) if op == "get" else \
                    request(c, "PUT", u, body, {"Content-Length": "4096"})
                assert st == 200, st
        threads = [threading.Thread(target=drive, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        return 2 * per / (time.perf_counter() - t0)
    finally:
        os.environ.pop("OBJECTSTORE_META_URL", None)
        for srv in servers:
            srv.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", choices=("get", "put"), default="get")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--count", type=int)
    ap.add_argument("--gateways", type=int, choices=(1, 2), default=1)
    args = ap.parse_args(argv)
    count = args.count or (4000 if args.op == "get" else 1500)
    os.environ["OBJECTSTORE_TEST_PG_DURABLE"] = "1"
    cluster = pgtest.start()
    tree = HERE.parent
    if args.gateways == 2:
        return two_gateways(cluster, tree, args.op, count, args.rounds)
    results: dict[str, list[tuple[float, float]]] = {"sqlite": [], "postgresql": []}
    try:
        for r in range(args.rounds):
            order = ["sqlite", "postgresql"] if r % 2 == 0 else ["postgresql", "sqlite"]
            for name in order:
                url = cluster.new_database("bench") if name == "postgresql" else None
                if url:
                    os.environ["OBJECTSTORE_META_URL"] = url
                else:
                    os.environ.pop("OBJECTSTORE_META_URL", None)
                try:
                    rate, cpu = one_round(tree, args.op, count)
                finally:
                    os.environ.pop("OBJECTSTORE_META_URL", None)
                    if url:
                        cluster.drop_database(url)
                results[name].append((rate, cpu))
                print(f"round {r + 1} {name}: {rate:,.0f}/s, {cpu:.0f} µs server CPU",
                      flush=True)
    finally:
        cluster.stop()
    med = medians(results)
    (rs, cs), (rp, cp) = med["sqlite"], med["postgresql"]
    print(f"4 KiB {args.op.upper()}: SQLite {rs:,.0f}/s, PostgreSQL {rp:,.0f}/s "
          f"({100 * rp / rs:.0f}% of SQLite); server CPU {cs:.0f} vs {cp:.0f} µs")
    return 0


def two_gateways(cluster: pgtest.Cluster, tree: Path, op: str, count: int,
                 rounds: int) -> int:
    rates: dict[int, list[float]] = {1: [], 2: []}
    try:
        for r in range(rounds):
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                url = cluster.new_database("gw")
                try:
                    rate = gateways_round(tree, op, count, url, n)
                finally:
                    cluster.drop_database(url)
                rates[n].append(rate)
                print(f"round {r + 1}, {n} gateway(s), 2 connections: {rate:,.0f}/s",
                      flush=True)
    finally:
        cluster.stop()
    one, two = (statistics.median(rates[n]) for n in (1, 2))
    print(f"4 KiB {op.upper()} on PostgreSQL, 2 connections: one gateway {one:,.0f}/s, "
          f"two gateways {two:,.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
