"""The signed JSON admin API, ``/_admin/...`` on the S3 port (docs/admin-api.md): what S3
has no operation for — who am I, server status, bucket statistics, accounts, users,
identity policies, access keys, sessions. The web console and scripts call it.

Requests are signed like any S3 request (the app authenticated this one before calling
``admin``); each operation names one admin action that ``service/access.py`` decides
(administrators only, except the self-service ones). A body is JSON; its SHA-256 is
checked against the signed ``x-amz-content-sha256`` (unless UNSIGNED-PAYLOAD). Answers
are JSON; errors are the S3 error XML the app renders from an ``S3Error``.
"""

from __future__ import annotations

import time

from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.server.handlers import admin_iam
from objectstore.server.handlers.admin_common import (
    Call,
    Routes,
    Server,
    json_response,
    no_content,
    run,
)
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Response
from objectstore.service import access, admin_stats, gateways


# ------------------------------------------------------------------------ self-service
async def whoami(call: Call) -> Response:
    p = call.ctx.principal
    assert p is not None
    expires = p.session_expires
    return json_response({
        "user": p.user, "account": p.account_name, "accountId": p.account_id,
        "accountNumber": p.account_number, "isAdmin": p.is_admin, "accessKey": p.access_key,
        "session": {"expiration": iso8601(expires)} if expires is not None else None})


async def bucket_list(call: Call) -> Response:
    scope = access.bucket_statistics_scope(call.ctx.principal)
    meta = call.ctx.stores.meta
    names = meta.account_names()
    return json_response([{
        "name": s.bucket.name, "owner": names.get(s.bucket.account_id, ""),
        "ownerId": s.bucket.account_id, "created": iso8601(s.bucket.created),
        "region": s.bucket.region, "objects": s.objects, "bytes": s.bytes,
        "versioning": s.bucket.versioning or "Disabled",
        "objectLock": s.bucket.object_lock is not None,
    } for s in await run(admin_stats.bucket_stats, meta, scope)])


# ------------------------------------------------------------------------------ status
async def status(call: Call) -> Response:
    ctx, ops = call.ctx, call.server.ops
    now = time.time()
    started = ops.heartbeat.started
    uptime = max(now - started, 0.001)
    totals = await run(admin_stats.totals, ctx.stores.meta)
    data_dir = ctx.stores.blobs.root
    total, errors, source = _requests(call)
    rows = gateways.gateways(ctx.stores.meta, now - gateways.RECENT)
    return json_response({
        "version": gateways.version(), "started": iso8601(started),
        "uptimeSeconds": round(uptime, 3), "gateway": ops.gateway,
        "storage": {"dataDir": str(data_dir),
                    "bytesUsed": totals.bytes_current + totals.bytes_noncurrent,
                    "bytesFree": admin_stats.free_bytes(data_dir),
                    "objects": totals.objects, "buckets": totals.buckets},
        "requests": {"total": total, "errors": errors,
                     "ratePerSecond": round(total / uptime, 3), "source": source},
        "gateways": [{"id": g.gateway, "host": g.gateway.rpartition(":")[0] or g.gateway,
                      "pid": g.pid, "version": g.version, "started": iso8601(g.started),
                      "lastSeen": iso8601(g.seen)} for g in rows],
        "metaStore": "postgresql" if ctx.settings.meta_url else "sqlite",
    })


def _requests(call: Call) -> tuple[int, int | None, str]:
    """(requests, error answers, where from): the metrics' counters when they are on (all
    worker processes of this gateway), else this process's request counter — the number
    in this request's id (no request pays for counting) — and no error count."""
    metrics = call.server.ops.metrics
    if metrics is None:
        counter = call.ctx.request_id[len(call.server.id_prefix):]
        return int(counter, 16), None, "process"
    metrics.fold()
    total = errors = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "objectstore_requests_total":
                total += sample.value
            elif sample.name == "objectstore_errors_total":
                errors += sample.value
    return int(total) + 1, int(errors), "metrics"  # (+1: this request, not yet counted)


# ---------------------------------------------------------------------------- sessions
async def end_session(call: Call) -> Response:
    """Sign out: the session the request is signed with ends now (its credentials then
    get ExpiredToken)."""
    p = call.ctx.principal
    assert p is not None
    if p.session_expires is None:
        raise S3Error("InvalidRequest", "This request is not signed with session "
                      "credentials: there is no session to end")
    await run(call.ctx.stores.meta.revoke_session, p.access_key)
    return no_content()


# ------------------------------------------------------------------------------- routes
ROUTES: Routes = {
    ("GET", ("whoami",)): (access.WHOAMI, whoami),
    ("GET", ("buckets",)): (access.LIST_BUCKET_STATS, bucket_list),
    ("GET", ("status",)): ("objectstore:GetServerStatus", status),
    ("DELETE", ("session",)): (access.END_SESSION, end_session),
    **admin_iam.ROUTES,
}


async def admin(ctx: Ctx, server: Server) -> Response:
    """Route an authenticated ``/_admin/...`` request, authorize it, run it."""
    parts = tuple(p for p in (ctx.ep.key or "").split("/") if p)
    method = "GET" if ctx.req.method == "HEAD" else ctx.req.method
    found = None
    known_path = False
    for (m, pattern), entry in ROUTES.items():
        if len(pattern) == len(parts) and all(a == "*" or a == b
                                              for a, b in zip(pattern, parts, strict=True)):
            known_path = True
            if m == method:
                found = entry, tuple(b for a, b in zip(pattern, parts, strict=True)
                                     if a == "*")
                break
    if found is None:
        if known_path:
            raise S3Error("MethodNotAllowed", Method=ctx.req.method, ResourceType="ADMIN")
        raise S3Error("NoSuchEntity", f"No admin API operation at /_admin/{'/'.join(parts)}")
    (action, op), args = found
    access.require_admin_action(ctx.principal, action)
    return await op(Call(ctx, args, server))
