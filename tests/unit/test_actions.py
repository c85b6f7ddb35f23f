"""s3/actions.py: every routed operation asks for the IAM action AWS documents."""

from __future__ import annotations

import pytest

from objectstore.s3 import actions, routing
from objectstore.s3.actions import Need, for_request, primary
from objectstore.server.app import HANDLERS

OWNER = "a" * 64


def _routed_ops() -> set[str]:
    ops = set()
    for table in (routing._BUCKET_SUB, routing._OBJECT_SUB):
        for pairs in table.values():
            ops.update(op for _, op in pairs)
    ops.update(routing._BUCKET_DEFAULT.values())
    ops.update(routing._OBJECT_DEFAULT.values())
    ops.update({"ListObjects", "ListObjectsV2", "ListBuckets", "CopyObject", "UploadPart",
                "UploadPartCopy"})
    return ops - {"PostObjectUnsupported"}


def test_every_handled_and_routed_operation_has_an_action() -> None:
    missing = (set(HANDLERS) | _routed_ops()) - actions.known_ops()
    assert not missing, sorted(missing)


@pytest.mark.parametrize(("op", "versioned", "action"), [
    ("ListObjects", False, "s3:ListBucket"),
    ("ListObjectsV2", False, "s3:ListBucket"),
    ("HeadBucket", False, "s3:ListBucket"),
    ("ListObjectVersions", False, "s3:ListBucketVersions"),
    ("ListMultipartUploads", False, "s3:ListBucketMultipartUploads"),
    ("HeadObject", False, "s3:GetObject"),
    ("GetObject", True, "s3:GetObjectVersion"),
    ("HeadObject", True, "s3:GetObjectVersion"),
    ("DeleteObject", True, "s3:DeleteObjectVersion"),
    ("GetObjectAcl", True, "s3:GetObjectVersionAcl"),
    ("PutObjectAcl", True, "s3:PutObjectVersionAcl"),
    ("GetObjectTagging", True, "s3:GetObjectVersionTagging"),
    ("PutObjectTagging", True, "s3:PutObjectVersionTagging"),
    ("DeleteObjectTagging", True, "s3:DeleteObjectVersionTagging"),
    ("GetObjectAttributes", True, "s3:GetObjectVersionAttributes"),
    ("UploadPart", False, "s3:PutObject"),
    ("CompleteMultipartUpload", False, "s3:PutObject"),
    ("AbortMultipartUpload", False, "s3:AbortMultipartUpload"),
    ("ListParts", False, "s3:ListMultipartUploadParts"),
    ("DeleteBucketCors", False, "s3:PutBucketCORS"),
    ("DeleteBucketLifecycle", False, "s3:PutLifecycleConfiguration"),
    ("DeleteBucketEncryption", False, "s3:PutEncryptionConfiguration"),
    ("GetPublicAccessBlock", False, "s3:GetBucketPublicAccessBlock"),
    ("GetBucketPolicyStatus", False, "s3:GetBucketPolicyStatus"),
    ("GetObjectLockConfiguration", False, "s3:GetBucketObjectLockConfiguration"),
    ("ListBuckets", False, "s3:ListAllMyBuckets"),
])
def test_primary_actions(op: str, versioned: bool, action: str) -> None:
    assert primary(op, versioned).action == action


def test_copy_asks_for_source_read_and_destination_write() -> None:
    needs = for_request("CopyObject", {"x-amz-copy-source": "/b/k"})
    assert needs == (Need("s3:PutObject"), Need("s3:GetObject", "source"))
    needs = for_request("UploadPartCopy", {}, source_versioned=True)
    assert Need("s3:GetObjectVersion", "source") in needs


@pytest.mark.parametrize(("headers", "extra"), [
    ({"x-amz-acl": "public-read"}, "s3:PutObjectAcl"),
    ({"x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'},
     "s3:PutObjectAcl"),
    ({"x-amz-tagging": "a=b"}, "s3:PutObjectTagging"),
    ({"x-amz-object-lock-mode": "GOVERNANCE"}, "s3:PutObjectRetention"),
    ({"x-amz-object-lock-legal-hold": "ON"}, "s3:PutObjectLegalHold"),
])
def test_write_headers_ask_for_more(headers: dict[str, str], extra: str) -> None:
    for op in ("PutObject", "CreateMultipartUpload"):
        assert Need(extra) in for_request(op, headers, bucket_owner=OWNER)


def test_owner_only_acls_are_part_of_the_put() -> None:
    """AWS's cross-account upload example: s3:PutObject with bucket-owner-full-control."""
    for headers in ({"x-amz-acl": "bucket-owner-full-control"}, {"x-amz-acl": "private"},
                    {"x-amz-grant-full-control": f"id={OWNER}"}):
        assert for_request("PutObject", headers, bucket_owner=OWNER) == (Need("s3:PutObject"),)
    assert Need("s3:PutObjectAcl") in for_request(
        "PutObject", {"x-amz-grant-full-control": f"id={'b' * 64}"}, bucket_owner=OWNER)


def test_copy_tags_need_tagging_only_when_replaced() -> None:
    assert Need("s3:PutObjectTagging") not in for_request("CopyObject", {"x-amz-tagging": "a=b"})
    assert Need("s3:PutObjectTagging") in for_request(
        "CopyObject", {"x-amz-tagging": "a=b", "x-amz-tagging-directive": "REPLACE"})


def test_create_bucket_extras() -> None:
    needs = for_request("CreateBucket", {"x-amz-bucket-object-lock-enabled": "true",
                                         "x-amz-object-ownership": "ObjectWriter",
                                         "x-amz-acl": "public-read"})
    assert [n.action for n in needs] == [
        "s3:CreateBucket", "s3:PutBucketAcl", "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketVersioning", "s3:PutBucketOwnershipControls"]


def test_acl_mapping_follows_aws_table() -> None:
    m = actions.ACL_PERMISSION
    assert m["s3:ListBucket"] == ("bucket", "READ")
    assert m["s3:PutObject"] == ("bucket", "WRITE")
    assert m["s3:DeleteObject"] == ("bucket", "WRITE")
    assert m["s3:GetBucketAcl"] == ("bucket", "READ_ACP")
    assert m["s3:PutBucketAcl"] == ("bucket", "WRITE_ACP")
    assert m["s3:GetObject"] == ("object", "READ")
    assert m["s3:GetObjectVersionAcl"] == ("object", "READ_ACP")
    assert m["s3:PutObjectAcl"] == ("object", "WRITE_ACP")
    assert "s3:GetObjectTagging" not in m and "s3:PutBucketPolicy" not in m


def test_image_registry_and_ec2_actions() -> None:
    assert actions.ec2_action("RegisterImage") == "ec2:RegisterImage"
    assert actions.ec2_action("DescribeImageAttribute") == "ec2:DescribeImageAttribute"
    assert actions.images_action("GET", False) == "ec2:DescribeImages"
    assert actions.images_action("PUT", False) == "ec2:RegisterImage"
    assert actions.images_action("POST", True) == "ec2:ModifyImageAttribute"
    assert actions.images_action("DELETE", True) == "ec2:DeregisterImage"
    assert actions.image_arn("us-east-1", "ami-1") == "arn:aws:ec2:us-east-1::image/ami-1"
