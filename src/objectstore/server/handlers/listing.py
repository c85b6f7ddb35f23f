"""ListObjects (v1) and ListObjectsV2."""

from __future__ import annotations

from typing import Iterator

from objectstore.s3 import xml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.s3.listing import Page, decode_token, encode_token, list_page, parse_max_keys
from objectstore.server.handlers.common import Ctx, account_names, authorize, bucket_or_404
from objectstore.server.request import Response, xml_response
from objectstore.service import access
from objectstore.storage.model import Bucket, ObjectRecord


def _encoding(ctx: Ctx) -> bool:
    enc = ctx.ep.arg("encoding-type")
    if enc is None:
        return False
    if enc.lower() != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request",
                      ArgumentName="encoding-type", ArgumentValue=enc)
    return True


def _page(ctx: Ctx, prefix: str, delimiter: str, start_after: str,
          max_keys: int) -> Page[ObjectRecord]:
    meta = ctx.stores.meta
    name = ctx.bucket_name

    def scan(after: bytes) -> Iterator[ObjectRecord]:
        return meta.scan_objects(name, prefix, after, batch=min(max_keys + 1, 1000))

    return list_page(scan, prefix=prefix, delimiter=delimiter, start_after=start_after,
                     max_keys=max_keys)


def _listed(ctx: Ctx, bucket: Bucket, objs: list[ObjectRecord]) -> list[xml.ListedObject]:
    names = account_names(ctx) if objs else {}
    owners = [access.object_owner(bucket, o) for o in objs]  # BucketOwnerEnforced: the bucket's
    return [
        xml.ListedObject(o.key, iso8601(o.last_modified), o.etag, o.size, owner,
                         names.get(owner, owner),
                         next(iter(o.checksums), None), o.checksum_type)
        for o, owner in zip(objs, owners, strict=True)
    ]


def _common(ctx: Ctx) -> tuple[Bucket, bool, str, str]:
    """The bucket (READ checked), encoding-type=url, prefix and delimiter of a listing."""
    bucket = bucket_or_404(ctx)
    authorize(ctx, bucket)
    url = _encoding(ctx)
    return (bucket, url, ctx.ep.arg("prefix", "") or "", ctx.ep.arg("delimiter", "") or "")


async def list_objects(ctx: Ctx) -> Response:
    bucket, url, prefix, delimiter = _common(ctx)
    marker = ctx.ep.arg("marker", "") or ""
    max_keys = parse_max_keys(ctx.ep.arg("max-keys"))
    page = _page(ctx, prefix, delimiter, marker, max_keys)
    next_marker = page.last if page.is_truncated and delimiter else None
    body = xml.list_objects_v1(
        bucket=bucket.name, prefix=prefix, marker=marker, next_marker=next_marker,
        max_keys=max_keys, delimiter=delimiter, truncated=page.is_truncated, url=url,
        objects=_listed(ctx, bucket, page.contents), prefixes=page.common_prefixes)
    return xml_response(body)


async def list_objects_v2(ctx: Ctx) -> Response:
    bucket, url, prefix, delimiter = _common(ctx)
    token = ctx.ep.arg("continuation-token")
    start_after = ctx.ep.arg("start-after")
    max_keys = parse_max_keys(ctx.ep.arg("max-keys"))
    fetch_owner = (ctx.ep.arg("fetch-owner") or "").lower() == "true"
    # An empty token means "no token" (as in S3): list from start-after; it is echoed back.
    after = decode_token(token) if token else (start_after or "")
    page = _page(ctx, prefix, delimiter, after, max_keys)
    next_token = encode_token(page.last) if page.is_truncated and page.last else None
    body = xml.list_objects_v2(
        bucket=bucket.name, prefix=prefix, token=token, next_token=next_token,
        start_after=start_after, max_keys=max_keys, delimiter=delimiter,
        truncated=page.is_truncated, url=url, fetch_owner=fetch_owner,
        objects=_listed(ctx, bucket, page.contents), prefixes=page.common_prefixes)
    return xml_response(body)


async def list_object_versions(ctx: Ctx) -> Response:
    bucket, url, prefix, delimiter = _common(ctx)
    key_marker = ctx.ep.arg("key-marker", "") or ""
    version_marker = ctx.ep.arg("version-id-marker", "") or ""
    max_keys = parse_max_keys(ctx.ep.arg("max-keys"))
    page = _page(ctx, prefix, delimiter, key_marker, max_keys)
    next_key = page.last if page.is_truncated else None
    next_version = "null" if page.is_truncated and page.contents and \
        page.contents[-1].key == page.last else None
    body = xml.list_versions(
        bucket=bucket.name, prefix=prefix, key_marker=key_marker,
        version_id_marker=version_marker, next_key_marker=next_key,
        next_version_id_marker=next_version, max_keys=max_keys, delimiter=delimiter,
        truncated=page.is_truncated, url=url, objects=_listed(ctx, bucket, page.contents),
        prefixes=page.common_prefixes)
    return xml_response(body)
