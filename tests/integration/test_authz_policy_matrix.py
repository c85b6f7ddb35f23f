"""The generated authorization matrix with policies: operation x caller x bucket policy x
Block Public Access x object ACL, for callers with and without identity policies. Expected
answers come from the rule table (authz_rules.py: Statement, Block, ACTIONS), checked
against the live server.

Callers: the bucket owner (its account's first user), a second user of the owner's account
without a policy and one with the canned readonly policy, a user of another account without
and with readonly, an admin, anonymous."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
from authz_rules import Block, Context, Principal, Resource, Statement, decide
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import Creds, Server

from objectstore.s3.identity import account_number

READONLY = (Statement("Allow", ("s3:Get*", "s3:List*")),)
CALLERS: dict[str, tuple[str | None, Any]] = {  # name -> (account symbol, identity policy)
    "owner": ("A", None), "same-account": ("A", None), "same-readonly": ("A", READONLY),
    "other-account": ("B", None), "other-readonly": ("B", READONLY), "admin": ("C", None),
    "anonymous": (None, None),
}


@dataclass(frozen=True)
class Setting:
    statements: tuple[Statement, ...] | None
    block: Block | None = None


SETTINGS: dict[str, Setting] = {
    "no-policy": Setting(None),
    "no-policy+ignore-public-acls": Setting(None, Block(ignore_public_acls=True)),
    "public-get": Setting((Statement("Allow", ("s3:GetObject",)),)),
    "public-get+restrict": Setting((Statement("Allow", ("s3:GetObject",)),),
                                   Block(restrict_public_buckets=True)),
    "deny-get-to-all": Setting((Statement("Deny", ("s3:GetObject",)),)),
    "other-may-write-and-list": Setting((Statement(
        "Allow", ("s3:PutObject", "s3:DeleteObject", "s3:ListBucket"), "B"),)),
    "other-may-read-tags": Setting((Statement(
        "Allow", ("s3:GetObjectTagging", "s3:GetBucketTagging", "s3:GetBucketAcl"), "B"),)),
}
OBJECT_OPS = ("GetObject", "HeadObject", "GetObjectAcl", "GetObjectTagging", "CopyObject")
BUCKET_OPS = ("GetObject:missing", "HeadObject:missing", "ListObjects", "PutObject",
              "DeleteObject", "GetBucketAcl", "GetBucketTagging", "PutBucketTagging")
OBJECT_ACLS = ("private", "public-read")


def _policy_json(bucket: str, statements: tuple[Statement, ...], numbers: dict[str, str]
                 ) -> str:
    out = []
    for st in statements:
        who: Any = "*" if st.principal == "*" else {"AWS": numbers[st.principal]}
        resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
        out.append({"Effect": st.effect, "Principal": who, "Action": list(st.actions),
                    "Resource": resources})
    return json.dumps({"Version": "2012-10-17", "Statement": out})


class World:
    def __init__(self, server: Server) -> None:
        owner = server.new_user()
        other = server.new_user()
        self.creds: dict[str, Creds] = {
            "owner": owner,
            "same-account": server.new_user(account=owner.account),
            "same-readonly": server.new_user(account=owner.account),
            "other-account": other,
            "other-readonly": server.new_user(account=other.account),
            "admin": server.new_user(admin=True),
        }
        for who in ("same-readonly", "other-readonly"):
            server.admin("user", "policy", "set", self.creds[who].user, "--canned", "readonly")
        ids = {line.split("\t")[0]: line.split("\t")[1]
               for line in server.admin("account", "list").splitlines()}
        numbers = {"A": account_number(ids[owner.account]),
                   "B": account_number(ids[other.account])}
        self.clients = {who: server.client(c) for who, c in self.creds.items()}
        self.clients["anonymous"] = _anonymous(server)
        s3 = self.clients["owner"]
        self.buckets: dict[str, str] = {}
        for name, setting in SETTINGS.items():
            bucket = f"pm-{uuid.uuid4().hex[:12]}"
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k",
                                                                      "Value": "v"}]})
            for acl in OBJECT_ACLS:
                s3.put_object(Bucket=bucket, Key=f"obj-{acl}", Body=b"data", ACL=acl,
                              Tagging="k=v")
            if setting.block is not None:
                s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                    "IgnorePublicAcls": setting.block.ignore_public_acls,
                    "RestrictPublicBuckets": setting.block.restrict_public_buckets})
            if setting.statements is not None:
                s3.put_bucket_policy(Bucket=bucket, Policy=_policy_json(
                    bucket, setting.statements, numbers))
            self.buckets[name] = bucket


def _anonymous(server: Server) -> Any:
    import boto3
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED,
                                      retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def world(server: Server) -> Iterator[World]:
    yield World(server)


def _call(c: Any, op: str, bucket: str, key: str) -> None:
    n = uuid.uuid4().hex[:8]
    if op == "GetObject":
        c.get_object(Bucket=bucket, Key=key)["Body"].read()
    elif op == "HeadObject":
        c.head_object(Bucket=bucket, Key=key)
    elif op == "GetObjectAcl":
        c.get_object_acl(Bucket=bucket, Key=key)
    elif op == "GetObjectTagging":
        c.get_object_tagging(Bucket=bucket, Key=key)
    elif op == "CopyObject":
        c.copy_object(Bucket=bucket, Key=f"copy-{n}", CopySource={"Bucket": bucket, "Key": key})
    elif op == "GetObject:missing":
        c.get_object(Bucket=bucket, Key="absent")
    elif op == "HeadObject:missing":
        c.head_object(Bucket=bucket, Key="absent")
    elif op == "ListObjects":
        c.list_objects(Bucket=bucket)
    elif op == "PutObject":
        c.put_object(Bucket=bucket, Key=f"new-{n}", Body=b"x")
    elif op == "DeleteObject":
        c.delete_object(Bucket=bucket, Key=f"absent-{n}")
    elif op == "GetBucketAcl":
        c.get_bucket_acl(Bucket=bucket)
    elif op == "GetBucketTagging":
        c.get_bucket_tagging(Bucket=bucket)
    elif op == "PutBucketTagging":
        c.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    else:
        raise ValueError(op)


def _cases() -> Iterator[Any]:
    for setting_name, setting in SETTINGS.items():
        for who, (account, identity) in CALLERS.items():
            p = Principal(who, account, admin=who == "admin")
            for op in (*BUCKET_OPS, *OBJECT_OPS):
                for acl in (OBJECT_ACLS if op in OBJECT_OPS else ("private",)):
                    ctx = Context(p, Resource("A", "private"), Resource("A", acl),
                                  bucket_policy=setting.statements, identity_policy=identity,
                                  public_access_block=setting.block)
                    want = decide(op, ctx)
                    yield pytest.param(setting_name, who, op, acl, want,
                                       id=f"{op}-{who}-{setting_name}-object={acl}")


CASES = list(_cases())


def test_the_matrix_is_not_vacuous() -> None:
    wants: dict[str, set[str]] = {}
    for case in CASES:
        setting, who, op, acl, want = case.values
        wants.setdefault(op, set()).add(want)
    assert len(CASES) > 500
    for op, seen in wants.items():
        assert seen == {"allow", "deny"}, (op, seen)


@pytest.mark.parametrize(("setting", "who", "op", "acl", "want"), CASES)
def test_policy_matrix(world: World, setting: str, who: str, op: str, acl: str,
                       want: str) -> None:
    bucket = world.buckets[setting]
    try:
        _call(world.clients[who], op, bucket, f"obj-{acl}")
        got = "allow"
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        code = e.response["Error"]["Code"]
        if status == 404 and op.endswith(":missing"):
            got = "allow"
        elif status == 403 and code in ("AccessDenied", "403"):
            got = "deny"
        else:
            got = f"{status} {code}"
    assert got == want, f"{op} by {who} on {setting}, object {acl}: expected {want}, got {got}"
