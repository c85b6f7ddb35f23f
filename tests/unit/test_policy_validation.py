"""Policy validation: S3's MalformedPolicy messages (bucket policies) and identity policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.policy import parse_bucket_policy, parse_identity_policy

B = "bucket"
BKT = f"arn:aws:s3:::{B}"
OBJS = f"arn:aws:s3:::{B}/*"


def stmt(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": OBJS}
    for k, v in over.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def malformed(text: str, bucket: str = B) -> str:
    with pytest.raises(S3Error) as err:
        parse_bucket_policy(text, bucket)
    assert err.value.code == "MalformedPolicy"
    assert err.value.status == 400
    return err.value.message


@pytest.mark.parametrize("text,message", [
    ("", "Policies must be valid JSON and the first byte must be '{'"),
    ("false", "Policies must be valid JSON and the first byte must be '{'"),
    ("invalid_json", "Policies must be valid JSON and the first byte must be '{'"),
    ('"Statement": []}', "Policies must be valid JSON and the first byte must be '{'"),
    ("[]", "Policies must be valid JSON and the first byte must be '{'"),
    (" {}", "Policies must be valid JSON and the first byte must be '{'"),
    ("{true}", "This policy contains invalid Json"),
    ("{asdfsdaf", "This policy contains invalid Json"),
    ('{"Principal": "*" ', "This policy contains invalid Json"),
    ("{}", "Missing required field Statement"),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Statement": []}', "Could not parse the policy: Statement is empty!"),
    ('{"Statement": "x"}', "Invalid policy syntax."),
    ('{"Version": "", "Statement": []}', "The policy must contain a valid version string"),
    ('{"Version": "2012-10-16", "Statement": []}',
     "The policy must contain a valid version string"),
    ('{"Version": 2012, "Statement": []}', "The policy must contain a valid version string"),
    ('{"Statement": [], "Foo": 1}', "Unknown field Foo"),
    ('{"Statement": [], "statement": 1}', "Unknown field statement"),
])
def test_document(text: str, message: str) -> None:
    assert malformed(text) == message


@pytest.mark.parametrize("statement,message", [
    (stmt(Effect=None), "Missing required field Effect"),
    (stmt(Effect="hello"), "Invalid effect: hello"),
    (stmt(Effect="allow"), "Invalid effect: allow"),
    (stmt(Principal=None), "Missing required field Principal"),
    (stmt(Principal=""), "Invalid principal in policy"),
    (stmt(Principal=[]), "Invalid principal in policy"),
    (stmt(Principal=["*", "grt1"]), "Invalid principal in policy"),
    (stmt(Principal={}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": ""}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": []}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": "user"}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": "12345678901"}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": "arn:aws:iam::123456789012:role/admin"}),
     "Invalid principal in policy"),
    (stmt(Principal={"AWS": "arn:aws:iam::123456789012:user/*"}), "Invalid principal in policy"),
    (stmt(Principal={"AWS": "arn:aws:sts::123456789012:assumed-role/r/s"}),
     "Invalid principal in policy"),
    (stmt(Principal={"CanonicalUser": "abc"}), "Invalid principal in policy"),
    (stmt(Principal={"Federated": "graph.facebook.com"}), "Invalid principal in policy"),
    (stmt(Principal={"Service": "*"}), "Invalid principal in policy"),
    (stmt(Principal={"Bogus": "x"}), "Invalid principal in policy"),
    (stmt(Principal="arn:aws:iam::123456789012:root"), "Invalid policy syntax."),
    (stmt(Principal=None, NotPrincipal={"AWS": "123456789012"}), "Invalid principal in policy"),
    (stmt(NotPrincipal={"AWS": "123456789012"}, Effect="Deny"), "Invalid policy syntax."),
    (stmt(Action=None), "Statement is missing required element"),
    (stmt(Action=""), "Policy has invalid action"),
    (stmt(Action=[]), "Policy has invalid action"),
    (stmt(Action="invalid_action"), "Policy has invalid action"),
    (stmt(Action="s3:GetObjekt"), "Policy has invalid action"),
    (stmt(Action="s3:Frobnicate*"), "Policy has invalid action"),
    (stmt(Action="ec2:RegisterImage"), "Policy has invalid action"),
    (stmt(Action="iam:*"), "Policy has invalid action"),
    (stmt(Action=["s3:GetObject", 1]), "Invalid policy syntax."),
    (stmt(Resource=None), "Statement is missing required element"),
    (stmt(Resource=""), "Policy has invalid resource"),
    (stmt(Resource=[]), "Policy has invalid resource"),
    (stmt(Resource="*"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:iam:::bucket"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:s3:::/bucket"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:s3:::prefix-bucket"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:s3:::bucket2/*"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:s3:::other/*"), "Policy has invalid resource"),
    (stmt(Resource="arn:aws:s3:::"), "Policy has invalid resource"),
    (stmt(Resource=[OBJS, "arn:aws:s3:::other"]), "Policy has invalid resource"),
    (stmt(Sid=1), "Invalid policy syntax."),
    (stmt(Condition=[]), "Invalid policy syntax."),
    (stmt(condition={}), "Unknown field condition"),
    (stmt(Id="x"), "Unknown field Id"),
    (dict(stmt(), NotAction="s3:PutObject"), "Invalid policy syntax."),
    ("not an object", "Invalid policy syntax."),
])
def test_statement(statement: Any, message: str) -> None:
    assert malformed(policy(statement)) == message


@pytest.mark.parametrize("resource,action", [
    # bucket resources with object actions
    (BKT, "s3:GetObject"),
    (BKT, "s3:PutObjectTagging"),
    (BKT, "s3:GetObjec?"),
    (BKT, "s3:Abort*"),
    (BKT, "s3:???Object"),
    (BKT, ["s3:ListBucket", "s3:GetObject"]),
    # object resources with bucket actions
    (OBJS, "s3:ListBucket"),
    (OBJS, "s3:GetBucketTagging"),
    (OBJS, "s3:???BucketVersioning"),
    (OBJS, "s3:*BucketVersion*"),
    (OBJS, "s3:GetBucket*"),
    (OBJS, ["s3:GetObject", "s3:GetBucketAcl"]),
    # actions on neither a bucket nor an object
    ([BKT, OBJS], "s3:ListAllMyBuckets"),
    ([BKT, OBJS], "s3:CreateJob"),
    ([BKT, OBJS], "s3:PutAccountPublicAccessBlock"),
])
def test_action_does_not_apply(resource: Any, action: Any) -> None:
    text = policy(stmt(Resource=resource, Action=action))
    assert malformed(text) == "Action does not apply to any resource(s) in statement"


@pytest.mark.parametrize("resource,action", [
    (BKT, "s3:ListBucket"),
    (BKT, "s3:*"),
    (BKT, "*"),
    (BKT, "s3:*Multipart*"),  # s3:ListBucketMultipartUploads applies to the bucket
    (OBJS, "s3:*"),
    (OBJS, "s3:Get*"),
    (OBJS, "s3:GetObject*"),
    (f"arn:aws:s3:::{B}/a/b/c.txt", "s3:GetObject"),
    ([BKT, OBJS], ["s3:ListBucket", "s3:GetObject", "s3:DeleteBucket"]),
    ("arn:aws:s3:::*", "s3:ListBucket"),
    ("arn:aws:s3:::*", "s3:GetObject"),  # "*" crosses "/"
    ("arn:aws:s3:::*/*", "s3:GetObject"),
    ("arn:aws:s3:::buck?t", "s3:ListBucket"),
    ("arn:aws:s3:::buck*/*", "s3:GetObject"),
    (f"{BKT}/home/${{aws:username}}/*", "s3:PutObject"),
    ("arn:aws:s3:::${aws:username}/*", "s3:PutObject"),
    (BKT, "s3:CreateBucket"),
    (BKT, "S3:LISTBUCKET"),
])
def test_action_applies(resource: Any, action: Any) -> None:
    parse_bucket_policy(policy(stmt(Resource=resource, Action=action)), B)


@pytest.mark.parametrize("action,key", [
    ("s3:GetObject", "s3:prefix"),
    ("s3:GetObject", "s3:x-amz-acl"),
    (["s3:GetObject", "s3:GetObjectAcl"], "s3:RequestObjectTag/project"),
    ("s3:DeleteObject", "s3:VersionId"),
])
def test_conditions_that_no_action_carries(action: Any, key: str) -> None:
    text = policy(stmt(Action=action, Condition={"StringEquals": {key: "x"}}))
    assert malformed(text) == ("Conditions do not apply to combination of actions and "
                               "resources in statement")


@pytest.mark.parametrize("action,resource,key", [
    ("s3:ListBucket", BKT, "s3:prefix"),
    (["s3:ListBucket", "s3:GetObject"], [BKT, OBJS], "s3:prefix"),  # one action carries it
    ("s3:*", [BKT, OBJS], "s3:x-amz-acl"),
    ("s3:Put*", OBJS, "s3:x-amz-server-side-encryption"),
    ("s3:GetObject", OBJS, "s3:ExistingObjectTag/security"),
    ("s3:GetObjectAcl", OBJS, "s3:ExistingObjectTag/security"),
    ("s3:PutObjectTagging", OBJS, "s3:RequestObjectTag/security"),
    ("s3:GetObject", OBJS, "s3:DataAccessPointAccount"),
    ("s3:GetObject", OBJS, "s3:authType"),
    ("s3:GetObject", OBJS, "s3:signatureversion"),
    ("s3:DeleteObjectVersion", OBJS, "s3:VersionId"),
    ("s3:GetObject", OBJS, "aws:SourceIp"),
])
def test_conditions_some_action_carries(action: Any, resource: Any, key: str) -> None:
    parse_bucket_policy(policy(stmt(Action=action, Resource=resource,
                                    Condition={"StringEquals": {key: "x"}})), B)


def test_not_action_and_not_resource_skip_the_applicability_check() -> None:
    parse_bucket_policy(policy(stmt(Effect="Deny", Action=None, NotAction="s3:ListBucket",
                                    Resource=OBJS)), B)
    parse_bucket_policy(policy(stmt(Effect="Deny", Resource=None,
                                    NotResource=f"{BKT}/public/*", Action="s3:ListBucket")), B)


def test_every_known_action_parses() -> None:
    from objectstore.s3.policy_actions import BUCKET_ACTIONS, OBJECT_ACTIONS

    parse_bucket_policy(policy(stmt(Action=[f"s3:{a}" for a in BUCKET_ACTIONS],
                                    Resource=BKT)), B)
    parse_bucket_policy(policy(stmt(Action=[f"s3:{a}" for a in OBJECT_ACTIONS],
                                    Resource=OBJS)), B)


def test_accepted_principals() -> None:
    for principal in ("*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": "123456789012"},
                      {"AWS": "arn:aws:iam::123456789012:root"},
                      {"AWS": "arn:aws:iam::123456789012:user/alice"},
                      {"AWS": "arn:aws:iam::123456789012:user/path/to/alice"},
                      {"AWS": ["123456789012", "arn:aws:iam::210987654321:root"]},
                      {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d52"
                                        "18e7cd47ef2be"},
                      {"Service": "logging.s3.amazonaws.com"},
                      {"Service": ["cloudtrail.amazonaws.com", "s3.amazonaws.com"]},
                      {"AWS": "arn:aws:iam::s3tenant1:root"},
                      {"AWS": "*", "Service": "s3.amazonaws.com"}):
        parse_bucket_policy(policy(stmt(Principal=principal)), B)


def test_size_limit() -> None:
    big = [stmt(Sid=f"s{i:04d}", Principal={"AWS": [f"{i:012d}"] * 3}) for i in range(200)]
    text = policy(*big)
    assert len(text) > 20 * 1024
    assert malformed(text).startswith("Normalized policy document exceeds the maximum")
    # the limit counts the document without its whitespace
    small = [stmt(Sid=f"s{i:04d}") for i in range(60)]
    spaced = json.dumps({"Version": "2012-10-17", "Statement": small}, indent=40)
    assert len(spaced) > 20 * 1024
    parse_bucket_policy(spaced, B)


def test_bytes_bodies() -> None:
    pol = parse_bucket_policy(policy(stmt()).encode(), B)
    assert pol.public
    with pytest.raises(S3Error) as err:
        parse_bucket_policy(b'{"Statement": "\xff"}', B)
    assert err.value.message == "This policy contains invalid Json"
    with pytest.raises(S3Error) as err:
        parse_bucket_policy(b"\xef\xbb\xbf{}", B)
    assert err.value.message == "Policies must be valid JSON and the first byte must be '{'"


def test_numbers_and_ids_are_kept_as_written() -> None:
    pol = parse_bucket_policy(json.dumps({
        "Version": "2012-10-17", "Id": "S3PolicyId1",
        "Statement": [stmt(Sid="", Condition={"NumericLessThan": {"s3:max-keys": 10.50}},
                           Action="s3:ListBucket", Resource=BKT)]}), B)
    assert pol.statements[0].conditions[0].texts == ("10.5",)


# --- identity policies ----------------------------------------------------------------------


def identity_malformed(statement: Any) -> str:
    with pytest.raises(S3Error) as err:
        parse_identity_policy(policy(statement))
    assert err.value.code == "MalformedPolicy"
    return err.value.message


def ident(**over: Any) -> dict[str, Any]:
    s = stmt(**over)
    s.pop("Principal", None)
    return s


@pytest.mark.parametrize("statement,message", [
    (stmt(), "Policy document should not specify a principal."),
    (dict(ident(), NotPrincipal="*"), "Policy document should not specify a principal."),
    (ident(Resource=None), "Statement is missing required element"),
    (ident(Resource="bucket/*"), "Policy has invalid resource"),
    (ident(Resource="arn:aws"), "Policy has invalid resource"),
    (ident(Action="iam:CreateUser"), "Policy has invalid action"),
    (ident(Action="ec2:RunInstances"), "Policy has invalid action"),
    (ident(Effect="Maybe"), "Invalid effect: Maybe"),
])
def test_identity_malformed(statement: Any, message: str) -> None:
    assert identity_malformed(statement) == message


def test_identity_accepts_any_bucket_ec2_and_star() -> None:
    pol = parse_identity_policy(policy(
        ident(Action="s3:ListAllMyBuckets", Resource="*"),
        ident(Action=["s3:GetObject", "s3:ListBucket"],
              Resource=["arn:aws:s3:::one", "arn:aws:s3:::two/*"]),
        ident(Action=["ec2:RegisterImage", "ec2:DescribeImages", "ec2:DeregisterImage",
                      "ec2:ModifyImageAttribute", "ec2:DescribeImageAttribute",
                      "ec2:ResetImageAttribute"], Resource="arn:aws:ec2:*::image/*"),
        ident(Action="ec2:*", Resource="*"),
        ident(Action="*", Resource="*", Effect="Deny",
              Condition={"Bool": {"aws:SecureTransport": "false"}})))
    assert len(pol.statements) == 5
    assert not pol.public
