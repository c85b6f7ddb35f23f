"""The written rule table of who may do what, independent of the server's code.

Semantics (AWS's ACL model, see "Access control list (ACL) overview" in the S3 user guide,
table "Mapping of ACL permissions and access policy permissions"):

- An account may do everything with the resources it owns (buckets; objects it wrote).
  Users of an account act for their account (there are no IAM identity policies yet).
- objectstore admins may do everything everywhere (objectstore's own rule).
- Everyone else gets what an ACL grant gives: READ on a bucket lists it (ListBucket,
  ListBucketVersions, ListBucketMultipartUploads, HeadBucket); WRITE on a bucket creates,
  overwrites and deletes objects in it (PutObject, DeleteObject, the multipart writes);
  READ on an object reads it (GetObject, HeadObject, GetObjectAttributes); READ_ACP /
  WRITE_ACP read / replace the ACL; FULL_CONTROL is all four.
- Bucket sub-resources other than the ACL (location, versioning, tagging, CORS, policy, …)
  are the bucket owner's only: no ACL grant reaches them.
- Object tagging (s3:GetObjectTagging, s3:PutObjectTagging, s3:DeleteObjectTagging) is not
  in AWS's ACL mapping either: only the object's owner (and admins) may use it.
- Listing the parts of an upload (s3:ListMultipartUploadParts) and aborting it
  (s3:AbortMultipartUpload) belong to the bucket owner and the upload's initiator, not to
  READ / WRITE grantees ("Multipart upload and permissions" in the S3 user guide); uploading
  and completing parts need s3:PutObject, which bucket WRITE grants.
- Anonymous requests are the AllUsers group; any signed request is also
  AuthenticatedUsers. A presigned URL acts as the user who signed it.
- A missing key answers 404 NoSuchKey to whoever may list the bucket, 403 to others.
- A missing bucket answers 404 NoSuchBucket to everyone (anonymous too).

Canned ACLs: the grants AWS documents for each name ("Canned ACL" table); bucket-owner-read
and bucket-owner-full-control on a bucket are the same as private.

Extension points: `Context` carries `bucket_policy`, `identity_policy` and
`public_access_block` (all None today). `decide()` evaluates them in AWS's order — an
explicit Deny anywhere wins, then an Allow from the ACL or a policy, then (for the ACL part)
a public access block's IgnorePublicAcls drops grants to AllUsers/AuthenticatedUsers — so
adding policies means filling in `_policy_effect` and adding cases, not rewriting the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

ALL_USERS: Final = "AllUsers"
AUTH_USERS: Final = "AuthenticatedUsers"
OWNER: Final = "resource-owner"
BUCKET_OWNER: Final = "bucket-owner"

CANNED_ACLS: Final = ("private", "public-read", "public-read-write", "authenticated-read",
                      "bucket-owner-read", "bucket-owner-full-control")

# canned ACL -> (grantee, permission); grantees resolved against the resource
CANNED_GRANTS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "private": ((OWNER, "FULL_CONTROL"),),
    "public-read": ((OWNER, "FULL_CONTROL"), (ALL_USERS, "READ")),
    "public-read-write": ((OWNER, "FULL_CONTROL"), (ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "authenticated-read": ((OWNER, "FULL_CONTROL"), (AUTH_USERS, "READ")),
    "bucket-owner-read": ((OWNER, "FULL_CONTROL"), (BUCKET_OWNER, "READ")),
    "bucket-owner-full-control": ((OWNER, "FULL_CONTROL"), (BUCKET_OWNER, "FULL_CONTROL")),
}


@dataclass(frozen=True)
class Principal:
    name: str  # owner, same-account, other-account, admin, anonymous, presigned-by-owner, ...
    account: str | None  # None: anonymous
    admin: bool = False
    presigned: bool = False


@dataclass(frozen=True)
class Resource:
    owner: str  # account
    acl: str  # canned ACL name


@dataclass(frozen=True)
class Context:
    principal: Principal
    bucket: Resource | None = None
    obj: Resource | None = None  # the object the operation reads (for copies: the source)
    upload_initiator: str | None = None
    bucket_exists: bool = True
    # extension points (None: not configured)
    bucket_policy: Any = None
    identity_policy: Any = None
    public_access_block: Any = None


# What an operation needs. Each requirement must hold:
#   ("authenticated",)           any signed request
#   ("bucket", PERMISSION)       an ACL permission on the bucket
#   ("object", PERMISSION)       an ACL permission on the object (source of a copy)
#   ("bucket-owner",)            the bucket owner's account (or an admin)
#   ("object-owner",)            the object owner's account (or an admin)
#   ("bucket-owner-or-initiator",)
Requirement = tuple[str, ...]

RULES: Final[dict[str, tuple[Requirement, ...]]] = {
    "ListBuckets": (("authenticated",),),
    "CreateBucket": (("authenticated",),),
    "HeadBucket": (("bucket", "READ"),),
    "ListObjects": (("bucket", "READ"),),
    "ListObjectsV2": (("bucket", "READ"),),
    "ListObjectVersions": (("bucket", "READ"),),
    "ListMultipartUploads": (("bucket", "READ"),),
    "GetObject:missing": (("bucket", "READ"),),
    "HeadObject:missing": (("bucket", "READ"),),
    "GetBucketAcl": (("bucket", "READ_ACP"),),
    "PutBucketAcl": (("bucket", "WRITE_ACP"),),
    "PutObject": (("bucket", "WRITE"),),
    "PostObject": (("bucket", "WRITE"),),
    "DeleteObject": (("bucket", "WRITE"),),
    "DeleteObjects": (("bucket", "WRITE"),),
    "CreateMultipartUpload": (("bucket", "WRITE"),),
    "UploadPart": (("bucket", "WRITE"),),
    "CompleteMultipartUpload": (("bucket", "WRITE"),),
    "AbortMultipartUpload": (("bucket-owner-or-initiator",),),
    "ListParts": (("bucket-owner-or-initiator",),),
    "GetObject": (("object", "READ"),),
    "HeadObject": (("object", "READ"),),
    "GetObjectAttributes": (("object", "READ"),),
    "GetObjectAcl": (("object", "READ_ACP"),),
    "PutObjectAcl": (("object", "WRITE_ACP"),),
    "GetObjectTagging": (("object-owner",),),
    "PutObjectTagging": (("object-owner",),),
    "DeleteObjectTagging": (("object-owner",),),
    "CopyObject": (("object", "READ"), ("bucket", "WRITE")),
    "UploadPartCopy": (("object", "READ"), ("bucket", "WRITE")),
}
# everything else that addresses a bucket: its owner only
BUCKET_OWNER_ONLY: Final = ("bucket-owner",)


def requirements(op: str) -> tuple[Requirement, ...]:
    return RULES.get(op, (BUCKET_OWNER_ONLY,))


Decision = Literal["allow", "deny", "NoSuchBucket"]


def acl_holds(p: Principal, res: Resource, permission: str, bucket_owner: str | None,
              *, ignore_public: bool = False) -> bool:
    """Whether ``p`` holds ``permission`` on ``res`` through ownership or an ACL grant."""
    if p.admin or (p.account is not None and p.account == res.owner):
        return True
    for grantee, granted in CANNED_GRANTS[res.acl]:
        if granted != permission and granted != "FULL_CONTROL":
            continue
        if grantee == ALL_USERS and not ignore_public:
            return True
        if grantee == AUTH_USERS and p.account is not None and not ignore_public:
            return True
        if grantee == BUCKET_OWNER and p.account is not None and p.account == bucket_owner:
            return True
    return False


def _holds(req: Requirement, ctx: Context) -> bool:
    p = ctx.principal
    bucket_owner = ctx.bucket.owner if ctx.bucket else None
    ignore_public = bool(ctx.public_access_block and
                         getattr(ctx.public_access_block, "ignore_public_acls", False))
    kind = req[0]
    if kind == "authenticated":
        return p.account is not None
    if kind == "bucket-owner":
        return p.admin or (p.account is not None and p.account == bucket_owner)
    if kind == "object-owner":
        assert ctx.obj is not None
        return p.admin or (p.account is not None and p.account == ctx.obj.owner)
    if kind == "bucket-owner-or-initiator":
        return p.admin or (p.account is not None and p.account in (bucket_owner,
                                                                     ctx.upload_initiator))
    if kind == "bucket":
        assert ctx.bucket is not None
        # canned ACLs on a bucket: bucket-owner-* mean private (the owner is the owner)
        return acl_holds(p, ctx.bucket, req[1], bucket_owner, ignore_public=ignore_public)
    if kind == "object":
        assert ctx.obj is not None
        return acl_holds(p, ctx.obj, req[1], bucket_owner, ignore_public=ignore_public)
    raise ValueError(f"unknown requirement {req}")


def _policy_effect(op: str, ctx: Context) -> Decision | None:
    """Explicit Allow/Deny from bucket and identity policies; None: no statement applies.
    (No policies exist yet: the hook where they will be evaluated.)"""
    if ctx.bucket_policy is None and ctx.identity_policy is None:
        return None
    raise NotImplementedError("bucket and identity policies are not modelled yet")


def decide(op: str, ctx: Context) -> Decision:
    """The expected answer of ``op`` for ``ctx``: allowed or AccessDenied."""
    return decide_with(op, ctx, requirements(op))


def decide_with(op: str, ctx: Context, reqs: tuple[Requirement, ...]) -> Decision:
    """As decide(), with the ACL requirements given (e.g. a known server divergence)."""
    if ctx.bucket is not None and not ctx.bucket_exists:
        return "NoSuchBucket"  # to everyone, anonymous included, before any permission
    policy = _policy_effect(op, ctx)
    if policy == "deny":
        return "deny"
    if all(_holds(r, ctx) for r in reqs):
        return "allow"
    return "allow" if policy == "allow" else "deny"
