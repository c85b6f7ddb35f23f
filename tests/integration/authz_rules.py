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

Policies (AWS's "How Amazon S3 authorizes a request" and the IAM policy evaluation logic):
`Context.bucket_policy` is a tuple of `Statement`s (effect, principal: "*" or an account,
actions as IAM action patterns), `Context.identity_policy` the caller's identity policy as
a tuple of statements (None: the user has none, and may do what its account may),
`Context.public_access_block` a `Block`. `decide()` evaluates them in AWS's order:

- admins may do everything;
- an explicit Deny in the bucket policy or the identity policy wins;
- a public bucket policy (an Allow to "*") grants nothing outside the bucket owner's account
  under RestrictPublicBuckets; IgnorePublicAcls drops grants to AllUsers/AuthenticatedUsers;
- a caller without an identity policy: ownership or an ACL grant (the table above), or a
  bucket policy Allow;
- a caller with one: in the resource owner's account, an Allow from the identity policy,
  the bucket policy or an ACL grant to a group; from another account, an identity Allow AND
  (a bucket policy Allow or an ACL grant).

Operations map to IAM actions by ACTIONS (AWS's "Actions, resources, and condition keys for
Amazon S3"), written here independently of the server's s3/actions.py.
"""

from __future__ import annotations

import fnmatch
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


# operation -> the IAM actions it needs (every one must be allowed)
ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "HeadBucket": ("s3:ListBucket",),
    "ListObjects": ("s3:ListBucket",),
    "ListObjectsV2": ("s3:ListBucket",),
    "ListObjectVersions": ("s3:ListBucketVersions",),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads",),
    "GetObject:missing": ("s3:ListBucket",),
    "HeadObject:missing": ("s3:ListBucket",),
    "GetBucketAcl": ("s3:GetBucketAcl",),
    "PutBucketAcl": ("s3:PutBucketAcl",),
    "PutObject": ("s3:PutObject",),
    "DeleteObject": ("s3:DeleteObject",),
    "GetObject": ("s3:GetObject",),
    "HeadObject": ("s3:GetObject",),
    "GetObjectAcl": ("s3:GetObjectAcl",),
    "PutObjectAcl": ("s3:PutObjectAcl",),
    "GetObjectTagging": ("s3:GetObjectTagging",),
    "PutBucketTagging": ("s3:PutBucketTagging",),
    "GetBucketTagging": ("s3:GetBucketTagging",),
    "CopyObject": ("s3:GetObject", "s3:PutObject"),
    "GetBucketPolicy": ("s3:GetBucketPolicy",),
}


@dataclass(frozen=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]  # IAM action patterns ("s3:Get*")
    principal: str = "*"  # "*" or an account (bucket policies; identity policies: "*")


@dataclass(frozen=True)
class Block:
    ignore_public_acls: bool = False
    restrict_public_buckets: bool = False


def _effect(statements: Any, action: str, account: str | None) -> str | None:
    """"Deny" / "Allow" / None for one action (Deny wins)."""
    found = None
    for st in statements or ():
        if st.principal != "*" and st.principal != account:
            continue
        if any(fnmatch.fnmatchcase(action, pattern) for pattern in st.actions):
            if st.effect == "Deny":
                return "Deny"
            found = "Allow"
    return found


def _is_public(statements: Any) -> bool:
    return any(st.effect == "Allow" and st.principal == "*" for st in statements or ())


def _bucket_effect(action: str, ctx: Context) -> str | None:
    p = ctx.principal
    effect = _effect(ctx.bucket_policy, action, p.account)
    block = ctx.public_access_block
    if effect == "Allow" and block is not None and block.restrict_public_buckets and \
            _is_public(ctx.bucket_policy) and (
                ctx.bucket is None or p.account != ctx.bucket.owner):
        return None
    return effect


def decide(op: str, ctx: Context) -> Decision:
    """The expected answer of ``op`` for ``ctx``: allowed or AccessDenied."""
    return decide_with(op, ctx, requirements(op))


def _owns(req: Requirement, ctx: Context) -> bool:
    """Whether the caller's account owns what ``req`` is about (same-account evaluation)."""
    p = ctx.principal
    if p.account is None:
        return False
    if req[0] == "object" or req[0] == "object-owner":
        return ctx.obj is not None and ctx.obj.owner == p.account
    return ctx.bucket is not None and ctx.bucket.owner == p.account


def _group_grant(req: Requirement, ctx: Context) -> bool:
    """An ACL grant to everyone (or to signed requests) — what still counts for a user whose
    identity policy says nothing about the action."""
    anon = Principal("group-member", None)
    if req[0] in ("bucket", "object"):
        res = ctx.bucket if req[0] == "bucket" else ctx.obj
        assert res is not None
        grants = CANNED_GRANTS[res.acl]
        ignore = bool(ctx.public_access_block and ctx.public_access_block.ignore_public_acls)
        if ignore:
            return False
        return acl_holds(anon, res, req[1], None) or any(
            g == AUTH_USERS and (perm == req[1] or perm == "FULL_CONTROL")
            for g, perm in grants)
    return False


def decide_with(op: str, ctx: Context, reqs: tuple[Requirement, ...]) -> Decision:
    """As decide(), with the ACL requirements given (e.g. a known server divergence)."""
    if ctx.bucket is not None and not ctx.bucket_exists:
        return "NoSuchBucket"  # to everyone, anonymous included, before any permission
    p = ctx.principal
    if p.admin:
        return "allow"
    if ctx.bucket_policy is None and ctx.identity_policy is None:
        return "allow" if all(_holds(r, ctx) for r in reqs) else "deny"
    actions = ACTIONS[op]
    if len(actions) != len(reqs):  # one requirement per action, in the same order
        actions = actions[:1] * len(reqs)
    for action, req in zip(actions, reqs, strict=True):
        if not _allowed(action, req, ctx):
            return "deny"
    return "allow"


def _allowed(action: str, req: Requirement, ctx: Context) -> bool:
    from_bucket = _bucket_effect(action, ctx)
    from_identity = _effect(ctx.identity_policy, action, None) \
        if ctx.identity_policy is not None else None
    if "Deny" in (from_bucket, from_identity):
        return False
    if ctx.identity_policy is None:
        return _holds(req, ctx) or from_bucket == "Allow"
    if _owns(req, ctx):
        return from_identity == "Allow" or from_bucket == "Allow" or _group_grant(req, ctx)
    return from_identity == "Allow" and (from_bucket == "Allow" or _holds(req, ctx))
