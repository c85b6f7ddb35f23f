"""What the limits of server/protocol.py cost per request: uvicorn's httptools protocol and
objectstore's subclass, fed the same requests in-process (no sockets), interleaved.

    python bench/protocol_overhead.py [--rounds 15] [--requests 5000]

Prints the CPU time per request of the whole cycle (parsing, the limit checks, a trivial
app's task and its answer) for a signed GET head and a 4 KiB PUT, min and median over the
rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from time import thread_time
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from objectstore.server.protocol import LimitedHttpToolsProtocol

GET = (b"GET /bucket/key-0001 HTTP/1.1\r\nHost: 127.0.0.1:3333\r\n"
       b"Accept-Encoding: identity\r\nUser-Agent: Boto3/1.34 md/Botocore#1.34 ua/2.0 "
       b"os/linux lang/python#3.11\r\nX-Amz-Date: 20261130T000000Z\r\n"
       b"X-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\nAuthorization: AWS4-HMAC-SHA256 "
       b"Credential=AKIAEXAMPLE/20261130/us-east-1/s3/aws4_request, "
       b"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + b"a" * 64
       + b"\r\n\r\n")
PUT = (b"PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1:3333\r\nContent-Length: 4096\r\n"
       b"X-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\n\r\n" + b"b" * 4096)


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["method"] == "PUT":
        while (await receive()).get("more_body"):
            pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Transport:
    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 3333), "peername": ("127.0.0.1", 40000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def run(cls: type[HttpToolsProtocol], request: bytes, n: int) -> float:
    config = Config(app, loop="uvloop", http=cls, lifespan="off", log_level="warning")
    config.load()
    # a server always has timers pending (uvicorn's own tick every 0.1 s, keep-alive
    # timers); one here for both classes, so that the sweeper's timer does not tilt it
    tick = asyncio.get_running_loop().call_later(3600, lambda: None)
    proto = cls(config, ServerState(), {})
    proto.connection_made(Transport())  # type: ignore[arg-type]
    t0 = thread_time()  # CPU time of this thread: other processes' load does not count
    for _ in range(n):
        proto.data_received(request)
        await asyncio.sleep(0)  # let the app answer
        await asyncio.sleep(0)
    spent = (thread_time() - t0) / n * 1e6
    tick.cancel()
    return spent


async def main_async(rounds: int, n: int) -> None:
    for name, request in (("signed GET head", GET), ("4 KiB PUT", PUT)):
        times: dict[str, list[float]] = {}
        for _ in range(rounds):
            for cls in (HttpToolsProtocol, LimitedHttpToolsProtocol):
                times.setdefault(cls.__name__, []).append(await run(cls, request, n))
        for cls_name, values in times.items():
            values.sort()
            print(f"{name:16} {cls_name:26} µs/request: min {values[0]:.2f}  "
                  f"median {values[len(values) // 2]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--requests", type=int, default=5000)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    import uvloop

    uvloop.run(main_async(args.rounds, args.requests))


if __name__ == "__main__":
    main()
