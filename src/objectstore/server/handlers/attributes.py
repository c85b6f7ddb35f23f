"""GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize."""

from __future__ import annotations

from objectstore.s3 import xml
from objectstore.s3.errors import S3Error
from objectstore.s3.http import check_preconditions, http_date
from objectstore.s3.listing import parse_max_keys
from objectstore.server.handlers.common import (
    Ctx,
    authorize,
    bucket_or_404,
    object_version_or_404,
    version_headers,
)
from objectstore.server.handlers.encryption import read_key
from objectstore.server.request import Response, xml_response
from objectstore.storage.model import Segment

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


async def get_object_attributes(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    obj = object_version_or_404(ctx, bucket)
    authorize(ctx, bucket, obj)
    read_key(ctx, obj.sse)  # an SSE-C object needs its key, as for HEAD
    wanted = {a.strip() for a in (ctx.header("x-amz-object-attributes") or "").split(",")
              if a.strip()}
    if not wanted or wanted - set(ATTRIBUTES):
        raise S3Error("InvalidArgument", "Invalid attribute name specified.",
                      ArgumentName="x-amz-object-attributes",
                      ArgumentValue=",".join(sorted(wanted)))
    check_preconditions(ctx.req.headers, obj.etag, obj.last_modified)
    inner = ""
    if "ETag" in wanted:
        inner += xml.el("ETag", obj.etag.strip('"'))
    if "Checksum" in wanted and obj.checksums:
        sums = "".join(xml.el(f"Checksum{alg}", v) for alg, v in obj.checksums.items())
        if obj.checksum_type:
            sums += xml.el("ChecksumType", obj.checksum_type)
        inner += f"<Checksum>{sums}</Checksum>"
    if "ObjectParts" in wanted and obj.part_count:
        inner += _parts(ctx, obj.segments, next(iter(obj.checksums), None))
    if "StorageClass" in wanted:
        inner += "<StorageClass>STANDARD</StorageClass>"
    if "ObjectSize" in wanted:
        inner += xml.el("ObjectSize", obj.size)
    return xml_response(xml.doc("GetObjectAttributesResponse", inner),
                        headers=[("Last-Modified", http_date(obj.last_modified)),
                                 *version_headers(bucket, obj)])


def _parts(ctx: Ctx, segments: tuple[Segment, ...], alg: str | None) -> str:
    raw_marker = ctx.header("x-amz-part-number-marker") or "0"
    marker = parse_max_keys(raw_marker, "part-number-marker", 10000)
    max_parts = parse_max_keys(ctx.header("x-amz-max-parts"), "max-parts", 1000)
    numbered = list(enumerate(segments, start=1))[marker:]
    page, truncated = numbered[:max_parts], len(numbered) > max_parts
    out = xml.el("PartsCount", len(segments)) + xml.el("PartNumberMarker", marker)
    if page:
        out += xml.el("NextPartNumberMarker", page[-1][0])
    out += xml.el("MaxParts", max_parts) + xml.el("IsTruncated", "true" if truncated else "false")
    for number, seg in page:
        part = xml.el("PartNumber", number) + xml.el("Size", seg.size)
        if alg and seg.checksum:
            part += xml.el(f"Checksum{alg}", seg.checksum)
        out += f"<Part>{part}</Part>"
    return f"<ObjectParts>{out}</ObjectParts>"
