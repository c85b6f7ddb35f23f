"""Well-behaved clients next to hostile connections, against a real `objectstore serve`.

GOOD keep-alive connections each run PUT, GET, HEAD, ListObjectsV2 and DELETE (SigV4
presigned, 4 KiB objects) in a loop, while BAD other connections hold the server's
attention without ever crossing a limit: half stay idle for most of the idle timeout before
each request, half send each request head a few bytes at a time, finishing it within most
of the head timeout. The server's connection cap is set above GOOD + BAD.

Reported: errors (any unexpected status, reset or client timeout, for both kinds of
client), latency percentiles of the well-behaved requests, the server's RSS before, at its
peak and SETTLE seconds after the load, and its open file descriptors before and after.

    python bench/hostile_load.py                       # 200 + 200 connections, 60 s, settle 60 s
    python bench/hostile_load.py --good 40 --bad 40 --duration 5 --settle 5 --json out.json

Exit status 1 if any error, RSS did not come back within 25 % of its level before, or
descriptors leaked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Target  # noqa: E402

BODY = b"x" * 4096
EXPECT = {"PUT": 200, "GET": 200, "HEAD": 200, "LIST": 200, "DELETE": 204}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    hostile_requests: int = 0
    hostile_reconnects: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = b"" if method == "HEAD" or status in (204, 304) else await reader.readexactly(length)
    return status, body


def request(target: Target, op: str, bucket: str, key: str) -> bytes:
    method = {"LIST": "GET"}.get(op, op)
    if op == "LIST":
        url = target.presign("GET", bucket, params={"list-type": "2", "prefix": key[:12]})
    else:
        url = target.presign(method, bucket, key)
    head = f"{method} {url} HTTP/1.1\r\nHost: {target.host}\r\n"
    if op == "PUT":
        return f"{head}Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY
    return f"{head}\r\n".encode()


async def good_client(target: Target, bucket: str, n: int, stop: float, stats: Stats) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    i = 0
    try:
        while time.monotonic() < stop:
            key = f"good-{n:04d}/k{i % 4}"
            for op in ("PUT", "GET", "HEAD", "LIST", "DELETE"):
                t0 = time.perf_counter()
                writer.write(request(target, op, bucket, key))
                try:
                    status, body = await asyncio.wait_for(read_response(reader, op), 30)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
                    stats.errors.append(f"good {op}: {exc!r}")
                    return
                stats.latencies.setdefault(op, []).append(time.perf_counter() - t0)
                if status != EXPECT[op] or (op == "GET" and body != BODY):
                    stats.errors.append(f"good {op}: {status} {body[:200]!r}")
            i += 1
    finally:
        writer.close()


async def hostile_client(target: Target, bucket: str, n: int, stop: float, stats: Stats,
                         idle_for: float, head_for: float) -> None:
    """Idle (even n) or slow-head (odd n), always just inside the server's limits."""
    slow = n % 2 == 1
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    try:
        while time.monotonic() < stop:
            data = request(target, "HEAD", bucket, "absent-key")
            if slow:
                pieces = 20
                step = len(data) // pieces + 1
                for k in range(0, len(data), step):
                    writer.write(data[k:k + step])
                    await asyncio.sleep(head_for / pieces)
            else:
                await asyncio.sleep(idle_for)
                writer.write(data)
            try:
                status, _ = await asyncio.wait_for(read_response(reader, "HEAD"), 30)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
                stats.errors.append(f"hostile {'slow' if slow else 'idle'}: {exc!r}")
                return
            if status != 404:
                stats.errors.append(f"hostile: {status}")
            stats.hostile_requests += 1
    finally:
        writer.close()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def load(target: Target, bucket: str, args: argparse.Namespace, pid: int,
               out: dict[str, object]) -> Stats:
    stats = Stats()
    stop = time.monotonic() + args.duration
    peak = [rss(pid)]
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss(pid))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    hostile = [hostile_client(target, bucket, n, stop, stats, args.idle_for, args.head_for)
               for n in range(args.bad)]
    good = [good_client(target, bucket, n, stop, stats) for n in range(args.good)]
    t0 = time.monotonic()
    hostile_done = asyncio.gather(*hostile)
    await asyncio.gather(*good)
    out["elapsed_s"] = round(time.monotonic() - t0, 1)  # of the well-behaved clients
    await hostile_done
    done.set()
    await sampler
    out["rss_peak_mb"] = round(peak[0] / 2**20, 1)
    return stats


def start_server(data: Path, port: int, target: Target, args: argparse.Namespace,
                 log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OBJECTSTORE_ROOT_ACCESS_KEY=target.access_key,
               OBJECTSTORE_ROOT_SECRET_KEY=target.secret_key)
    cmd = [sys.executable, "-m", "objectstore", "serve", "--data-dir", str(data),
           "--port", str(port), "--max-connections", str(args.good + args.bad + 100)]
    if not args.fsync:
        cmd.append("--no-fsync")
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--good", type=int, default=200)
    ap.add_argument("--bad", type=int, default=200)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--settle", type=float, default=60.0,
                    help="seconds after the load before RSS and descriptors are measured")
    ap.add_argument("--idle-for", type=float, default=20.0,
                    help="seconds an idle client waits before each request (< idle timeout)")
    ap.add_argument("--head-for", type=float, default=20.0,
                    help="seconds a slow client takes to send each head (< head timeout)")
    ap.add_argument("--fsync", action="store_true", help="run the server with fsync")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hostile-load-"))
    port = free_port()
    target = Target("objectstore", port, "HOSTILE" + secrets.token_hex(4).upper(),
                    secrets.token_hex(20))
    log = work / "server.log"
    t_start = time.monotonic()
    proc = start_server(work / "data", port, target, args, log)
    out: dict[str, object] = {"good": args.good, "bad": args.bad, "duration_s": args.duration}
    try:
        s3 = target.boto3()
        bucket = "hostile-" + secrets.token_hex(4)
        s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        # warm up (every operation on a few connections), then measure the baseline
        asyncio.run(load(target, bucket, argparse.Namespace(
            good=8, bad=0, duration=1.0, idle_for=0, head_for=0), proc.pid, {}))
        time.sleep(0.5)
        rss0, fds0 = rss(proc.pid), fds(proc.pid)
        stats = asyncio.run(load(target, bucket, args, proc.pid, out))
        time.sleep(args.settle)
        rss1, fds1 = rss(proc.pid), fds(proc.pid)
        all_lat = [x for v in stats.latencies.values() for x in v]
        out.update({
            "errors": len(stats.errors), "first_errors": stats.errors[:10],
            "good_requests": len(all_lat),
            "good_req_per_s": round(len(all_lat) / max(float(out["elapsed_s"]), 1e-9), 1),
            "hostile_requests": stats.hostile_requests,
            "p50_ms": round(pct(all_lat, 0.50), 1) if all_lat else None,
            "p99_ms": round(pct(all_lat, 0.99), 1) if all_lat else None,
            "max_ms": round(max(all_lat) * 1000, 1) if all_lat else None,
            "p99_ms_by_op": {op: round(pct(v, 0.99), 1) for op, v in stats.latencies.items()},
            "rss_before_mb": round(rss0 / 2**20, 1), "rss_after_mb": round(rss1 / 2**20, 1),
            "settle_s": args.settle, "fds_before": fds0, "fds_after": fds1,
            "server_alive": proc.poll() is None,
        })
        if all_lat:
            out["mean_ms"] = round(statistics.fmean(all_lat) * 1000, 1)
        out["rss_within_25pct"] = rss1 <= rss0 * 1.25
        out["fd_leak"] = fds1 > fds0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        out["wall_s"] = round(time.monotonic() - t_start, 1)
        traceback = "Traceback" in log.read_text()
        out["server_traceback"] = traceback
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    ok = (out.get("errors") == 0 and out.get("rss_within_25pct") and not out.get("fd_leak")
          and not traceback)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
