"""Bucket and key naming rules (Amazon S3 general purpose buckets)."""

from __future__ import annotations

import re

from objectstore.s3.errors import S3Error

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
MAX_KEY_BYTES = 1024


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid bucket name, or None when it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket name must be between 3 and 63 characters long"
    if not _BUCKET_RE.fullmatch(name):
        return (
            "Bucket name may contain only lowercase letters, numbers, dots and hyphens, "
            "and must begin and end with a letter or number"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket name must not contain adjacent periods or a period next to a hyphen"
    if _IPV4_RE.fullmatch(name):
        return "Bucket name must not be formatted as an IP address"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        return "Bucket name must not start with a reserved prefix"
    if name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")):
        return "Bucket name must not end with a reserved suffix"
    return None


def check_bucket_name(name: str) -> None:
    if bucket_name_problem(name) is not None:
        raise S3Error("InvalidBucketName", BucketName=name)


def check_key(key: str) -> None:
    """A key a write may create: at most 1,024 UTF-8 bytes, and no U+0000 (which neither
    metadata store holds: PostgreSQL text cannot; docs/compatibility.md)."""
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError")
    if "\x00" in key:
        raise S3Error("InvalidArgument", "Object keys cannot contain the NUL character (U+0000)",
                      ArgumentName="key")


def check_location_constraint(region: str, server_region: str) -> None:
    """A CreateBucketConfiguration's LocationConstraint: a region name (the server's own, or
    one shaped like AWS's), never an explicit us-east-1 (S3 answers that with
    InvalidLocationConstraint too: us-east-1 is the absence of a constraint)."""
    if region == "us-east-1" or (region != server_region and region != "EU"
                                 and not _REGION_RE.fullmatch(region)):
        raise S3Error("InvalidLocationConstraint", LocationConstraint=region[:64])
