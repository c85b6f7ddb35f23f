"""Shared helpers: SigV4 presigning (fast path), raw HTTP, ports, process RSS sampling."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import http.client
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

MiB = 1 << 20
GiB = 1 << 30


def scratch(prefix: str) -> Path:
    """A new temporary directory, removed when the benchmark exits (a run's data
    directories hold hundreds of MB to GB each)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def medians(results: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Per name, the medians of its rounds' (rate, server CPU) pairs."""
    return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
            for k, v in results.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _q(value: str, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


@dataclass
class Target:
    """One S3 endpoint under test (or the bare app) and the credentials it accepts."""

    name: str
    port: int
    access_key: str = "BENCHACCESSKEY"
    secret_key: str = "bench-secret-key-0123456789abcdef"
    region: str = "us-east-1"
    is_s3: bool = True

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}"

    def _signing_key(self, date: str) -> bytes:
        cache = self.__dict__.setdefault("_keys", {})
        key = cache.get(date)
        if key is None:
            k = ("AWS4" + self.secret_key).encode()
            for part in (date, self.region, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            cache[date] = key = k
        return key

    def presign(self, method: str, bucket: str, key: str = "",
                params: dict[str, str] | None = None, expires: int = 7200,
                now: datetime | None = None) -> str:
        """Path + query of a SigV4 query-signed (presigned) request; payload UNSIGNED."""
        now = now or datetime.now(timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        path = "/" + bucket + ("/" + _q(key, "-_.~/") if key else "")
        if not bucket:
            path = "/"
        q = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }
        if params:
            q.update(params)
        cq = "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(q.items()))
        creq = f"{method}\n{path}\n{cq}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        sts = ("AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n"
               + hashlib.sha256(creq.encode()).hexdigest())
        sig = hmac.new(self._signing_key(date), sts.encode(), hashlib.sha256).hexdigest()
        return f"{path}?{cq}&X-Amz-Signature={sig}"

    def boto3(self, **config: object) -> object:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 2},
                          max_pool_connections=32, **config))  # type: ignore[arg-type]


def conn(target: Target, timeout: float = 120.0) -> http.client.HTTPConnection:
    c = http.client.HTTPConnection("127.0.0.1", target.port, timeout=timeout)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def request(c: http.client.HTTPConnection, method: str, url: str, body: object = None,
            headers: dict[str, str] | None = None, sink: bytearray | None = None
            ) -> tuple[int, int, bytes]:
    """Send one request; returns (status, body length, body), or with `sink` the body
    is read into that buffer and not returned."""
    c.request(method, url, body=body, headers=headers or {})  # type: ignore[arg-type]
    r = c.getresponse()
    if sink is None:
        data = r.read()
        return r.status, len(data), data
    n = 0
    view = memoryview(sink)
    while True:
        got = r.readinto(view)
        if not got:
            break
        n += got
    return r.status, n, b""


def put_bytes(target: Target, bucket: str, key: str, data: bytes,
              c: http.client.HTTPConnection | None = None) -> int:
    own = c is None
    c = c or conn(target)
    try:
        status, _, body = request(c, "PUT", target.presign("PUT", bucket, key), data,
                                  {"Content-Length": str(len(data))})
        if status != 200:
            raise RuntimeError(f"{target.name}: PUT {key} -> {status} {body[:300]!r}")
        return status
    finally:
        if own:
            c.close()


def ensure_bucket(target: Target, bucket: str) -> None:
    c = conn(target)
    try:
        status, _, body = request(c, "PUT", target.presign("PUT", bucket), b"",
                                  {"Content-Length": "0"})
        if status not in (200, 409):
            raise RuntimeError(f"{target.name}: CreateBucket {bucket} -> {status} {body[:300]!r}")
    finally:
        c.close()


def pattern(size: int) -> bytes:
    """Incompressible-looking bytes (repeating a 1 MiB random block)."""
    block = os.urandom(min(size, MiB))
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


class RssSampler:
    """Polls /proc/PID/status (VmRSS) every `interval` s in a thread; peak in bytes."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> int:
        """VmRSS of the server and its child processes (`--workers N`), summed."""
        total = 0
        for pid in family(self.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self.peak = self._read()
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._read())


def rss_now(pid: int) -> int:
    s = RssSampler(pid)
    return s._read()


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (the worker processes of `serve --workers N`)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime+stime in seconds of a process, its live descendants and their reaped
    children, from /proc."""
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def fmt_bytes(n: float) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def now_s() -> float:
    return time.perf_counter()


def emit_table(lines: list[str], out: Path | None) -> None:
    """Print a Markdown table (its lines) and, with ``out``, write it there too."""
    table = "\n".join(lines) + "\n"
    print(table)
    if out is not None:
        out.write_text(table)
