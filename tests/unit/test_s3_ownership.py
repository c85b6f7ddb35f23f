"""s3.ownership: OwnershipControls and PublicAccessBlockConfiguration documents, and the
rules that decide an object's owner and which ACLs a bucket accepts.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
"""

from __future__ import annotations

import pytest

from objectstore.s3 import ownership
from objectstore.s3.acl import ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, Acl, Grant, canned
from objectstore.s3.errors import S3Error

BOWNER = "bucket-owner"
WRITER = "writer"
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def _controls(value: str) -> bytes:
    return (f"<OwnershipControls {NS}><Rule><ObjectOwnership>{value}</ObjectOwnership></Rule>"
            f"</OwnershipControls>").encode()


@pytest.mark.parametrize("value", ownership.OWNERSHIPS)
def test_controls_round_trip(value: str) -> None:
    assert ownership.parse_controls(_controls(value)) == value
    assert ownership.parse_controls(ownership.render_controls(value)) == value
    assert f"<ObjectOwnership>{value}</ObjectOwnership>".encode() in \
        ownership.render_controls(value)


@pytest.mark.parametrize("body", [
    _controls("Nobody"), _controls(""), b"<OwnershipControls/>", b"not xml",
    b"<Other><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Other>",
    b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>"
    b"<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
])
def test_controls_malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        ownership.parse_controls(body)
    assert ei.value.code == "MalformedXML"


def test_header_value() -> None:
    assert ownership.header_value(" BucketOwnerEnforced ") == "BucketOwnerEnforced"
    with pytest.raises(S3Error) as ei:
        ownership.header_value("bucketownerenforced")
    assert ei.value.code == "InvalidArgument"


@pytest.mark.parametrize("setting,acl,expected", [
    (None, None, WRITER), (None, "bucket-owner-full-control", WRITER),
    ("ObjectWriter", "bucket-owner-full-control", WRITER),
    ("BucketOwnerPreferred", None, WRITER), ("BucketOwnerPreferred", "private", WRITER),
    ("BucketOwnerPreferred", "bucket-owner-full-control", BOWNER),
    ("BucketOwnerEnforced", None, BOWNER), ("BucketOwnerEnforced", "private", BOWNER),
])
def test_object_owner(setting: str | None, acl: str | None, expected: str) -> None:
    assert ownership.object_owner(setting, BOWNER, WRITER, acl) == expected


def test_only_owner() -> None:
    assert ownership.only_owner(canned("private", BOWNER), BOWNER)
    assert ownership.only_owner(canned("bucket-owner-full-control", WRITER, BOWNER), BOWNER) \
        is False
    assert not ownership.only_owner(canned("public-read", BOWNER), BOWNER)
    assert not ownership.only_owner(Acl(BOWNER, (Grant("CanonicalUser", BOWNER, "READ"),)),
                                    BOWNER)


ENFORCED = ownership.ENFORCED


@pytest.mark.parametrize("canned_name,acl,ok", [
    ("bucket-owner-full-control", canned("bucket-owner-full-control", BOWNER, BOWNER), True),
    ("private", canned("private", BOWNER), False),
    ("public-read", canned("public-read", BOWNER), False),
    (None, Acl(BOWNER, (Grant("CanonicalUser", BOWNER, "FULL_CONTROL"),)), True),  # XML form
    (None, Acl(BOWNER, (Grant("CanonicalUser", WRITER, "FULL_CONTROL"),)), False),
    (None, Acl(BOWNER, (Grant("CanonicalUser", BOWNER, "READ"),)), False),
    (None, Acl(BOWNER, ()), False),
])
def test_enforced_accepts_only_bucket_owner_full_control(
        canned_name: str | None, acl: Acl, ok: bool) -> None:
    if ok:
        ownership.check_acl(ENFORCED, None, acl, BOWNER, canned_name)
        return
    with pytest.raises(S3Error) as ei:
        ownership.check_acl(ENFORCED, None, acl, BOWNER, canned_name)
    assert ei.value.code == "AccessControlListNotSupported"


@pytest.mark.parametrize("name", ["public-read", "public-read-write", "authenticated-read"])
def test_block_public_acls_refuses_public_canned(name: str) -> None:
    block = ownership.PublicBlock(block_public_acls=True)
    with pytest.raises(S3Error) as ei:
        ownership.check_acl(None, block, canned(name, WRITER), BOWNER, name)
    assert ei.value.code == "AccessDenied"
    # without the block, or with another flag only, it passes
    ownership.check_acl(None, ownership.PublicBlock(ignore_public_acls=True),
                        canned(name, WRITER), BOWNER, name)
    ownership.check_acl("ObjectWriter", None, canned(name, WRITER), BOWNER, name)


@pytest.mark.parametrize("grant,public", [
    (Grant("Group", ALL_USERS, "READ_ACP"), True),
    (Grant("Group", AUTHENTICATED_USERS, "WRITE"), True),
    (Grant("Group", LOG_DELIVERY, "WRITE"), False),
    (Grant("CanonicalUser", "someone", "FULL_CONTROL"), False),
])
def test_is_public(grant: Grant, public: bool) -> None:
    assert ownership.is_public(Acl(WRITER, (grant,))) is public


def _block(**flags: str) -> bytes:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in flags.items())
    return f"<PublicAccessBlockConfiguration {NS}>{inner}</PublicAccessBlockConfiguration>" \
        .encode()


def test_public_block_parse_defaults_and_round_trip() -> None:
    got = ownership.parse_public_block(_block(BlockPublicAcls="true",
                                              RestrictPublicBuckets="TRUE"))
    assert got == ownership.PublicBlock(True, False, False, True)
    assert ownership.parse_public_block(_block()) == ownership.PublicBlock()
    full = ownership.PublicBlock(True, True, True, False)
    assert ownership.parse_public_block(ownership.render_public_block(full)) == full
    assert ownership.PublicBlock.from_json(full.to_json()) == full
    rendered = ownership.render_public_block(full).decode()
    order = [rendered.index(n) for n in ("<BlockPublicAcls>", "<IgnorePublicAcls>",
                                         "<BlockPublicPolicy>", "<RestrictPublicBuckets>")]
    assert order == sorted(order)


@pytest.mark.parametrize("body", [
    _block(BlockPublicAcls="yes"), _block(Unknown="true"), b"<x/>", b"<<",
    _block(BlockPublicAcls="true") .replace(b"</Public", b"<BlockPublicAcls>true"
                                            b"</BlockPublicAcls></Public"),
])
def test_public_block_malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        ownership.parse_public_block(body)
    assert ei.value.code == "MalformedXML"


def test_ignores_public_acls() -> None:
    assert not ownership.ignores_public_acls(None)
    assert not ownership.ignores_public_acls(ownership.PublicBlock(True).to_json())
    assert ownership.ignores_public_acls(ownership.PublicBlock(False, True).to_json())


def test_acl_allows_ignoring_public_grants() -> None:
    acl = canned("public-read", WRITER)
    assert acl.allows(None, "READ") and acl.allows("x", "READ")
    assert not acl.allows(None, "READ", ignore_public=True)
    assert not acl.allows("x", "READ", ignore_public=True)
    mine = Acl(WRITER, (Grant("CanonicalUser", "x", "READ"),))
    assert mine.allows("x", "READ", ignore_public=True)
