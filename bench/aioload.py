"""A lean closed-loop HTTP/1.1 load generator (asyncio + uvloop protocols, pre-built
requests, persistent connections). bench/ uses it where wrk cannot go: HEAD (wrk's parser
waits for the Content-Length body a HEAD response never has) and machines without wrk.
Same input and output as requests.lua:

    python bench/aioload.py PORT FILE_PREFIX THREADS CONNECTIONS DURATION MODE BODY_BYTES

reads FILE_PREFIX.0 .. FILE_PREFIX.(THREADS-1) ("METHOD /path?query" lines) and prints
one "BENCH requests=.. duration_us=.. p50_us=.. p99_us=.. err_status=.." line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Iterator


class Shared:
    def __init__(self, reqs: list[bytes], once: bool, deadline: float) -> None:
        self.reqs = reqs
        self.once = once
        self.deadline = deadline
        self.pos = 0
        self.lat: list[float] = []
        self.errors = 0
        self.last_end = 0.0

    def next(self) -> bytes | None:
        if time.perf_counter() >= self.deadline:
            return None
        n = self.pos
        self.pos += 1
        if self.once:
            if n >= len(self.reqs):
                self.last_end = self.last_end or time.perf_counter()
                return None
            return self.reqs[n]
        return self.reqs[n % len(self.reqs)]


class Client(asyncio.Protocol):
    """One connection; on a server-side close (HTTP/1.0, Connection: close) it hands over
    to a new connection, as wrk does."""

    def __init__(self, shared: Shared, done: asyncio.Future[None], port: int) -> None:
        self.s = shared
        self.done = done
        self.port = port
        self.buf = bytearray()
        self.head = False
        self.t = 0.0
        self.in_flight = False
        self.finished = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        req = self.s.next()
        assert self.transport is not None
        if req is None:
            self.finished = True
            self.transport.close()
            return
        self.head = req.startswith(b"HEAD ")
        self.t = time.perf_counter()
        self.in_flight = True
        self.transport.write(req)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        header = bytes(self.buf[:end]).lower()
        status = int(header[9:12])
        if self.head or status in (204, 304):
            need = 0
        else:
            i = header.find(b"\ncontent-length:")
            if i >= 0:
                j = header.find(b"\r", i + 1)
                need = int(header[i + 16: j if j > 0 else None])
            elif b"chunked" in header:
                if not self.buf.endswith(b"0\r\n\r\n"):
                    return
                need = len(self.buf) - end - 4
            else:
                need = 0
        if len(self.buf) - end - 4 < need:
            return
        del self.buf[:]
        self.in_flight = False
        self.s.lat.append(time.perf_counter() - self.t)
        if status >= 400:
            self.s.errors += 1
        if header.startswith(b"http/1.0") or b"\nconnection: close" in header:
            assert self.transport is not None
            self.transport.close()  # connection_lost opens the next connection
            return
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight:
            self.s.errors += 1
        if self.finished or time.perf_counter() >= self.s.deadline:
            if not self.done.done():
                self.done.set_result(None)
            return
        loop = asyncio.get_running_loop()
        loop.create_task(connect(self.s, self.done, self.port))


async def connect(shared: Shared, done: asyncio.Future[None], port: int) -> None:
    loop = asyncio.get_running_loop()
    try:
        await loop.create_connection(lambda: Client(shared, done, port), "127.0.0.1", port)
    except OSError:
        shared.errors += 1
        if not done.done():
            done.set_result(None)


def load_requests(prefix: str, threads: int, host: str, body_size: int) -> list[bytes]:
    body = b"b" * body_size
    lines: list[list[str]] = []
    for i in range(threads):
        with open(f"{prefix}.{i}") as f:
            lines.append([ln.rstrip("\n") for ln in f if ln.strip()])

    def interleave() -> Iterator[str]:  # undo the round-robin split
        for k in range(max(len(x) for x in lines)):
            for x in lines:
                if k < len(x):
                    yield x[k]

    out = []
    for line in interleave():
        method, path = line.split(" ", 1)
        extra = f"Content-Length: {body_size}\r\n" if method == "PUT" else ""
        req = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()
        out.append(req + body if method == "PUT" else req)
    return out


async def main_async(port: int, reqs: list[bytes], conns: int, duration: float,
                     once: bool) -> tuple[Shared, float]:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    shared = Shared(reqs, once, start + duration)
    futs = []
    for _ in range(conns):
        fut: asyncio.Future[None] = loop.create_future()
        await connect(shared, fut, port)
        futs.append(fut)
    try:
        await asyncio.wait_for(asyncio.gather(*futs), duration + 60)
    except asyncio.TimeoutError:
        pass
    end = shared.last_end or time.perf_counter()
    return shared, end - start


def main() -> None:
    port, prefix, threads, conns, duration, mode, body = sys.argv[1:8]
    reqs = load_requests(prefix, int(threads), f"127.0.0.1:{port}", int(body))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    shared, secs = asyncio.run(main_async(int(port), reqs, int(conns), float(duration),
                                          mode == "once"))
    lat = sorted(shared.lat)

    def pct(p: float) -> int:
        return int(lat[min(len(lat) - 1, int(len(lat) * p))] * 1e6) if lat else 0

    mean = sum(lat) / len(lat) * 1e6 if lat else 0.0
    print(f"BENCH requests={len(lat)} duration_us={int(secs * 1e6)} bytes=0 "
          f"p50_us={pct(0.5)} p90_us={pct(0.9)} p99_us={pct(0.99)} mean_us={mean:.1f} "
          f"err_connect=0 err_read=0 err_write=0 err_status={shared.errors} err_timeout=0",
          flush=True)


if __name__ == "__main__":
    main()
