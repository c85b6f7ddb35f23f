"""STS GetSessionToken on the S3 port (``POST /`` with ``Action=GetSessionToken``): the
web console's sign-in, and boto3's ``sts`` client's. Errors are STS's XML."""

from __future__ import annotations

import asyncio
from typing import Mapping

from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Response
from objectstore.service import sessions
from objectstore.sts import xml as sx

ACTIONS = frozenset({"GetSessionToken"})
CONTENT_TYPE = ("Content-Type", "text/xml")
NO_STORE = ("Cache-Control", "no-store")  # the answer holds a secret
# S3's authentication errors under STS's names for them
_AUTH_CODES = {"InvalidAccessKeyId": ("InvalidClientTokenId", "The security token included "
                                      "in the request is invalid.")}


def error_response(code: str, message: str, status: int, request_id: str) -> Response:
    return Response(status, [CONTENT_TYPE], sx.error(code, message, request_id, status))


def auth_error(err: S3Error, request_id: str) -> Response:
    code, message = _AUTH_CODES.get(err.code, (err.code, err.message))
    return error_response(code, message, err.status, request_id)


async def sts(ctx: Ctx, params: Mapping[str, str]) -> Response:
    try:
        if params.get("Version", sx.VERSION) != sx.VERSION:
            raise sx.StsError("InvalidParameterValue", "Version must be 2011-06-15")
        principal = ctx.principal
        if principal is None:
            raise sx.StsError("MissingAuthenticationToken", "Request is missing "
                              "Authentication Token", 403)
        seconds = sx.duration(params.get("DurationSeconds"),
                              ctx.settings.max_session_seconds)
        creds = await asyncio.to_thread(sessions.start, ctx.stores.meta, principal, seconds)
    except sx.StsError as err:
        return error_response(err.code, err.message, err.status, ctx.request_id)
    return Response(200, [CONTENT_TYPE, NO_STORE],
                    sx.session_token_response(creds, ctx.request_id))
