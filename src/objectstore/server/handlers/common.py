"""What every handler gets (Ctx) and the lookups they share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from objectstore.config import Settings
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Endpoint
from objectstore.server.auth import Auth
from objectstore.server.request import Request, Response
from objectstore.service import access
from objectstore.service.registry import Registry
from objectstore.service.stores import Stores
from objectstore.storage.model import Bucket, ObjectRecord, Principal


@dataclass(slots=True)
class Ctx:
    settings: Settings
    stores: Stores
    req: Request
    ep: Endpoint
    auth: Auth
    request_id: str
    registry: Registry | None = None

    @property
    def principal(self) -> Principal | None:
        return self.auth.principal

    @property
    def bucket_name(self) -> str:
        assert self.ep.bucket is not None
        return self.ep.bucket

    @property
    def key(self) -> str:
        assert self.ep.key is not None
        return self.ep.key

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.req.headers.get(name, default)

    def now(self) -> float:
        return time.time()


Handler = Callable[[Ctx], Awaitable[Response]]


def bucket_or_404(ctx: Ctx) -> Bucket:
    bucket = ctx.stores.meta.get_bucket(ctx.bucket_name)
    if bucket is None:
        raise S3Error("NoSuchBucket", BucketName=ctx.bucket_name)
    return bucket


def object_or_404(ctx: Ctx, bucket: Bucket, key: str | None = None) -> ObjectRecord:
    """The object, or NoSuchKey — AccessDenied instead when the caller may not list."""
    key = ctx.key if key is None else key
    obj = ctx.stores.meta.get_object(bucket.name, key)
    if obj is None:
        if not access.may(ctx.principal, bucket.account_id, bucket.acl, "READ"):
            raise S3Error("AccessDenied")
        raise S3Error("NoSuchKey", Key=key)
    return obj


def account_names(ctx: Ctx) -> dict[str, str]:
    return ctx.stores.meta.account_names()


def empty(status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, headers or [])
