"""build_app(settings): the one place where things are wired, and the one place that
writes responses (and errors) to the wire."""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import sqlite3
import time
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from objectstore import gateway
from objectstore.config import Settings
from objectstore.s3 import logging as access_logging
from objectstore.s3 import xml
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Endpoint, host_name, route, split_host
from objectstore.server import access_record, observe, redact
from objectstore.server.auth import ANONYMOUS, authenticate
from objectstore.server.console import Console
from objectstore.server.handlers import (
    acl,
    admin,
    attributes,
    bucket_config,
    bucket_logging,
    buckets,
    copy,
    cors,
    ec2,
    encryption,
    images,
    lifecycle,
    listing,
    multipart,
    object_lock,
    objects,
    ownership,
    policy,
    post_object,
    site,
    sts,
    tagging,
    versioning,
    website,
)
from objectstore.server.handlers.common import Ctx, Handler, Trace
from objectstore.server.request import ClientGone, Receive, Request, Response, Scope, Send
from objectstore.service import access_logs, blob_gc, cloudkeys
from objectstore.service import lifecycle as lifecycle_sweep
from objectstore.service.jobs import JobContext, JobRunner
from objectstore.service.maintenance import Maintenance
from objectstore.service.registry import Registry, RegistryLimits
from objectstore.service.stores import Stores
from objectstore.storage import faults
from objectstore.storage.faults import BlobFault
from objectstore.storage.keyring import KMS_PREFIX
from objectstore.storage.meta import Unavailable

log = logging.getLogger("objectstore")

HANDLERS: dict[str, Handler] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "ListObjectVersions": listing.list_object_versions,
    "GetBucketAcl": acl.get_bucket_acl,
    "PutBucketAcl": acl.put_bucket_acl,
    "GetObjectAcl": acl.get_object_acl,
    "PutObjectAcl": acl.put_object_acl,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "CopyObject": copy.copy_object,
    "DeleteObjects": copy.delete_objects,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "GetObjectAttributes": attributes.get_object_attributes,
    **bucket_config.HANDLERS,
    **object_lock.HANDLERS,
    **tagging.HANDLERS,
    **cors.HANDLERS,
    **lifecycle.HANDLERS,
    **encryption.HANDLERS,
    **ownership.HANDLERS,
    **policy.HANDLERS,
    **website.HANDLERS,
    "PostObject": post_object.post_object,
    **versioning.HANDLERS,
    **bucket_logging.HANDLERS,
}

DRAIN_LIMIT = 1 << 20
ID_PREFIX_BYTES = 8  # random bytes of each process's request-id prefix
READ_ONLY_MESSAGE = ("The server's data directory is read-only (or not writable): writes are "
                     "refused until an administrator makes it writable again. Reads still work.")


class BodyAborted(Exception):
    """A response body cut off on purpose (a stored block failed its checksum after the
    headers were sent): the connection is dropped so the client cannot take the answer for
    a complete one. Already logged; uvicorn's own report of it is filtered out."""


class _DropAbortedBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, BodyAborted)


logging.getLogger("uvicorn.error").addFilter(_DropAbortedBodies())
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class App:
    def __init__(self, settings: Settings, stores: Stores, registry: Registry) -> None:
        self.settings = settings
        self.stores = stores
        self.registry = registry
        self.host_id = secrets.token_urlsafe(24)  # x-amz-id-2: this process, 192 random bits
        # x-amz-request-id: 64 random bits per process + a counter, unique across processes
        # and gateways without coordination (docs/cluster.md, "Request ids")
        self.id_prefix = secrets.token_hex(ID_PREFIX_BYTES).upper()
        # PostgreSQL: validates this thread's lookup caches at the start of each request
        # (one query); SQLite's change stamp needs nothing per request (None)
        self.per_request: Callable[[], None] | None = getattr(stores.meta, "new_request", None)
        self.counter = itertools.count(1)
        jobs = [lifecycle_sweep.job(stores, settings.lifecycle_day_seconds,
                                    settings.lifecycle_interval),
                access_logs.job(stores, settings.log_delivery_interval,
                                settings.default_encryption)]
        if settings.blob_grace > 0:
            jobs.append(blob_gc.job(stores, settings.blob_grace))
        # pending image registrations whose gateway died or stalled: taken over on one
        jobs.append(registry.job(settings.job_lease_seconds / 2))
        self.jobs = JobRunner(stores.meta, jobs, ttl=settings.job_lease_seconds)
        access_logs.ensure_schema(stores.meta)
        self.website_domains = (settings.website_domain,) if settings.website_domain else ()
        self._website_mark = settings.website_domain.lower().rstrip(".")
        self.maintenance = Maintenance(stores, tmp_max_age=settings.tmp_max_age,
                                       scrub_interval=settings.scrub_interval,
                                       scrub_rate=settings.scrub_rate,
                                       leases=self.jobs.leases,
                                       lease_ttl=settings.job_lease_seconds)
        # operators: /_health, /_metrics, metrics and the JSON access log (server/observe.py)
        self.ops = observe.Operators(settings, stores, self.jobs.jobs, self.maintenance)
        self.observe = self.ops.observing  # False: no request pays more than this flag test
        # the web console: its own port, and CORS for its origin here (server/console.py)
        self.console = Console(settings) if settings.console_port or \
            settings.console_origins else None
        self.console_port = settings.console_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = f"{self.id_prefix}{next(self.counter):08X}"
        method = scope["method"]
        req: Request | None = None
        trace = Trace()
        started = time.time()
        if self.observe:  # metrics / JSON access log (server/observe.py): in flight
            self.ops.begin()
        error: str | None = None
        try:
            req = Request.from_scope(scope, receive)
            if self.per_request is not None:
                self.per_request()
            if self.console_port and scope["server"][1] == self.console_port:
                assert self.console is not None
                resp = self.console.serve(req, scope.get("scheme", "http"))
            elif (site_bucket := self._site_bucket(req, scope)) is not None:
                resp = await self._site(req, site_bucket, request_id, trace)
            else:
                resp = await self._handle(req, request_id, trace)
        except ClientGone:
            if self.observe:
                self.ops.end(scope, request_id, trace, started, None, None, req)
            return
        except S3Error as err:
            error = err.code
            resp = self._error(err, request_id, method)
        except Exception as exc:  # noqa: BLE001 - never a traceback to the client
            refused = self._refusal(exc, request_id)
            error = refused.code
            resp = self._error(refused, request_id, method)
        if req is None or not req.body_consumed:
            await self._unread_body(req, scope, resp)
        first_byte = time.time()
        try:
            sent = await self._send(send, resp, method, request_id)
        except BodyAborted:
            if self.observe:
                self.ops.end(scope, request_id, trace, started, error, resp, req)
            raise
        if self.observe:  # the request's metrics and JSON access log line
            self.ops.end(scope, request_id, trace, started, error, resp, req)
        if trace.bucket_name is not None and (
                trace.bucket is None or trace.bucket.logging is not None or trace.also):
            self._access_log(scope, trace, resp, request_id, error, sent, started, first_byte)

    def _access_log(self, scope: Scope, trace: Trace, resp: Response, request_id: str,
                    error: str | None, sent: int, started: float, first_byte: float) -> None:
        """The request's server access log record, when its bucket has logging enabled:
        the bucket row the handler loaded says so (a failed request's is looked up: it is
        in the per-thread cache unless the bucket does not exist)."""
        bucket = trace.bucket
        if bucket is None and (resp.status >= 300 or trace.op == "Preflight"):
            bucket = self.stores.meta.get_bucket(trace.bucket_name or "")
        if (bucket is None or bucket.logging is None) and not trace.also:
            return
        out = access_record.Outcome(trace.op, trace.key, resp.status, error, sent, started,
                                    first_byte, time.time())
        try:
            kept = []
            if bucket is not None and bucket.logging is not None:
                rec = access_record.build(scope, bucket, trace, out, resp, request_id,
                                          self.host_id)
                kept.append((bucket, access_logging.format_record(rec)))
            for other, operation, key, version in trace.also or ():
                rec = access_record.build(scope, other, trace, out, resp, request_id,
                                          self.host_id, (operation, key, version))
                kept.append((other, access_logging.format_record(rec)))
            access_logs.capture(self.stores.meta, kept, started)
        except Exception:  # noqa: BLE001 - a log record never fails the request
            log.exception("request %s: server access log record not kept", request_id)

    def _deliver_logs(self) -> None:
        """At shutdown: every server access log record kept so far delivered now (unless
        another process holds the delivery lease: it or the next start delivers them)."""
        try:
            self.stores.meta.run(lambda c: None)  # records queued before now are committed
            leases = self.jobs.leases
            lease = leases.acquire(access_logs.JOB, self.settings.job_lease_seconds)
            if lease is None:
                return
            try:
                access_logs.deliver(self.stores, JobContext(leases, lease, self.jobs.stop,
                                                            self.settings.job_lease_seconds),
                                    self.settings.log_delivery_interval, force=True,
                                    default_encryption=self.settings.default_encryption)
            finally:
                leases.release(lease)
        except Unavailable as exc:  # they stay kept: the next start delivers them
            log.warning("delivering server access logs at shutdown: %s", exc)
        except Exception:  # noqa: BLE001 - they stay kept: the next start delivers them
            log.exception("delivering server access logs at shutdown failed")

    def _site_bucket(self, req: Request, scope: Scope) -> str | None:
        """The bucket whose website a request asks for: Host ``BUCKET.<website domain>``
        (before virtual-hosted-style parsing), or any Host on the website port."""
        host = req.headers.get("host", "")
        if self.settings.website_port and \
                scope.get("server", ("", 0))[1] == self.settings.website_port:
            return host_name(host)
        # a cheap test first: most requests name no website domain at all
        if self.website_domains and self._website_mark in host.lower():
            return split_host(host, self.website_domains)
        return None

    async def _site(self, req: Request, bucket: str, request_id: str,
                    trace: Trace) -> Response:
        ep = Endpoint("Website", bucket, None, ())
        trace.bucket_name, trace.op, trace.key = bucket, "Website", req.path[1:] or None
        ctx = Ctx(self.settings, self.stores, req, ep, ANONYMOUS, request_id, self.registry,
                  trace)
        resp = await site.serve(ctx, bucket, self.host_id)
        trace.bucket = self.stores.meta.get_bucket(bucket)  # the row serve just read: cached
        return resp

    def _refusal(self, exc: Exception, request_id: str) -> S3Error:
        """The S3 error that answers a request which failed with ``exc`` (not an S3Error):
        a block that failed its checksum, the metadata store out of reach, a full or
        read-only disk; anything else is logged and answered 500 InternalError."""
        if isinstance(exc, BlobFault):
            faults.report(exc, request_id)
            return S3Error("InternalError")
        if isinstance(exc, Unavailable):
            return _unavailable(exc, request_id)
        if isinstance(exc, (OSError, sqlite3.Error)):
            return self._storage_error(exc, request_id)
        log.error("internal error in request %s", request_id, exc_info=exc)
        return S3Error("InternalError")

    def _storage_error(self, exc: OSError | sqlite3.Error, request_id: str) -> S3Error:
        """507 for a full disk (SDKs retry 503s, re-sending whole bodies), 503 saying so for
        a data directory that refuses writes, 500 for anything else."""
        if isinstance(exc, sqlite3.Error) and faults.unreachable(exc):
            return _unavailable(Unavailable(str(exc)), request_id)
        kind = faults.classify(exc, self.stores.blobs.root)
        if kind == "full":
            log.warning("request %s refused: out of storage space (%s)", request_id, exc)
            return S3Error("InsufficientStorage")
        if kind == "readonly":
            log.warning("request %s refused: data directory not writable (%s)", request_id, exc)
            return S3Error("ServiceUnavailable", READ_ONLY_MESSAGE)
        if isinstance(exc, sqlite3.Error) and faults.db_io_error(exc):
            return _unavailable(Unavailable(str(exc)), request_id)
        log.error("internal error in request %s", request_id, exc_info=exc)
        return S3Error("InternalError")

    async def _unread_body(self, req: Request | None, scope: Scope, resp: Response) -> None:
        """Answering before the body was read: drain a small body the client is already
        sending, otherwise close the connection after the answer (the client may still be
        waiting for 100 Continue), so the next request on it is not read as this body."""
        if req is not None and "content-length" not in req.headers and \
                "transfer-encoding" not in req.headers:
            return  # the common case (GET, HEAD, DELETE): no body at all
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked and length in (b"", b"0"):
            return
        expect = b"100-continue" in headers.get(b"expect", b"").lower()
        if req is not None and not expect and not chunked and length.isdigit() \
                and int(length) <= DRAIN_LIMIT:
            try:
                async for _ in req.chunks():
                    pass
                return
            except (ClientGone, S3Error):
                pass
        resp.headers.append(("Connection", "close"))

    async def _handle(self, req: Request, request_id: str, trace: Trace) -> Response:
        if self.console is not None and "origin" in req.headers:
            origin = req.headers["origin"]
            if self.console.allows(origin, req.host):
                return await self._for_console(req, origin, request_id, trace)
        return await self._dispatch(req, request_id, trace)

    async def _for_console(self, req: Request, origin: str, request_id: str,
                           trace: Trace) -> Response:
        """A request from the web console's origin: server-level CORS headers on the
        answer (errors included), whatever the bucket's CORS configuration says."""
        if req.method == "OPTIONS":
            return self.console.preflight(req, origin)  # type: ignore[union-attr]
        extra = Console.cors_headers(origin)
        try:
            resp = await self._dispatch(req, request_id, trace, bucket_cors=False)
        except S3Error as err:
            err.headers.update(extra)
            raise
        except ClientGone:
            raise
        except Exception as exc:  # noqa: BLE001 - the console reads every answer's code
            refused = self._refusal(exc, request_id)
            refused.headers.update(extra)
            raise refused from None
        resp.headers.extend(extra)
        return resp

    async def _dispatch(self, req: Request, request_id: str, trace: Trace,
                        bucket_cors: bool = True) -> Response:
        ep = route(req.method, req.host, req.path, req.query, req.headers,
                   self.settings.domains)
        trace.bucket_name, trace.op, trace.key, trace.query = ep.bucket, ep.op, ep.key, ep.query
        vhost = split_host(req.host, self.settings.domains) if ep.virtual_host else None
        if ep.op == "Ec2Query":
            return await self._ec2(req, ep, request_id)
        if ep.op == "Preflight":
            ctx = Ctx(self.settings, self.stores, req, ep, ANONYMOUS, request_id, self.registry)
            return await cors.preflight(ctx)
        if ep.op == "Internal":  # /_health/..., /_metrics (server/observe.py)
            return await self.ops.internal(req, ep, self.stores.meta)
        if ep.op == "Console":  # /_console/...: to the console's own origin
            if self.console is None:
                raise S3Error("NoSuchBucket", BucketName="_console")
            return self.console.redirect(req, req.scheme)
        if ep.bucket is not None and bucket_cors and "origin" in req.headers:
            return await self._with_cors(req, ep, vhost, request_id, trace)
        auth = authenticate(req, self.stores.meta, vhost)
        trace.principal = auth.principal
        if ep.op == "Images":
            ctx = Ctx(self.settings, self.stores, req, ep, auth, request_id, self.registry)
            return await images.images(ctx)
        if ep.op == "Admin":  # the signed JSON admin API (docs/admin-api.md)
            return await admin.admin(Ctx(self.settings, self.stores, req, ep, auth,
                                         request_id, self.registry, trace), self)
        handler = HANDLERS.get(ep.op)
        if handler is None:
            if ep.op == "MethodNotAllowed":
                raise S3Error("MethodNotAllowed", Method=req.method,
                              ResourceType="OBJECT" if ep.key else "BUCKET")
            raise S3Error("NotImplemented", Operation=ep.op)
        ctx = Ctx(self.settings, self.stores, req, ep, auth, request_id, self.registry, trace)
        return await handler(ctx)

    async def _with_cors(self, req: Request, ep: Endpoint, vhost: str | None,
                         request_id: str, trace: Trace) -> Response:
        """A request from a browser (Origin header): the bucket's CORS headers are added to
        the answer, errors included."""
        bucket = self.stores.meta.get_bucket(ep.bucket) if ep.bucket else None
        extra = cors.actual_request_headers(req, bucket)
        try:
            auth = authenticate(req, self.stores.meta, vhost)
            trace.principal = auth.principal
            handler = HANDLERS.get(ep.op)
            if handler is None:
                raise S3Error("NotImplemented", Operation=ep.op)
            resp = await handler(Ctx(self.settings, self.stores, req, ep, auth, request_id,
                                     self.registry, trace))
        except S3Error as err:
            err.headers.update(extra)
            raise
        resp.headers.extend(extra)
        return resp

    async def _ec2(self, req: Request, ep: Endpoint, request_id: str) -> Response:
        """EC2 Query API: parameters from the form body (POST) or the query (GET); the body
        is read first because EC2 clients sign it without x-amz-content-sha256."""
        body = await req.read_small() if req.method == "POST" else b""
        params = dict(ep.query)
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return ec2.error_response("InvalidParameterValue", "the body is not UTF-8", 400,
                                      request_id)
        is_sts = params.get("Action") in sts.ACTIONS
        try:
            auth = authenticate(req, self.stores.meta, None,
                                body_sha256=hashlib.sha256(body).hexdigest())
        except S3Error as err:
            if is_sts:
                return sts.auth_error(err, request_id)
            code = "AuthFailure" if err.status == 403 else err.code
            return ec2.error_response(code, err.message, 401 if err.status == 403
                                      else err.status, request_id)
        ctx = Ctx(self.settings, self.stores, req, ep, auth, request_id, self.registry)
        if is_sts:  # the console's sign-in (server/handlers/sts.py)
            return await sts.sts(ctx, params)
        return await ec2.ec2(ctx, params)

    def _error(self, err: S3Error, request_id: str, method: str) -> Response:
        if err.status == 304:
            return Response(304, list(err.headers.items()))
        body = xml.error(err.code, err.message, err.extra, request_id, self.host_id)
        headers = [("Content-Type", "application/xml"), *err.headers.items()]
        return Response(err.status, headers, b"" if method == "HEAD" else body,
                        content_length=None if method != "HEAD" else len(body))

    async def _send(self, send: Send, resp: Response, method: str, request_id: str) -> int:
        """Write the response; the body bytes sent."""
        try:  # the common case inline; names that cannot be encoded: _wire_headers
            headers = [(k.encode("latin-1"), v.encode("utf-8", "surrogateescape"))
                       for k, v in resp.headers]
        except UnicodeEncodeError:
            headers = _wire_headers(resp.headers, request_id)
        headers.append((b"x-amz-request-id", request_id.encode()))
        headers.append((b"x-amz-id-2", self.host_id.encode()))
        headers.append((b"server", b"objectstore"))
        length = resp.content_length if resp.content_length is not None else len(resp.body)
        if resp.status not in (204, 304):
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        stream = resp.stream
        if stream is None or method == "HEAD":
            await send({"type": "http.response.body", "body": resp.body
                        if method != "HEAD" else b""})
            return len(resp.body) if method != "HEAD" else 0
        sent = 0
        try:
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
            await send({"type": "http.response.body", "body": b""})
            return sent
        except BlobFault as fault:
            faults.report(fault, request_id)
            faults.COUNTERS.add("aborted_bodies")
            log.error("request %s: response body cut off, connection dropped", request_id)
            raise BodyAborted(str(fault)) from None
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            msg: dict[str, Any] = dict(await receive())
            if msg["type"] == "lifespan.startup":
                redact.install()  # logging is set up by now (in every worker too)
                resumed = self.registry.resume()
                if resumed:
                    log.info("resuming %d pending image registrations", resumed)
                self.maintenance.start()
                self.jobs.start()
                self.ops.start()  # draining on SIGTERM (server/health.py)
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                self.ops.close()  # access log flushed, gateway row removed (observe.py)
                self.jobs.close()
                self._deliver_logs()
                self.maintenance.close()
                self.registry.close()
                self.stores.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _unavailable(exc: Unavailable, request_id: str) -> S3Error:
    """503 with Retry-After: the metadata store cannot be reached now (ServiceUnavailable)
    or is too busy (SlowDown); nothing was written. SDKs retry both by themselves."""
    log.warning("request %s refused (503): metadata store %s: %s", request_id,
                "overloaded" if exc.overloaded else "unavailable", exc.reason)
    retry = {"Retry-After": str(max(1, exc.retry_after))}
    if exc.overloaded:
        return S3Error("SlowDown", headers=retry)
    return S3Error("ServiceUnavailable", "The metadata store is unavailable; please retry.",
                   headers=retry)


def _wire_headers(pairs: list[tuple[str, str]], request_id: str) -> list[tuple[bytes, bytes]]:
    """The response headers as bytes. What clients send is checked when it arrives, and
    stored object headers of earlier versions are filtered when their row is read
    (storage/sqlite.py), so the common case is a plain encoding (inline in _send); here a
    name that still cannot be encoded is left out and logged, never allowed to break the
    connection."""
    kept = []
    for k, v in pairs:
        try:
            kept.append((k.encode("latin-1"), v.encode("utf-8", "surrogateescape")))
        except UnicodeEncodeError:
            log.warning("request %s: response header %r left out: it cannot be sent",
                        request_id, k[:64])
    return kept


def build_app(settings: Settings, stores: Stores | None = None) -> App:
    settings = gateway.resolve(settings)
    stores = stores or open_stores(settings)
    stores.blobs.verify_all = settings.verify_reads == "all"
    stores.blobs.pread = settings.blob_read == "pread"
    for name in settings.kms_keys:  # KMS keys the settings ask for (ceph/s3-tests' ones)
        stores.meta.keyring.ensure(KMS_PREFIX + name)
    pairs = cloudkeys.configured(settings.data_dir, list(settings.cloud_keys),
                                 list(settings.cloud_certs))
    limits = RegistryLimits(max_image_size=settings.max_image_size,
                            quota_bytes=settings.image_quota_bytes,
                            quota_pending=settings.image_quota_pending,
                            claim_seconds=settings.job_lease_seconds)
    return App(settings, stores, Registry(stores, cloudkeys.load(pairs), limits))


def open_stores(settings: Settings) -> Stores:
    """The stores of a serving gateway (``settings`` resolved by gateway.resolve)."""
    return Stores.open(settings.data_dir, fsync=settings.fsync,
                       min_free=settings.min_free_space, keyring=settings.keyring,
                       gateway=gateway.dir_name(settings.gateway_id),
                       grace=settings.blob_grace, timeout=settings.meta_timeout,
                       meta_url=settings.meta_url)


def from_environment() -> App:
    """The app of one `serve --workers N` process (settings come from the parent)."""
    import os

    from objectstore.config import SETTINGS_ENV, settings_from_json

    settings = settings_from_json(os.environ[SETTINGS_ENV])
    logging.addLevelName(5, "TRACE")  # uvicorn's --log-level trace (not yet registered)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _exit_with_parent()
    return build_app(settings)


def _exit_with_parent(interval: float = 0.5) -> None:
    """A worker whose supervising `serve` process died (kill -9) shuts down instead of
    serving on as an orphan (which would also keep a restarted server off the port)."""
    import os
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        log.warning("the serve process %d is gone: this worker shuts down", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
