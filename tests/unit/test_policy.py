"""The IAM policy language (s3/policy.py): principals, actions, resources, decide(), the index.

Table tests built from AWS's documented examples (S3 User Guide "Bucket policy examples",
IAM User Guide "Policy variables"), each asserting decide()'s answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from objectstore.s3.policy import (
    ANONYMOUS,
    LOG_DELIVERY_SERVICE,
    Ask,
    Caller,
    Policy,
    parse_bucket_policy,
    parse_identity_policy,
)

ACCT = "111122223333"
OTHER = "444455556666"
CANON = "a" * 64
ROOT = Caller(ACCT, CANON)
ALICE = Caller(ACCT, CANON, f"arn:aws:iam::{ACCT}:user/alice", "alice")
BOB = Caller(ACCT, CANON, f"arn:aws:iam::{ACCT}:user/bob", "bob")
STRANGER = Caller(OTHER, "b" * 64)
STRANGER_USER = Caller(OTHER, "b" * 64, f"arn:aws:iam::{OTHER}:user/carol", "carol")
LOGGER = Caller(None, service=LOG_DELIVERY_SERVICE)
BUCKET = "examplebucket"
OBJ = f"arn:aws:s3:::{BUCKET}/photo.jpg"
BKT = f"arn:aws:s3:::{BUCKET}"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    return json.dumps(body)


def bucket_policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> Policy:
    return parse_bucket_policy(doc(*statements, version=version), BUCKET)


def identity_policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> Policy:
    return parse_identity_policy(doc(*statements, version=version))


def ctx(**values: Sequence[str]) -> Any:
    """A context from keyword arguments: aws_sourceip=["1.2.3.4"] -> "aws:sourceip"."""
    table = {k.replace("__", "/").replace("_", ":", 1).replace("_", "-"): list(v)
             for k, v in values.items()}
    return table.get


def ask(caller: Caller, action: str, resource: str, context: Any = None) -> Ask:
    return Ask(caller, action, resource) if context is None else Ask(caller, action, resource,
                                                                      context)


# --- principals ---------------------------------------------------------------------------


@pytest.mark.parametrize("principal,caller,hit", [
    ({"AWS": ACCT}, ROOT, True),
    ({"AWS": ACCT}, ALICE, True),
    ({"AWS": ACCT}, STRANGER, False),
    ({"AWS": ACCT}, ANONYMOUS, False),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, ALICE, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, ROOT, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, ALICE, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/division/alice"}, ALICE, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, BOB, False),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, ROOT, False),
    ({"AWS": f"arn:aws:iam::{OTHER}:user/alice"}, ALICE, False),
    ({"CanonicalUser": CANON}, BOB, True),
    ({"CanonicalUser": CANON.upper()}, ROOT, True),
    ({"CanonicalUser": "b" * 64}, BOB, False),
    ({"AWS": "*"}, ANONYMOUS, True),
    ({"AWS": ["*"]}, STRANGER, True),
    ("*", STRANGER, True),
    ("*", ANONYMOUS, True),
    ("*", LOGGER, True),
    ({"AWS": [OTHER, ACCT]}, STRANGER, True),
    ({"AWS": [OTHER, ACCT]}, STRANGER_USER, True),
    ({"Service": LOG_DELIVERY_SERVICE}, LOGGER, True),
    ({"Service": LOG_DELIVERY_SERVICE}, ANONYMOUS, False),
    ({"Service": LOG_DELIVERY_SERVICE}, ROOT, False),
    ({"AWS": ACCT}, LOGGER, False),
    # objectstore extension: a non-12-digit account part names an account by its name
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, Caller(OTHER, account_name="s3tenant1"), True),
    ({"AWS": "arn:aws:iam::s3tenant1:root"},
     Caller(OTHER, None, "arn:aws:iam::x:user/u", "u", account_name="s3tenant1"), True),
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, Caller(OTHER, account_name="other"), False),
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, ANONYMOUS, False),
    ({"AWS": "arn:aws:iam::s3tenant1:user/u"},
     Caller(OTHER, None, "arn:aws:iam::x:user/u", "u", account_name="s3tenant1"), True),
])
def test_principal(principal: Any, caller: Caller, hit: bool) -> None:
    pol = bucket_policy({"Effect": "Allow", "Principal": principal, "Action": "s3:*",
                         "Resource": f"{BKT}/*"})
    assert pol.decide(ask(caller, "s3:GetObject", OBJ)) == ("Allow" if hit else None)


@pytest.mark.parametrize("not_principal,caller,denied", [
    # IAM: a user is exempted only when both its ARN and its account are listed
    ({"AWS": [f"arn:aws:iam::{ACCT}:user/alice", f"arn:aws:iam::{ACCT}:root"]}, ALICE, False),
    ({"AWS": [f"arn:aws:iam::{ACCT}:user/alice", f"arn:aws:iam::{ACCT}:root"]}, BOB, True),
    ({"AWS": [f"arn:aws:iam::{ACCT}:user/alice", f"arn:aws:iam::{ACCT}:root"]}, ROOT, False),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, ALICE, True),
    ({"AWS": ACCT}, ROOT, False),
    ({"AWS": ACCT}, STRANGER, True),
    ({"AWS": ACCT}, ANONYMOUS, True),
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, Caller(OTHER, account_name="s3tenant1"), False),
    ({"Service": LOG_DELIVERY_SERVICE}, LOGGER, False),
    ({"Service": LOG_DELIVERY_SERVICE}, ANONYMOUS, True),
])
def test_not_principal_deny(not_principal: Any, caller: Caller, denied: bool) -> None:
    pol = bucket_policy(
        {"Effect": "Deny", "NotPrincipal": not_principal, "Action": "s3:*",
         "Resource": f"{BKT}/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BKT}/*"})
    assert pol.decide(ask(caller, "s3:GetObject", OBJ)) == ("Deny" if denied else "Allow")


# --- actions and resources ----------------------------------------------------------------


@pytest.mark.parametrize("action_pattern,action,hit", [
    ("s3:GetObject", "s3:GetObject", True),
    ("s3:GetObject", "s3:getobject", True),
    ("S3:GETOBJECT", "s3:GetObject", True),
    ("s3:Get*", "s3:GetObjectVersion", True),
    ("s3:get*", "s3:GetObjectAcl", True),
    ("s3:*Object", "s3:GetObject", True),
    ("s3:*Object", "s3:GetObjectAcl", False),
    ("s3:GetObjec?", "s3:GetObject", True),
    ("s3:*", "s3:PutObject", True),
    ("*", "s3:DeleteObject", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:GetObject", "s3:GetObjectVersion", False),
])
def test_action_match(action_pattern: str, action: str, hit: bool) -> None:
    pol = bucket_policy({"Effect": "Allow", "Principal": "*", "Action": action_pattern,
                         "Resource": f"{BKT}/*"})
    assert pol.decide(ask(ANONYMOUS, action, OBJ)) == ("Allow" if hit else None)


@pytest.mark.parametrize("resource_pattern,resource,hit", [
    (f"{BKT}/*", f"{BKT}/a/b/c", True),
    (f"{BKT}/*", BKT, False),
    (f"{BKT}/a/*", f"{BKT}/a/b", True),
    (f"{BKT}/a/*", f"{BKT}/A/b", False),  # case-sensitive
    (f"{BKT}/a?c", f"{BKT}/abc", True),
    (f"{BKT}/a?c", f"{BKT}/ac", False),
    (f"{BKT}/a?c", f"{BKT}/abbc", False),
    (f"{BKT}/*.jpg", f"{BKT}/x/y.jpg", True),
    (f"{BKT}/*.jpg", f"{BKT}/x/y.jpeg", False),
    (f"{BKT}/exact", f"{BKT}/exact", True),
    (f"{BKT}/exact", f"{BKT}/exact2", False),
    ("arn:aws:s3:::*", f"{BKT}/k", True),
    ("arn:aws:s3:::*", BKT, True),
    ("arn:aws:s3:::examplebuck*", f"{BKT}/k", True),
])
def test_resource_match(resource_pattern: str, resource: str, hit: bool) -> None:
    pol = bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                         "Resource": resource_pattern})
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", resource)) == ("Allow" if hit else None)


def test_not_action_not_resource() -> None:
    pol = identity_policy(
        {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]})
    assert pol.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/k")) == "Allow"
    assert pol.decide(ask(ALICE, "s3:DeleteObject", "arn:aws:s3:::b/k")) is None
    assert pol.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::c/k")) == "Deny"
    assert pol.decide(ask(ALICE, "ec2:DescribeImages", "*")) == "Allow"  # NotAction: s3:Delete*


def test_identity_policy_ec2_actions() -> None:
    pol = identity_policy({"Effect": "Allow", "Action": ["ec2:DescribeImages",
                                                          "ec2:RegisterImage"],
                           "Resource": "*"})
    assert pol.decide(ask(ALICE, "ec2:DescribeImages", "arn:aws:ec2:::image/ami-1")) == "Allow"
    assert pol.decide(ask(ALICE, "ec2:DeregisterImage", "arn:aws:ec2:::image/ami-1")) is None
    everything = identity_policy({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    assert everything.decide(ask(ALICE, "ec2:ModifyImageAttribute", "*")) == "Allow"
    assert everything.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/k")) is None


# --- evaluation: explicit Deny > Allow > nothing --------------------------------------------


def test_deny_beats_allow() -> None:
    pol = bucket_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"{BKT}/*"},
        {"Effect": "Deny", "Principal": {"AWS": ACCT}, "Action": "s3:Delete*",
         "Resource": f"{BKT}/keep/*"})
    assert pol.decide(ask(ALICE, "s3:DeleteObject", f"{BKT}/keep/x")) == "Deny"
    assert pol.decide(ask(ALICE, "s3:DeleteObject", f"{BKT}/other")) == "Allow"
    assert pol.decide(ask(STRANGER, "s3:DeleteObject", f"{BKT}/keep/x")) == "Allow"
    assert pol.decide(ask(ALICE, "s3:ListBucket", BKT)) is None


def test_statement_as_object_and_no_version() -> None:
    text = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*",
                                     "Action": "s3:GetObject", "Resource": f"{BKT}/*"}})
    pol = parse_bucket_policy(text, BUCKET)
    assert pol.version == "2008-10-17"
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ)) == "Allow"


# --- S3 User Guide: bucket policy examples --------------------------------------------------


def test_example_multiple_accounts_with_canned_acl_condition() -> None:
    pol = bucket_policy({
        "Sid": "AddCannedAcl", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root",
                              "arn:aws:iam::444455556666:root"]},
        "Action": ["s3:PutObject", "s3:PutObjectAcl"],
        "Resource": [f"{BKT}/*"],
        "Condition": {"StringEquals": {"s3:x-amz-acl": ["public-read"]}}})
    assert pol.decide(ask(STRANGER, "s3:PutObject", OBJ,
                          ctx(s3_x_amz_acl=["public-read"]))) == "Allow"
    assert pol.decide(ask(ALICE, "s3:PutObjectAcl", OBJ,
                          ctx(s3_x_amz_acl=["public-read"]))) == "Allow"
    assert pol.decide(ask(STRANGER, "s3:PutObject", OBJ, ctx(s3_x_amz_acl=["private"]))) is None
    assert pol.decide(ask(STRANGER, "s3:PutObject", OBJ)) is None  # no x-amz-acl: no match
    assert pol.decide(ask(ANONYMOUS, "s3:PutObject", OBJ,
                          ctx(s3_x_amz_acl=["public-read"]))) is None


def test_example_anonymous_read_only() -> None:
    pol = bucket_policy({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                         "Action": ["s3:GetObject"], "Resource": [f"{BKT}/*"]})
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ)) == "Allow"
    assert pol.decide(ask(ANONYMOUS, "s3:PutObject", OBJ)) is None
    assert pol.public


def test_example_deny_outside_ip_range() -> None:
    pol = parse_bucket_policy(json.dumps({
        "Version": "2012-10-17", "Id": "S3PolicyId1",
        "Statement": [{"Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": f"{BKT}/*",
                       "Condition": {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}}]}),
        BUCKET)
    assert pol.decide(ask(ALICE, "s3:GetObject", OBJ, ctx(aws_sourceip=["1.2.3.4"]))) == "Deny"
    assert pol.decide(ask(ALICE, "s3:GetObject", OBJ, ctx(aws_sourceip=["54.240.143.7"]))) is None


@pytest.mark.parametrize("ip,answer", [
    ("54.240.143.1", "Allow"),
    ("2001:DB8:1234:5678::1", "Allow"),
    ("54.240.143.129", None),
    ("2001:DB8:1234:5678:ABCD::1", None),
    ("192.0.2.1", None),
])
def test_example_ipv4_and_ipv6_mix(ip: str, answer: str | None) -> None:
    pol = bucket_policy({
        "Sid": "AllowIPmix", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": f"{BKT}/*",
        "Condition": {
            "IpAddress": {"aws:SourceIp": ["54.240.143.0/24", "2001:DB8:1234:5678::/64"]},
            "NotIpAddress": {"aws:SourceIp": ["54.240.143.128/30",
                                              "2001:DB8:1234:5678:ABCD::/80"]}}})
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ, ctx(aws_sourceip=[ip]))) == answer


@pytest.mark.parametrize("referer,answer", [
    ("http://www.example.com/page.html", "Allow"),
    ("http://example.com/", "Allow"),
    ("http://evil.example.net/", "Deny"),
    (None, "Deny"),  # StringNotLike on a missing key is true: the Deny applies
])
def test_example_referer_with_explicit_deny(referer: str | None, answer: str) -> None:
    likes = ["http://www.example.com/*", "http://example.com/*"]
    pol = bucket_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BKT}/*",
         "Condition": {"StringLike": {"aws:Referer": likes}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BKT}/*",
         "Condition": {"StringNotLike": {"aws:Referer": likes}}})
    context = ctx(aws_referer=[referer]) if referer is not None else None
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ, context)) == answer


@pytest.mark.parametrize("key,mfa_age,answer", [
    (f"{BKT}/taxdocuments/2020.pdf", None, "Deny"),
    (f"{BKT}/taxdocuments/2020.pdf", "100", "Allow"),
    (f"{BKT}/taxdocuments/2020.pdf", "7200", "Deny"),
    (f"{BKT}/photos/a.jpg", None, "Allow"),
])
def test_example_require_mfa(key: str, mfa_age: str | None, answer: str) -> None:
    pol = bucket_policy(
        {"Sid": "", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": f"{BKT}/taxdocuments/*",
         "Condition": {"Null": {"aws:MultiFactorAuthAge": True}}},
        {"Sid": "", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": f"{BKT}/taxdocuments/*",
         "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": 3600}}},
        {"Sid": "", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
         "Resource": f"{BKT}/*"})
    context = ctx(aws_multifactorauthage=[mfa_age]) if mfa_age is not None else None
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", key, context)) == answer


@pytest.mark.parametrize("grant,answer", [
    ("emailAddress=xyz@amazon.com", "Allow"),
    ("id=someone-else", "Deny"),
    (None, "Deny"),
])
def test_example_cross_account_upload_full_control(grant: str | None, answer: str) -> None:
    pol = bucket_policy(
        {"Sid": "111", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:PutObject",
         "Resource": f"{BKT}/*"},
        {"Sid": "112", "Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "s3:PutObject",
         "Resource": f"{BKT}/*",
         "Condition": {"StringNotEquals": {
             "s3:x-amz-grant-full-control": ["emailAddress=xyz@amazon.com"]}}})
    context = ctx(s3_x_amz_grant_full_control=[grant]) if grant is not None else None
    assert pol.decide(ask(STRANGER, "s3:PutObject", OBJ, context)) == answer
    assert pol.decide(ask(ALICE, "s3:PutObject", OBJ, context)) is None


def _log_delivery_policy() -> Policy:
    return parse_bucket_policy(json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": ["s3:PutObject"],
            "Resource": "arn:aws:s3:::logs-bucket/logs/*",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"},
                          "StringEquals": {"aws:SourceAccount": ACCT}}}]}), "logs-bucket")


@pytest.mark.parametrize("resource,source_arn,source_account,answer", [
    ("arn:aws:s3:::logs-bucket/logs/2024-01-01", "arn:aws:s3:::source-bucket", ACCT, "Allow"),
    ("arn:aws:s3:::logs-bucket/other/x", "arn:aws:s3:::source-bucket", ACCT, None),
    ("arn:aws:s3:::logs-bucket/logs/x", "arn:aws:s3:::kaboom", ACCT, None),
    ("arn:aws:s3:::logs-bucket/logs/x", "arn:aws:s3:::source-bucket", OTHER, None),
])
def test_example_server_access_log_delivery(resource: str, source_arn: str,
                                             source_account: str, answer: str | None) -> None:
    pol = _log_delivery_policy()
    context = ctx(aws_sourcearn=[source_arn], aws_sourceaccount=[source_account])
    assert pol.decide(ask(LOGGER, "s3:PutObject", resource, context)) == answer
    assert pol.decide(ask(ALICE, "s3:PutObject", resource, context)) is None
    assert not pol.public


def test_example_inventory_destination() -> None:
    pol = parse_bucket_policy(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "InventoryAndAnalyticsExamplePolicy", "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"}, "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::destination-bucket/*"],
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"},
                      "StringEquals": {"aws:SourceAccount": "1234567890",
                                       "s3:x-amz-acl": "bucket-owner-full-control"}}}]}),
        "destination-bucket")
    s3 = Caller(None, service="s3.amazonaws.com")
    good = ctx(aws_sourcearn=["arn:aws:s3:::source-bucket"], aws_sourceaccount=["1234567890"],
               s3_x_amz_acl=["bucket-owner-full-control"])
    bad_acl = ctx(aws_sourcearn=["arn:aws:s3:::source-bucket"],
                  aws_sourceaccount=["1234567890"], s3_x_amz_acl=["private"])
    res = "arn:aws:s3:::destination-bucket/inv.csv"
    assert pol.decide(ask(s3, "s3:PutObject", res, good)) == "Allow"
    assert pol.decide(ask(s3, "s3:PutObject", res, bad_acl)) is None


# --- IAM User Guide: policy variables ------------------------------------------------------


def test_home_directory_with_username_variable() -> None:
    """IAM's "Condition operators" page: a user's home directory via ${aws:username}."""
    pol = identity_policy(
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
         "Resource": "arn:aws:s3:::*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::BUCKET-NAME",
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}},
        {"Effect": "Allow", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::BUCKET-NAME/home/${aws:username}",
                      "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]})
    home = "arn:aws:s3:::BUCKET-NAME/home/alice/notes.txt"
    assert pol.decide(ask(ALICE, "s3:PutObject", home)) == "Allow"
    assert pol.decide(ask(BOB, "s3:PutObject", home)) is None
    assert pol.decide(ask(ROOT, "s3:PutObject", home)) is None  # no aws:username: no match
    # a Deny on NotResource naming an unresolvable variable is not valid for the request
    deny = identity_policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"})
    assert deny.decide(ask(ALICE, "s3:PutObject", home)) == "Allow"
    assert deny.decide(ask(BOB, "s3:PutObject", home)) == "Deny"
    assert deny.decide(ask(ROOT, "s3:PutObject", home)) == "Allow"
    listing = "arn:aws:s3:::BUCKET-NAME"
    assert pol.decide(ask(ALICE, "s3:ListBucket", listing, ctx(s3_prefix=["home/alice/"]))) \
        == "Allow"
    assert pol.decide(ask(ALICE, "s3:ListBucket", listing, ctx(s3_prefix=["home/bob/"]))) is None
    assert pol.decide(ask(ALICE, "s3:ListBucket", listing, ctx(s3_prefix=[""]))) == "Allow"


def test_actions_on_no_resource_ask_for_star() -> None:
    """s3:ListAllMyBuckets has no resource: "*" and "arn:aws:s3:::*" both grant it."""
    for resource in ("*", "arn:aws:s3:::*"):
        pol = identity_policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                               "Resource": resource})
        assert pol.decide(ask(ALICE, "s3:ListAllMyBuckets", "*")) == "Allow"
    narrow = identity_policy({"Effect": "Allow", "Action": "s3:*",
                              "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]})
    assert narrow.decide(ask(ALICE, "s3:ListAllMyBuckets", "*")) is None
    ec2 = identity_policy({"Effect": "Allow", "Action": "ec2:DescribeImages",
                           "Resource": "arn:aws:ec2:*:*:*"})
    assert ec2.decide(ask(ALICE, "ec2:DescribeImages", "*")) == "Allow"


def test_variables_only_in_2012_version() -> None:
    stmt = {"Effect": "Allow", "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}
    new = identity_policy(stmt)
    assert new.decide(ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) == "Allow"
    old = identity_policy(stmt, version="2008-10-17")
    assert old.decide(ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) is None
    assert old.decide(ask(ALICE, "s3:PutObject",
                          "arn:aws:s3:::b/home/${aws:username}/x")) == "Allow"
    unversioned = identity_policy(stmt, version=None)
    assert unversioned.decide(ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) is None


def test_variable_value_is_literal_and_special_characters() -> None:
    pol = identity_policy(
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::b/${aws:username}/*"},
        {"Effect": "Allow", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/literal${*}star${?}q${$}d"})
    star = Caller(ACCT, CANON, f"arn:aws:iam::{ACCT}:user/a*", "a*")
    assert pol.decide(ask(star, "s3:GetObject", "arn:aws:s3:::b/a*/x")) == "Allow"
    assert pol.decide(ask(star, "s3:GetObject", "arn:aws:s3:::b/abc/x")) is None
    assert pol.decide(ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/literal*star?q$d")) == "Allow"
    assert pol.decide(ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/literalXstarYq$d")) is None


def test_variable_default_value_and_context_variables() -> None:
    pol = identity_policy(
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*"},
        {"Effect": "Allow", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/${aws:PrincipalAccount}/${aws:userid}/*"})
    assert pol.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/shared/x")) == "Allow"
    tagged = ctx(aws_principaltag__team=["red"])
    assert pol.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/red/x", tagged)) == "Allow"
    assert pol.decide(ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/shared/x", tagged)) is None
    assert pol.decide(ask(ALICE, "s3:PutObject", f"arn:aws:s3:::b/{ACCT}/alice/k")) == "Allow"
    own = ctx(aws_userid=["AIDAEXAMPLE"])
    assert pol.decide(ask(ALICE, "s3:PutObject", f"arn:aws:s3:::b/{ACCT}/AIDAEXAMPLE/k",
                          own)) == "Allow"


def test_variable_in_condition_value() -> None:
    pol = identity_policy({"Effect": "Allow", "Action": "s3:ListBucket",
                           "Resource": "arn:aws:s3:::b",
                           "Condition": {"StringEquals": {"s3:prefix": "${aws:username}/"}}})
    assert pol.decide(ask(ALICE, "s3:ListBucket", "arn:aws:s3:::b",
                          ctx(s3_prefix=["alice/"]))) == "Allow"
    assert pol.decide(ask(BOB, "s3:ListBucket", "arn:aws:s3:::b",
                          ctx(s3_prefix=["alice/"]))) is None


def test_principal_keys_come_from_the_caller() -> None:
    pol = bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": f"{BKT}/*",
                         "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCT}}})
    assert pol.decide(ask(ALICE, "s3:GetObject", OBJ)) == "Allow"
    assert pol.decide(ask(STRANGER, "s3:GetObject", OBJ)) is None
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ)) is None
    typed = bucket_policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": f"{BKT}/*",
                           "Condition": {"StringEquals": {"aws:PrincipalType": "Anonymous"}}})
    assert typed.decide(ask(ANONYMOUS, "s3:GetObject", OBJ)) == "Deny"
    assert typed.decide(ask(ALICE, "s3:GetObject", OBJ)) is None


# --- the index and laziness ---------------------------------------------------------------

_OBJECT_ACTIONS = ("PutObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl",
                   "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging",
                   "RestoreObject", "GetObjectRetention", "PutObjectRetention",
                   "GetObjectLegalHold", "PutObjectLegalHold", "AbortMultipartUpload",
                   "ListMultipartUploadParts", "GetObjectAttributes", "DeleteObjectVersion",
                   "GetObjectVersion", "GetObjectVersionAcl")


def twenty_statement_policy() -> Policy:
    statements: list[dict[str, Any]] = [
        {"Sid": a, "Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": f"s3:{a}",
         "Resource": f"{BKT}/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        for a in _OBJECT_ACTIONS]
    statements.append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"{BKT}/*"})
    statements.append({"Effect": "Deny", "Principal": "*", "Action": "s3:Get*",
                       "Resource": f"{BKT}/secret/*"})
    return bucket_policy(*statements)


def test_index_narrows_statements() -> None:
    pol = twenty_statement_policy()
    assert len(pol.statements) == 20
    got = pol.candidates("s3:GetObject")
    assert len(got) == 2
    assert got[0].effect == "Deny"
    assert pol.candidates("S3:GETOBJECT") == got
    assert [s.sid for s in pol.candidates("s3:PutObject")] == ["PutObject"]
    assert len(pol.candidates("s3:GetObjectAcl")) == 2  # its own + the s3:Get* Deny
    assert pol.candidates("s3:ListBucket") == ()
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", OBJ)) == "Allow"
    assert pol.decide(ask(ANONYMOUS, "s3:GetObject", f"{BKT}/secret/x")) == "Deny"


def test_context_is_asked_lazily() -> None:
    asked: list[str] = []

    def context(key: str) -> Sequence[str] | None:
        asked.append(key)
        return {"aws:sourceip": ["10.1.2.3"], "s3:existingobjecttag/class": ["secret"]}.get(key)

    pol = bucket_policy(
        {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "s3:GetObject",
         "Resource": f"{BKT}/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "s3:GetObject",
         "Resource": f"{BKT}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BKT}/*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/x": "y"}}})
    assert pol.decide(Ask(ALICE, "s3:GetObject", OBJ, context)) == "Allow"
    assert asked == ["aws:sourceip"]  # the tag is not looked up: the Deny names another account
    asked.clear()
    assert pol.decide(Ask(ALICE, "s3:ListBucket", BKT, context)) is None
    assert asked == []
    assert pol.decide(Ask(STRANGER, "s3:GetObject", OBJ, context)) == "Deny"
    assert asked == ["s3:existingobjecttag/class"]


def test_context_keys_are_asked_in_lower_case_once() -> None:
    asked: list[str] = []

    def context(key: str) -> Sequence[str] | None:
        asked.append(key)
        return ["true"] if key == "aws:securetransport" else None

    pol = bucket_policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BKT}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"{BKT}/*",
         "Condition": {"Bool": {"AWS:SECURETRANSPORT": "true"}}})
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", OBJ, context)) == "Allow"
    assert asked == ["aws:securetransport"]
