"""Nova-compatible `/_images`: list, register, publish, describe, deregister, download.

Errors are JSON: {"error": {"code": ..., "message": ...}} with a 4xx status.
"""

from __future__ import annotations

import json
import os
from typing import Any

from objectstore.s3 import actions
from objectstore.s3.errors import S3Error
from objectstore.s3.http import http_date, iso8601, parse_range
from objectstore.server.handlers.common import Ctx
from objectstore.server.handlers.objects import primed, stream_segments
from objectstore.server.request import Response
from objectstore.service import access
from objectstore.service.registry import RegisterRequest, Registry, RegistryError
from objectstore.storage.model import Image, Segment

STATUS = {"NotFound": 404, "Malformed": 400, "Duplicate": 409, "InvalidManifest": 400,
          "AccessDenied": 403, "InvalidParameter": 400, "InvalidState": 409,
          "TooLarge": 400, "QuotaExceeded": 413}


def describe(im: Image) -> dict[str, Any]:
    """Nova's image metadata fields (plus name, state reason and size)."""
    out: dict[str, Any] = {
        "imageId": im.image_id, "imageLocation": im.location, "imageOwnerId": im.owner,
        "imageState": im.state, "isPublic": im.is_public, "architecture": im.architecture,
        "imageType": im.image_type, "type": im.image_type, "kernelId": im.kernel_id,
        "ramdiskId": im.ramdisk_id, "displayName": im.name, "description": im.description,
        "creationDate": iso8601(im.created), "size": im.size,
    }
    if im.state == "failed":
        out["stateReason"] = im.reason
    return out


def _json(value: Any, status: int = 200) -> Response:
    return Response(status, [("Content-Type", "application/json")],
                    json.dumps(value).encode())


def _error(code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, STATUS.get(code, 400))


def _registry(ctx: Ctx) -> Registry:
    assert ctx.registry is not None
    return ctx.registry


async def images(ctx: Ctx) -> Response:
    try:
        if ctx.principal is None:
            raise RegistryError("AccessDenied", "the image registry needs an authenticated "
                                "request")
        method = ctx.req.method
        image_id = ctx.ep.key or ctx.ep.arg("image_id")
        if not access.identity_allows(ctx.principal,
                                      actions.images_action(method, image_id is not None),
                                      actions.image_arn(ctx.settings.region, image_id)):
            raise RegistryError("AccessDenied", "not authorized by the user's policy")
        if method in ("GET", "HEAD") and ctx.ep.key:
            return await _download(ctx)
        if method == "GET":
            return await _list(ctx)
        if method == "PUT":
            return await _register(ctx)
        if method == "POST":
            return await _modify(ctx)
        if method == "DELETE":
            await _registry(ctx).deregister(ctx.principal, _image_id(ctx))
            return Response(204)
        raise RegistryError("InvalidParameter", f"method {method} not allowed on /_images")
    except RegistryError as err:
        return _error(err.code, err.message)


def _image_id(ctx: Ctx) -> str:
    image_id = ctx.ep.key or ctx.ep.arg("image_id")
    if not image_id:
        raise RegistryError("InvalidParameter", "image_id is required")
    return image_id


async def _list(ctx: Ctx) -> Response:
    return _json([describe(im) for im in _registry(ctx).visible(ctx.principal)])


async def _register(ctx: Ctx) -> Response:
    assert ctx.principal is not None
    location = ctx.ep.arg("image_location")
    if not location:
        raise RegistryError("InvalidParameter", "image_location is required")
    req = RegisterRequest(
        location=location, name=ctx.ep.arg("display_name") or "",
        description=ctx.ep.arg("description") or "",
        architecture=ctx.ep.arg("architecture"), kernel_id=ctx.ep.arg("kernel_id"),
        ramdisk_id=ctx.ep.arg("ramdisk_id"), image_id=ctx.ep.arg("image_id") or None)
    im = await _registry(ctx).register(ctx.principal, req)
    return _json({"imageId": im.image_id, "imageState": im.state})


async def _modify(ctx: Ctx) -> Response:
    image_id = _image_id(ctx)
    registry = _registry(ctx)
    operation = ctx.ep.arg("operation")
    name, description = ctx.ep.arg("display_name"), ctx.ep.arg("description")
    if operation is None and name is None and description is None:
        raise RegistryError("InvalidParameter",
                            "give operation=add|remove, display_name or description")
    im = None
    if operation is not None:
        if operation not in ("add", "remove"):
            raise RegistryError("InvalidParameter",
                                f"operation must be add or remove, not {operation!r}")
        im = await registry.set_public(ctx.principal, image_id, operation == "add")
    if name is not None or description is not None:
        im = await registry.update(ctx.principal, image_id, name=name, description=description)
    assert im is not None
    return _json(describe(im))


async def _download(ctx: Ctx) -> Response:
    im = _registry(ctx).get(ctx.principal, _image_id(ctx))
    if im.state != "available":
        raise RegistryError("InvalidState", f"image {im.image_id} is {im.state}")
    try:
        rng = parse_range(ctx.header("range"), im.size)
    except S3Error:
        return Response(416, [("Content-Range", f"bytes */{im.size}")])
    headers = [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes"),
               ("Last-Modified", http_date(im.created)), ("ETag", f'"{im.image_id}"')]
    start, length, status = 0, im.size, 200
    if rng is not None:
        start, length, status = rng.start, rng.length, 206
        headers.append(("Content-Range", rng.content_range(im.size)))
    if ctx.req.method == "HEAD":
        return Response(status, headers, content_length=length)
    segments = (Segment(im.blob, im.size),) if im.size else ()
    fds: list[int] = []
    try:
        for s in segments:
            fds.append(ctx.stores.blobs.open(s.blob))
    except FileNotFoundError:  # deregistered (and its blob removed) meanwhile
        for fd in fds:
            os.close(fd)
        raise RegistryError("NotFound", f"The image id '[{im.image_id}]' does not exist") \
            from None
    stream = stream_segments(ctx.stores.blobs, fds, segments, start, length,
                             f"image {im.image_id}")
    return Response(status, headers, stream=await primed(stream) if length else stream,
                    content_length=length)

