"""What operators see: the /_health and /_metrics endpoints, and — when switched on —
per-request metrics and the JSON lines access log.

Where it hooks in (docs/architecture.md, "Operators can see inside"):

- ``s3/routing.py`` routes ``/_health/...`` and ``/_metrics`` (names no bucket can have)
  as the ``Internal`` operation; ``App._handle`` hands it to ``Operators.internal``
  before any authentication (health is unauthenticated; metrics check their own).
- With metrics or the access log on (``App.observe``, a boolean fixed at start), the App
  calls ``Operators.begin`` when a request arrives (requests in flight) and
  ``Operators.end`` once it is over — answered, cut off, or its client gone — with what it
  already has: request id, handlers/common.py's Trace, start time, S3 error code,
  Response, Request. With both off a request pays the two flag tests.
"""

from __future__ import annotations

import hmac
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any, Callable

from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Endpoint
from objectstore.server.health import Health
from objectstore.server.request import Request, Response, Scope
from objectstore.service import access, gateways
from objectstore.service.jobs import Job

if TYPE_CHECKING:
    from objectstore.config import Settings
    from objectstore.server.handlers.common import Trace
    from objectstore.server.jsonlog import JsonLog
    from objectstore.server.metrics import Metrics
    from objectstore.service.maintenance import Maintenance
    from objectstore.service.stores import Stores

log = logging.getLogger("objectstore.observe")
GONE = 499  # status recorded for a client that left before any response (nginx's)


def gateway_id(settings: Settings) -> str:
    """Names this serving gateway (shared by its worker processes): --gateway-id, by default
    host:port (gateway.resolve fills it in)."""
    return settings.gateway_id or f"{socket.gethostname()}:{settings.port}"


class Operators:
    """Health always; metrics and the JSON access log when the settings ask."""

    def __init__(self, settings: Settings, stores: Stores, jobs: list[Job],
                 maintenance: Maintenance) -> None:
        self.settings = settings
        self.gateway = gateway_id(settings)
        self.pid = os.getpid()
        self.health = Health(stores, settings.drain_seconds)
        self.metrics: Metrics | None = None
        self.log: JsonLog | None = None
        self._token = settings.metrics_token.encode()
        self.heartbeat = gateways.Heartbeat(stores.meta, self.gateway)
        if settings.metrics:
            from objectstore.server.metrics import Metrics

            self.metrics = Metrics(stores, self.gateway)
            self.metrics.watch_store(stores)
        # upkeep runs recorded for `objectstore status` (and counted, with metrics on)
        jobs[:] = [Job(j.name, j.interval, self._tracked(stores, j.name, j.run, _summary(j)))
                   for j in jobs]
        maintenance.run_scrub = self._tracked(  # type: ignore[method-assign]
            stores, "scrub", maintenance.run_scrub,
            lambda r: None if r is None else r.summary())
        if settings.access_log:
            from objectstore.server.jsonlog import JsonLog

            self.log = JsonLog(settings.access_log, self.gateway, self.pid)

    def _tracked(self, stores: Stores, name: str, run: Callable[..., Any],
                 summary: Callable[[Any], str | None] = lambda _r: "") -> Callable[..., Any]:
        if self.metrics is not None:
            run = self.metrics.timed(name, run)
        return gateways.tracked(stores.meta, name, run, self.gateway, summary)

    @property
    def observing(self) -> bool:
        return self.metrics is not None or self.log is not None

    def start(self) -> None:
        self.health.install_drain()
        self.heartbeat.start()

    def close(self) -> None:
        self.heartbeat.close()
        if self.log is not None:
            self.log.close()

    # ------------------------------------------------------------------ endpoints
    async def internal(self, req: Request, ep: Endpoint, meta: Any) -> Response:
        """``/_health/<live|ready>`` and ``/_metrics``."""
        if req.method not in ("GET", "HEAD"):
            raise S3Error("MethodNotAllowed", Method=req.method, ResourceType="SERVICE")
        name, _, rest = (ep.key or "").partition("/")
        if name == "_health":
            return await self.health.answer(rest, req.method)
        if rest:
            raise S3Error("NotImplemented", "Only /_metrics exists here")
        return await self.metrics_response(req, meta)

    async def metrics_response(self, req: Request, meta: Any) -> Response:
        import asyncio

        from objectstore.server.auth import authenticate

        if self.metrics is None:
            raise S3Error("NotImplemented", "Metrics are off: start the server with --metrics")
        header = req.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            if not self.token_ok(header[7:].strip()):
                raise S3Error("AccessDenied")
        else:
            auth = authenticate(req, meta, None)
            access.require_admin_action(auth.principal, access.READ_METRICS)
        self.metrics.fold()  # this process's latest figures (others': FOLD_EVERY at most)
        body, kind = await asyncio.to_thread(self.metrics.render)
        return Response(200, [("Content-Type", kind), ("Cache-Control", "no-store")],
                        body if req.method == "GET" else b"", content_length=len(body))

    def token_ok(self, given: str) -> bool:
        """The bearer token, compared in constant time ("" configured: no token works)."""
        return bool(self._token) and hmac.compare_digest(given.encode(), self._token)

    # ------------------------------------------------------------------ per request
    def begin(self) -> None:
        if self.metrics is not None:
            self.metrics.active += 1

    def end(self, scope: Scope, request_id: str, trace: Trace, started: float,
            error: str | None, resp: Response | None, req: Request | None) -> None:
        """A request is over (answered, cut off, or its client left: ``resp`` None)."""
        try:
            seconds = time.time() - started
            op = trace.op or "Unknown"
            if resp is None:
                status, n_out = GONE, 0
            else:
                status = resp.status
                n_out = 0 if scope["method"] == "HEAD" else (
                    resp.content_length if resp.stream is not None and resp.content_length
                    is not None else len(resp.body))
            length = req.headers.get("content-length") if req is not None else None
            n_in = int(length) if length is not None and length.isdigit() else 0
            metrics = self.metrics
            if metrics is not None:
                metrics.active -= 1
                metrics.request(op, status, error, seconds, n_in, n_out)
            if self.log is not None:
                p = trace.principal
                client = scope.get("client")
                self.log.add((started, request_id, op, scope["method"], trace.bucket_name,
                              trace.key, status, error, n_in, n_out, seconds,
                              p.access_key if p is not None else None,
                              f"{client[0]}:{client[1]}" if client else None))
        except Exception:  # noqa: BLE001 - never fails the request
            log.exception("recording a request for metrics / the access log failed")


def _summary(job: Job) -> Callable[[Any], str | None]:
    """What is recorded of a job's run: log delivery polls every few seconds and is not
    recorded (its delays show in the metrics)."""
    if job.name == "access-logs":
        return lambda _r: None
    return lambda r: r.summary() if hasattr(r, "summary") else ""


# ------------------------------------------------------------------ the metrics port
def supervisor_metrics(settings: Settings) -> Metrics:
    """The metrics the ``serve --workers N`` supervisor shows on --metrics-port: the
    workers' merged values, and the cluster's facts read through its own stores."""
    from objectstore.server.metrics import Metrics
    from objectstore.service.stores import Stores

    stores = Stores.open(settings.data_dir, fsync=settings.fsync, keyring=settings.keyring)
    return Metrics(stores, gateway_id(settings))


def serve_metrics_port(settings: Settings, metrics: Metrics | None) -> None:
    """``--metrics-port P``: ``/metrics`` on its own port (same --host), from a thread of
    the ``serve`` process (with --workers N, the supervisor: it merges the workers'
    values). The bearer token, when configured, is required there too; admin keys are
    not checked on this port (keep it on a network only Prometheus reaches)."""
    import threading
    from wsgiref.simple_server import make_server

    from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

    if metrics is None:
        from objectstore.server.metrics import Metrics

        metrics = Metrics(None, gateway_id(settings))
    token = settings.metrics_token.encode()
    render = metrics.render

    def wsgi(environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics here\n"]
        given = environ.get("HTTP_AUTHORIZATION", "")
        if token and not (given[:7].lower() == "bearer " and
                          hmac.compare_digest(given[7:].strip().encode(), token)):
            start("401 Unauthorized", [("Content-Type", "text/plain"),
                                       ("WWW-Authenticate", "Bearer")])
            return [b"a bearer token is required\n"]
        body, kind = render()
        start("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server(settings.host, settings.metrics_port, wsgi, ThreadingWSGIServer,
                         handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, name="metrics-port", daemon=True).start()
    print(f"metrics at http://{settings.host}:{settings.metrics_port}/metrics", flush=True)
