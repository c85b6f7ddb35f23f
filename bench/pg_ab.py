"""4 KiB GET/PUT of one gateway on SQLite vs on PostgreSQL, alternating rounds (ab.py's loop).

    python bench/pg_ab.py --op get --rounds 6      # OBJECTSTORE_TEST_PG_URL, or a private
                                                   # cluster (durable: fsync on)

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

from ab import one_round  # noqa: E402

import pgtest  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", choices=("get", "put"), default="get")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--count", type=int)
    args = ap.parse_args(argv)
    count = args.count or (4000 if args.op == "get" else 1500)
    os.environ["OBJECTSTORE_TEST_PG_DURABLE"] = "1"
    cluster = pgtest.start()
    tree = HERE.parent
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
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for k, v in results.items()}
    (rs, cs), (rp, cp) = med["sqlite"], med["postgresql"]
    print(f"4 KiB {args.op.upper()}: SQLite {rs:,.0f}/s, PostgreSQL {rp:,.0f}/s "
          f"({100 * rp / rs:.0f}% of SQLite); server CPU {cs:.0f} vs {cp:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
