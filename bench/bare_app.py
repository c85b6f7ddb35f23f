"""The bare-stack ceiling: a trivial ASGI app on the same uvicorn + uvloop + httptools
configuration as `objectstore serve`. It stores nothing: PUT drains the body and remembers
only its size; GET answers that many bytes (4 KiB for a path it has not seen) from a
preallocated buffer; HEAD answers the headers; DELETE forgets. So the same load generator
and the same URLs measure what the HTTP layer alone allows.

    python bench/bare_app.py --port 8000
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
BUF = os.urandom(CHUNK)
SMALL = BUF[:4096]
SIZES: dict[str, int] = {}
ETAG = [(b"etag", b'"00000000000000000000000000000000"')]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    method = scope["method"]
    path = scope["path"]
    if method == "PUT":
        n = 0
        more = True
        while more:
            msg = await receive()
            n += len(msg.get("body", b""))
            more = msg.get("more_body", False)
        SIZES[path] = n
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"0"), *ETAG]})
        await send({"type": "http.response.body", "body": b""})
        return
    if method == "DELETE":
        SIZES.pop(path, None)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    size = SIZES.get(path, 4096)
    headers = [(b"content-length", str(size).encode()),
               (b"content-type", b"application/octet-stream"), *ETAG]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    if size == 4096:
        await send({"type": "http.response.body", "body": SMALL})
        return
    left = size
    while left > 0:
        n = min(left, CHUNK)
        left -= n
        await send({"type": "http.response.body", "body": BUF[:n] if n < CHUNK else BUF,
                    "more_body": left > 0})


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    # The same settings as objectstore's `serve` (src/objectstore/cli.py).
    options: dict[str, Any] = dict(
        host=args.host, port=args.port, loop="uvloop", http="httptools",
        lifespan="on", access_log=False, log_level="warning", server_header=False,
        proxy_headers=False, timeout_keep_alive=30, timeout_graceful_shutdown=5,
    )
    if args.workers > 1:
        uvicorn.run("bare_app:app", app_dir=str(Path(__file__).resolve().parent),
                    workers=args.workers, **options)
        return
    uvicorn.Server(uvicorn.Config(app, **options)).run()


if __name__ == "__main__":
    main()
