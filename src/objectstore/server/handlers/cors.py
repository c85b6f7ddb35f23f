"""Bucket CORS: Put/Get/DeleteBucketCors, OPTIONS preflight, headers on actual requests."""

from __future__ import annotations

from objectstore.s3 import cors
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import (
    Ctx,
    bucket_or_404,
    clear_setting,
    empty,
    owned_bucket,
)
from objectstore.server.request import Request, Response, xml_response
from objectstore.storage.model import Bucket


async def put_bucket_cors(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    rules = cors.parse_config(await ctx.req.read_small())
    await ctx.stores.write(ctx.stores.meta.set_bucket_cors_txn(bucket.name, cors.to_json(rules)))
    return empty()


async def get_bucket_cors(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    rules = cors.from_json(bucket.cors)
    if not rules:
        raise S3Error("NoSuchCORSConfiguration", BucketName=bucket.name)
    return xml_response(cors.render(rules))


async def delete_bucket_cors(ctx: Ctx) -> Response:
    return await clear_setting(ctx, "cors")


async def preflight(ctx: Ctx) -> Response:
    """OPTIONS: answered from the bucket's CORS rules; no signature needed."""
    h = ctx.req.headers
    origin = h.get("origin")
    method = h.get("access-control-request-method")
    if not origin or not method:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    bucket = bucket_or_404(ctx)
    requested = sorted({x.strip() for x in h.get("access-control-request-headers",
                                                  "").split(",") if x.strip()})
    if len(requested) > cors.MAX_REQUEST_HEADERS:
        raise S3Error("AccessForbidden", "CORSResponse: This CORS request is not allowed: "
                      f"more than {cors.MAX_REQUEST_HEADERS} headers requested.",
                      Method=method, ResourceType="OBJECT" if ctx.ep.key else "BUCKET")
    rule = cors.match(cors.from_json(bucket.cors), origin, method, requested)
    if rule is None:
        raise S3Error("AccessForbidden", "CORSResponse: This CORS request is not allowed. "
                      "This is usually because the evalution of Origin, request method / "
                      "Access-Control-Request-Method or Access-Control-Request-Headers are "
                      "not whitelisted by the resource's CORS spec.", Method=method,
                      ResourceType="OBJECT" if ctx.ep.key else "BUCKET")
    return empty(200, cors.response_headers(rule, origin, preflight=True, requested=h))


def actual_request_headers(req: Request, bucket: Bucket | None) -> list[tuple[str, str]]:
    """CORS headers for a non-preflight request that carries an Origin header."""
    origin = req.headers.get("origin")
    if not origin or bucket is None or not bucket.cors:
        return []
    rule = cors.match(cors.from_json(bucket.cors), origin, req.method)
    if rule is None:
        return []
    return cors.response_headers(rule, origin, preflight=False, requested=req.headers)


HANDLERS = {
    "PutBucketCors": put_bucket_cors,
    "GetBucketCors": get_bucket_cors,
    "DeleteBucketCors": delete_bucket_cors,
}
