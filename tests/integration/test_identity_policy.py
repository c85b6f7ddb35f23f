"""Identity policies on users (`objectstore user policy ...`), enforced on S3 requests, the
image registry (/_images) and the EC2 API; cross-account access needing both sides."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Creds, Server
from images_helpers import Nova, ec2_client

from objectstore.s3.identity import account_number


def _denied(fn: Any, **kw: Any) -> None:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def team(server: Server) -> Creds:
    return server.new_user()  # the account's first user: no policy


@pytest.fixture
def bkt(server: Server, team: Creds) -> Iterator[str]:
    s3 = server.client(team)
    name = "idp-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="data/a", Body=b"a")
    yield name
    s3.delete_bucket_policy(Bucket=name)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def user_with(server: Server, account: str, *policy_args: str) -> Creds:
    creds = server.new_user(account=account)
    server.admin("user", "policy", "set", creds.user, *policy_args)
    return creds


def test_no_policy_means_full_access(server: Server, team: Creds, bkt: str) -> None:
    plain = server.client(server.new_user(account=team.account))
    plain.put_object(Bucket=bkt, Key="data/b", Body=b"b")
    plain.put_bucket_tagging(Bucket=bkt, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert "no policy" in server.admin("user", "policy", "get", team.user)


def test_canned_readonly(server: Server, team: Creds, bkt: str) -> None:
    ro = server.client(user_with(server, team.account, "--canned", "readonly"))
    assert ro.get_object(Bucket=bkt, Key="data/a")["Body"].read() == b"a"
    assert [o["Key"] for o in ro.list_objects_v2(Bucket=bkt)["Contents"]] == ["data/a"]
    assert bkt in [b["Name"] for b in ro.list_buckets()["Buckets"]]
    _denied(ro.put_object, Bucket=bkt, Key="data/x", Body=b"x")
    _denied(ro.delete_object, Bucket=bkt, Key="data/a")
    _denied(ro.put_bucket_acl, Bucket=bkt, ACL="public-read")
    _denied(ro.create_bucket, Bucket="idp-new-" + uuid.uuid4().hex[:8])


def test_canned_writeonly_and_readwrite(server: Server, team: Creds, bkt: str) -> None:
    wo = server.client(user_with(server, team.account, "--canned", "writeonly"))
    wo.put_object(Bucket=bkt, Key="data/w", Body=b"w")
    _denied(wo.get_object, Bucket=bkt, Key="data/w")
    _denied(wo.list_objects_v2, Bucket=bkt)
    rw = server.client(user_with(server, team.account, "--canned", "readwrite"))
    rw.put_object(Bucket=bkt, Key="data/rw", Body=b"rw")
    assert rw.get_object(Bucket=bkt, Key="data/w")["Body"].read() == b"w"
    rw.delete_object(Bucket=bkt, Key="data/rw")
    _denied(rw.put_bucket_policy, Bucket=bkt, Policy=doc({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bkt}/*"}))


def test_policy_from_a_file_with_variables(server: Server, team: Creds, bkt: str,
                                           tmp_path: Path) -> None:
    """Each user may write under its own name only (${aws:username})."""
    path = tmp_path / "home.json"
    path.write_text(doc({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                         "Resource": f"arn:aws:s3:::{bkt}/home/${{aws:username}}/*"}))
    creds = user_with(server, team.account, "--file", str(path))
    s3 = server.client(creds)
    s3.put_object(Bucket=bkt, Key=f"home/{creds.user}/f", Body=b"mine")
    assert s3.get_object(Bucket=bkt, Key=f"home/{creds.user}/f")["Body"].read() == b"mine"
    _denied(s3.put_object, Bucket=bkt, Key="home/someone-else/f", Body=b"x")
    out = server.admin("user", "policy", "get", creds.user)
    assert "${aws:username}" in out
    server.admin("user", "policy", "delete", creds.user)
    s3.put_object(Bucket=bkt, Key="home/someone-else/f", Body=b"now allowed")


def test_invalid_policies_are_refused_by_the_cli(server: Server, team: Creds,
                                                 tmp_path: Path) -> None:
    creds = server.new_user(account=team.account)
    path = tmp_path / "bad.json"
    path.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "objectstore", "user", "policy", "set",
                          creds.user, "--file", str(path), "--data-dir",
                          str(server.data_dir)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "invalid policy" in out.stderr
    assert "Traceback" not in out.stderr
    assert "no policy" in server.admin("user", "policy", "get", creds.user)


def test_cross_account_needs_both_sides(server: Server, team: Creds, bkt: str) -> None:
    outsider_plain = server.new_user()
    outsider = user_with(server, outsider_plain.account, "--canned", "readonly")
    number = account_number(next(
        line.split("\t")[1] for line in server.admin("account", "list").splitlines()
        if line.split("\t")[0] == outsider.account))
    server.client(team).put_bucket_policy(Bucket=bkt, Policy=doc({
        "Effect": "Allow", "Principal": {"AWS": number},
        "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{bkt}/*"}))
    ro = server.client(outsider)
    assert ro.get_object(Bucket=bkt, Key="data/a")["Body"].read() == b"a"  # both allow
    _denied(ro.put_object, Bucket=bkt, Key="data/o", Body=b"o")  # its own policy: no
    plain = server.client(outsider_plain)  # no identity policy: the bucket policy suffices
    plain.put_object(Bucket=bkt, Key="data/o", Body=b"o")


def test_image_registry_and_ec2_obey_identity_policies(server: Server, team: Creds) -> None:
    ro = user_with(server, team.account, "--canned", "readonly")
    nova = Nova(server, ro)
    assert nova.request("GET").status == 200  # ec2:DescribeImages
    reply = nova.register("some-bucket/some.manifest.xml")
    assert reply.status == 403 and reply.error_code == "AccessDenied"
    ec2 = ec2_client(server, ro)
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    with pytest.raises(ClientError) as e:
        ec2.register_image(ImageLocation="some-bucket/some.manifest.xml", Name="xyz")
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    wo = user_with(server, team.account, "--canned", "writeonly")
    assert Nova(server, wo).request("GET").status == 403
