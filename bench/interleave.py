"""Before/after comparison: `bench/run.py --quick` runs of two source trees, interleaved.

    python bench/interleave.py --before /path/to/old/checkout --after . --rounds 5

Each round runs the quick profile once against each tree (the server processes import
``objectstore`` from the tree's ``src/`` through PYTHONPATH; the harness itself is this
checkout's), alternating which goes first, and the objectstore column of every row is
collected. Prints a Markdown table of the per-row medians and the change, so a change on
the request path can be checked against the 3% rule without a quiet machine for an hour.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import scratch  # noqa: E402

WATCHED = ("4 KiB PUT", "4 KiB GET")  # with the single-stream rows: what the 3% rule names
LOWER_IS_BETTER = re.compile(r"\b(ms|MB)$")  # latency / memory rows (MB/s rows are rates)


def run_once(tree: Path, out: Path, only: str, extra: list[str]) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree.resolve() / "src"))
    subprocess.run([sys.executable, str(HERE / "run.py"), "--quick", "--only", only,
                    "--no-install", "--out", str(out), *extra], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return parse(out.read_text())


def parse(text: str) -> dict[str, float]:
    """The first numeric column (objectstore) of the main results table."""
    rows: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("## "):
            break  # the targets table repeats rows under other names
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("Workload", "Request") or cells[0].startswith("-"):
            continue
        m = re.match(r"^([\d,.]+)", cells[1])
        if m and cells[0] not in rows and not cells[0].startswith(("PUT,", "GET,", "HEAD,",
                                                                   "DELETE,")):
            rows[cells[0]] = float(m.group(1).replace(",", ""))
    return rows


def watched(row: str) -> bool:
    return row.startswith(WATCHED) or "one stream" in row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="checkout of the old code")
    ap.add_argument("--after", default=str(HERE.parent), help="checkout of the new code")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="objectstore")
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args, extra = ap.parse_known_args(argv)
    trees = {"before": Path(args.before), "after": Path(args.after)}
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    work = scratch("interleave-")
    for r in range(args.rounds):
        order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
        for name in order:
            got = run_once(trees[name], work / f"{name}-{r}.md", args.only, extra)
            results[name].append(got)
            print(f"round {r + 1}/{args.rounds} {name}: "
                  + ", ".join(f"{k} {v:g}" for k, v in got.items() if watched(k)),
                  file=sys.stderr, flush=True)
    lines = [f"Median of {args.rounds} interleaved `bench/run.py --quick` runs each "
             f"(objectstore column).", "",
             "| Row | before | after | change |", "|---|---:|---:|---:|"]
    for row in results["before"][0]:
        b = [x[row] for x in results["before"] if row in x]
        a = [x[row] for x in results["after"] if row in x]
        if not a or not b:
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        change = (ma - mb) / mb * 100 if mb else 0.0
        if LOWER_IS_BETTER.search(row.split(",")[-1].strip()):
            change = -change  # positive = better, on every row
        mark = " **" if watched(row) and change < -3 else ""
        lines.append(f"| {row} | {mb:,.4g} | {ma:,.4g} | {change:+.1f}%{mark} |")
    lines.append("")
    lines.append("change: positive is better (faster, or less time or memory); ** marks a "
                 "watched row more than 3% worse.")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
