"""Who may do what: account ownership, admins, and ACL grants."""

from __future__ import annotations

from objectstore.s3.acl import Acl
from objectstore.s3.errors import S3Error
from objectstore.storage.model import Bucket, ObjectRecord, Principal, Upload


def _account(p: Principal | None) -> str | None:
    return p.account_id if p is not None else None


def may(p: Principal | None, owner: str, acl_json: str, permission: str) -> bool:
    """Whether ``p`` holds ``permission`` on a resource owned by ``owner`` with this ACL."""
    if p is not None and (p.is_admin or p.account_id == owner):
        return True
    return Acl.from_json(acl_json).allows(_account(p), permission)


def require_bucket(p: Principal | None, bucket: Bucket, permission: str) -> None:
    if not may(p, bucket.account_id, bucket.acl, permission):
        raise S3Error("AccessDenied")


def require_bucket_owner(p: Principal | None, bucket: Bucket) -> None:
    if p is None or not (p.is_admin or p.account_id == bucket.account_id):
        raise S3Error("AccessDenied")


def require_object(p: Principal | None, obj: ObjectRecord, permission: str) -> None:
    if not may(p, obj.owner, obj.acl, permission):
        raise S3Error("AccessDenied")


def require_object_owner(p: Principal | None, obj: ObjectRecord) -> None:
    """Object tagging: the object's owner (ACL grants give no tagging permission in S3)."""
    if p is None or not (p.is_admin or p.account_id == obj.owner):
        raise S3Error("AccessDenied")


def require_upload(p: Principal | None, bucket: Bucket, upload: Upload) -> None:
    """ListParts and AbortMultipartUpload: the bucket's owner and the upload's initiator."""
    if p is None or not (p.is_admin or p.account_id in (bucket.account_id, upload.owner)):
        raise S3Error("AccessDenied")


def require_authenticated(p: Principal | None) -> Principal:
    if p is None:
        raise S3Error("AccessDenied")
    return p
