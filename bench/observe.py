"""What metrics and the JSON access log cost: 4 KiB GET and PUT with both off, metrics on,
the access log on, and both, in alternating rounds on one tree (bench/ab.py's round: a
fresh server, one keep-alive connection, presigned requests, the server's CPU from /proc).

    python bench/observe.py --rounds 8

Prints each round and a Markdown table of the medians (requests per second and server CPU
µs per request, each against "off") for docs/benchmarks.md. For "off" against the tree
before the hooks existed, use bench/ab.py --before <old checkout>.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ab import one_round  # noqa: E402
from common import scratch  # noqa: E402

CONFIGS: dict[str, dict[str, str]] = {
    "off": {},
    "metrics on": {"OBJECTSTORE_METRICS": "1"},
    "access log on": {"OBJECTSTORE_ACCESS_LOG": "{log}"},
    "both on": {"OBJECTSTORE_METRICS": "1", "OBJECTSTORE_ACCESS_LOG": "{log}"},
}
KNOBS = ("OBJECTSTORE_METRICS", "OBJECTSTORE_ACCESS_LOG")


def run(tree: Path, op: str, count: int, config: dict[str, str], log: Path
        ) -> tuple[float, float]:
    for k in KNOBS:
        os.environ.pop(k, None)
    for k, v in config.items():
        os.environ[k] = v.format(log=log)
    try:
        return one_round(tree, op, count)
    finally:
        for k in KNOBS:
            os.environ.pop(k, None)
        log.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, default=Path("."))
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--ops", default="get,put")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    args = ap.parse_args(argv)
    log = scratch("bench-observe-") / "access.jsonl"
    names = [c.strip() for c in args.configs.split(",")]
    rows = []
    for op in args.ops.split(","):
        count = 4000 if op == "get" else 1500
        results: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]  # rotate the order
            for name in order:
                rate, cpu = run(args.tree, op, count, CONFIGS[name], log)
                results[name].append((rate, cpu))
                print(f"{op} round {r + 1} {name}: {rate:,.0f}/s, {cpu:.0f} µs server CPU",
                      flush=True)
        med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for n, v in results.items()}
        base_rate, base_cpu = med[names[0]]
        for n in names:
            rate, cpu = med[n]
            rows.append(f"| 4 KiB {op.upper()} | {n} | {rate:,.0f} | "
                        f"{100 * (rate / base_rate - 1):+.1f}% | {cpu:.0f} | "
                        f"{100 * (cpu / base_cpu - 1):+.1f}% |")
    print(f"\nmedians of {args.rounds} rounds\n")
    print("| request | metrics / log | req/s | vs off | server CPU µs/req | vs off |")
    print("|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
