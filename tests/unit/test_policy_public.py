"""Policy.public: S3's "meaning of public" for bucket policies (PolicyStatus IsPublic)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from objectstore.s3.policy import parse_bucket_policy, parse_identity_policy

B = "bucket"
OBJS = f"arn:aws:s3:::{B}/*"


def public(*statements: dict[str, Any]) -> bool:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return parse_bucket_policy(text, B).public


def grant(principal: Any = "*", condition: dict[str, Any] | None = None,
          effect: str = "Allow", action: Any = "s3:GetObject") -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": action,
                         "Resource": OBJS}
    if condition is not None:
        s["Condition"] = condition
    return s


@pytest.mark.parametrize("statement,is_public", [
    (grant("*"), True),
    (grant({"AWS": "*"}), True),
    (grant({"AWS": ["*"]}), True),
    (grant({"AWS": "*", "Service": "s3.amazonaws.com"}), True),
    (grant("*", action="s3:PutObject"), True),
    (grant("*", effect="Deny"), False),
    (grant({"AWS": "111122223333"}), False),
    (grant({"AWS": "arn:aws:iam::111122223333:user/alice"}), False),
    (grant({"AWS": "arn:aws:iam::s3tenant1:root"}), False),
    (grant({"CanonicalUser": "a" * 64}), False),
    (grant({"Service": "logging.s3.amazonaws.com"}), False),
    # the S3 User Guide's examples
    (grant("*", {"StringLike": {"aws:SourceVpc": "vpc-*"}}), True),
    (grant("*", {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}), False),
    # aws:SourceIp: a CIDR no broader than /8 (IPv4) or /32 (IPv6)
    (grant({"AWS": "*"}, {"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}}), False),
    (grant("*", {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}}), False),
    (grant("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
    (grant("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/7"}}), True),
    (grant("*", {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/1"]}}), True),
    (grant("*", {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), False),
    (grant("*", {"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}), True),
    (grant("*", {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), True),
    (grant("*", {"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}), True),
    # the other keys S3 counts, with fixed values
    (grant("*", {"StringEquals": {"aws:SourceAccount": "111122223333"}}), False),
    (grant("*", {"StringLike": {"aws:SourceAccount": "*"}}), True),
    (grant("*", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"}}), False),
    (grant("*", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-*"}}), True),
    (grant("*", {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::${aws:username}"}}), True),
    (grant("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), False),
    (grant("*", {"StringEquals": {"aws:SourceOwner": "111122223333"}}), False),
    (grant("*", {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}), False),
    (grant("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}), False),
    (grant("*", {"StringEquals": {"aws:userid": "AIDAEXAMPLE"}}), False),
    (grant("*", {"StringLike": {"aws:userid": "AROAEXAMPLE:*"}}), False),
    (grant("*", {"StringLike": {"aws:userid": "*"}}), True),
    (grant("*", {"StringEquals": {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:r:1:key/k"}},
           action="s3:PutObject"), False),
    (grant("*", {"ArnLike": {
        "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}), False),
    (grant("*", {"ArnLike": {
        "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}}), True),
    (grant("*", {"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}}), False),
    # conditions that do not confine the statement
    (grant("*", {"StringEquals": {"s3:x-amz-acl": "public-read"}}, action="s3:PutObject"),
     True),
    (grant("*", {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}), True),
    (grant("*", {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}), True),
    (grant("*", {"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}}), True),
    (grant("*", {"ForAnyValue:StringEquals": {"aws:SourceVpce": "vpce-1"}}), False),
    (grant("*", {"Null": {"aws:SourceAccount": "false"}}), True),
    (grant("*", {"StringLike": {"aws:Referer": "http://www.example.com/*"}}), True),
    # one fixing condition among others is enough
    (grant("*", {"StringEquals": {"aws:SourceAccount": "111122223333",
                                  "s3:x-amz-acl": "private"}}, action="s3:PutObject"), False),
])
def test_one_statement(statement: dict[str, Any], is_public: bool) -> None:
    assert public(statement) is is_public


def test_any_public_statement_makes_the_policy_public() -> None:
    service = grant({"Service": "cloudtrail.amazonaws.com"})
    account = grant({"AWS": "444455556666"})
    assert not public(service, account)
    assert public(service, account, grant("*"))
    assert not public(service, account, grant("*", effect="Deny"))


def test_identity_policies_are_never_public() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    assert parse_identity_policy(text).public is False
