"""Bucket sub-resources that objectstore does not configure yet, answered as an S3 bucket
that has none: the specific 404 code, an empty document, or 204 for deletes."""

from __future__ import annotations

from objectstore.s3 import xml
from objectstore.s3.errors import S3Error
from objectstore.server.handlers.common import Ctx, Handler, empty, owned_bucket
from objectstore.server.request import Response, xml_response

# operation -> error code when nothing is configured
MISSING = {
    "GetBucketReplication": "ReplicationConfigurationNotFoundError",
}
# operation -> (root element, inner XML) of the "nothing configured" document
EMPTY_DOCS = {
    "GetBucketRequestPayment": ("RequestPaymentConfiguration", "<Payer>BucketOwner</Payer>"),
    "GetBucketNotificationConfiguration": ("NotificationConfiguration", ""),
    "GetBucketAccelerateConfiguration": ("AccelerateConfiguration", ""),
}
DELETES = (
    "DeleteBucketReplication",
)


def _missing(code: str) -> Handler:
    async def handler(ctx: Ctx) -> Response:
        bucket = owned_bucket(ctx)
        raise S3Error(code, BucketName=bucket.name)
    return handler


def _empty_doc(root: str, inner: str) -> Handler:
    async def handler(ctx: Ctx) -> Response:
        owned_bucket(ctx)
        return xml_response(xml.doc(root, inner))
    return handler


async def _delete(ctx: Ctx) -> Response:
    owned_bucket(ctx)
    return empty(204)


HANDLERS: dict[str, Handler] = {
    **{op: _missing(code) for op, code in MISSING.items()},
    **{op: _empty_doc(root, inner) for op, (root, inner) in EMPTY_DOCS.items()},
    **{op: _delete for op in DELETES},
}
