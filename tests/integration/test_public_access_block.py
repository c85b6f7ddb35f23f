"""Block Public Access at bucket level: Put/Get/DeletePublicAccessBlock, BlockPublicAcls
(public ACLs refused on every write path) and IgnorePublicAcls (public grants count for
nothing). BlockPublicPolicy and RestrictPublicBuckets act on bucket policies, which this
server does not have yet: stored and returned only.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from harness import Server
from test_clients import aws_json, aws_runner

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_CANNED = ("public-read", "public-read-write", "authenticated-read")


def err(ei: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def conf(acls: bool = False, ignore: bool = False, policy: bool = False,
         restrict: bool = False) -> dict[str, bool]:
    return {"BlockPublicAcls": acls, "IgnorePublicAcls": ignore, "BlockPublicPolicy": policy,
            "RestrictPublicBuckets": restrict}


@pytest.fixture(scope="module")
def other(server: Server) -> Any:
    return server.client(server.new_user())


@pytest.fixture(scope="module")
def anon(server: Server) -> Any:
    return server.client(signature_version=UNSIGNED)


def test_none_by_default(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as ei:
        s3.get_public_access_block(Bucket=bucket)
    assert err(ei) == (404, "NoSuchPublicAccessBlockConfiguration")


@pytest.mark.parametrize("flags", [conf(True, True, True, False), conf(restrict=True),
                                   conf(), conf(True, True, True, True)])
def test_put_get_delete(s3: Any, bucket: str, flags: dict[str, bool]) -> None:
    resp = s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=flags)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == flags
    for _ in range(2):  # deleting is idempotent
        resp = s3.delete_public_access_block(Bucket=bucket)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_public_access_block(Bucket=bucket)
    assert err(ei) == (404, "NoSuchPublicAccessBlockConfiguration")


def test_malformed(server: Server, s3: Any, bucket: str) -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = f"{server.endpoint}/{bucket}?publicAccessBlock"
    body = (b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls>"
            b"</PublicAccessBlockConfiguration>")
    req = AWSRequest("PUT", url, data=body)
    S3SigV4Auth(Credentials(server.root.access_key, server.root.secret_key), "s3",
                "us-east-1").add_auth(req)
    resp = requests.put(url, data=body, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 400 and b"<Code>MalformedXML</Code>" in resp.content


def test_only_owner_configures(other: Any, bucket: str) -> None:
    for call, kw in ((other.get_public_access_block, {}),
                     (other.delete_public_access_block, {}),
                     (other.put_public_access_block,
                      {"PublicAccessBlockConfiguration": conf()})):
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket, **kw)
        assert err(ei) == (403, "AccessDenied")


def test_block_public_acls(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(acls=True))
    calls: list[tuple[Any, dict[str, Any]]] = [
        (s3.put_bucket_acl, {}), (s3.put_object_acl, {"Key": "o"}),
        (s3.put_object, {"Key": "n", "Body": b""}),
        (s3.copy_object, {"Key": "c", "CopySource": {"Bucket": bucket, "Key": "o"}}),
        (s3.create_multipart_upload, {"Key": "m"})]
    for acl in PUBLIC_CANNED:
        for call, kw in calls:
            with pytest.raises(ClientError) as ei:
                call(Bucket=bucket, ACL=acl, **kw)
            assert err(ei) == (403, "AccessDenied"), acl
    # grant headers and ACL documents naming a public group are refused too
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="g", Body=b"", GrantRead=f'uri="{AUTHENTICATED}"')
    assert err(ei) == (403, "AccessDenied")
    owner = s3.list_buckets()["Owner"]["ID"]
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
            "Owner": {"ID": owner},
            "Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
    assert err(ei) == (403, "AccessDenied")
    # private ACLs pass, and nothing was written by the refused requests
    s3.put_object(Bucket=bucket, Key="p", Body=b"", ACL="private")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["o", "p"]
    # removing the block allows them again
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="n", Body=b"", ACL="public-read")


def test_block_public_acls_keeps_existing_public_acls(s3: Any, anon: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(acls=True))
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"x"


def test_ignore_public_acls(s3: Any, other: Any, anon: Any, bucket: str) -> None:
    other_id = other.list_buckets()["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="auth", Body=b"x", ACL="authenticated-read")
    s3.put_object(Bucket=bucket, Key="named", Body=b"x", GrantRead=f"id={other_id}")
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"x"
    assert other.list_objects_v2(Bucket=bucket)["KeyCount"] == 3
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(ignore=True))
    # public grants count for nothing, on the bucket and on its objects ...
    for call in (lambda: anon.get_object(Bucket=bucket, Key="pub"),
                 lambda: other.get_object(Bucket=bucket, Key="auth"),
                 lambda: other.list_objects_v2(Bucket=bucket),
                 lambda: anon.list_objects(Bucket=bucket)):
        with pytest.raises(ClientError) as ei:
            call()
        assert err(ei) == (403, "AccessDenied")
    # ... a grant to a named account still counts, the owner keeps access, and the public
    # ACL may still be set (it is ignored, not refused)
    assert other.get_object(Bucket=bucket, Key="named")["Body"].read() == b"x"
    assert s3.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"x"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    # lifting the block makes the grants count again
    s3.delete_public_access_block(Bucket=bucket)
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"x"


def test_aws_cli(server: Server, bucket: str, tmp_path: Path) -> None:
    aws = aws_runner(server, tmp_path / "aws-home", server.root)
    flags = conf(True, False, True, False)
    aws_json(aws("s3api", "put-public-access-block", "--bucket", bucket,
                 "--public-access-block-configuration", json.dumps(flags)))
    got = aws_json(aws("s3api", "get-public-access-block", "--bucket", bucket))
    assert got["PublicAccessBlockConfiguration"] == flags
    cp = aws("s3api", "put-bucket-acl", "--bucket", bucket, "--acl", "public-read")
    assert cp.returncode != 0 and "AccessDenied" in cp.stderr
    aws_json(aws("s3api", "delete-public-access-block", "--bucket", bucket))
    cp = aws("s3api", "get-public-access-block", "--bucket", bucket)
    assert cp.returncode != 0 and "NoSuchPublicAccessBlockConfiguration" in cp.stderr
