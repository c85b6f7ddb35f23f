"""Fuzzing the policy parser and evaluator (hypothesis): every document either parses or
raises S3Error("MalformedPolicy"), and a parsed policy decides any request without raising
(anything else would be a 500)."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.policy import (
    ANONYMOUS,
    Ask,
    Caller,
    Policy,
    parse_bucket_policy,
    parse_identity_policy,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

WORDS = ["Version", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action",
         "NotAction", "Resource", "NotResource", "Condition", "Id", "AWS", "CanonicalUser",
         "Service", "Allow", "Deny", "*", "2012-10-17", "2008-10-17", "s3:*", "s3:Get*",
         "s3:GetObject", "s3:ListBucket", "ec2:*", "arn:aws:s3:::b", "arn:aws:s3:::b/*",
         "arn:aws:s3:::*", "arn:aws:iam::111122223333:root", "111122223333", "a" * 64,
         "logging.s3.amazonaws.com", "StringEquals", "StringLike", "ForAnyValue:StringLike",
         "ForAllValues:StringNotEquals", "NumericLessThan", "DateGreaterThan", "Bool",
         "IpAddress", "NotIpAddress", "ArnLike", "Null", "BinaryEquals", "StringEqualsIfExists",
         "aws:SourceIp", "aws:SourceArn", "aws:CurrentTime", "s3:prefix", "s3:max-keys",
         "aws:username", "${aws:username}", "${*}", "${", "10.0.0.0/8", "::/0", "1e999999",
         "9" * 400, "NaN", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59", "QQ==",
         "", "true", "false", "\x00", "é", "/"]

scalars = st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.integers(),
                    st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), inner,
                    max_size=5)), max_leaves=30)
statement = st.dictionaries(st.sampled_from(WORDS[:11]), values, max_size=9)
documents = st.fixed_dictionaries({"Statement": st.one_of(statement, st.lists(statement,
                                                                               max_size=3))},
                                  optional={"Version": st.sampled_from(WORDS[18:20]) | values})

CALLERS = [ANONYMOUS, Caller("111122223333", "a" * 64),
           Caller("111122223333", "a" * 64, "arn:aws:iam::111122223333:user/u", "u"),
           Caller(None, service="logging.s3.amazonaws.com")]
CONTEXT_VALUES = st.one_of(st.none(), st.lists(st.sampled_from(WORDS) | st.text(max_size=10),
                                               max_size=3))


def _exercise(pol: Policy, data: Any) -> None:
    context = data.draw(st.dictionaries(st.sampled_from(
        ["aws:sourceip", "aws:sourcearn", "aws:currenttime", "s3:prefix", "s3:max-keys",
         "aws:username", "aws:securetransport", "aws:epochtime"]), CONTEXT_VALUES, max_size=8))
    for caller in CALLERS:
        for action in ("s3:GetObject", "s3:ListBucket", "ec2:DescribeImages"):
            for resource in ("arn:aws:s3:::b", "arn:aws:s3:::b/k", "*"):
                assert pol.decide(Ask(caller, action, resource, context.get)) in (
                    "Allow", "Deny", None)


@settings(max_examples=EXAMPLES, deadline=None)
@given(documents, st.data())
def test_structured_documents(document: dict[str, Any], data: Any) -> None:
    text = json.dumps(document)
    for parse in (lambda t: parse_bucket_policy(t, "b"), parse_identity_policy):
        try:
            pol = parse(text)
        except S3Error as e:
            assert e.code == "MalformedPolicy"
            continue
        _exercise(pol, data)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    for parse in (lambda t: parse_bucket_policy(t, "b"), parse_identity_policy):
        try:
            parse(text)
        except S3Error as e:
            assert e.code == "MalformedPolicy"


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    for text in ("{" + '"a":[' * 100000 + "]" * 100000 + "}",
                 '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}"):
        for parse in (lambda t: parse_bucket_policy(t, "b"), parse_identity_policy):
            try:
                parse(text)
            except S3Error as e:
                assert e.code == "MalformedPolicy"


OPERATORS = ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike",
             "StringNotLike", "NumericEquals", "NumericLessThan", "NumericGreaterThanEquals",
             "DateEquals", "DateLessThan", "DateGreaterThan", "Bool", "BinaryEquals",
             "ArnEquals", "ArnNotLike", "Null", "StringLikeIfExists",
             "ForAnyValue:StringEquals", "ForAllValues:StringNotLike",
             "ForAllValues:NumericLessThan", "ForAnyValue:DateGreaterThanIfExists"]
KEYS = ["aws:sourcearn", "aws:currenttime", "s3:prefix", "s3:max-keys", "aws:username",
        "aws:SecureTransport", "aws:EpochTime"]
condition_values = st.one_of(st.sampled_from(WORDS), st.lists(
    st.sampled_from(WORDS) | st.text(max_size=10) | st.integers(), max_size=3))
condition = st.dictionaries(
    st.sampled_from(OPERATORS),
    st.dictionaries(st.sampled_from(KEYS), condition_values, min_size=1, max_size=2),
    max_size=3)


@settings(max_examples=EXAMPLES, deadline=None)
@given(condition, st.sampled_from(["Allow", "Deny"]), st.data())
def test_conditions_evaluate_without_raising(cond: dict[str, Any], effect: str,
                                              data: Any) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": cond}]})
    try:
        pol = parse_bucket_policy(text, "b")
    except S3Error as e:
        assert e.code == "MalformedPolicy"
        return
    _exercise(pol, data)
