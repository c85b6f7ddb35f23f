"""Health endpoints for load balancers and Kubernetes probes, and draining on SIGTERM.

- ``GET /_health/live``: 200 while the process serves requests at all (no I/O).
- ``GET /_health/ready``: 200 when the metadata store answers a trivial query, the blob
  directory accepts a new file, and the process is not draining; 503 otherwise. The body
  is a small JSON object naming each check. Results are reused for ``READY_CACHE``
  seconds, so a flood of probes costs one check per second.

Both are unauthenticated and answer HEAD too. Draining: the first SIGTERM marks the
process draining (ready turns 503 at once) and lets it serve on for ``--drain-seconds``
before uvicorn's own shutdown begins (stop accepting, finish requests in flight), so a load
balancer or Kubernetes takes it out of rotation before connections are refused. A second
SIGTERM (or SIGINT) stops at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import time
from typing import TYPE_CHECKING, Any

from objectstore.server.request import Response

if TYPE_CHECKING:
    from objectstore.service.stores import Stores

log = logging.getLogger("objectstore.health")
READY_CACHE = 1.0  # seconds a readiness answer is reused
PING_HOOK = "ping"  # a metadata store may provide ping(): a round trip to its server
PING_SQL = "SELECT COUNT(*) FROM (SELECT 1 FROM buckets LIMIT 1) AS one"


class Health:
    def __init__(self, stores: Stores, drain_seconds: float = 0.0) -> None:
        self.stores = stores
        self.drain_seconds = drain_seconds
        self.draining = False
        self._ready: tuple[float, int, bytes] = (-1e9, 503, b"")
        self._lock = asyncio.Lock()

    # --------------------------------------------------------------------- endpoints
    async def answer(self, what: str, method: str) -> Response:
        if what == "live":
            status, body = 200, b'{"status":"live"}\n'
        elif what == "ready":
            status, body = await self.ready()
        else:
            status, body = 404, b'{"status":"unknown","endpoints":["live","ready"]}\n'
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        if method == "HEAD":
            return Response(status, headers, b"", content_length=len(body))
        return Response(status, headers, body)

    async def ready(self) -> tuple[int, bytes]:
        async with self._lock:  # concurrent probes share one check
            at, status, body = self._ready
            if time.monotonic() - at < READY_CACHE and not self.draining:
                return status, body
            checks = await asyncio.to_thread(self.check)
            checks["draining"] = not self.draining
            status = 200 if all(checks.values()) else 503
            body = (json.dumps({"status": "ready" if status == 200 else "not ready",
                                "checks": {k: "ok" if v else "failed"
                                           for k, v in checks.items()}}) + "\n").encode()
            self._ready = (time.monotonic(), status, body)
            return status, body

    def check(self) -> dict[str, bool]:
        """The readiness checks (in a worker thread: a store may block)."""
        return {"metadata": self._meta_ok(), "blobs": self._blobs_ok()}

    def _meta_ok(self) -> bool:
        meta: Any = self.stores.meta
        try:
            ping = getattr(meta, PING_HOOK, None)
            if callable(ping):
                ping()
            else:
                meta.reader().execute(PING_SQL).fetchone()
            return True
        except Exception as exc:  # noqa: BLE001 - not ready, whatever the cause
            log.warning("readiness: metadata store check failed: %s", exc)
            return False

    def _blobs_ok(self) -> bool:
        """A new file can be made (and removed) where uploads are written."""
        tmp = self.stores.blobs.tmp_dir
        path = tmp / f".ready-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
            os.unlink(path)
            return True
        except OSError as exc:
            log.warning("readiness: blob directory not writable: %s", exc)
            return False

    # ---------------------------------------------------------------------- draining
    def install_drain(self) -> None:
        """At lifespan start-up (inside uvicorn's signal capture, main thread): SIGTERM
        first drains, then hands over to uvicorn's handler."""
        try:
            loop = asyncio.get_running_loop()
            previous = signal.getsignal(signal.SIGTERM)
        except (RuntimeError, ValueError):
            return
        if not callable(previous):
            return

        def on_term(sig: int, frame: Any) -> None:
            if self.draining or self.drain_seconds <= 0:
                self.draining = True
                previous(sig, frame)
                return
            self.draining = True
            log.info("SIGTERM: draining for %.1fs (ready answers 503), then stopping",
                     self.drain_seconds)
            loop.call_soon_threadsafe(loop.call_later, self.drain_seconds, previous, sig,
                                      frame)
        try:
            signal.signal(signal.SIGTERM, on_term)
        except ValueError:  # not the main thread (an app embedded in tests)
            pass
