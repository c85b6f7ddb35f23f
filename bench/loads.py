"""Load generation: wrk (+ requests.lua) for small requests, a Python fallback loop, and
raw-http.client clients for the throughput workloads."""

from __future__ import annotations

import concurrent.futures as cf
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from common import MiB, RssSampler, Target, conn, cpu_seconds, request

HERE = Path(__file__).resolve().parent
LUA = HERE / "requests.lua"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    client_cpu: float = 0.0   # CPU seconds used by the load generator
    server_cpu: float = 0.0   # CPU seconds used by the server process
    tool: str = "wrk"
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def write_lines(prefix: Path, lines: list[str], threads: int, pad: int = 0) -> None:
    """Split lines round-robin into PREFIX.0 .. PREFIX.(threads-1); append `pad` repeats of
    each file's last line (idempotent repeats), so that the real lines have all been sent
    before wrk's once-mode stop drops the requests built in its final loop turn. Thread 0's
    file starts with a repeat of its first line, which wrk's script check consumes."""
    files = [open(f"{prefix}.{i}", "w") for i in range(threads)]
    lasts = [""] * threads
    try:
        if lines:  # wrk calls request() once on thread 0 to verify the script: a spare line
            files[0].write(lines[0] + "\n")
        for n, line in enumerate(lines):
            files[n % threads].write(line + "\n")
            lasts[n % threads] = line
        for f, last in zip(files, lasts, strict=True):
            if last:
                f.write((last + "\n") * pad)
    finally:
        for f in files:
            f.close()


def wrk_threads(connections: int) -> int:
    return 1 if connections == 1 else min(2, os.cpu_count() or 1)


def run_load(target: Target, lines: list[str], connections: int, duration: float,
             mode: str, body_size: int, workdir: Path, server_pid: int | None,
             use_wrk: bool = True) -> LoadResult:
    """Replay pre-signed requests at a fixed concurrency (closed loop) with wrk, or with
    aioload.py for HEAD (wrk hangs on bodiless responses with Content-Length) or when wrk
    is missing."""
    threads = wrk_threads(connections)
    prefix = workdir / f"reqs-{os.getpid()}-{time.monotonic_ns()}"
    pad = 2 * connections // threads if mode == "once" else 0
    write_lines(prefix, lines, threads, pad=pad)
    head = lines[0].startswith("HEAD ")
    tool = "wrk" if use_wrk and have_wrk() and not head else "aioload"
    if tool == "wrk":
        secs = max(1, round(duration))  # wrk takes whole seconds
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{secs}s",
               "--timeout", "20s", "-s", str(LUA), target.endpoint, "--", str(prefix), mode,
               str(body_size)]
    else:
        cmd = [sys.executable, str(HERE / "aioload.py"), str(target.port), str(prefix),
               str(threads), str(connections), f"{duration:g}", mode, str(body_size)]
    srv_cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    t0 = os.times()
    markers = [Path(f"{prefix}.done.{i}") for i in range(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hard = time.monotonic() + duration + 120
    interrupted = False
    try:
        while proc.poll() is None:
            if time.monotonic() > hard:
                proc.kill()
                break
            if (tool == "wrk" and mode == "once" and not interrupted
                    and all(mk.exists() for mk in markers)):
                proc.send_signal(signal.SIGINT)  # wrk then stops, reports and runs done()
                interrupted = True
            time.sleep(0.02)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t1 = os.times()
    srv_cpu = cpu_seconds(server_pid) - srv_cpu0 if server_pid else 0.0
    for i in range(threads):
        Path(f"{prefix}.{i}").unlink(missing_ok=True)
        markers[i].unlink(missing_ok=True)
    m = re.search(r"^BENCH (.*)$", stdout, re.M)
    if not m:
        raise RuntimeError(f"{tool} gave no result for {target.name}: "
                           f"{stdout[-1500:]} {stderr[-1500:]}")
    kv = {k: float(v) for k, v in (p.split("=") for p in m.group(1).split())}
    errs = int(sum(v for k, v in kv.items() if k.startswith("err_")))
    res = LoadResult(int(kv["requests"]), kv["duration_us"] / 1e6, kv["p50_us"] / 1000,
                     kv["p99_us"] / 1000, errs, tool=tool,
                     client_cpu=(t1.children_user + t1.children_system
                                 - t0.children_user - t0.children_system),
                     server_cpu=srv_cpu)
    res.notes.append(m.group(1))
    return res


# --- throughput workloads (raw http.client over persistent connections) --------------------

def _workers_rate(target: Target, threads: int, duration: float,
                  step: Callable[[http.client.HTTPConnection], int | None]) -> float:
    """MB/s moved by ``threads`` workers, each on its own persistent connection, calling
    ``step`` (bytes moved, None: stop) until ``duration`` seconds have passed."""
    def worker(deadline: float) -> int:
        c = conn(target)
        moved = 0
        try:
            while time.perf_counter() < deadline:
                n = step(c)
                if n is None:
                    break
                moved += n
        finally:
            c.close()
        return moved

    t = time.perf_counter()
    with cf.ThreadPoolExecutor(threads) as ex:
        total = sum(ex.map(worker, [t + duration] * threads))
    return total / (time.perf_counter() - t) / 1e6


def parallel_put_get(target: Target, bucket: str, size: int, threads: int, duration: float,
                     max_objects: int, prefix: str) -> tuple[float, float, int, int]:
    """`threads` workers PUT distinct objects of `size` bytes for up to `duration` s
    (or max_objects), then GET them back for up to `duration` s. Returns
    (PUT MB/s, GET MB/s, objects put, errors)."""
    data = os.urandom(size)
    counter = [0]
    lock = threading.Lock()
    errors = [0]

    def claim(limit: int) -> int | None:
        with lock:
            n = counter[0]
            if n >= limit:
                return None
            counter[0] += 1
            return n

    def put_step(c: http.client.HTTPConnection) -> int | None:
        n = claim(max_objects)
        if n is None:
            return None
        st, _, _ = request(c, "PUT", target.presign("PUT", bucket, f"{prefix}{n:06d}"),
                           data, {"Content-Length": str(size)})
        if st != 200:
            errors[0] += 1
        return size

    put_rate = _workers_rate(target, threads, duration, put_step)
    n_objects = counter[0]
    urls = [target.presign("GET", bucket, f"{prefix}{i:06d}") for i in range(n_objects)]
    counter[0] = 0
    sinks = threading.local()

    def get_step(c: http.client.HTTPConnection) -> int | None:
        buf = sinks.__dict__.setdefault("buf", bytearray(MiB))
        with lock:
            n = counter[0] % max(1, n_objects)
            counter[0] += 1
        st, nbytes, _ = request(c, "GET", urls[n], sink=buf)
        if st != 200 or nbytes != size:
            errors[0] += 1
        return nbytes

    get_rate = _workers_rate(target, threads, duration, get_step)
    return put_rate, get_rate, n_objects, errors[0]


def _gen(size: int, block: bytes) -> Iterator[memoryview]:
    view = memoryview(block)
    left = size
    while left > 0:
        n = min(left, len(block))
        yield view[:n]
        left -= n


def stream_put(target: Target, bucket: str, key: str, size: int, block: bytes,
               pid: int | None) -> tuple[float, int, int]:
    """One PUT of `size` bytes streamed from a generator. Returns (MB/s, peak RSS, status)."""
    c = conn(target, timeout=600)
    sampler = RssSampler(pid) if pid else None
    try:
        if sampler:
            sampler.__enter__()
        t = time.perf_counter()
        st, _, body = request(c, "PUT", target.presign("PUT", bucket, key), _gen(size, block),
                              {"Content-Length": str(size)})
        secs = time.perf_counter() - t
    finally:
        if sampler:
            sampler.__exit__()
        c.close()
    if st != 200:
        raise RuntimeError(f"{target.name}: streamed PUT -> {st} {body[:300]!r}")
    return size / secs / 1e6, sampler.peak if sampler else 0, st


def stream_get(target: Target, bucket: str, key: str, size: int,
               pid: int | None) -> tuple[float, int]:
    """One GET streamed into a 1 MiB sink. Returns (MB/s, peak RSS)."""
    c = conn(target, timeout=600)
    buf = bytearray(MiB)
    sampler = RssSampler(pid) if pid else None
    try:
        if sampler:
            sampler.__enter__()
        t = time.perf_counter()
        st, n, _ = request(c, "GET", target.presign("GET", bucket, key), sink=buf)
        secs = time.perf_counter() - t
    finally:
        if sampler:
            sampler.__exit__()
        c.close()
    if st != 200 or n != size:
        raise RuntimeError(f"{target.name}: streamed GET -> {st}, {n} of {size} bytes")
    return size / secs / 1e6, sampler.peak if sampler else 0


def multipart_upload(target: Target, bucket: str, key: str, size: int, part: int,
                     concurrency: int, pid: int | None) -> tuple[float, int]:
    """boto3 multipart upload (defaults: SigV4 with the payload SHA-256'd over plain HTTP)."""
    s3 = target.boto3()
    data = os.urandom(part)
    nparts = (size + part - 1) // part
    sampler = RssSampler(pid) if pid else None
    if sampler:
        sampler.__enter__()
    try:
        t = time.perf_counter()
        up = s3.create_multipart_upload(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        uid = up["UploadId"]

        def one(n: int) -> dict[str, object]:
            body = data if n * part <= size else data[: size - (n - 1) * part]
            r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid,  # type: ignore[attr-defined]
                               PartNumber=n, Body=body)
            return {"PartNumber": n, "ETag": r["ETag"]}

        with cf.ThreadPoolExecutor(concurrency) as ex:
            parts = list(ex.map(one, range(1, nparts + 1)))
        s3.complete_multipart_upload(  # type: ignore[attr-defined]
            Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
        secs = time.perf_counter() - t
    finally:
        if sampler:
            sampler.__exit__()
    return size / secs / 1e6, sampler.peak if sampler else 0


# --- listing ----------------------------------------------------------------------------

_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_KEYS = re.compile(rb"<Key>")


def list_pages(target: Target, bucket: str, total: int, pages: int,
               key_fmt: str) -> tuple[float, float, int]:
    """Time ListObjectsV2 pages of 1,000 keys: `pages` pages walked from the start with
    continuation tokens, and `pages` pages starting after keys spread through the bucket.
    Returns (median ms, max ms, keys seen on the first page)."""
    import html

    c = conn(target)
    times: list[float] = []
    first_count = 0
    try:
        for _ in range(2):  # warm-up, untimed
            request(c, "GET", target.presign("GET", bucket, "", {"list-type": "2",
                                                                 "max-keys": "1000"}))
        token = None
        for i in range(pages):
            params = {"list-type": "2", "max-keys": "1000"}
            if token:
                params["continuation-token"] = token
            t = time.perf_counter()
            st, _, body = request(c, "GET", target.presign("GET", bucket, "", params))
            times.append(time.perf_counter() - t)
            if st != 200:
                raise RuntimeError(f"{target.name}: list -> {st} {body[:300]!r}")
            if i == 0:
                first_count = len(_KEYS.findall(body))
            m = _TOKEN.search(body)
            if not m:
                break
            token = html.unescape(m.group(1).decode())
        step = max(1, total // (pages + 1))
        for i in range(1, pages + 1):
            params = {"list-type": "2", "max-keys": "1000",
                      "start-after": key_fmt.format(min(total - 1, i * step))}
            t = time.perf_counter()
            st, _, body = request(c, "GET", target.presign("GET", bucket, "", params))
            times.append(time.perf_counter() - t)
            if st != 200:
                raise RuntimeError(f"{target.name}: list -> {st} {body[:300]!r}")
    finally:
        c.close()
    return statistics.median(times) * 1000, max(times) * 1000, first_count


def conn_ok(port: int, url: str) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", url)
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False
