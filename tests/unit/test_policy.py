"""The IAM policy language (s3/policy.py): parsing, matching, decide(), table-tested."""

from __future__ import annotations

import json
from typing import Any

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.policy import (
    ANONYMOUS,
    Ask,
    Caller,
    parse_bucket_policy,
    parse_identity_policy,
)

ACCT = "111122223333"
OTHER = "444455556666"
ROOT = Caller(ACCT, "a" * 64)
ALICE = Caller(ACCT, "a" * 64, f"arn:aws:iam::{ACCT}:user/alice", "alice")
BOB = Caller(ACCT, "a" * 64, f"arn:aws:iam::{ACCT}:user/bob", "bob")
STRANGER = Caller(OTHER, "b" * 64)


def bucket_policy(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def test_public_read_statement() -> None:
    pol = parse_bucket_policy(bucket_policy({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": ["arn:aws:s3:::b/*"]}), "b")
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/k")) == "Allow"
    assert pol.decide(Ask(ANONYMOUS, "s3:getobject", "arn:aws:s3:::b/k")) == "Allow"
    assert pol.decide(Ask(ANONYMOUS, "s3:PutObject", "arn:aws:s3:::b/k")) is None
    assert pol.decide(Ask(ANONYMOUS, "s3:ListBucket", "arn:aws:s3:::b")) is None


@pytest.mark.parametrize("principal,caller,hit", [
    ({"AWS": ACCT}, ROOT, True),
    ({"AWS": ACCT}, ALICE, True),
    ({"AWS": ACCT}, STRANGER, False),
    ({"AWS": ACCT}, ANONYMOUS, False),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, ALICE, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, ALICE, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, BOB, False),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, ROOT, False),
    ({"CanonicalUser": "a" * 64}, BOB, True),
    ({"CanonicalUser": "b" * 64}, BOB, False),
    ({"AWS": "*"}, ANONYMOUS, True),
    ("*", STRANGER, True),
    ({"AWS": [OTHER, ACCT]}, STRANGER, True),
    ({"Service": "logging.s3.amazonaws.com"}, Caller(None, service="logging.s3.amazonaws.com"),
     True),
    ({"Service": "logging.s3.amazonaws.com"}, ANONYMOUS, False),
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, Caller(OTHER, account_name="s3tenant1"), True),
    ({"AWS": "arn:aws:iam::s3tenant1:root"}, Caller(OTHER, account_name="other"), False),
])
def test_principal(principal: Any, caller: Caller, hit: bool) -> None:
    pol = parse_bucket_policy(bucket_policy({
        "Effect": "Allow", "Principal": principal, "Action": "s3:*",
        "Resource": "arn:aws:s3:::b/*"}), "b")
    assert pol.decide(Ask(caller, "s3:GetObject", "arn:aws:s3:::b/x")) == (
        "Allow" if hit else None)


def test_deny_beats_allow() -> None:
    pol = parse_bucket_policy(bucket_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": {"AWS": ACCT}, "Action": "s3:Delete*",
         "Resource": "arn:aws:s3:::b/keep/*"},
    ), "b")
    assert pol.decide(Ask(ALICE, "s3:DeleteObject", "arn:aws:s3:::b/keep/x")) == "Deny"
    assert pol.decide(Ask(ALICE, "s3:DeleteObject", "arn:aws:s3:::b/other")) == "Allow"
    assert pol.decide(Ask(STRANGER, "s3:DeleteObject", "arn:aws:s3:::b/keep/x")) == "Allow"


def test_wildcards_in_resource_are_case_sensitive() -> None:
    pol = parse_identity_policy(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/a?c/*"}}))
    assert pol.decide(Ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/abc/d")) == "Allow"
    assert pol.decide(Ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/ABC/d")) is None
    assert pol.decide(Ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/abbc/d")) is None


def test_not_action_not_resource() -> None:
    pol = parse_identity_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
    ]}))
    assert pol.decide(Ask(ALICE, "s3:GetObject", "arn:aws:s3:::b/k")) == "Allow"
    assert pol.decide(Ask(ALICE, "s3:DeleteObject", "arn:aws:s3:::b/k")) is None
    assert pol.decide(Ask(ALICE, "s3:GetObject", "arn:aws:s3:::c/k")) == "Deny"


def test_index_narrows_statements() -> None:
    statements = [{"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": f"s3:{a}",
                   "Resource": "arn:aws:s3:::b/*"}
                  for a in ("PutObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl",
                            "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging",
                            "RestoreObject", "GetObjectRetention", "PutObjectRetention",
                            "GetObjectLegalHold", "PutObjectLegalHold", "AbortMultipartUpload",
                            "ListMultipartUploadParts", "GetObjectAttributes",
                            "DeleteObjectVersion", "GetObjectVersion", "GetObjectVersionAcl")]
    statements.append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::b/*"})
    statements.append({"Effect": "Deny", "Principal": "*", "Action": "s3:Get*",
                       "Resource": "arn:aws:s3:::b/secret/*"})
    pol = parse_bucket_policy(bucket_policy(*statements), "b")
    assert len(pol.statements) == 20
    assert len(pol.candidates("s3:GetObject")) == 2
    assert pol.candidates("s3:GetObject")[0].effect == "Deny"
    assert len(pol.candidates("s3:PutObject")) == 1
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/x")) == "Allow"
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/secret/x")) == "Deny"


def test_policy_variables_only_in_2012() -> None:
    doc = {"Statement": {"Effect": "Allow", "Action": "s3:*",
                         "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}}
    pol = parse_identity_policy(json.dumps({"Version": "2012-10-17", **doc}))
    assert pol.decide(Ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) == "Allow"
    assert pol.decide(Ask(BOB, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) is None
    old = parse_identity_policy(json.dumps({"Version": "2008-10-17", **doc}))
    assert old.decide(Ask(ALICE, "s3:PutObject", "arn:aws:s3:::b/home/alice/x")) is None
    assert old.decide(Ask(ALICE, "s3:PutObject",
                          "arn:aws:s3:::b/home/${aws:username}/x")) == "Allow"


@pytest.mark.parametrize("text,message", [
    ("", "Policies must be valid JSON and the first byte must be '{'"),
    ("[]", "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*",'
     ' "Resource": "arn:aws:s3:::b/*"}}', "Missing required field Principal"),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "x"},'
     ' "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}', "Invalid principal in policy"),
])
def test_malformed(text: str, message: str) -> None:
    with pytest.raises(S3Error) as err:
        parse_bucket_policy(text, "b")
    assert err.value.code == "MalformedPolicy"
    assert err.value.status == 400
    assert err.value.message == message
