"""Condition operators (s3/policy_conditions.py), table-tested through decide().

Cases follow IAM's "Condition operators", "Conditions with multiple context keys or values"
and "Single-valued vs. multivalued context keys" pages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.policy import Ask, Caller, parse_bucket_policy, parse_identity_policy

ALICE = Caller("111122223333", "a" * 64, "arn:aws:iam::111122223333:user/alice", "alice")
RES = "arn:aws:s3:::b/k"


def decide(condition: dict[str, Any], context: dict[str, Sequence[str]],
           *, version: str = "2012-10-17", action: str = "s3:GetObject",
           caller: Caller = ALICE) -> bool:
    """Does an Allow statement with this Condition apply to a request with these keys?"""
    text = json.dumps({"Version": version, "Statement": [{
        "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition}]})
    pol = parse_identity_policy(text)
    low = {k.lower(): v for k, v in context.items()}
    return pol.decide(Ask(caller, action, RES, low.get)) == "Allow"


# (condition, request context, applies)
CASES: list[tuple[dict[str, Any], dict[str, Sequence[str]], bool]] = [
    # --- String
    ({"StringEquals": {"s3:prefix": "home/"}}, {"s3:prefix": ["home/"]}, True),
    ({"StringEquals": {"s3:prefix": "home/"}}, {"s3:prefix": ["HOME/"]}, False),
    ({"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": ["home/x"]}, False),  # no wildcard
    ({"StringEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": ["b"]}, True),  # values OR
    ({"StringEquals": {"s3:prefix": "a"}}, {}, False),  # missing key: false
    ({"StringNotEquals": {"s3:prefix": "a"}}, {"s3:prefix": ["b"]}, True),
    ({"StringNotEquals": {"s3:prefix": "a"}}, {"s3:prefix": ["a"]}, False),
    ({"StringNotEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": ["b"]}, False),  # NOR
    ({"StringNotEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": ["c"]}, True),
    ({"StringNotEquals": {"s3:prefix": "a"}}, {}, True),  # negated, missing key: true
    ({"StringEqualsIgnoreCase": {"s3:prefix": "Home/"}}, {"s3:prefix": ["hOME/"]}, True),
    ({"StringEqualsIgnoreCase": {"s3:prefix": "Home/"}}, {"s3:prefix": ["home"]}, False),
    ({"StringNotEqualsIgnoreCase": {"s3:prefix": "Home/"}}, {"s3:prefix": ["HOME/"]}, False),
    ({"StringNotEqualsIgnoreCase": {"s3:prefix": "Home/"}}, {"s3:prefix": ["x"]}, True),
    ({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": ["home/a/b"]}, True),
    ({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": ["Home/a"]}, False),  # case
    ({"StringLike": {"s3:prefix": "h?me"}}, {"s3:prefix": ["home"]}, True),
    ({"StringLike": {"s3:prefix": "h?me"}}, {"s3:prefix": ["hme"]}, False),
    ({"StringLike": {"s3:prefix": ""}}, {"s3:prefix": [""]}, True),
    ({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": ["bc"]}, False),
    ({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": ["cb"]}, True),
    ({"StringNotLike": {"s3:prefix": "a*"}}, {}, True),
    # --- Numeric
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10"]}, True),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10.0"]}, True),
    ({"NumericEquals": {"s3:max-keys": 10}}, {"s3:max-keys": ["11"]}, False),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["11"]}, True),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {}, True),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": ["9"]}, True),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10"]}, False),
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10"]}, True),
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["1000"]}, False),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10.5"]}, True),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10"]}, False),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["10"]}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["abc"]}, False),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {}, False),
    # --- Date (ISO 8601 and epoch seconds, on either side)
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:01Z"}},
     {"aws:CurrentTime": ["2024-05-01T12:00:00Z"]}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:01Z"}},
     {"aws:CurrentTime": ["2019-12-31T23:59:59Z"]}, False),
    ({"DateLessThan": {"aws:CurrentTime": "2020-01-01"}},
     {"aws:CurrentTime": ["2019-12-31T23:59:59Z"]}, True),
    ({"DateLessThanEquals": {"aws:EpochTime": "1577836800"}},
     {"aws:EpochTime": ["1577836800"]}, True),
    ({"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
     {"aws:CurrentTime": ["2020-01-01T01:00:00+01:00"]}, True),
    ({"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
     {"aws:CurrentTime": ["1577836800"]}, True),
    ({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
     {"aws:CurrentTime": ["2020-01-02T00:00:00Z"]}, True),
    ({"DateGreaterThanEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}},
     {"aws:EpochTime": ["1577836799"]}, False),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {}, False),
    # --- Bool
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": ["false"]}, True),
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": ["true"]}, False),
    ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": ["TRUE"]}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {}, False),
    # --- Binary (base64 of the policy value against base64 of the request's)
    ({"BinaryEquals": {"aws:binkey": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
     {"aws:binkey": ["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]}, True),
    ({"BinaryEquals": {"aws:binkey": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
     {"aws:binkey": ["AAAA"]}, False),
    # --- IP addresses (a bare address is a /32)
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ["203.0.113.9"]}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ["203.0.114.9"]},
     False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}, {"aws:SourceIp": ["203.0.113.7"]}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}, {"aws:SourceIp": ["203.0.113.8"]}, False),
    ({"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}},
     {"aws:SourceIp": ["2001:db8:1234:5678:1::1"]}, True),
    ({"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}},
     {"aws:SourceIp": ["203.0.113.7"]}, False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ["garbage"]}, False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
     {"aws:SourceIp": ["::ffff:203.0.113.9"]}, True),  # IPv4-mapped (dual-stack socket)
    ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ["10.0.0.1"]}, True),
    ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ["203.0.113.1"]},
     False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {}, False),
    # --- ARN: each of the six colon-separated parts matched on its own
    ({"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
     {"aws:SourceArn": ["arn:aws:someservice:us-east-2:111122223333:finance/doc.txt"]}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
     {"aws:SourceArn": [
         "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d.txt"]},
     False),
    ({"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
     {"aws:SourceArn": [
         "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d.txt"]},
     True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::source-bucket"}},
     {"aws:SourceArn": ["arn:aws:s3:::source-bucket"]}, True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::source-*"}},
     {"aws:SourceArn": ["arn:aws:s3:::source-bucket"]}, True),  # ArnEquals == ArnLike
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"}},
     {"aws:SourceArn": ["not-an-arn"]}, False),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"}},
     {"aws:SourceArn": ["not-an-arn"]}, True),
    ({"ArnNotEquals": {"aws:SourceArn": ["arn:aws:s3:::a", "arn:aws:s3:::b"]}},
     {"aws:SourceArn": ["arn:aws:s3:::b"]}, False),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::a"}}, {}, True),
    # --- Null: "true" when the key is absent, "false" when present
    ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    ({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": ["2024-01-01"]}, False),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": ["2024-01-01"]}, True),
    ({"Null": {"aws:TokenIssueTime": False}}, {}, False),
    # --- ...IfExists: a missing key satisfies the condition
    ({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, {}, True),
    ({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
     {"ec2:InstanceType": ["t2.micro"]}, True),
    ({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
     {"ec2:InstanceType": ["c5.large"]}, False),
    ({"StringNotEqualsIfExists": {"s3:prefix": "a"}}, {}, True),
    ({"StringNotEqualsIfExists": {"s3:prefix": "a"}}, {"s3:prefix": ["a"]}, False),
    ({"NumericLessThanIfExists": {"s3:max-keys": "10"}}, {"s3:max-keys": ["20"]}, False),
    ({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}, {}, True),
    # --- multiple keys AND, multiple operators AND
    ({"StringEquals": {"s3:prefix": "a", "s3:delimiter": "/"}},
     {"s3:prefix": ["a"], "s3:delimiter": ["/"]}, True),
    ({"StringEquals": {"s3:prefix": "a", "s3:delimiter": "/"}}, {"s3:prefix": ["a"]}, False),
    ({"StringEquals": {"s3:prefix": "a"}, "NumericLessThan": {"s3:max-keys": "5"}},
     {"s3:prefix": ["a"], "s3:max-keys": ["10"]}, False),
    ({"StringEquals": {"s3:prefix": "a"}, "NumericLessThan": {"s3:max-keys": "5"}},
     {"s3:prefix": ["a"], "s3:max-keys": ["1"]}, True),
    # --- set operators over a multivalued key
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["PostDateTime", "Message",
                                                                "Tags"]}},
     {"s3:RequestObjectTagKeys": ["PostDateTime", "Message"]}, True),
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["PostDateTime", "Message",
                                                                "Tags"]}},
     {"s3:RequestObjectTagKeys": ["PostDateTime", "UserName"]}, False),
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}}, {}, True),
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}},
     {"s3:RequestObjectTagKeys": []}, True),
    ({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["ID", "PostDateTime"]}},
     {"s3:RequestObjectTagKeys": ["UserName", "Message", "PostDateTime"]}, True),
    ({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["ID", "PostDateTime"]}},
     {"s3:RequestObjectTagKeys": ["UserName"]}, False),
    ({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}}, {}, False),
    ({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}},
     {"s3:RequestObjectTagKeys": []}, False),
    ({"ForAllValues:StringNotEquals": {"s3:RequestObjectTagKeys": ["Project"]}},
     {"s3:RequestObjectTagKeys": ["Owner", "Cost"]}, True),
    ({"ForAllValues:StringNotEquals": {"s3:RequestObjectTagKeys": ["Project"]}},
     {"s3:RequestObjectTagKeys": ["Owner", "Project"]}, False),
    ({"ForAnyValue:StringNotEquals": {"s3:RequestObjectTagKeys": ["Project"]}},
     {"s3:RequestObjectTagKeys": ["Owner", "Project"]}, True),
    ({"ForAnyValue:StringNotEquals": {"s3:RequestObjectTagKeys": ["Project"]}},
     {"s3:RequestObjectTagKeys": ["Project"]}, False),
    ({"ForAllValues:StringLike": {"s3:RequestObjectTagKeys": ["team-*"]}},
     {"s3:RequestObjectTagKeys": ["team-a", "team-b"]}, True),
    ({"ForAnyValue:StringEqualsIfExists": {"s3:RequestObjectTagKeys": ["a"]}}, {}, True),
    # without a qualifier a multivalued key behaves as ForAnyValue (negated: none matches)
    ({"StringEquals": {"s3:RequestObjectTagKeys": "b"}}, {"s3:RequestObjectTagKeys": ["a", "b"]},
     True),
    ({"StringNotEquals": {"s3:RequestObjectTagKeys": "b"}},
     {"s3:RequestObjectTagKeys": ["a", "b"]}, False),
]


@pytest.mark.parametrize("condition,context,applies", CASES)
def test_operator(condition: dict[str, Any], context: dict[str, Sequence[str]],
                  applies: bool) -> None:
    assert decide(condition, context) is applies


# IAM "Conditions with multiple context keys or values": the negated-matching table.
_NEGATED_BLOCK = {
    "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"],
                     "aws:PrincipalTag/role": ["audit", "security"]},
    "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana",
                                        "arn:aws:iam::222222222222:user/Mary"]},
}


@pytest.mark.parametrize("context,applies", [
    ({"aws:PrincipalTag/department": ["legal"], "aws:PrincipalTag/role": ["audit"],
      "aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Nikki"]}, True),
    ({"aws:PrincipalTag/department": ["hr"], "aws:PrincipalTag/role": ["audit"],
      "aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Mary"]}, False),
    ({"aws:PrincipalTag/department": ["hr"], "aws:PrincipalTag/role": ["payroll"],
      "aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Nikki"]}, False),
    ({"aws:PrincipalTag/department": ["hr"],
      "aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Nikki"]}, False),
    ({"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Nikki"]}, False),
])
def test_documented_negated_matching_table(context: dict[str, Sequence[str]],
                                           applies: bool) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ExamplePolicy", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket", "Condition": _NEGATED_BLOCK}]})
    pol = parse_bucket_policy(text, "amzn-s3-demo-bucket")
    caller = Caller("222222222222", None, "arn:aws:iam::222222222222:user/x", "x")
    low = {k.lower(): v for k, v in context.items()}
    answer = pol.decide(Ask(caller, "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket",
                            low.get))
    assert (answer == "Allow") is applies


def test_variables_in_string_arn_and_bool_values_only() -> None:
    assert decide({"StringEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": ["alice"]})
    assert decide({"StringLike": {"s3:prefix": "${aws:username}/*"}},
                  {"s3:prefix": ["alice/x"]})
    assert decide({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::${aws:username}"}},
                  {"aws:SourceArn": ["arn:aws:s3:::alice"]})
    assert decide({"Bool": {"aws:SecureTransport": "${aws:ViaAWSService}"}},
                  {"aws:SecureTransport": ["false"], "aws:ViaAWSService": ["false"]})
    # Version 2008-10-17: "${...}" is literal text
    assert not decide({"StringEquals": {"s3:prefix": "${aws:username}"}},
                      {"s3:prefix": ["alice"]}, version="2008-10-17")
    assert decide({"StringEquals": {"s3:prefix": "${aws:username}"}},
                  {"s3:prefix": ["${aws:username}"]}, version="2008-10-17")
    # an unresolvable variable makes the statement not valid for the request (IAM: "If
    # AWS cannot resolve a variable this might cause the entire statement to be
    # invalid"): neither the operator nor its negation holds
    assert not decide({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/none}"}},
                      {"s3:prefix": [""]})
    assert not decide({"StringNotEquals": {"s3:prefix": "${aws:PrincipalTag/none}"}},
                      {"s3:prefix": ["x"]})
    assert not decide({"StringNotLike": {"s3:prefix": "${aws:PrincipalTag/none}/*"}},
                      {"s3:prefix": ["x"]})
    assert not decide({"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::${aws:PrincipalTag/n}"}},
                      {"aws:SourceArn": ["arn:aws:s3:::x"]})
    # ... while a default value resolves it
    assert decide({"StringNotEquals": {"s3:prefix": "${aws:PrincipalTag/none, 'd'}"}},
                  {"s3:prefix": ["x"]})


def test_condition_keys_are_case_insensitive() -> None:
    assert decide({"StringEquals": {"S3:Prefix": "a"}}, {"s3:prefix": ["a"]})
    assert decide({"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}, {"aws:sourceip": ["10.1.1.1"]})


@pytest.mark.parametrize("condition,message", [
    ({"StringEqualz": {"s3:prefix": "a"}}, "Invalid Condition type : StringEqualz"),
    ({"NullIfExists": {"s3:prefix": "true"}}, "Invalid Condition type : NullIfExists"),
    ({"ForSomeValues:StringEquals": {"s3:prefix": "a"}},
     "Invalid Condition type : ForSomeValues:StringEquals"),
    ({"stringEquals": {"s3:prefix": "a"}}, "Invalid Condition type : stringEquals"),
    ({"StringEquals": {"s3:prefixes": "a"}}, "Policy has an invalid condition key"),
    ({"StringEquals": {"prefix": "a"}}, "Policy has an invalid condition key"),
    ({"StringEquals": {"kms:ViaService": "a"}}, "Policy has an invalid condition key"),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}, "Invalid IP address in Conditions"),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.*"}}, "Invalid IP address in Conditions"),
    ({"StringEquals": ["s3:prefix"]}, "Invalid policy syntax."),
    ({"StringEquals": {"s3:prefix": {"a": "b"}}}, "Invalid policy syntax."),
    ({"StringEquals": {"s3:prefix": None}}, "Invalid policy syntax."),
])
def test_malformed_condition(condition: Any, message: str) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
        "Condition": condition}]})
    with pytest.raises(S3Error) as err:
        parse_bucket_policy(text, "b")
    assert (err.value.code, err.value.message) == ("MalformedPolicy", message)


def test_known_condition_keys_accepted() -> None:
    for key in ("s3:x-amz-acl", "s3:ExistingObjectTag/project", "s3:RequestObjectTag/a/b",
                "s3:object-lock-remaining-retention-days", "s3:signatureversion",
                "s3:authType", "s3:x-amz-content-sha256", "s3:VersionId", "s3:TlsVersion",
                "aws:SomeFutureKey", "aws:RequestTag/x", "aws:PrincipalOrgID"):
        text = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {key: "v"}}}]})
        parse_bucket_policy(text, "b")
    # identity policies may also name the EC2 image keys
    parse_identity_policy(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*",
        "Condition": {"StringEquals": {"ec2:Owner": "self"}}}]}))
