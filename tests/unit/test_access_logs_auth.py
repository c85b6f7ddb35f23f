"""service/access_logs.may_deliver_logs: whether the log delivery service may write a
source bucket's logs into a target bucket — its bucket policy (AWS's documented policy for
logging.s3.amazonaws.com, and ceph/s3-tests' variant), else the LogDelivery group's grant."""

from __future__ import annotations

import json

import pytest

from objectstore.s3 import identity, ownership
from objectstore.s3.acl import canned
from objectstore.service.access_logs import may_deliver_logs
from objectstore.storage.model import Bucket

OWNER = "a" * 64
NUMBER = identity.account_number(OWNER)
SOURCE = Bucket("src", OWNER, 0.0, "us-east-1", canned("private", OWNER).to_json())


def target(policy: dict[str, object] | None = None, acl: str = "private",
           owner_enforced: bool = False) -> Bucket:
    return Bucket("logs", OWNER, 0.0, "us-east-1", canned(acl, OWNER).to_json(),
                  policy=json.dumps(policy) if policy is not None else None,
                  ownership=ownership.ENFORCED if owner_enforced else None)


def statement(resource: str = "arn:aws:s3:::logs/log/*", arn: str = "arn:aws:s3:::src",
              account: str = NUMBER, effect: str = "Allow",
              principal: object = None) -> dict[str, object]:
    return {"Effect": effect,
            "Principal": principal or {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": resource,
            "Condition": {"ArnLike": {"aws:SourceArn": arn},
                          "StringEquals": {"aws:SourceAccount": account}}}


def policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def may(t: Bucket) -> bool:
    return may_deliver_logs(t, SOURCE, "log/", "log/2026-11-30-05-31-01-7033B82BA112C780")


def test_aws_documented_policy() -> None:
    assert may(target(policy(statement())))


def test_ceph_tests_policy_bare_prefix_and_canonical_id() -> None:
    """ceph/s3-tests name the prefix itself as Resource and the canonical id as account."""
    assert may(target(policy(statement(resource="arn:aws:s3:::logs/log/", account=OWNER))))


@pytest.mark.parametrize("changed", [
    {"arn": "arn:aws:s3:::other"},
    {"account": "111111111111"},
    {"resource": "arn:aws:s3:::logs/elsewhere/*"},
    {"principal": {"Service": "logging.s3.amazonaws.com.kaboom"}},
])
def test_policy_that_does_not_match(changed: dict[str, object]) -> None:
    assert not may(target(policy(statement(**changed))))  # type: ignore[arg-type]


def test_deny_wins_over_acl_grant() -> None:
    denied = target(policy(statement(effect="Deny")), acl="log-delivery-write")
    assert not may(denied)


def test_acl_grant_to_log_delivery_group() -> None:
    assert may(target(acl="log-delivery-write"))
    assert not may(target(acl="private"))
    assert not may(target(acl="public-read-write"))  # AllUsers is not the log delivery group


def test_acl_ignored_when_acls_are_disabled() -> None:
    assert not may(target(acl="log-delivery-write", owner_enforced=True))
    assert may(target(policy(statement()), owner_enforced=True))


def test_policy_silent_falls_back_to_acl() -> None:
    other = statement(resource="arn:aws:s3:::logs/other/*")
    assert may(target(policy(other), acl="log-delivery-write"))
