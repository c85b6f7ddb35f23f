"""Requests -> the IAM actions they need (pure).

Follows AWS's "Actions, resources, and condition keys for Amazon S3" and "Required
permissions for Amazon S3 API operations": every operation the router names (s3/routing.py)
asks for one action on its bucket or object, a request naming a ``versionId`` asks for the
``...Version`` action, and headers that do more than the operation itself (an ACL, tags,
retention, a legal hold, bypassing governance retention) ask for those actions too. The
image registry and the EC2 Query API ask for ``ec2:`` actions.

``ACL_PERMISSION`` is AWS's "Mapping of ACL permissions and access policy permissions": the
ACL permission that grants an action, and whether the bucket's or the object's ACL counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Mapping

On = Literal["bucket", "object", "source"]  # source: CopyObject's / UploadPartCopy's source


@dataclass(frozen=True, slots=True)
class Need:
    action: str
    on: On = "object"


# operation -> (action, action with a versionId or None, resource)
_OPS: dict[str, tuple[str, str | None, On]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", None, "bucket"),
    "CreateBucket": ("s3:CreateBucket", None, "bucket"),
    "HeadBucket": ("s3:ListBucket", None, "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", None, "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", None, "bucket"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", None, "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", None, "bucket"),
    "ListObjects": ("s3:ListBucket", None, "bucket"),
    "ListObjectsV2": ("s3:ListBucket", None, "bucket"),
    "ListObjectVersions": ("s3:ListBucketVersions", None, "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", None, "bucket"),
    "GetBucketAcl": ("s3:GetBucketAcl", None, "bucket"),
    "PutBucketAcl": ("s3:PutBucketAcl", None, "bucket"),
    "GetBucketPolicy": ("s3:GetBucketPolicy", None, "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", None, "bucket"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", None, "bucket"),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", None, "bucket"),
    "GetBucketCors": ("s3:GetBucketCORS", None, "bucket"),
    "PutBucketCors": ("s3:PutBucketCORS", None, "bucket"),
    "DeleteBucketCors": ("s3:PutBucketCORS", None, "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", None, "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", None, "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", None, "bucket"),
    "GetBucketLifecycle": ("s3:GetLifecycleConfiguration", None, "bucket"),
    "PutBucketLifecycle": ("s3:PutLifecycleConfiguration", None, "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", None, "bucket"),
    "PutBucketTagging": ("s3:PutBucketTagging", None, "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", None, "bucket"),
    "GetBucketWebsite": ("s3:GetBucketWebsite", None, "bucket"),
    "PutBucketWebsite": ("s3:PutBucketWebsite", None, "bucket"),
    "DeleteBucketWebsite": ("s3:DeleteBucketWebsite", None, "bucket"),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", None, "bucket"),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", None, "bucket"),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", None, "bucket"),
    "GetBucketLogging": ("s3:GetBucketLogging", None, "bucket"),
    "PutBucketLogging": ("s3:PutBucketLogging", None, "bucket"),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", None, "bucket"),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", None, "bucket"),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", None, "bucket"),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", None, "bucket"),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", None, "bucket"),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", None, "bucket"),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", None, "bucket"),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", None, "bucket"),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", None, "bucket"),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", None, "bucket"),
    "GetBucketRequestPayment": ("s3:GetBucketRequestPayment", None, "bucket"),
    "PutBucketRequestPayment": ("s3:PutBucketRequestPayment", None, "bucket"),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration", None, "bucket"),
    "PutBucketAccelerateConfiguration": ("s3:PutAccelerateConfiguration", None, "bucket"),
    "GetBucketReplication": ("s3:GetReplicationConfiguration", None, "bucket"),
    "PutBucketReplication": ("s3:PutReplicationConfiguration", None, "bucket"),
    "DeleteBucketReplication": ("s3:PutReplicationConfiguration", None, "bucket"),
    "GetBucketAnalyticsConfiguration": ("s3:GetAnalyticsConfiguration", None, "bucket"),
    "PutBucketAnalyticsConfiguration": ("s3:PutAnalyticsConfiguration", None, "bucket"),
    "DeleteBucketAnalyticsConfiguration": ("s3:PutAnalyticsConfiguration", None, "bucket"),
    "GetBucketInventoryConfiguration": ("s3:GetInventoryConfiguration", None, "bucket"),
    "PutBucketInventoryConfiguration": ("s3:PutInventoryConfiguration", None, "bucket"),
    "DeleteBucketInventoryConfiguration": ("s3:PutInventoryConfiguration", None, "bucket"),
    "GetBucketMetricsConfiguration": ("s3:GetMetricsConfiguration", None, "bucket"),
    "PutBucketMetricsConfiguration": ("s3:PutMetricsConfiguration", None, "bucket"),
    "DeleteBucketMetricsConfiguration": ("s3:PutMetricsConfiguration", None, "bucket"),
    "GetBucketIntelligentTieringConfiguration": (
        "s3:GetIntelligentTieringConfiguration", None, "bucket"),
    "PutBucketIntelligentTieringConfiguration": (
        "s3:PutIntelligentTieringConfiguration", None, "bucket"),
    "DeleteBucketIntelligentTieringConfiguration": (
        "s3:PutIntelligentTieringConfiguration", None, "bucket"),
    "CreateSession": ("s3express:CreateSession", None, "bucket"),
    "PostObject": ("s3:PutObject", None, "object"),
    "DeleteObjects": ("s3:DeleteObject", "s3:DeleteObjectVersion", "object"),
    # objects
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion", "object"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion", "object"),
    "SelectObjectContent": ("s3:GetObject", None, "object"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes",
                            "object"),
    "GetObjectTorrent": ("s3:GetObjectTorrent", "s3:GetObjectVersionTorrent", "object"),
    "PutObject": ("s3:PutObject", None, "object"),
    "CopyObject": ("s3:PutObject", None, "object"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion", "object"),
    "GetObjectAcl": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl", "object"),
    "PutObjectAcl": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "s3:GetObjectVersionTagging", "object"),
    "PutObjectTagging": ("s3:PutObjectTagging", "s3:PutObjectVersionTagging", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
                            "object"),
    "GetObjectRetention": ("s3:GetObjectRetention", None, "object"),
    "PutObjectRetention": ("s3:PutObjectRetention", None, "object"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", None, "object"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", None, "object"),
    "RestoreObject": ("s3:RestoreObject", None, "object"),
    "CreateMultipartUpload": ("s3:PutObject", None, "object"),
    "UploadPart": ("s3:PutObject", None, "object"),
    "UploadPartCopy": ("s3:PutObject", None, "object"),
    "CompleteMultipartUpload": ("s3:PutObject", None, "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", None, "object"),
    "ListParts": ("s3:ListMultipartUploadParts", None, "object"),
}

# Writes of a new object: which headers ask for more than s3:PutObject.
_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "PostObject"})
_ACL_HEADERS = ("x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
                "x-amz-grant-write-acp", "x-amz-grant-full-control")
_RETENTION_HEADERS = ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date")
BYPASS = "s3:BypassGovernanceRetention"  # asked only when a lock is in the way

# ACL permission -> the actions it grants (AWS's mapping table), per resource.
_BUCKET_ACL = {
    "READ": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
    "WRITE": ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    "READ_ACP": ("s3:GetBucketAcl",),
    "WRITE_ACP": ("s3:PutBucketAcl",),
}
_OBJECT_ACL = {
    "READ": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent",
             "s3:GetObjectVersionTorrent", "s3:GetObjectAttributes",
             "s3:GetObjectVersionAttributes"),
    "READ_ACP": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "WRITE_ACP": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
}
# action -> (whose ACL, permission); actions not listed are granted by no ACL.
ACL_PERMISSION: dict[str, tuple[On, str]] = {
    **{a: ("bucket", perm) for perm, acts in _BUCKET_ACL.items() for a in acts},
    **{a: ("object", perm) for perm, acts in _OBJECT_ACL.items() for a in acts},
}


def known_ops() -> frozenset[str]:
    return frozenset(_OPS)


@lru_cache(maxsize=None)  # operations and the flag come from the router: a bounded set
def primary(op: str, versioned: bool = False) -> Need:
    """The action an operation asks for (``versioned``: the request names a versionId)."""
    action, version_action, on = _OPS[op]
    return Need(version_action if versioned and version_action else action, on)


@lru_cache(maxsize=None)
def _alone(op: str, versioned: bool) -> tuple[Need, ...]:
    return (primary(op, versioned),)


def for_request(op: str, headers: Mapping[str, str], versioned: bool = False,
                source_versioned: bool = False, bucket_owner: str = "") -> tuple[Need, ...]:
    """Every action a request needs: the operation's own, then what its headers add.
    (x-amz-bypass-governance-retention asks for BYPASS only where GOVERNANCE retention
    stands in the way, which the handler finds out.)"""
    if op not in _WRITES and op not in ("CreateBucket", "UploadPartCopy"):  # nothing to add
        return _alone(op, versioned)
    needs = [primary(op, versioned)]
    if op in ("CopyObject", "UploadPartCopy"):
        needs.append(Need("s3:GetObjectVersion" if source_versioned else "s3:GetObject",
                          "source"))
    if op in _WRITES:
        needs.extend(write_extras(headers, copy=op == "CopyObject", bucket_owner=bucket_owner))
    elif op == "CreateBucket":
        needs.extend(create_bucket_extras(headers))
    return tuple(needs)


def write_extras(headers: Mapping[str, str], copy: bool = False,
                 bucket_owner: str = "") -> list[Need]:
    """What an object write's headers (or a POST form's fields) ask for beyond PutObject.
    An ACL that grants nothing beyond the writer and the bucket owner (``private``,
    ``bucket-owner-read``, ``bucket-owner-full-control``, grants naming the bucket owner's
    id) is part of s3:PutObject, as in AWS's cross-account upload examples (the policy's
    ``s3:x-amz-acl`` / ``s3:x-amz-grant-*`` conditions judge it); any other ACL also asks
    for s3:PutObjectAcl."""
    extra = []
    if any(h in headers for h in _ACL_HEADERS) and not owner_only_acl(headers, bucket_owner):
        extra.append(Need("s3:PutObjectAcl"))
    if "x-amz-tagging" in headers and (
            not copy or headers.get("x-amz-tagging-directive", "").upper() == "REPLACE"):
        extra.append(Need("s3:PutObjectTagging"))
    if any(h in headers for h in _RETENTION_HEADERS):
        extra.append(Need("s3:PutObjectRetention"))
    if "x-amz-object-lock-legal-hold" in headers:
        extra.append(Need("s3:PutObjectLegalHold"))
    return extra


_OWNER_CANNED = frozenset({"private", "bucket-owner-read", "bucket-owner-full-control"})


def owner_only_acl(headers: Mapping[str, str], bucket_owner: str) -> bool:
    canned = headers.get("x-amz-acl")
    if canned is not None and canned.strip() not in _OWNER_CANNED:
        return False
    for name in _ACL_HEADERS[1:]:
        value = headers.get(name)
        if value is None:
            continue
        for grantee in value.split(","):
            kind, _, who = grantee.strip().partition("=")
            if kind.strip().lower() != "id" or who.strip().strip('"') != bucket_owner:
                return False
    return True


def create_bucket_extras(headers: Mapping[str, str]) -> list[Need]:
    extra = []
    if any(h in headers for h in _ACL_HEADERS):
        extra.append(Need("s3:PutBucketAcl", "bucket"))
    if headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true":
        extra.append(Need("s3:PutBucketObjectLockConfiguration", "bucket"))
        extra.append(Need("s3:PutBucketVersioning", "bucket"))
    if "x-amz-object-ownership" in headers:
        extra.append(Need("s3:PutBucketOwnershipControls", "bucket"))
    return extra


# ------------------------------------------------------------------ image registry, EC2
EC2_ACTIONS = {
    "RegisterImage": "ec2:RegisterImage",
    "DescribeImages": "ec2:DescribeImages",
    "DeregisterImage": "ec2:DeregisterImage",
    "ModifyImageAttribute": "ec2:ModifyImageAttribute",
    "DescribeImageAttribute": "ec2:DescribeImageAttribute",
    "ResetImageAttribute": "ec2:ResetImageAttribute",
}


def ec2_action(name: str) -> str:
    """The IAM action of an EC2 Query API action (``ec2:<Action>``)."""
    return EC2_ACTIONS.get(name, f"ec2:{name}")


def images_action(method: str, has_image: bool) -> str:
    """The IAM action of an image registry request (/_images)."""
    if method in ("GET", "HEAD"):
        return "ec2:DescribeImages"  # a listing, or an image's description / download
    if method == "PUT":
        return "ec2:RegisterImage"
    if method == "POST":
        return "ec2:ModifyImageAttribute"
    return "ec2:DeregisterImage"


def image_arn(region: str, image_id: str | None) -> str:
    return f"arn:aws:ec2:{region}::image/{image_id}" if image_id else "*"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"
