"""The website endpoint (``BUCKET.<website-domain>``, or the ``--website-port`` where the
Host name is the bucket): anonymous GET/HEAD of a bucket's static website, as S3's website
endpoint serves it — index and error documents, redirects, routing rules, HTML errors.

Requests here are always anonymous (a signature is ignored, as S3's website endpoint
ignores it). The routing decision is the pure ``s3.website.decide``; objects are served by
the S3 API's own GetObject (ranges, conditional requests, HEAD)."""

from __future__ import annotations

from objectstore.s3 import website
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Endpoint
from objectstore.server.auth import ANONYMOUS
from objectstore.server.handlers import cors, objects
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Request, Response
from objectstore.service import access
from objectstore.storage.model import Bucket, ObjectRecord

# Request headers GetObject may see from a website visitor: ranges and conditions. The
# rest (SSE-C keys, checksum mode, x-amz-*) is the S3 API's, not the website's.
PASSED_HEADERS = ("range", "if-match", "if-none-match", "if-modified-since",
                  "if-unmodified-since")
REDIRECT = "x-amz-website-redirect-location"


def may_read_anonymously(bucket: Bucket, obj: ObjectRecord | None) -> bool:
    """Whether an anonymous visitor may read ``obj`` (None: list the bucket, which decides
    404 versus 403 for a missing key). THE access decision of the website endpoint: when
    service/access.py gains the website-read decision (bucket policy + ACLs + public access
    block for an anonymous s3:GetObject / s3:ListBucket), this body becomes one call to it."""
    if obj is None:
        return access.may_bucket(None, bucket, "READ")
    return access.may_object(None, bucket, obj, "READ")


def _lookup(ctx: Ctx, bucket: Bucket) -> website.Lookup:
    def lookup(key: str) -> website.Found:
        obj = ctx.stores.meta.get_object(bucket.name, key) if len(key) <= 1024 else None
        if obj is None:
            return website.Found("missing" if may_read_anonymously(bucket, None) else "denied")
        if not may_read_anonymously(bucket, obj):
            return website.Found("denied")
        return website.Found("found", obj.headers.get(REDIRECT))
    return lookup


def html_error(ctx: Ctx, status: int, code: str, message: str,
               details: list[tuple[str, str]] | None = None,
               document: tuple[str, str, str | None] | None = None,
               host_id: str = "") -> Response:
    """S3's HTML error page, with the x-amz-error-* headers S3's website endpoint sends."""
    details = details or []
    body = website.error_page(status, code, message, details, ctx.request_id, host_id,
                              document)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("x-amz-error-code", code),
               ("x-amz-error-message", message)]
    headers += [(f"x-amz-error-detail-{k}", v) for k, v in details]
    return Response(status, headers, body)  # HEAD: the shell sends the length, no body


def _from_error(ctx: Ctx, err: S3Error, host_id: str) -> Response:
    if err.status == 304:
        return Response(304, list(err.headers.items()))
    details = [(k, v) for k, v in err.extra.items() if k in ("Key", "BucketName")]
    return html_error(ctx, err.status, err.code, err.message, details, host_id=host_id)


async def _serve(ctx: Ctx, bucket: Bucket, key: str, status: int,
                 location: str | None = None) -> Response:
    """The object at ``key`` through the S3 API's GetObject/HeadObject, anonymously; the
    error document (``status`` not 200) without ranges or conditions."""
    h = ctx.req.headers
    headers = {n: h[n] for n in PASSED_HEADERS if n in h and status == 200}
    req = Request(ctx.req.method, ctx.req.raw_path, ctx.req.path, "", (), headers,
                  ctx.req.receive, ctx.req.scheme)
    sub = Ctx(ctx.settings, ctx.stores, req, Endpoint("GetObject", bucket.name, key, ()),
              ANONYMOUS, ctx.request_id)
    resp = await objects.get_object(sub, head=ctx.req.method == "HEAD")
    if status != 200:
        resp.status = status
    if location is not None:
        resp.headers.append(("Location", location))
    return resp


async def serve(ctx: Ctx, bucket_name: str, host_id: str) -> Response:
    """Answer one request to the website endpoint for ``bucket_name``."""
    try:
        if ctx.req.method not in ("GET", "HEAD"):
            return html_error(ctx, 405, "MethodNotAllowed", "The specified method is not "
                              "allowed against this resource.",
                              [("Method", ctx.req.method), ("ResourceType", "OBJECT")],
                              host_id=host_id)
        bucket = ctx.stores.meta.get_bucket(bucket_name)
        if bucket is None:
            return html_error(ctx, 404, "NoSuchBucket", "The specified bucket does not exist",
                              [("BucketName", bucket_name)], host_id=host_id)
        if not bucket.website:
            return html_error(ctx, 404, "NoSuchWebsiteConfiguration", "The specified bucket "
                              "does not have a website configuration",
                              [("BucketName", bucket_name)], host_id=host_id)
        resp = await _answer(ctx, bucket, host_id)
    except S3Error as err:
        return _from_error(ctx, err, host_id)
    if "origin" in ctx.req.headers:  # a script's request: the bucket's CORS rules apply
        resp.headers.extend(cors.actual_request_headers(ctx.req, bucket))
    return resp


async def _answer(ctx: Ctx, bucket: Bucket, host_id: str) -> Response:
    assert bucket.website is not None
    config = website.from_json(bucket.website)
    decision = website.decide(config, ctx.req.path, _lookup(ctx, bucket),
                              scheme=ctx.req.scheme, host=ctx.req.host,
                              raw_query=ctx.req.raw_query)
    if isinstance(decision, website.Redirection):
        return Response(decision.status, [("Location", decision.location)])
    if isinstance(decision, website.Serve):
        return await _serve(ctx, bucket, decision.key, decision.status, decision.location)
    details = [("Key", decision.key)] if decision.key is not None else []
    return html_error(ctx, decision.status, decision.code, decision.message, details,
                      decision.document, host_id)
