"""GetBucketVersioning, PutBucketVersioning and ListObjectVersions."""

from __future__ import annotations

from typing import Iterator

from objectstore.s3 import lock, xml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.s3.listing import parse_max_keys
from objectstore.s3.versioning import (
    ListedVersion,
    list_versions,
    parse_versioning,
    version_arg,
    versions_page,
)
from objectstore.server.handlers.common import Ctx, Handler, account_names, empty, owned_bucket
from objectstore.server.handlers.listing import _common
from objectstore.server.request import Response, xml_response
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.versions import Version

AFTER_NONE = 1 << 62  # a seq greater than any: "from the first version of the key on"


async def get_bucket_versioning(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    return xml_response(xml.versioning(bucket.versioning or None))


async def put_bucket_versioning(ctx: Ctx) -> Response:
    bucket = owned_bucket(ctx)
    status = parse_versioning(await ctx.req.read_small())
    if "x-amz-mfa" in ctx.req.headers:
        raise S3Error("InvalidRequest", "MFA Delete is not supported: this server has no MFA "
                      "devices.")
    lock.check_versioning_change(bucket.object_lock, status)
    try:
        await ctx.stores.write(ctx.stores.meta.set_versioning_txn(bucket.name, status))
    except NotFound:
        raise S3Error("NoSuchBucket", BucketName=bucket.name) from None
    except Conflict:  # Object Lock was enabled meanwhile
        lock.check_versioning_change("{}", status)
    return empty(200)


async def list_object_versions(ctx: Ctx) -> Response:
    bucket, url, prefix, delimiter = _common(ctx)
    key_marker = ctx.ep.arg("key-marker", "") or ""
    version_marker = ctx.ep.arg("version-id-marker", "") or ""
    max_keys = parse_max_keys(ctx.ep.arg("max-keys"))
    meta = ctx.stores.meta
    marker_seq: int | None = None
    if version_marker:
        if not key_marker:
            raise S3Error("InvalidArgument", "A version-id marker cannot be specified without "
                          "a key marker.", ArgumentName="version-id-marker",
                          ArgumentValue=version_marker)
        vid = version_arg(version_marker)
        assert not isinstance(vid, bool)
        marker_seq = meta.version_seq(bucket.name, key_marker, vid)
        if marker_seq is None:  # deleted since (a client emptying the bucket page by page):
            marker_seq = AFTER_NONE  # the key's remaining versions, all older, come next

    def scan(after: bytes, after_seq: int | None) -> Iterator[Version]:
        return meta.scan_versions(bucket.name, prefix, after, after_seq,
                                  batch=min(max_keys + 1, 1000))

    page = versions_page(scan, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
                         marker_seq=marker_seq, max_keys=max_keys)
    names = account_names(ctx) if page.entries else {}
    listed = [
        ListedVersion(v.key, v.version_id, v.latest, v.is_marker, iso8601(v.rec.last_modified),
                      v.rec.etag, v.rec.size, v.rec.owner, names.get(v.rec.owner, v.rec.owner),
                      next(iter(v.rec.checksums), None))
        for v in page.entries
    ]
    body = list_versions(bucket=bucket.name, prefix=prefix, key_marker=key_marker,
                         version_id_marker=version_marker, page=page, listed=listed,
                         max_keys=max_keys, delimiter=delimiter, url=url)
    return xml_response(body)


HANDLERS: dict[str, Handler] = {
    "GetBucketVersioning": get_bucket_versioning,
    "PutBucketVersioning": put_bucket_versioning,
    "ListObjectVersions": list_object_versions,
}
