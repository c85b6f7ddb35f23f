"""Python function calls per plain 4 KiB GET and PUT, counted deterministically (no timing
noise): the App driven in-process through ASGI (no uvicorn, no sockets), presigned
requests by the admin, ``sys.setprofile`` counting every Python and built-in call.

    python bench/calls.py --trees /path/to/old/checkout,.   [--env OBJECTSTORE_METRICS=1]
    python bench/calls.py --time [--rounds 30]   # CPU µs per request: off / metrics / log

``--time``: four Apps of this tree in one process (metrics and the access log off, metrics
on, log on, both), batches of 200 requests interleaved round-robin, process CPU time per
batch, medians over the rounds: what metrics and the log cost per request, without the
network and with little of the machine's other load in the figure (fsync off, so the
relative cost is the worst case).

Each tree runs in its own process (PYTHONPATH=<tree>/src). For checking that a change adds
no work to the plain path (metrics and the access log off) — or how much it adds when on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r'''
import asyncio, json, os, sys, tempfile
from pathlib import Path
import boto3
from botocore.config import Config
from objectstore.config import Settings
from objectstore.server.app import build_app
from objectstore.service import accounts

AK, SK = "CALLSADMINKEY", "calls-secret-key-0123456789"
data = Path(tempfile.mkdtemp(prefix="bench-calls-"))
kw = {}
if os.environ.get("OBJECTSTORE_METRICS"):
    kw["metrics"] = True
if os.environ.get("OBJECTSTORE_ACCESS_LOG"):
    kw["access_log"] = os.environ["OBJECTSTORE_ACCESS_LOG"]
try:
    settings = Settings(data_dir=data, fsync=False, **kw)
except TypeError:
    settings = Settings(data_dir=data, fsync=False)
app = build_app(settings)
accounts.bootstrap(app.stores.meta, AK, SK)
served = app
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:3333", region_name="us-east-1",
                  aws_access_key_id=AK, aws_secret_access_key=SK,
                  config=Config(signature_version="s3v4"))
BODY = os.urandom(4096)

async def call(method, url, body=b""):
    path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
    headers = [(b"host", b"127.0.0.1:3333")]
    if method == "PUT":
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": "/" + path, "raw_path":
             ("/" + path).encode(), "query_string": query.encode(), "headers": headers,
             "scheme": "http", "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 3333),
             "http_version": "1.1"}
    sent = [body]
    async def receive():
        chunk = sent.pop() if sent else b""
        return {"type": "http.request", "body": chunk, "more_body": False}
    status = []
    async def send(msg):
        if msg["type"] == "http.response.start":
            status.append(msg["status"])
    await served(scope, receive, send)
    return status[0]

def presign(method, key):
    return s3.generate_presigned_url("put_object" if method == "PUT" else "get_object",
                                     Params={"Bucket": "calls", "Key": key})

async def main():
    assert await call("PUT", s3.generate_presigned_url("create_bucket",
                                                       Params={"Bucket": "calls"})) == 200
    for i in range(50):
        assert await call("PUT", presign("PUT", f"w{i}"), BODY) == 200
    out = {}
    if os.environ.get("BENCH_CALLS_TIME"):  # CPU µs per request instead of calls
        import time
        for op, n in (("GET", 3000), ("PUT", 600)):
            urls = [presign(op, f"w{i % 50}" if op == "GET" else f"t{i}") for i in range(n)]
            for u in urls[:100]:
                await call(op, u, BODY)
            t0 = time.process_time()
            for u in urls[100:]:
                await call(op, u, BODY)
            out[op] = (time.process_time() - t0) / (n - 100) * 1e6
        print(json.dumps(out))
        return
    for op in ("GET", "PUT"):
        urls = [presign(op, f"w{i % 50}" if op == "GET" else f"n{i}") for i in range(200)]
        for u in urls[:20]:  # warm caches
            await call(op, u, BODY)
        counts = [0]
        def prof(frame, event, arg):
            if event in ("call", "c_call"):
                counts[0] += 1
        sys.setprofile(prof)
        for u in urls[20:]:
            await call(op, u, BODY)
        sys.setprofile(None)
        out[op] = counts[0] / len(urls[20:])
    print(json.dumps(out))

asyncio.run(main())
app.stores.close()
'''


TIMED = r'''
import asyncio, json, os, statistics, sys, tempfile, time
from pathlib import Path
import boto3
from botocore.config import Config
from objectstore.config import Settings
from objectstore.server.app import build_app
from objectstore.service import accounts

AK, SK = "CALLSADMINKEY", "calls-secret-key-0123456789"
ROUNDS = int(sys.argv[1])
log_dir = Path(tempfile.mkdtemp(prefix="bench-calls-log-"))
CONFIGS = {"off": {}, "metrics on": {"metrics": True},
           "access log on": {"access_log": str(log_dir / "a.jsonl")},
           "both on": {"metrics": True, "access_log": str(log_dir / "b.jsonl")}}
apps = {}
for name, kw in CONFIGS.items():
    app = build_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-calls-")),
                             fsync=False, **kw))
    accounts.bootstrap(app.stores.meta, AK, SK)
    apps[name] = app
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:3333", region_name="us-east-1",
                  aws_access_key_id=AK, aws_secret_access_key=SK,
                  config=Config(signature_version="s3v4"))
BODY = os.urandom(4096)

async def call(served, method, url, body=b""):
    path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
    headers = [(b"host", b"127.0.0.1:3333")]
    if method == "PUT":
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": "/" + path, "raw_path":
             ("/" + path).encode(), "query_string": query.encode(), "headers": headers,
             "scheme": "http", "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 3333),
             "http_version": "1.1"}
    sent = [body]
    async def receive():
        return {"type": "http.request", "body": sent.pop() if sent else b"",
                "more_body": False}
    async def send(msg):
        pass
    await served(scope, receive, send)

def presign(method, key):
    return s3.generate_presigned_url("put_object" if method == "PUT" else "get_object",
                                     Params={"Bucket": "calls", "Key": key})

async def main():
    for served in apps.values():
        await call(served, "PUT", s3.generate_presigned_url("create_bucket",
                                                            Params={"Bucket": "calls"}))
        for i in range(50):
            await call(served, "PUT", presign("PUT", f"w{i}"), BODY)
    out = {}
    for op in ("GET", "PUT"):
        urls = [presign(op, f"w{i % 50}" if op == "GET" else f"n{i % 400}") for i in range(200)]
        times = {n: [] for n in apps}
        for r in range(ROUNDS + 1):
            names = list(apps)
            names = names[r % 4:] + names[:r % 4]
            for n in names:
                t0 = time.process_time()
                for u in urls:
                    await call(apps[n], op, u, BODY)
                if r:  # the first round warms up
                    times[n].append((time.process_time() - t0) / len(urls) * 1e6)
        out[op] = {n: (statistics.median(v), min(v)) for n, v in times.items()}
    print(json.dumps(out))

asyncio.run(main())
'''


def timed(rounds: int) -> int:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    out = subprocess.run([sys.executable, "-c", TIMED, str(rounds)], env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        return 1
    found = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"in-process CPU µs per request, {rounds} interleaved rounds (fsync off)\n")
    print("| request | metrics / log | CPU µs/req, median | vs off | best round | vs off |")
    print("|---|---|---:|---:|---:|---:|")
    for op, by in found.items():
        off_med, off_min = by["off"]
        for name, (med, best) in by.items():
            print(f"| 4 KiB {op} | {name} | {med:.1f} | {100 * (med / off_med - 1):+.1f}% | "
                  f"{best:.1f} | {100 * (best / off_min - 1):+.1f}% |")
    return 0


def cpu_of_trees(trees: list[str], rounds: int, pairs: list[str]) -> int:
    import statistics

    found: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(rounds):
        for tree in trees if r % 2 == 0 else list(reversed(trees)):
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve() / "src"),
                       BENCH_CALLS_TIME="1")
            for pair in pairs:
                k, _, v = pair.partition("=")
                env[k] = v
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                                 text=True, timeout=600)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            found[tree].append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = trees[0]
    for tree in trees:
        med = {op: statistics.median(x[op] for x in found[tree]) for op in ("GET", "PUT")}
        ref = {op: statistics.median(x[op] for x in found[base]) for op in ("GET", "PUT")}
        print(f"{tree}: in-process CPU per GET {med['GET']:.1f} µs "
              f"({100 * (med['GET'] / ref['GET'] - 1):+.1f}%), per PUT {med['PUT']:.1f} µs "
              f"({100 * (med['PUT'] / ref['PUT'] - 1):+.1f}%), medians of {rounds}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", help="comma-separated source trees (calls per request)")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the App")
    ap.add_argument("--time", action="store_true", help="CPU per request of this tree, "
                    "metrics / log off and on")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--cpu", action="store_true", help="with --trees: CPU µs per request "
                    "of each tree, fresh processes in alternating order, medians")
    args = ap.parse_args(argv)
    if args.time:
        return timed(args.rounds)
    if not args.trees:
        ap.error("--trees or --time")
    if args.cpu:
        return cpu_of_trees(args.trees.split(","), args.rounds, args.env)
    for tree in args.trees.split(","):
        env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve() / "src"))
        env.pop("OBJECTSTORE_METRICS", None)
        env.pop("OBJECTSTORE_ACCESS_LOG", None)
        for pair in args.env:
            k, _, v = pair.partition("=")
            env[k] = v
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                             text=True, timeout=600)
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        counts = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{tree} {' '.join(args.env) or '(off)'}: calls per GET {counts['GET']:.1f}, "
              f"per PUT {counts['PUT']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
