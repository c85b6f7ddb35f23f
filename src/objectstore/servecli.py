"""`objectstore serve`: settings from the parsed flags, the stores, the first admin
keys, and uvicorn on the S3 port plus the website and console ports (socket binding for
one process or for `--workers N`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
from pathlib import Path

from objectstore import gateway
from objectstore.admincli import keyring_arg, meta_arg
from objectstore.cli import _LIMITS, _env
from objectstore.config import DEFAULT_DOMAIN, SETTINGS_ENV, Settings, settings_to_json
from objectstore.service import accounts
from objectstore.storage.keyring import KeyringError
from objectstore.storage.meta import Unavailable
from objectstore.storage.pg_schema import SchemaTooNew


def serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from objectstore.server.app import build_app, open_stores
    from objectstore.server.protocol import LimitedHttpToolsProtocol

    domains = tuple(args.domains or [d.strip() for d in (_env("DOMAIN") or DEFAULT_DOMAIN)
                                     .split(",") if d.strip()])
    settings = Settings(
        data_dir=Path(args.data_dir), host=args.host, port=args.port, domains=domains,
        website_domain=args.website_domain.strip().lower().strip("."),
        website_port=args.website_port,
        region=args.region, fsync=not args.no_fsync,
        root_access_key=_env("ROOT_ACCESS_KEY"), root_secret_key=_env("ROOT_SECRET_KEY"),
        log_level=args.log_level,
        access_log=args.access_log if isinstance(args.access_log, str) else "",
        cloud_keys=tuple(args.cloud_key), cloud_certs=tuple(args.cloud_cert),
        keyring=keyring_arg(args), meta_url=meta_arg(args),
        max_image_size=args.max_image_size, image_quota_bytes=args.image_quota_bytes,
        image_quota_pending=args.image_quota_pending,
        min_free_space=args.min_free_space, tmp_max_age=args.tmp_max_age,
        scrub_interval=args.scrub_interval, scrub_rate=args.scrub_rate,
        verify_reads=args.verify_reads, lifecycle_day_seconds=args.lifecycle_day_seconds,
        lifecycle_interval=args.lifecycle_interval, job_lease_seconds=args.job_lease_seconds,
        log_delivery_interval=args.log_delivery_interval,
        default_encryption="" if args.default_encryption == "none" else args.default_encryption,
        allow_sse_c_over_http=args.allow_sse_c_over_http,
        bucket_defaults=args.bucket_defaults,
        kms_keys=tuple(args.kms_keys or [n.strip() for n in (_env("KMS_KEYS") or "").split(",")
                                         if n.strip()]),
        **{name: getattr(args, name) for _, name, _, _ in _LIMITS},
        **gateway.settings_kwargs(args),
        metrics=bool(args.metrics or args.metrics_port or args.metrics_token),
        metrics_port=args.metrics_port, metrics_token=args.metrics_token,
        drain_seconds=args.drain_seconds,
        console_port=max(args.console_port, 0), console_origins=tuple(args.console_origins),
        console_endpoint=args.console_endpoint,
        max_session_seconds=max(900, args.max_session_seconds),
    )
    settings = gateway.resolve(settings)
    logging.addLevelName(5, "TRACE")  # uvicorn's --log-level trace (not yet registered)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        stores = open_stores(settings)
    except (KeyringError, Unavailable, SchemaTooNew) as exc:
        print(f"objectstore: {exc}", file=sys.stderr, flush=True)
        return 1
    stores.blobs.ensure_ballast()
    removed = stores.blobs.clean_tmp(older_than=settings.tmp_max_age)
    if removed:
        logging.getLogger("objectstore").info("removed %d stale temp files", removed)
    boot = accounts.bootstrap(stores.meta, settings.root_access_key, settings.root_secret_key)
    tls: dict[str, str | None] = {"ssl_certfile": None, "ssl_keyfile": None}
    if args.tls_self_signed:
        from objectstore.tls import self_signed

        cert, key = self_signed(settings.data_dir, [settings.host, *domains])
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        print(f"self-signed TLS certificate: {cert.resolve()}", flush=True)
    elif args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("objectstore: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
    scheme = "https" if tls["ssl_certfile"] else "http"
    endpoint = f"{scheme}://{settings.host}:{settings.port}"
    print(f"objectstore serving {settings.data_dir.resolve()} at {endpoint}", flush=True)
    shared_fs = gateway.sqlite_on_network(settings)
    if shared_fs is not None:
        print(f"WARNING: the data directory is on a network file system ({shared_fs}): "
              "its SQLite metadata database may be served from this machine only; several "
              "gateways need a PostgreSQL metadata store (docs/cluster.md)", flush=True)
    if settings.cluster:
        print(f"cluster mode: gateway {settings.gateway_id}, blobs read with "
              f"{settings.blob_read}, unlinked {settings.blob_grace:.0f} s after their "
              "last use", flush=True)
    if settings.meta_url:
        from objectstore.storage.postgres import redacted

        print(f"metadata in PostgreSQL: {redacted(settings.meta_url)}", flush=True)
    if boot.secret is not None:
        print("created admin credentials (shown once):", flush=True)
        print(f"  AWS_ACCESS_KEY_ID={boot.access_key}", flush=True)
        print(f"  AWS_SECRET_ACCESS_KEY={boot.secret}", flush=True)
    else:
        print(f"admin access key: {boot.access_key}", flush=True)
    if not settings.fsync:
        print("WARNING: --no-fsync: acknowledged writes may be lost on a crash", flush=True)
    options = dict(
        host=settings.host, port=settings.port, loop="uvloop", http=LimitedHttpToolsProtocol,
        lifespan="on", access_log=args.access_log is True, log_level=settings.log_level,
        server_header=False, proxy_headers=False, timeout_keep_alive=settings.idle_timeout,
        timeout_graceful_shutdown=settings.shutdown_timeout, ws="none",
        ssl_certfile=tls["ssl_certfile"], ssl_keyfile=tls["ssl_keyfile"],
    )
    extra = [(settings.website_port, True)] if settings.website_port else []
    console = _console_port(args, settings)
    if console:
        extra.append((console, args.console_port > 0))
    sockets_extra = _bind_extra(settings.host, extra)
    if console and not sockets_extra[console]:
        console = 0
    settings = dataclasses.replace(settings, console_port=console)
    if console:
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        print(f"web console at {scheme}://{'127.0.0.1' if host == '0.0.0.0' else host}:"
              f"{console}/", flush=True)
    if settings.website_port:
        print(f"static websites at {scheme}://<bucket>:{settings.website_port} and "
              f"{scheme}://<bucket>.{settings.website_domain}:{settings.port}", flush=True)
    if settings.metrics:  # before prometheus_client is imported (server/metrics.py)
        import atexit

        from objectstore.server.metrics import prepare_multiprocess, remove_multiprocess

        multiproc = prepare_multiprocess(args.workers)
        atexit.register(remove_multiprocess, multiproc)
    if args.workers > 1:
        # Each worker process builds its own app (and stores) over the same data directory.
        stores.close()
        if settings.metrics_port:  # /metrics from this supervisor, merging the workers'
            from objectstore.server import observe

            observe.serve_metrics_port(settings, observe.supervisor_metrics(settings))
        os.environ[SETTINGS_ENV] = settings_to_json(settings)
        socks = [s for s in sockets_extra.values() if s is not None]
        if socks:
            return _serve_workers_on(options, args.workers, socks)
        uvicorn.run("objectstore.server.app:from_environment", factory=True,
                    workers=args.workers, **options)  # type: ignore[arg-type]
        return 0
    app = build_app(settings, stores)
    _Server = _server_class()
    if settings.metrics_port:
        from objectstore.server import observe

        observe.serve_metrics_port(settings, app.ops.metrics)
    config = uvicorn.Config(app, **options)  # type: ignore[arg-type]
    socks = [s for s in sockets_extra.values() if s is not None]
    if socks:
        _Server(config).run(sockets=[config.bind_socket(), *socks])
        return 0
    _Server(config).run()
    return 0


def _console_port(args: argparse.Namespace, settings: Settings) -> int:
    """The console's port: --console-port, or by default the S3 port + 1 (0: none)."""
    if args.console_port >= 0:
        return int(args.console_port)
    return settings.port + 1 if 0 < settings.port < 65535 else 0


def _bind_extra(host: str, ports: list[tuple[int, bool]]) -> dict[int, socket.socket | None]:
    """Listening sockets like uvicorn's own (``config.bind_socket()``) on the website and
    console ports. A port asked for explicitly that cannot be bound stops the server; the
    console's default port (the S3 port + 1) when taken only leaves the console off."""
    found: dict[int, socket.socket | None] = {}
    for port, required in ports:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if required:
                raise SystemExit(f"objectstore: cannot listen on port {port}: {exc}") from None
            print(f"WARNING: port {port} is taken ({exc.strerror}): no web console "
                  "(--console-port chooses another)", flush=True)
            found[port] = None
            continue
        sock.listen(2048)
        sock.set_inheritable(True)
        found[port] = sock
    return found


def _serve_workers_on(options: dict[str, object], workers: int,
                      extra: list[socket.socket]) -> int:
    """``serve --workers N`` with a website or console port: uvicorn's worker supervisor
    over all the listening sockets (uvicorn.run binds only one)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("objectstore.server.app:from_environment", factory=True,
                            workers=workers, **options)  # type: ignore[arg-type]
    Multiprocess(config, sockets=[config.bind_socket(), *extra]).run()
    return 0


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but a SIGTERM/SIGINT shutdown exits 0 instead of re-raising."""

        def handle_exit(self, sig: int, frame: object) -> None:
            super().handle_exit(sig, frame)  # type: ignore[arg-type]
            self._captured_signals.clear()

    return Server
