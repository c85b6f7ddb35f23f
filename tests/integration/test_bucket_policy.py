"""Bucket policies against the real server: boto3, the AWS CLI and anonymous HTTP.

Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, Block Public Access (BlockPublicPolicy,
RestrictPublicBuckets, the account-wide block from the CLI), x-amz-expected-bucket-owner
with 12-digit account ids, and the lockout guard."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from botocore.exceptions import ClientError
from clients_util import isolated_env, run
from harness import Creds, Server

from objectstore.s3.identity import account_number


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def account_id(server: Server, account: str) -> str:
    for line in server.admin("account", "list").splitlines():
        fields = line.split("\t")
        if fields[0] == account:
            return fields[1]
    raise LookupError(account)


@pytest.fixture(scope="module")
def owner(server: Server) -> Creds:
    return server.new_user()


@pytest.fixture(scope="module")
def other(server: Server) -> Creds:
    return server.new_user()


@pytest.fixture
def bkt(server: Server, owner: Creds) -> Iterator[str]:
    s3 = server.client(owner)
    name = "pol-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="public/a.txt", Body=b"public")
    s3.put_object(Bucket=name, Key="private/b.txt", Body=b"private")
    yield name
    s3.delete_bucket_policy(Bucket=name)
    for key in ("public/a.txt", "private/b.txt"):
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_bucket(Bucket=name)


def public_prefix(bucket: str) -> str:
    return doc({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"})


def test_put_get_delete_policy(server: Server, owner: Creds, bkt: str) -> None:
    s3 = server.client(owner)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bkt)
    assert _code(e.value) == "NoSuchBucketPolicy"
    text = public_prefix(bkt)
    resp = s3.put_bucket_policy(Bucket=bkt, Policy=text)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bkt)["Policy"] == text  # as stored
    assert s3.get_bucket_policy_status(Bucket=bkt)["PolicyStatus"]["IsPublic"] is True
    assert s3.delete_bucket_policy(Bucket=bkt)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bkt)
    assert s3.get_bucket_policy_status(Bucket=bkt)["PolicyStatus"]["IsPublic"] is False


@pytest.mark.parametrize(("policy", "fragment"), [
    ("not json", ""),
    ('{"Version": "2012-10-17", "Statement": []}', ""),
    (json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::another-bucket/*"}]}), ""),
])
def test_malformed_policies_are_refused(server: Server, owner: Creds, bkt: str,
                                        policy: str, fragment: str) -> None:
    s3 = server.client(owner)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bkt, Policy=policy)
    assert _code(e.value) == "MalformedPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_public_prefix_for_anonymous_http(server: Server, owner: Creds, bkt: str) -> None:
    base = f"{server.endpoint}/{bkt}"
    assert requests.get(f"{base}/public/a.txt", timeout=10).status_code == 403
    server.client(owner).put_bucket_policy(Bucket=bkt, Policy=public_prefix(bkt))
    got = requests.get(f"{base}/public/a.txt", timeout=10)
    assert got.status_code == 200 and got.content == b"public"
    assert requests.head(f"{base}/public/a.txt", timeout=10).status_code == 200
    denied = requests.get(f"{base}/private/b.txt", timeout=10)
    assert denied.status_code == 403 and b"<Code>AccessDenied</Code>" in denied.content
    # no s3:ListBucket: a missing key is 403, not 404
    assert requests.get(f"{base}/public/missing", timeout=10).status_code == 403
    assert requests.put(f"{base}/public/new", data=b"x", timeout=10).status_code == 403
    assert requests.get(base, timeout=10).status_code == 403


def test_list_with_prefix_condition(server: Server, owner: Creds, other: Creds,
                                    bkt: str) -> None:
    policy = doc({"Effect": "Allow", "Principal": {"AWS": account_number(
        account_id(server, other.account))}, "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bkt}",
        "Condition": {"StringLike": {"s3:prefix": "public/*"}}})
    server.client(owner).put_bucket_policy(Bucket=bkt, Policy=policy)
    alt = server.client(other)
    keys = [o["Key"] for o in alt.list_objects_v2(Bucket=bkt, Prefix="public/")["Contents"]]
    assert keys == ["public/a.txt"]
    with pytest.raises(ClientError) as e:
        alt.list_objects_v2(Bucket=bkt, Prefix="private/")
    assert _code(e.value) == "AccessDenied"
    # HEAD of a missing key: 404 where the prefix may be listed, else 403
    with pytest.raises(ClientError) as e:
        alt.head_object(Bucket=bkt, Key="public/missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        alt.head_object(Bucket=bkt, Key="private/missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_deny_beats_owner_and_lockout_guard(server: Server, owner: Creds, bkt: str) -> None:
    s3 = server.client(owner)
    second = server.client(server.new_user(account=owner.account))
    s3.put_bucket_policy(Bucket=bkt, Policy=doc({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bkt}", f"arn:aws:s3:::{bkt}/*"]}))
    for client in (s3, second):
        with pytest.raises(ClientError) as e:
            client.get_object(Bucket=bkt, Key="public/a.txt")
        assert _code(e.value) == "AccessDenied"
    with pytest.raises(ClientError):
        second.get_bucket_policy(Bucket=bkt)
    # the account's first user may still read and remove the policy
    assert "Deny" in s3.get_bucket_policy(Bucket=bkt)["Policy"]
    s3.delete_bucket_policy(Bucket=bkt)
    assert s3.get_object(Bucket=bkt, Key="public/a.txt")["Body"].read() == b"public"


def test_cross_account_write_with_bucket_owner_full_control(
        server: Server, owner: Creds, other: Creds, bkt: str) -> None:
    """AWS's documented example: uploads allowed only with bucket-owner-full-control."""
    s3, alt = server.client(owner), server.client(other)
    owner_number = account_number(account_id(server, owner.account))
    other_number = account_number(account_id(server, other.account))
    s3.put_bucket_policy(Bucket=bkt, Policy=doc({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other_number}:root"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bkt}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}))
    with pytest.raises(ClientError):
        alt.put_object(Bucket=bkt, Key="drop/1", Body=b"x")
    alt.put_object(Bucket=bkt, Key="drop/1", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=bkt, Key="drop/1")["Body"].read() == b"x"
    s3.head_bucket(Bucket=bkt, ExpectedBucketOwner=owner_number)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=bkt, ExpectedBucketOwner=other_number)
    s3.delete_object(Bucket=bkt, Key="drop/1")


def test_block_public_policy_and_restrict(server: Server, owner: Creds, other: Creds,
                                          bkt: str) -> None:
    s3 = server.client(owner)
    s3.put_public_access_block(Bucket=bkt, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": True})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bkt, Policy=public_prefix(bkt))
    assert _code(e.value) == "AccessDenied"
    s3.delete_public_access_block(Bucket=bkt)
    s3.put_bucket_policy(Bucket=bkt, Policy=public_prefix(bkt))
    url = f"{server.endpoint}/{bkt}/public/a.txt"
    assert requests.get(url, timeout=10).status_code == 200
    s3.put_public_access_block(Bucket=bkt, PublicAccessBlockConfiguration={
        "RestrictPublicBuckets": True})
    assert requests.get(url, timeout=10).status_code == 403
    with pytest.raises(ClientError):
        server.client(other).get_object(Bucket=bkt, Key="public/a.txt")
    s3.delete_public_access_block(Bucket=bkt)
    assert requests.get(url, timeout=10).status_code == 200


def test_account_wide_block_from_the_cli(server: Server, bkt: str, owner: Creds) -> None:
    s3 = server.client(owner)
    out = server.admin("account", "public-access-block", owner.account,
                       "--block-public-policy", "--restrict-public-buckets")
    assert "block-public-policy\ton" in out and "block-public-acls\toff" in out
    try:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bkt, Policy=public_prefix(bkt))
        assert _code(e.value) == "AccessDenied"
    finally:
        out = server.admin("account", "public-access-block", owner.account, "--off")
    assert "block-public-policy\toff" in out
    s3.put_bucket_policy(Bucket=bkt, Policy=public_prefix(bkt))


def _aws(server: Server, creds: Creds, home: Path, *args: str) -> Any:
    exe = shutil.which("aws")
    env = isolated_env(home, AWS_ACCESS_KEY_ID=creds.access_key,
                       AWS_SECRET_ACCESS_KEY=creds.secret_key, AWS_DEFAULT_REGION="us-east-1",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    cp = run([*([exe] if exe else [sys.executable, "-m", "awscli"]), "--endpoint-url",
              server.endpoint, "--output", "json", *args], env)
    return cp


def test_aws_cli_put_bucket_policy(server: Server, owner: Creds, bkt: str,
                                   tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "policy.json").write_text(public_prefix(bkt))
    cp = _aws(server, owner, home, "s3api", "put-bucket-policy", "--bucket", bkt,
              "--policy", f"file://{tmp_path / 'policy.json'}")
    assert cp.returncode == 0, cp.stderr
    cp = _aws(server, owner, home, "s3api", "get-bucket-policy", "--bucket", bkt)
    assert cp.returncode == 0, cp.stderr
    assert json.loads(json.loads(cp.stdout)["Policy"])["Statement"][0]["Sid"] == "PublicRead"
    cp = _aws(server, owner, home, "s3api", "get-bucket-policy-status", "--bucket", bkt)
    assert json.loads(cp.stdout)["PolicyStatus"]["IsPublic"] is True
    assert requests.get(f"{server.endpoint}/{bkt}/public/a.txt", timeout=10).status_code == 200


def test_policy_operations_from_another_account(server: Server, owner: Creds, other: Creds,
                                                bkt: str) -> None:
    """Denied: 403; allowed by the policy but outside the owner's account: 405, as S3."""
    alt = server.client(other)
    with pytest.raises(ClientError) as e:
        alt.get_bucket_policy(Bucket=bkt)
    assert _code(e.value) == "AccessDenied"
    number = account_number(account_id(server, other.account))
    server.client(owner).put_bucket_policy(Bucket=bkt, Policy=doc({
        "Effect": "Allow", "Principal": {"AWS": number}, "Action": "s3:GetBucketPolicy",
        "Resource": f"arn:aws:s3:::{bkt}"}))
    with pytest.raises(ClientError) as e:
        alt.get_bucket_policy(Bucket=bkt)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
