"""service/access.py: AWS's evaluation order, table-tested (pure: no server).

Cases follow "How Amazon S3 authorizes a request" (user context, bucket context, object
context) and the policy evaluation logic of the IAM user guide: an explicit Deny wins; in
the resource owner's account an Allow from the bucket policy, the identity policy or an
ACL grants; a caller of another account needs its own identity policy (when it has one)
AND the bucket policy or an ACL; anonymous callers only the bucket policy or an ACL."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from objectstore.s3 import acl as acls
from objectstore.s3 import identity, ownership
from objectstore.service import access
from objectstore.storage.model import Bucket, ObjectRecord, Principal

A, B = "a" * 64, "b" * 64  # canonical ids of two accounts
NA, NB = identity.account_number(A), identity.account_number(B)


def principal(account: str, user: str = "u", policy: Any = None, *, admin: bool = False,
              root: bool = False) -> Principal:
    text = json.dumps(policy) if isinstance(policy, dict) else policy
    return Principal(user, account, "acct", admin, "AK", identity.account_number(account),
                     text, root)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str, resource: str = "arn:aws:s3:::bkt/*", who: Any = "*",
          **extra: Any) -> dict[str, Any]:
    st = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if who is not None:
        st["Principal"] = who
    return st


def deny(action: str, resource: str = "arn:aws:s3:::bkt/*", who: Any = "*",
         **extra: Any) -> dict[str, Any]:
    return {**allow(action, resource, who, **extra), "Effect": "Deny"}


def bucket(policy: str | None = None, acl: str = "private", owner: str = A,
           block: ownership.PublicBlock | None = None, owned: str | None = None) -> Bucket:
    return Bucket("bkt", owner, 0.0, "us-east-1", acls.canned(acl, owner).to_json(),
                  policy=policy, public_block=block.to_json() if block else None,
                  ownership=owned)


def obj(owner: str = A, acl: str = "private", key: str = "k") -> ObjectRecord:
    return ObjectRecord("bkt", key, 1, '"e"', 0.0, owner, acls.canned(acl, owner).to_json())


READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}


def get(p: Principal | None, b: Bucket, o: ObjectRecord | None = None, **kw: Any) -> bool:
    o = o or obj(b.account_id)
    return access.decide(p, b, "s3:GetObject", key=o.key, obj=o, **kw)


def put(p: Principal | None, b: Bucket, **kw: Any) -> bool:
    return access.decide(p, b, "s3:PutObject", key="new", **kw)


def test_owner_account_users_without_policy_keep_full_access() -> None:
    assert get(principal(A), bucket()) and put(principal(A), bucket())


def test_admins_may_do_everything() -> None:
    b = bucket(doc(deny("s3:*", "arn:aws:s3:::bkt/*")))
    assert get(principal(B, admin=True), b)


def test_explicit_deny_in_bucket_policy_beats_owner() -> None:
    b = bucket(doc(deny("s3:GetObject")))
    assert not get(principal(A), b)
    assert put(principal(A), b)  # other actions: as before


def test_explicit_deny_in_identity_policy_wins_over_bucket_allow() -> None:
    p = principal(B, policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]})
    b = bucket(doc(allow("s3:GetObject")))
    assert not get(p, b)


def test_identity_policy_switches_user_to_implicit_deny() -> None:
    p = principal(A, policy=READ_ONLY)
    assert get(p, bucket())
    assert not put(p, bucket())
    assert not access.decide(p, bucket(), "s3:PutBucketAcl")


def test_same_account_bucket_policy_allow_suffices() -> None:
    p = principal(A, policy=READ_ONLY)
    b = bucket(doc(allow("s3:PutObject", who={"AWS": NA})))
    assert put(p, b)


def test_other_account_needs_bucket_policy_or_acl() -> None:
    assert not get(principal(B), bucket())
    assert get(principal(B), bucket(doc(allow("s3:GetObject", who={"AWS": NB}))))
    o = obj(A, "public-read")
    assert get(principal(B), bucket(), o)


def test_other_account_needs_both_sides_when_it_has_an_identity_policy() -> None:
    b = bucket(doc(allow("s3:PutObject", who={"AWS": NB})))
    assert put(principal(B), b)  # no identity policy: its account's full access
    assert not put(principal(B, policy=READ_ONLY), b)
    writer = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bkt/*"}]}
    assert put(principal(B, policy=writer), b)
    assert not put(principal(B, policy=writer), bucket())  # identity alone is not enough


def test_anonymous_only_through_policy_or_acl() -> None:
    assert not get(None, bucket())
    assert get(None, bucket(doc(allow("s3:GetObject"))))
    assert get(None, bucket(), obj(A, "public-read"))
    assert not put(None, bucket())
    assert put(None, bucket(acl="public-read-write"))


def test_policy_resource_scopes_a_prefix() -> None:
    b = bucket(doc(allow("s3:GetObject", "arn:aws:s3:::bkt/public/*")))
    assert get(None, b, obj(key="public/a"))
    assert not get(None, b, obj(key="private/a"))


def test_lockout_guard_first_user_keeps_policy_management() -> None:
    b = bucket(doc(deny("s3:*", "arn:aws:s3:::bkt")))
    assert not access.decide(principal(A), b, "s3:GetBucketPolicy")
    for action in sorted(access.POLICY_ACTIONS):
        assert access.decide(principal(A, root=True), b, action)
    assert not access.decide(principal(A, root=True), b, "s3:ListBucket")
    assert not access.decide(principal(B, root=True), b, "s3:PutBucketPolicy")


def test_ignore_public_acls() -> None:
    block = ownership.PublicBlock(ignore_public_acls=True)
    assert not get(None, bucket(block=block), obj(A, "public-read"))
    blocked: dict[str, str | None] = {A: ownership.PublicBlock(False, True).to_json()}
    assert not get(None, bucket(), obj(A, "public-read"), account_block=blocked.get)


def test_restrict_public_buckets_limits_public_policies_to_the_owner_account() -> None:
    block = ownership.PublicBlock(restrict_public_buckets=True)
    b = bucket(doc(allow("s3:GetObject")), block=block)
    assert not get(None, b)
    assert not get(principal(B), b)
    assert get(principal(A, policy=READ_ONLY), b)
    named = bucket(doc(allow("s3:GetObject", who={"AWS": NB})), block=block)
    assert get(principal(B), named)  # not a public policy: unaffected


def test_bucket_owner_enforced_disables_acls() -> None:
    b = bucket(owned=ownership.ENFORCED)
    assert not get(None, b, obj(B, "public-read"))
    assert get(principal(A), b, obj(B, "private"))  # the bucket owner owns every object


def test_acl_grants_follow_aws_mapping() -> None:
    b = bucket(acl="public-read")
    assert access.decide(None, b, "s3:ListBucket")
    assert not access.decide(None, b, "s3:GetBucketAcl")
    assert not access.decide(principal(B), b, "s3:GetBucketTagging")
    assert not access.decide(None, bucket(), "s3:ListBucket")


def test_conditions_see_the_request() -> None:
    b = bucket(doc(allow("s3:GetObject", Condition={
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    inside = {"aws:sourceip": ["10.1.2.3"]}
    outside = {"aws:sourceip": ["192.168.0.1"]}
    assert get(None, b, context=lambda k: inside.get(k))
    assert not get(None, b, context=lambda k: outside.get(k))


def test_identity_allows_for_requests_on_no_bucket() -> None:
    assert access.identity_allows(principal(A), "s3:ListAllMyBuckets", "*")
    assert not access.identity_allows(principal(A, policy=READ_ONLY), "s3:CreateBucket",
                                      "arn:aws:s3:::x")
    assert access.identity_allows(principal(A, policy=READ_ONLY), "s3:ListAllMyBuckets", "*")
    assert not access.identity_allows(None, "s3:ListAllMyBuckets", "*")


def test_log_delivery() -> None:
    logging_policy = doc({"Effect": "Allow", "Principal": {
        "Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::bkt/*", "Condition": {
            "StringEquals": {"aws:SourceAccount": NA},
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::src*"}}})
    target = bucket(logging_policy)
    assert access.may_deliver_logs(target, "src-bucket", A)
    assert not access.may_deliver_logs(target, "src-bucket", B)
    assert not access.may_deliver_logs(target, "other", A)
    assert not access.may_deliver_logs(bucket(), "src", A)
    assert access.may_deliver_logs(bucket(acl="log-delivery-write"), "src", A)


def test_website_reads() -> None:
    o = obj(A, "public-read", "index.html")
    assert access.may_read_website(bucket(), "index.html", o)
    assert not access.may_read_website(bucket(), "index.html", obj(A))
    assert access.may_read_website(bucket(doc(allow("s3:GetObject"))), "index.html", obj(A))
    assert not access.may_read_website(bucket(), "missing", None)
    assert access.may_read_website(bucket(acl="public-read"), "missing", None)


@pytest.mark.parametrize("text", ["{", '{"Statement": []}'])
def test_a_stored_policy_that_no_longer_parses_fails_closed(text: str) -> None:
    """Its Deny statements might have applied: nobody but admins gets through, and the
    owner account's first user may still replace or delete it (the lockout guard)."""
    access.bucket_policy.cache_clear()
    assert not get(principal(A), bucket(text))
    assert not get(None, bucket(text))
    root = dataclasses.replace(principal(A), is_root=True)
    assert access.decide(root, bucket(text), "s3:PutBucketPolicy")
    assert access.decide(root, bucket(text), "s3:DeleteBucketPolicy")
    assert not access.decide(root, bucket(text), "s3:GetObject", key="k")
    assert access.decide(dataclasses.replace(principal(A), is_admin=True), bucket(text),
                         "s3:GetObject", key="k")


def test_log_delivery_to_a_prefix() -> None:
    target = bucket(doc({"Effect": "Allow", "Principal": {
        "Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::bkt/logs/*"}))
    assert access.may_deliver_logs(target, "src", A, key="logs/2026-11-30-00-00-00-ABC")
    assert not access.may_deliver_logs(target, "src", A, key="other/2026-11-30")
