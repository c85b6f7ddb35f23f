"""S3 Object Ownership: Put/Get/DeleteBucketOwnershipControls, x-amz-object-ownership on
CreateBucket, and what each setting does to writes by another account and to ACLs.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server
from test_clients import aws_json, aws_runner

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def err(ei: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def rules(ownership: str) -> dict[str, Any]:
    return {"Rules": [{"ObjectOwnership": ownership}]}


@pytest.fixture(scope="module")
def other(server: Server) -> Any:
    return server.client(server.new_user())


@pytest.fixture(scope="module")
def ids(s3: Any, other: Any) -> tuple[str, str]:
    return s3.list_buckets()["Owner"]["ID"], other.list_buckets()["Owner"]["ID"]


@pytest.fixture
def shared(s3: Any, ids: tuple[str, str]) -> Iterator[str]:
    """A bucket of the owner where the other account may write (a WRITE grant)."""
    name = "own-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket=name, GrantFullControl=f"id={ids[0]}", GrantWrite=f"id={ids[1]}")
    yield name


def owner_of(client: Any, bucket: str, key: str) -> str:
    return str(client.get_object_acl(Bucket=bucket, Key=key)["Owner"]["ID"])


def test_no_controls_by_default(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert err(ei) == (404, "OwnershipControlsNotFoundError")


@pytest.mark.parametrize("value", ["BucketOwnerEnforced", "BucketOwnerPreferred",
                                   "ObjectWriter"])
def test_put_get_delete(s3: Any, bucket: str, value: str) -> None:
    assert s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls=rules(value))["ResponseMetadata"]["HTTPStatusCode"] \
        == 200
    got = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert got == rules(value)
    for _ in range(2):  # deleting is idempotent
        resp = s3.delete_bucket_ownership_controls(Bucket=bucket)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert err(ei) == (404, "OwnershipControlsNotFoundError")


def test_create_bucket_with_header(s3: Any) -> None:
    name = "own-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"] == \
        rules("BucketOwnerPreferred")


def test_create_bucket_bad_header(server: Server) -> None:
    import requests
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = f"{server.endpoint}/own-{uuid.uuid4().hex[:12]}"
    req = AWSRequest("PUT", url, headers={"x-amz-object-ownership": "Everyone"})
    S3SigV4Auth(Credentials(server.root.access_key, server.root.secret_key), "s3",
                "us-east-1").add_auth(req)
    resp = requests.put(url, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 400 and b"<Code>InvalidArgument</Code>" in resp.content


def test_enforced_refuses_public_bucket_acl(s3: Any) -> None:
    name = "own-" + uuid.uuid4().hex[:16]
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="BucketOwnerEnforced")
    assert err(ei) == (400, "InvalidBucketAclWithObjectOwnership")
    s3.create_bucket(Bucket=name, ACL="public-read")
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_ownership_controls(Bucket=name,
                                         OwnershipControls=rules("BucketOwnerEnforced"))
    assert err(ei) == (400, "InvalidBucketAclWithObjectOwnership")
    s3.put_bucket_acl(Bucket=name, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=name,
                                     OwnershipControls=rules("BucketOwnerEnforced"))


def test_malformed(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=rules("Nobody"))
    assert err(ei) == (400, "MalformedXML")


def test_only_owner_configures(s3: Any, other: Any, bucket: str) -> None:
    for call, kw in ((other.get_bucket_ownership_controls, {}),
                     (other.delete_bucket_ownership_controls, {}),
                     (other.put_bucket_ownership_controls,
                      {"OwnershipControls": rules("ObjectWriter")})):
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket, **kw)
        assert err(ei) == (403, "AccessDenied")


@pytest.fixture(scope="module")
def admin(server: Server) -> Any:
    """An admin of a third account: may write into any bucket without a grant."""
    return server.client(server.new_user(admin=True))


def test_enforced(s3: Any, other: Any, admin: Any, shared: str, ids: tuple[str, str]) -> None:
    owner, writer = ids
    other.put_object(Bucket=shared, Key="before", Body=b"old")  # owned by its writer
    assert owner_of(other, shared, "before") == writer
    # the bucket ACL must grant nobody else first (AWS: migrate grants to a policy)
    s3.put_bucket_acl(Bucket=shared, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=shared,
                                     OwnershipControls=rules("BucketOwnerEnforced"))
    # objects written by another account belong to the bucket owner, old ones too
    admin.put_object(Bucket=shared, Key="plain", Body=b"x")
    admin.put_object(Bucket=shared, Key="bofc", Body=b"x", ACL="bucket-owner-full-control")
    for key in ("plain", "bofc", "before"):
        acl = s3.get_object_acl(Bucket=shared, Key=key)
        assert acl["Owner"]["ID"] == owner
        assert [(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]] == \
            [(owner, "FULL_CONTROL")]
        assert s3.get_object(Bucket=shared, Key=key)["Body"].read() in (b"x", b"old")
    listed = {o["Key"]: o["Owner"]["ID"] for o in s3.list_objects(Bucket=shared)["Contents"]}
    assert listed == {"before": owner, "bofc": owner, "plain": owner}
    # the writer no longer controls its object: ACLs are disabled
    with pytest.raises(ClientError) as ei:
        other.get_object(Bucket=shared, Key="before")
    assert err(ei) == (403, "AccessDenied")
    # any ACL other than bucket-owner-full-control is refused, on every write path
    for acl in ("private", "public-read", "bucket-owner-read"):
        with pytest.raises(ClientError) as ei:
            admin.put_object(Bucket=shared, Key="k", Body=b"x", ACL=acl)
        assert err(ei) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=shared, Key="k", Body=b"x", GrantRead=f"id={writer}")
    assert err(ei) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=shared, Key="c", CopySource={"Bucket": shared, "Key": "plain"},
                       ACL="public-read")
    assert err(ei) == (400, "AccessControlListNotSupported")
    s3.copy_object(Bucket=shared, Key="c", CopySource={"Bucket": shared, "Key": "plain"},
                   ACL="bucket-owner-full-control")
    with pytest.raises(ClientError) as ei:
        s3.create_multipart_upload(Bucket=shared, Key="m", ACL="authenticated-read")
    assert err(ei) == (400, "AccessControlListNotSupported")
    up = admin.create_multipart_upload(Bucket=shared, Key="m")
    part = admin.upload_part(Bucket=shared, Key="m", UploadId=up["UploadId"], PartNumber=1,
                             Body=b"p")
    admin.complete_multipart_upload(Bucket=shared, Key="m", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": part["ETag"]}]})
    assert owner_of(s3, shared, "m") == owner
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_acl(Bucket=shared, ACL="public-read")
    assert err(ei) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as ei:
        s3.put_object_acl(Bucket=shared, Key="plain", ACL="public-read")
    assert err(ei) == (400, "AccessControlListNotSupported")
    # the XML form of bucket-owner-full-control is accepted
    s3.put_object_acl(Bucket=shared, Key="plain", AccessControlPolicy={
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner},
                    "Permission": "FULL_CONTROL"}]})
    s3.put_object_acl(Bucket=shared, Key="plain", ACL="bucket-owner-full-control")
    # back to ObjectWriter: the stored owners count again
    s3.delete_bucket_ownership_controls(Bucket=shared)
    assert other.get_object(Bucket=shared, Key="before")["Body"].read() == b"old"
    assert owner_of(s3, shared, "m") == owner  # written while enforced: the bucket owner's


def test_enforced_ignores_existing_acls(s3: Any, other: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")
    assert other.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"x"
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls=rules("BucketOwnerEnforced"))
    with pytest.raises(ClientError) as ei:
        other.get_object(Bucket=bucket, Key="pub")
    assert err(ei) == (403, "AccessDenied")


def test_preferred(s3: Any, other: Any, shared: str, ids: tuple[str, str]) -> None:
    owner, writer = ids
    s3.put_bucket_ownership_controls(Bucket=shared,
                                     OwnershipControls=rules("BucketOwnerPreferred"))
    other.put_object(Bucket=shared, Key="bofc", Body=b"x", ACL="bucket-owner-full-control")
    other.put_object(Bucket=shared, Key="plain", Body=b"x")
    other.put_object(Bucket=shared, Key="priv", Body=b"x", ACL="private")
    assert owner_of(s3, shared, "bofc") == owner
    assert owner_of(other, shared, "plain") == writer
    assert owner_of(other, shared, "priv") == writer
    # ACLs stay enabled
    s3.put_bucket_acl(Bucket=shared, ACL="private")
    other.put_object_acl(Bucket=shared, Key="plain", ACL="public-read")


def test_object_writer(s3: Any, other: Any, shared: str, ids: tuple[str, str]) -> None:
    owner, writer = ids
    s3.put_bucket_ownership_controls(Bucket=shared, OwnershipControls=rules("ObjectWriter"))
    other.put_object(Bucket=shared, Key="bofc", Body=b"x", ACL="bucket-owner-full-control")
    acl = other.get_object_acl(Bucket=shared, Key="bofc")
    assert acl["Owner"]["ID"] == writer
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]} == \
        {(writer, "FULL_CONTROL"), (owner, "FULL_CONTROL")}


def test_aws_cli(server: Server, bucket: str, tmp_path: Path) -> None:
    aws = aws_runner(server, tmp_path / "aws-home", server.root)
    aws_json(aws("s3api", "put-bucket-ownership-controls", "--bucket", bucket,
                 "--ownership-controls",
                 json.dumps({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})))
    got = aws_json(aws("s3api", "get-bucket-ownership-controls", "--bucket", bucket))
    assert got["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    body = tmp_path / "body"
    body.write_bytes(b"cli")
    cp = aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(body),
             "--acl", "public-read")
    assert cp.returncode != 0 and "AccessControlListNotSupported" in cp.stderr
    aws_json(aws("s3api", "delete-bucket-ownership-controls", "--bucket", bucket))
    cp = aws("s3api", "get-bucket-ownership-controls", "--bucket", bucket)
    assert cp.returncode != 0 and "OwnershipControlsNotFoundError" in cp.stderr


def test_aws_bucket_defaults(tmp_path: Path) -> None:
    """--bucket-defaults aws: new buckets as Amazon S3 makes them since April 2023."""
    from harness import new_server, running
    with running(new_server(tmp_path / "data", extra_args=["--bucket-defaults", "aws",
                                                           "--no-fsync"])) as srv:
        c = srv.client()
        c.create_bucket(Bucket="aws-defaults")
        assert c.get_bucket_ownership_controls(Bucket="aws-defaults")["OwnershipControls"] \
            == rules("BucketOwnerEnforced")
        assert c.get_public_access_block(Bucket="aws-defaults")[
            "PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket="aws-defaults", Key="k", Body=b"x", ACL="private")
        assert err(ei) == (400, "AccessControlListNotSupported")
        c.put_object(Bucket="aws-defaults", Key="k", Body=b"x")
        # the header still chooses; a public ACL is refused by the block
        c.create_bucket(Bucket="aws-writer", ObjectOwnership="ObjectWriter")
        assert c.get_bucket_ownership_controls(Bucket="aws-writer")["OwnershipControls"] \
            == rules("ObjectWriter")
        with pytest.raises(ClientError) as ei:
            c.create_bucket(Bucket="aws-public", ACL="public-read",
                            ObjectOwnership="ObjectWriter")
        assert err(ei) == (403, "AccessDenied")
        with pytest.raises(ClientError) as ei:
            c.create_bucket(Bucket="aws-public", ACL="public-read")
        assert err(ei) == (400, "InvalidBucketAclWithObjectOwnership")
