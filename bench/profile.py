"""Profile objectstore under the benchmark's 4 KiB load with py-spy (pip install py-spy).

    python bench/profile.py [--ops get,put] [--seconds 10] [--connections 32] [--no-fsync]
                            [--out-dir /tmp/objectstore-profile]

Starts `objectstore serve` on a scratch data dir, creates the 4 KiB objects, and for each
operation runs the same wrk load as bench/run.py while `py-spy record` samples the server.
Writes OP.svg (flame graph) and OP.txt (collapsed stacks) to --out-dir and prints the
hottest functions by own time and by inclusive time.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loads  # noqa: E402
from common import ensure_bucket  # noqa: E402
from servers import Server  # noqa: E402


def top(collapsed: Path, n: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        # one entry per function: "func (file.py:LINE)" -> "func (file.py)"
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    if not total:
        return "no samples\n"
    out = [f"{total} samples\n", f"top {n} by own time:"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(n)]
    out.append(f"top {n} by inclusive time (objectstore frames):")
    mine = [(f, c) for f, c in incl.most_common() if "objectstore" in f]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in mine[:n]]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", default="get,put")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--no-fsync", action="store_true")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--out-dir", default="/tmp/objectstore-profile")
    ap.add_argument("--report", metavar="TXT", help="only summarise an existing OP.txt")
    args = ap.parse_args()
    if args.report:
        print(top(Path(args.report), args.top))
        return 0
    if not shutil.which("py-spy"):
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="objectstore-profile-"))
    srv = Server("objectstore-nofsync" if args.no_fsync else "objectstore", "objectstore", work)
    srv.start()
    try:
        t = srv.target
        ensure_bucket(t, "bench-small")
        keys = [f"obj/{i:05d}" for i in range(1000)]
        loads.run_load(t, ["PUT " + t.presign("PUT", "bench-small", k) for k in keys], 32, 600,
                       "once", 4096, work, srv.pid)
        for op in args.ops.split(","):
            op = op.strip().upper()
            if op == "PUT":
                lines = ["PUT " + t.presign("PUT", "bench-small", f"p/{i:07d}")
                         for i in range(200_000)]
                mode, body = "once", 4096
            else:
                lines = [f"{op} " + t.presign(op, "bench-small", k) for k in keys]
                mode, body = "loop", 0
            raw = out_dir / f"{op.lower()}.txt"
            svg = out_dir / f"{op.lower()}.svg"
            spy = [["py-spy", "record", "--pid", str(srv.pid), "--duration", str(args.seconds),
                    "--rate", "200", "--format", fmt, "-o", str(path)]
                   for fmt, path in (("raw", raw), ("flamegraph", svg))]
            # two passes (py-spy writes one format per run): collapsed stacks, then the svg
            for cmd in spy:
                p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                r = loads.run_load(t, lines, args.connections, args.seconds, mode, body, work,
                                   srv.pid)
                p.wait(timeout=120)
                if p.returncode != 0:
                    print(p.stderr.read().decode()[-1000:] if p.stderr else "", file=sys.stderr)
            print(f"== {op} c={args.connections}: {r.rate:,.0f}/s under py-spy "
                  f"(p50 {r.p50_ms:.1f} ms); {svg}")
            print(top(raw, args.top))
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
