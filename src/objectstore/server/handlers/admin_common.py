"""What the admin API's operations share (server/handlers/admin.py, admin_iam.py): the
call (context, path parameters, serving App), its checked JSON body, JSON answers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Response
from objectstore.service.accounts import AdminError

if TYPE_CHECKING:
    from objectstore.server.observe import Operators

MAX_BODY = 256 * 1024  # a policy document is at most 20 KB without whitespace


class Server(Protocol):
    """What the admin API reads of the serving App (server/app.py)."""

    ops: Operators
    id_prefix: str  # request ids are this prefix + this process's request counter (hex)


@dataclass(frozen=True, slots=True)
class Call:
    """One admin request: its context, the path's parameters, the serving App."""

    ctx: Ctx
    args: tuple[str, ...]
    server: Server

    async def body(self) -> bytes:
        """The request body, checked against the signed SHA-256."""
        ctx = self.ctx
        if ctx.auth.streaming is not None:
            raise S3Error("InvalidRequest", "The admin API takes plain bodies, not "
                          "aws-chunked ones")
        body = await ctx.req.read_small(MAX_BODY)
        want = ctx.auth.payload_sha256
        if want is None and body:  # a change must be bound to its signature
            raise S3Error("InvalidRequest", "The admin API needs the body's SHA-256 signed "
                          "(x-amz-content-sha256 with SigV4), not UNSIGNED-PAYLOAD")
        if want is not None:
            got = hashlib.sha256(body).hexdigest()
            if got != want:
                raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=want,
                              S3ComputedContentSHA256=got)
        return body

    async def json(self) -> dict[str, Any]:
        """The body as a JSON object."""
        body = await self.body()
        try:
            value = json.loads(body.decode("utf-8")) if body.strip() else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise S3Error("InvalidRequest", "The body is not valid JSON") from None
        if not isinstance(value, dict):
            raise S3Error("InvalidRequest", "The body must be a JSON object")
        return value


Op = Callable[[Call], Awaitable[Response]]
# (method, path pattern: "*" matches one segment) -> (admin action, operation)
Routes = dict[tuple[str, tuple[str, ...]], tuple[str, Op]]


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, [("Content-Type", "application/json"),
                             ("Cache-Control", "no-store")],
                    json.dumps(value, ensure_ascii=False).encode())


def no_content() -> Response:
    return Response(204)


def text_arg(doc: dict[str, Any], name: str, *, required: bool = True,
             default: str = "") -> str:
    value = doc.get(name)
    if value is None and not required:
        return default
    if not isinstance(value, str):
        raise S3Error("InvalidArgument", f"{name} must be a string",
                      ArgumentName=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") JSON allows
        raise S3Error("InvalidArgument", f"{name} is not valid Unicode",
                      ArgumentName=name) from None
    return value


def bool_arg(doc: dict[str, Any], name: str, default: bool = False) -> bool:
    value = doc.get(name, default)
    if not isinstance(value, bool):
        raise S3Error("InvalidArgument", f"{name} must be true or false", ArgumentName=name)
    return value


async def run(fn: Callable[..., Any], *args: Any) -> Any:
    """A blocking admin use case (it waits for its metadata commit) or an aggregate query
    (statistics: a scan inside the database) off the event loop; its AdminError as the
    admin API's error."""
    try:
        return await asyncio.to_thread(fn, *args)
    except AdminError as err:
        raise S3Error(err.code, err.message) from None
