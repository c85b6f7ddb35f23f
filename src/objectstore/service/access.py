"""Who may do what: account ownership, admins, and ACL grants — the one evaluator.

A bucket's Object Ownership and Block Public Access settings act here too: with
BucketOwnerEnforced, ACLs are disabled and the bucket owner owns (and alone controls) every
object; with IgnorePublicAcls, grants to AllUsers / AuthenticatedUsers count for nothing.
Owners are answered before either setting is read, so their requests cost nothing more."""

from __future__ import annotations

from objectstore.s3 import ownership
from objectstore.s3.acl import Acl
from objectstore.s3.errors import S3Error
from objectstore.storage.model import Bucket, ObjectRecord, Principal, Upload


def _account(p: Principal | None) -> str | None:
    return p.account_id if p is not None else None


def may(p: Principal | None, owner: str, acl_json: str, permission: str, *,
        ignore_public: bool = False) -> bool:
    """Whether ``p`` holds ``permission`` on a resource owned by ``owner`` with this ACL."""
    if p is not None and (p.is_admin or p.account_id == owner):
        return True
    return Acl.from_json(acl_json).allows(_account(p), permission, ignore_public=ignore_public)


def may_bucket(p: Principal | None, bucket: Bucket, permission: str) -> bool:
    if p is not None and (p.is_admin or p.account_id == bucket.account_id):
        return True
    if bucket.ownership == ownership.ENFORCED:  # ACLs disabled
        return False
    return Acl.from_json(bucket.acl).allows(
        _account(p), permission, ignore_public=ownership.ignores_public_acls(bucket.public_block))


def object_owner(bucket: Bucket, obj: ObjectRecord) -> str:
    """The object's owner: the bucket owner's when the bucket enforces bucket ownership."""
    return bucket.account_id if bucket.ownership == ownership.ENFORCED else obj.owner


def may_object(p: Principal | None, bucket: Bucket | None, obj: ObjectRecord,
               permission: str) -> bool:
    owner = obj.owner if bucket is None else object_owner(bucket, obj)
    if p is not None and (p.is_admin or p.account_id == owner):
        return True
    if bucket is None:
        return Acl.from_json(obj.acl).allows(_account(p), permission)
    if bucket.ownership == ownership.ENFORCED:  # ACLs disabled: the bucket owner only
        return False
    return Acl.from_json(obj.acl).allows(
        _account(p), permission, ignore_public=ownership.ignores_public_acls(bucket.public_block))


def require_bucket(p: Principal | None, bucket: Bucket, permission: str) -> None:
    if not may_bucket(p, bucket, permission):
        raise S3Error("AccessDenied")


def require_bucket_owner(p: Principal | None, bucket: Bucket) -> None:
    if p is None or not (p.is_admin or p.account_id == bucket.account_id):
        raise S3Error("AccessDenied")


def require_object(p: Principal | None, obj: ObjectRecord, permission: str,
                   bucket: Bucket | None = None) -> None:
    """``bucket``: the object's bucket, whose ownership and public-access settings apply."""
    if not may_object(p, bucket, obj, permission):
        raise S3Error("AccessDenied")


def require_object_owner(p: Principal | None, obj: ObjectRecord,
                         bucket: Bucket | None = None) -> None:
    """Object tagging: the object's owner (ACL grants give no tagging permission in S3)."""
    owner = obj.owner if bucket is None else object_owner(bucket, obj)
    if p is None or not (p.is_admin or p.account_id == owner):
        raise S3Error("AccessDenied")


def require_upload(p: Principal | None, bucket: Bucket, upload: Upload) -> None:
    """ListParts and AbortMultipartUpload: the bucket's owner and the upload's initiator."""
    if p is None or not (p.is_admin or p.account_id in (bucket.account_id, upload.owner)):
        raise S3Error("AccessDenied")


def require_authenticated(p: Principal | None) -> Principal:
    if p is None:
        raise S3Error("AccessDenied")
    return p


def check_acl(bucket: Bucket, requested: Acl, canned_acl: str | None) -> None:
    """Refuse the ACL a write asks for (PUT/Copy/CreateMultipartUpload/POST headers,
    PutBucketAcl, PutObjectAcl; ``canned_acl``: its x-amz-acl) when the bucket's Object
    Ownership or Block Public Access settings do not allow it."""
    if bucket.ownership is None and bucket.public_block is None:
        return
    block = ownership.PublicBlock.from_json(bucket.public_block) \
        if bucket.public_block is not None else None
    ownership.check_acl(bucket.ownership, block, requested, bucket.account_id, canned_acl)
