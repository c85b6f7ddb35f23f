"""Who may do what — the one evaluator: bucket policy, identity policy, ACLs, Block Public
Access and Object Ownership, in AWS's order.

Every request asks for IAM actions (s3/actions.py) on a bucket or an object; ``decide``
answers, the way AWS's "How Amazon S3 authorizes a request" describes it:

1. objectstore admins may do everything; the bucket owner account's first user (and
   admins) may always Get/Put/DeleteBucketPolicy (lockout guard, like AWS's root user);
2. an explicit Deny in the bucket policy or the caller's identity policy wins;
3. a caller of the resource owner's account: a user with no identity policy may do what the
   account may (as before policies existed); a user with one needs an Allow from it, the
   bucket policy or an ACL grant;
4. a caller of another account needs its own identity policy to allow (when it has one)
   AND the bucket policy or an ACL to allow; anonymous callers only the bucket policy or
   an ACL.

ACL grants count per AWS's ACL-to-policy mapping (actions.ACL_PERMISSION), not at all under
BucketOwnerEnforced, and not for AllUsers / AuthenticatedUsers under IgnorePublicAcls. A
public bucket policy grants only the owner account and AWS services under
RestrictPublicBuckets. The effective Block Public Access is the bucket's OR its owner
account's.

Fast path: a bucket without a policy and a caller of the owner account without an identity
policy is answered without a parse, a context or a query. Parsed policies are remembered
by (bucket, text) and by text, in bounded caches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import lru_cache

from objectstore.s3 import identity, ownership
from objectstore.s3 import policy as pol
from objectstore.s3.acl import LOG_DELIVERY, Acl
from objectstore.s3.actions import ACL_PERMISSION, bucket_arn, object_arn
from objectstore.s3.errors import S3Error
from objectstore.storage.model import Bucket, ObjectRecord, Principal

log = logging.getLogger("objectstore.access")

POLICY_ACTIONS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy",
                            "s3:DeleteBucketPolicy"})
AccountBlock = Callable[[str], str | None]  # account id -> its account-wide block (JSON)
NO_BLOCK = ownership.PublicBlock()
GROUPS_ONLY = "-"  # an "account" no grant names: only group grants count


def _no_account_block(account_id: str) -> str | None:
    return None


# ------------------------------------------------------------------------- parsed policies
@lru_cache(maxsize=512)
def bucket_policy(bucket: str, text: str) -> pol.Policy | None:
    """The parsed bucket policy (stored policies were validated when PUT)."""
    try:
        return pol.parse_bucket_policy(text, bucket)
    except S3Error as err:
        log.warning("bucket %s: stored policy no longer parses (%s); every request but "
                    "an admin's and the owner account's policy operations is denied until "
                    "it is replaced or deleted", bucket, err.message)
        return None


@lru_cache(maxsize=512)
def identity_policy(text: str) -> pol.Policy | None:
    try:
        return pol.parse_identity_policy(text)
    except S3Error as err:
        log.warning("stored identity policy no longer parses (%s): it allows nothing",
                    err.message)
        return None


def caller(p: Principal | None) -> pol.Caller:
    if p is None:
        return pol.ANONYMOUS
    return _caller(p.account_number, p.account_id, p.user, p.account_name)


@lru_cache(maxsize=1024)
def _caller(number: str, account_id: str, user: str, account_name: str) -> pol.Caller:
    number = number or identity.account_number(account_id)
    return pol.Caller(number, account_id, identity.user_arn(number, user), user,
                      account_name=account_name)


def effective_block(bucket: Bucket, account_block: AccountBlock = _no_account_block
                    ) -> ownership.PublicBlock:
    """The bucket's Block Public Access settings OR its owner account's."""
    mine = ownership.PublicBlock.from_json(bucket.public_block) \
        if bucket.public_block is not None else NO_BLOCK
    stored = account_block(bucket.account_id)
    if stored is None:
        return mine
    theirs = ownership.PublicBlock.from_json(stored)
    return ownership.PublicBlock(*(a or b for a, b in zip(mine.flags(), theirs.flags(),
                                                              strict=True)))


def object_owner(bucket: Bucket, obj: ObjectRecord) -> str:
    """The object's owner: the bucket owner's when the bucket enforces bucket ownership."""
    return bucket.account_id if bucket.ownership == ownership.ENFORCED else obj.owner


# ------------------------------------------------------------------------------- decide
def decide(p: Principal | None, bucket: Bucket, action: str, *, key: str | None = None,
           obj: ObjectRecord | None = None, upload_owner: str | None = None,
           context: pol.Context | None = None,
           account_block: AccountBlock = _no_account_block, acl_as: str | None = None) -> bool:
    """Whether ``p`` may do ``action`` on ``bucket`` (``key``: on that object; ``obj``: the
    existing object, whose owner and ACL count; ``upload_owner``: a multipart upload's
    initiating account, which counts as an owner; ``acl_as``: the action whose ACL
    permission counts — a PUT's x-amz-acl asks for s3:PutObjectAcl, which the bucket's
    WRITE grant covers as it covers the PUT)."""
    if p is not None:
        if p.is_admin:
            return True
        owner = object_owner(bucket, obj) if obj is not None else bucket.account_id
        if p.policy is None and bucket.policy is None and p.account_id in (owner, upload_owner):
            return True  # the fast path: as before policies existed
        if action in POLICY_ACTIONS and p.is_root and p.account_id == bucket.account_id:
            return True  # lockout guard
    return _evaluate(p, bucket, action, key, obj, upload_owner,
                     context or _no_keys, account_block, acl_as or action)


def _evaluate(p: Principal | None, bucket: Bucket, action: str, key: str | None,
              obj: ObjectRecord | None, upload_owner: str | None, context: pol.Context,
              account_block: AccountBlock, acl_action: str) -> bool:
    who = caller(p)
    resource = object_arn(bucket.name, key) if key is not None else bucket_arn(bucket.name)
    ask = pol.Ask(who, action, resource, context)
    block: ownership.PublicBlock | None = None
    from_bucket: pol.Effect | None = None
    if bucket.policy is not None:
        parsed = bucket_policy(bucket.name, bucket.policy)
        if parsed is None:
            from_bucket = "Deny"  # fail closed: its Deny statements might have applied
        else:
            from_bucket = parsed.decide(ask)
            if from_bucket == "Allow" and parsed.public and \
                    (p is None or p.account_id != bucket.account_id):
                block = effective_block(bucket, account_block)
                if block.restrict_public_buckets:
                    from_bucket = None  # a public policy grants only the owner's account
    from_identity: pol.Effect | None = None
    if p is not None and p.policy is not None:
        parsed_identity = identity_policy(p.policy)
        from_identity = parsed_identity.decide(ask) if parsed_identity else "Deny"
    if from_bucket == "Deny" or from_identity == "Deny":
        return False
    if from_bucket == "Allow" and (p is None or p.policy is None or from_identity == "Allow"
                                   or _same_account(p, bucket, obj, upload_owner)):
        return True
    if p is not None and _same_account(p, bucket, obj, upload_owner):
        if p.policy is None or from_identity == "Allow":
            return True
        return _acl_grants(GROUPS_ONLY, bucket, acl_action, obj, block, account_block)
    if p is not None and p.policy is not None and from_identity != "Allow":
        return False
    return _acl_grants(p, bucket, acl_action, obj, block, account_block)


def _same_account(p: Principal, bucket: Bucket, obj: ObjectRecord | None,
                  upload_owner: str | None) -> bool:
    owner = object_owner(bucket, obj) if obj is not None else bucket.account_id
    return p.account_id in (owner, upload_owner)


def _acl_grants(p: Principal | str | None, bucket: Bucket, action: str,
                obj: ObjectRecord | None, block: ownership.PublicBlock | None,
                account_block: AccountBlock) -> bool:
    """Whether an ACL grants ``action`` (``p`` None: anonymous; GROUPS_ONLY: a signed
    request whose account's own grants do not count — a user with an identity policy in
    the owner's account gets from ACLs only what AllUsers / AuthenticatedUsers get)."""
    found = ACL_PERMISSION.get(action)
    if found is None or bucket.ownership == ownership.ENFORCED:
        return False
    where, permission = found
    if where == "object":
        if obj is None:
            return False
        acl_json = obj.acl
    else:
        acl_json = bucket.acl
    if block is None:
        block = effective_block(bucket, account_block)
    account = p if isinstance(p, str) or p is None else p.account_id
    return Acl.from_json(acl_json).allows(account, permission,
                                          ignore_public=block.ignore_public_acls)


# --------------------------------------------------------------- identity-policy-only checks
def identity_allows(p: Principal | None, action: str, resource: str,
                    context: pol.Context | None = None) -> bool:
    """Requests on no bucket (ListBuckets, CreateBucket, the image registry, the EC2 API):
    a user with an identity policy needs it to allow ``action``; others keep their access."""
    if p is None:
        return False
    if p.is_admin or p.policy is None:
        return True
    parsed = identity_policy(p.policy)
    if parsed is None:
        return False
    ask = pol.Ask(caller(p), action, resource, context or _no_keys)
    return parsed.decide(ask) == "Allow"


def _no_keys(key: str) -> Sequence[str] | None:
    return None


def may_read_website(bucket: Bucket, key: str, obj: ObjectRecord | None, *,
                     context: pol.Context | None = None,
                     account_block: AccountBlock = _no_account_block) -> bool:
    """Whether the website endpoint may serve ``key`` to an anonymous visitor: s3:GetObject
    through the bucket policy, the object's ACL and Block Public Access. ``obj`` None (no
    such object): whether the visitor may list the bucket (404 rather than 403)."""
    if obj is None:
        return decide(None, bucket, "s3:ListBucket", context=context,
                      account_block=account_block)
    return decide(None, bucket, "s3:GetObject", key=key, obj=obj, context=context,
                  account_block=account_block)


def may_deliver_logs(target: Bucket, source_bucket: str, source_account: str, *,
                     key: str = "*", prefix: str | None = None,
                     account_block: AccountBlock = _no_account_block) -> bool:
    """Whether server access logs of ``source_bucket`` (owned by ``source_account``, a
    canonical id) may be written into ``target`` as object ``key``: the target's bucket
    policy allows the logging.s3.amazonaws.com service s3:PutObject (with its aws:SourceArn
    / aws:SourceAccount conditions; the account is offered as its 12-digit id and its
    canonical id), asked for the log object and — as ceph/s3-tests write such policies,
    Resource "bucket/prefix" — for the target ``prefix``; an explicit Deny wins. Without a
    policy answer, on a bucket with ACLs enabled: the target's ACL grants the LogDelivery
    group WRITE."""
    number = identity.account_number(source_account)
    values = {"aws:sourcearn": [bucket_arn(source_bucket)],
              "aws:sourceaccount": [number, source_account]}

    def context(name: str) -> Sequence[str] | None:
        return values.get(name)

    if target.policy is not None:
        parsed = bucket_policy(target.name, target.policy)
        if parsed is not None:
            service = pol.Caller(None, service=pol.LOG_DELIVERY_SERVICE)
            keys = [key] if prefix is None else [key, prefix]
            answers = {parsed.decide(pol.Ask(service, "s3:PutObject",
                                             object_arn(target.name, k), context))
                       for k in keys}
            if "Deny" in answers:
                return False
            if "Allow" in answers:
                return True
    if target.ownership == ownership.ENFORCED:
        return False
    return any(g.kind == "Group" and g.value == LOG_DELIVERY
               and g.permission in ("WRITE", "FULL_CONTROL")
               for g in Acl.from_json(target.acl).grants)


# ------------------------------------------------------------------------------ helpers
def require_owner_account(p: Principal | None, bucket: Bucket) -> None:
    """Operations S3 keeps to the bucket owner's account whatever a policy allows
    (Put/GetBucketLogging: "you must be the bucket owner"); asked after ``decide``."""
    if p is None or not (p.is_admin or p.account_id == bucket.account_id):
        raise S3Error("AccessDenied")


def require_authenticated(p: Principal | None) -> Principal:
    if p is None:
        raise S3Error("AccessDenied")
    return p


def check_acl(bucket: Bucket, requested: Acl, canned_acl: str | None,
              account_block: AccountBlock = _no_account_block) -> None:
    """Refuse the ACL a write asks for (PUT/Copy/CreateMultipartUpload/POST headers,
    PutBucketAcl, PutObjectAcl; ``canned_acl``: its x-amz-acl) when the bucket's Object
    Ownership or Block Public Access settings (the bucket's or its account's) refuse it."""
    stored = account_block(bucket.account_id)
    if bucket.ownership is None and bucket.public_block is None and stored is None:
        return
    block = effective_block(bucket, account_block)
    ownership.check_acl(bucket.ownership, block, requested, bucket.account_id, canned_acl)


def blocks_public_policy(bucket: Bucket, account_block: AccountBlock = _no_account_block
                         ) -> bool:
    return effective_block(bucket, account_block).block_public_policy


# ------------------------------------------------------------------ operators' actions
READ_METRICS = "objectstore:GetMetrics"  # reading /_metrics with signed keys
# the admin API (/_admin/..., server/handlers/admin.py): one action per operation
WHOAMI = "objectstore:GetCallerIdentity"
LIST_BUCKET_STATS = "objectstore:ListBucketStatistics"
END_SESSION = "objectstore:EndSession"  # the caller's own session (sign out)
SELF_SERVICE = frozenset({WHOAMI, LIST_BUCKET_STATS, END_SESSION})  # any signed caller
ADMIN_API_ACTIONS = frozenset({
    "objectstore:GetServerStatus", "objectstore:ListAccounts", "objectstore:CreateAccount",
    "objectstore:DeleteAccount", "objectstore:GetAccountPublicAccessBlock",
    "objectstore:PutAccountPublicAccessBlock", "objectstore:DeleteAccountPublicAccessBlock",
    "objectstore:ListUsers", "objectstore:CreateUser", "objectstore:DeleteUser",
    "objectstore:GetUserPolicy", "objectstore:PutUserPolicy", "objectstore:DeleteUserPolicy",
    "objectstore:ListPolicies", "objectstore:ListAccessKeys", "objectstore:CreateAccessKey",
    "objectstore:UpdateAccessKey", "objectstore:DeleteAccessKey",
    "objectstore:RotateAccessKey", "objectstore:ListSessions", "objectstore:RevokeSession",
})
ADMIN_ACTIONS = frozenset({READ_METRICS, *ADMIN_API_ACTIONS, *SELF_SERVICE})


def require_admin_action(p: Principal | None, action: str) -> Principal:
    """Actions on the server itself rather than on a bucket (reading its metrics, the admin
    API): only an administrator's keys may, except the SELF_SERVICE actions, which any
    signed caller may do about itself; anyone else, signed or not, gets AccessDenied."""
    if action not in ADMIN_ACTIONS:
        raise ValueError(f"not an admin action: {action}")
    if p is None or not (p.is_admin or action in SELF_SERVICE):
        raise S3Error("AccessDenied")
    return p


def bucket_statistics_scope(p: Principal | None) -> str | None:
    """Whose buckets the admin API's bucket statistics show ``p``: every bucket (None) to an
    administrator, its own account's (the account id) to anyone else — and only when its
    identity policy (if any) allows s3:ListAllMyBuckets, as ListBuckets asks."""
    caller_ = require_admin_action(p, LIST_BUCKET_STATS)
    if caller_.is_admin:
        return None
    if not identity_allows(caller_, "s3:ListAllMyBuckets", "*"):
        raise S3Error("AccessDenied")
    return caller_.account_id
