"""(method, host, path, query, headers) -> Endpoint named after the AWS operation.

Pure: no I/O. Handlers never read raw query strings; they get an Endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence
from urllib.parse import unquote

from objectstore.s3.errors import S3Error
from objectstore.s3.memo import MAX_LEN, short_memo

Query = tuple[tuple[str, str], ...]


def parse_query(raw: str) -> Query:
    """Decode a raw query string into ordered (name, value) pairs ('+' is a space)."""
    if not raw:
        return ()
    pairs = []
    try:
        for part in raw.split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.append((_unquote_plus(name), _unquote_plus(value)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise S3Error("InvalidURI") from exc
    return tuple(pairs)


@short_memo(4096)
def _unquote_plus(text: str) -> str:
    """What parse_qsl does to each name and value, with a fast path for plain text."""
    if "%" not in text and "+" not in text:
        return text
    return unquote(text.replace("+", " "), errors="strict")


@dataclass(frozen=True, slots=True)
class Endpoint:
    op: str
    bucket: str | None
    key: str | None
    query: Query
    virtual_host: bool = False

    def arg(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return default

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.query)


# Sub-resources that select a bucket operation, per method, in precedence order.
_BUCKET_SUB: dict[str, Sequence[tuple[str, str]]] = {
    "GET": (
        ("acl", "GetBucketAcl"),
        ("location", "GetBucketLocation"),
        ("versioning", "GetBucketVersioning"),
        ("uploads", "ListMultipartUploads"),
        ("versions", "ListObjectVersions"),
        ("policy", "GetBucketPolicy"),
        ("policyStatus", "GetBucketPolicyStatus"),
        ("cors", "GetBucketCors"),
        ("lifecycle", "GetBucketLifecycleConfiguration"),
        ("tagging", "GetBucketTagging"),
        ("website", "GetBucketWebsite"),
        ("encryption", "GetBucketEncryption"),
        ("logging", "GetBucketLogging"),
        ("notification", "GetBucketNotificationConfiguration"),
        ("object-lock", "GetObjectLockConfiguration"),
        ("ownershipControls", "GetBucketOwnershipControls"),
        ("publicAccessBlock", "GetPublicAccessBlock"),
        ("requestPayment", "GetBucketRequestPayment"),
        ("accelerate", "GetBucketAccelerateConfiguration"),
        ("replication", "GetBucketReplication"),
        ("analytics", "GetBucketAnalyticsConfiguration"),
        ("inventory", "GetBucketInventoryConfiguration"),
        ("metrics", "GetBucketMetricsConfiguration"),
        ("intelligent-tiering", "GetBucketIntelligentTieringConfiguration"),
        ("session", "CreateSession"),
    ),
    "PUT": (
        ("acl", "PutBucketAcl"),
        ("versioning", "PutBucketVersioning"),
        ("policy", "PutBucketPolicy"),
        ("cors", "PutBucketCors"),
        ("lifecycle", "PutBucketLifecycleConfiguration"),
        ("tagging", "PutBucketTagging"),
        ("website", "PutBucketWebsite"),
        ("encryption", "PutBucketEncryption"),
        ("logging", "PutBucketLogging"),
        ("notification", "PutBucketNotificationConfiguration"),
        ("object-lock", "PutObjectLockConfiguration"),
        ("ownershipControls", "PutBucketOwnershipControls"),
        ("publicAccessBlock", "PutPublicAccessBlock"),
        ("requestPayment", "PutBucketRequestPayment"),
        ("accelerate", "PutBucketAccelerateConfiguration"),
        ("replication", "PutBucketReplication"),
        ("analytics", "PutBucketAnalyticsConfiguration"),
        ("inventory", "PutBucketInventoryConfiguration"),
        ("metrics", "PutBucketMetricsConfiguration"),
        ("intelligent-tiering", "PutBucketIntelligentTieringConfiguration"),
    ),
    "DELETE": (
        ("policy", "DeleteBucketPolicy"),
        ("cors", "DeleteBucketCors"),
        ("lifecycle", "DeleteBucketLifecycle"),
        ("tagging", "DeleteBucketTagging"),
        ("website", "DeleteBucketWebsite"),
        ("encryption", "DeleteBucketEncryption"),
        ("ownershipControls", "DeleteBucketOwnershipControls"),
        ("publicAccessBlock", "DeletePublicAccessBlock"),
        ("replication", "DeleteBucketReplication"),
        ("analytics", "DeleteBucketAnalyticsConfiguration"),
        ("inventory", "DeleteBucketInventoryConfiguration"),
        ("metrics", "DeleteBucketMetricsConfiguration"),
        ("intelligent-tiering", "DeleteBucketIntelligentTieringConfiguration"),
    ),
    "POST": (("delete", "DeleteObjects"),),
    "HEAD": (),
}
_BUCKET_DEFAULT = {
    "PUT": "CreateBucket",
    "DELETE": "DeleteBucket",
    "HEAD": "HeadBucket",
    "POST": "PostObject",
}

_OBJECT_SUB: dict[str, Sequence[tuple[str, str]]] = {
    "GET": (
        ("acl", "GetObjectAcl"),
        ("tagging", "GetObjectTagging"),
        ("uploadId", "ListParts"),
        ("attributes", "GetObjectAttributes"),
        ("retention", "GetObjectRetention"),
        ("legal-hold", "GetObjectLegalHold"),
        ("torrent", "GetObjectTorrent"),
    ),
    "HEAD": (),
    "PUT": (
        ("acl", "PutObjectAcl"),
        ("tagging", "PutObjectTagging"),
        ("retention", "PutObjectRetention"),
        ("legal-hold", "PutObjectLegalHold"),
    ),
    "DELETE": (
        ("uploadId", "AbortMultipartUpload"),
        ("tagging", "DeleteObjectTagging"),
    ),
    "POST": (
        ("uploads", "CreateMultipartUpload"),
        ("uploadId", "CompleteMultipartUpload"),
        ("restore", "RestoreObject"),
        ("select", "SelectObjectContent"),
    ),
}
_OBJECT_DEFAULT = {
    "GET": "GetObject",
    "HEAD": "HeadObject",
    "PUT": "PutObject",
    "DELETE": "DeleteObject",
    "POST": "PostObjectUnsupported",
}


def split_host(host: str, domains: Sequence[str]) -> str | None:
    """The bucket named by a virtual-hosted-style Host header, or None."""
    if len(host) > MAX_LEN:  # remembered only when short: the Host header is the client's
        return _split_host.__wrapped__(host, tuple(domains))
    return _split_host(host, tuple(domains))


def host_name(host: str) -> str:
    """A Host header's name, without the port, lower-case, without a trailing dot."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower().rstrip(".")


@lru_cache(maxsize=1024)  # a server sees few distinct Host headers
def _split_host(host: str, domains: tuple[str, ...]) -> str | None:
    name = host_name(host)
    for domain in domains:
        suffix = "." + domain.lower()
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


# Paths of the operators' endpoints (server/observe.py, server/health.py): names no
# bucket can have, routed as the "Internal" operation with key "<name>/<rest of path>".
INTERNAL = frozenset({"_metrics", "_health"})


def route(
    method: str,
    host: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    domains: Sequence[str] = ("s3.localhost",),
) -> Endpoint:
    """Name the S3 operation a request asks for. ``path`` is percent-decoded."""
    method = method.upper()
    names = {k for k, _ in query}
    vhost_bucket = split_host(host, domains) if host else None
    if vhost_bucket is not None:
        bucket: str | None = vhost_bucket
        key = path[1:] if path.startswith("/") else path
    else:
        rest = path[1:] if path.startswith("/") else path
        if not rest:
            bucket, key = None, ""
        else:
            bucket, _, key = rest.partition("/")
    if bucket is None:
        if method == "POST" or (method == "GET" and "Action" in names):
            return Endpoint("Ec2Query", None, None, query)
        op = "ListBuckets" if method == "GET" else "MethodNotAllowed"
        return Endpoint(op, None, None, query)
    if method == "OPTIONS":
        return Endpoint("Preflight", bucket, key or None, query, vhost_bucket is not None)
    if bucket[:1] == "_" and vhost_bucket is None:  # no bucket name starts with "_"
        if bucket == "_images":
            return Endpoint("Images", None, key or None, query)
        if bucket == "_admin":  # the signed JSON admin API (server/handlers/admin.py)
            return Endpoint("Admin", None, key, query)
        if bucket == "_console":  # the web console lives on its own port (server/console.py)
            return Endpoint("Console", None, key or None, query)
        if bucket in INTERNAL:  # operators' endpoints: /_metrics, /_health/live|ready
            return Endpoint("Internal", None, bucket + "/" + key, query)
    if not key:
        if method == "GET":
            op = _pick(_BUCKET_SUB["GET"], names) or (
                "ListObjectsV2" if dict(query).get("list-type") == "2" else "ListObjects"
            )
        elif method in _BUCKET_SUB:
            op = _pick(_BUCKET_SUB[method], names) or _BUCKET_DEFAULT[method]
        else:
            op = "MethodNotAllowed"
        return Endpoint(op, bucket, None, query, vhost_bucket is not None)
    if method not in _OBJECT_SUB:
        return Endpoint("MethodNotAllowed", bucket, key, query, vhost_bucket is not None)
    op = _pick(_OBJECT_SUB[method], names) or _OBJECT_DEFAULT[method]
    if method == "PUT" and op == "PutObject":
        copy = "x-amz-copy-source" in headers
        if "partNumber" in names and "uploadId" in names:
            op = "UploadPartCopy" if copy else "UploadPart"
        elif copy:
            op = "CopyObject"
    return Endpoint(op, bucket, key, query, vhost_bucket is not None)


def _pick(table: Sequence[tuple[str, str]], names: set[str]) -> str | None:
    for sub, op in table:
        if sub in names:
            return op
    return None
