"""AWS Signature Version 2 (``Authorization: AWS key:sig`` and presigned ``?Signature=``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Mapping, Sequence

from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import signed

MAX_EXPIRES_DIGITS = 12

# Query parameters that are part of the CanonicalizedResource.
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
        "policy", "requestPayment", "torrent", "versioning", "versionId", "versions", "website",
        "uploads", "uploadId", "response-content-type", "response-content-language",
        "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
        "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
        "select", "select-type", "object-lock",
    }
)


@dataclass(frozen=True, slots=True)
class SigV2Request:
    access_key: str
    signature: str
    presigned: bool
    expires: int | None = None


def parse_authorization(header: str) -> SigV2Request:
    creds = header[4:].strip()
    key, sep, sig = creds.rpartition(":")
    if not sep or not key or not sig:
        raise S3Error("InvalidArgument", "AWS authorization header is invalid.  Expected "
                      "AwsAccessKeyId:signature", ArgumentName="Authorization",
                      ArgumentValue=header)
    return SigV2Request(key, sig, False)


def parse_presigned(query: Mapping[str, str]) -> SigV2Request:
    if "Expires" not in query or "Signature" not in query or "AWSAccessKeyId" not in query:
        raise S3Error("AccessDenied", "Query-string authentication requires the Signature, "
                      "Expires and AWSAccessKeyId parameters")
    # seconds since the epoch; 12 digits reach past year 9999 (longer values are refused
    # rather than overflowing date arithmetic later)
    expires = signed(query["Expires"], MAX_EXPIRES_DIGITS)
    if expires is None:
        raise S3Error("AccessDenied", "Invalid date (should be seconds since epoch): "
                      f"{query['Expires'][:64]}")
    return SigV2Request(query["AWSAccessKeyId"], query["Signature"], True, expires)


def canonical_resource(raw_path: str, bucket_from_host: str | None,
                       query: Sequence[tuple[str, str]]) -> str:
    resource = raw_path or "/"
    if bucket_from_host is not None:
        resource = "/" + bucket_from_host + resource
    subs = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    if subs:
        resource += "?" + "&".join(f"{k}={v}" if v != "" else k for k, v in subs)
    return resource


def string_to_sign(
    method: str,
    headers: Mapping[str, str],
    resource: str,
    *,
    date_value: str,
) -> str:
    amz = sorted(
        (name, value.strip())
        for name, value in headers.items()
        if name.startswith("x-amz-")
    )
    lines = [
        method,
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        date_value,
    ]
    lines.extend(f"{k}:{v}" for k, v in amz)
    return "\n".join(lines) + "\n" + resource


def date_line(headers: Mapping[str, str], req: SigV2Request) -> str:
    if req.presigned:
        return str(req.expires)
    if "x-amz-date" in headers:
        return ""
    return headers.get("date", "")


def sign(secret: str, sts: str) -> str:
    mac = hmac.new(secret.encode(), sts.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def verify(req: SigV2Request, secret: str, sts: str) -> bool:
    expected = sign(secret, sts)
    return hmac.compare_digest(expected.encode(), req.signature.encode("utf-8", "replace"))
