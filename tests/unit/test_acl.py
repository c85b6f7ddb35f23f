"""acl: canned ACLs, x-amz-grant-* headers, Acl.allows.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.acl import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    CANNED,
    LOG_DELIVERY,
    PERMISSIONS,
    Acl,
    Grant,
    canned,
    from_headers,
)
from objectstore.s3.errors import S3Error

OWNER = "owner-id"
BOWNER = "bucket-owner-id"
OTHER = "someone-else"


def G(kind: str, value: str, perm: str) -> Grant:  # noqa: N802
    return Grant(kind, value, perm)


FULL = G("CanonicalUser", OWNER, "FULL_CONTROL")


@pytest.mark.parametrize("name,extra", [
    ("private", []),
    ("public-read", [G("Group", ALL_USERS, "READ")]),
    ("public-read-write", [G("Group", ALL_USERS, "READ"), G("Group", ALL_USERS, "WRITE")]),
    ("authenticated-read", [G("Group", AUTHENTICATED_USERS, "READ")]),
    ("bucket-owner-read", [G("CanonicalUser", BOWNER, "READ")]),
    ("bucket-owner-full-control", [G("CanonicalUser", BOWNER, "FULL_CONTROL")]),
    ("log-delivery-write", [G("Group", LOG_DELIVERY, "WRITE"),
                            G("Group", LOG_DELIVERY, "READ_ACP")]),
])
def test_canned_grants(name: str, extra: list[Grant]) -> None:
    acl = canned(name, OWNER, BOWNER)
    assert acl.owner == OWNER
    groups = [g for g in extra if g.kind == "Group"]
    users = [g for g in extra if g.kind != "Group"]
    # group grants first, then the owner's FULL_CONTROL, then the bucket owner's grant
    assert acl.grants == (*groups, FULL, *users)


@pytest.mark.parametrize("name", ["bucket-owner-read", "bucket-owner-full-control"])
def test_bucket_owner_acls_when_owner_is_bucket_owner(name: str) -> None:
    assert canned(name, OWNER, OWNER).grants == (FULL,)
    assert canned(name, OWNER, None).grants == (FULL,)


@pytest.mark.parametrize("name", ["", "Private", "public", "public_read", "bogus"])
def test_unknown_canned_acl(name: str) -> None:
    assert name not in CANNED
    with pytest.raises(S3Error) as ei:
        canned(name, OWNER)
    assert ei.value.code == "InvalidArgument"
    assert ei.value.extra == {"ArgumentName": "x-amz-acl", "ArgumentValue": name}


@pytest.mark.parametrize("name,who,perm,allowed", [
    ("private", OWNER, "READ", True),
    ("private", OWNER, "WRITE_ACP", True),
    ("private", OTHER, "READ", False),
    ("private", None, "READ", False),
    ("public-read", None, "READ", True),
    ("public-read", OTHER, "READ", True),
    ("public-read", None, "WRITE", False),
    ("public-read", OTHER, "READ_ACP", False),
    ("public-read-write", None, "WRITE", True),
    ("public-read-write", None, "FULL_CONTROL", False),
    ("authenticated-read", OTHER, "READ", True),
    ("authenticated-read", None, "READ", False),
    ("authenticated-read", OTHER, "WRITE", False),
    ("bucket-owner-read", BOWNER, "READ", True),
    ("bucket-owner-read", BOWNER, "WRITE", False),
    ("bucket-owner-full-control", BOWNER, "WRITE_ACP", True),
    ("log-delivery-write", None, "WRITE", False),  # LogDelivery is not everyone
    ("log-delivery-write", OTHER, "WRITE", False),
])
def test_allows(name: str, who: str | None, perm: str, allowed: bool) -> None:
    assert canned(name, OWNER, BOWNER).allows(who, perm) is allowed


@settings(max_examples=80)
@given(grants=st.lists(st.tuples(st.sampled_from(["CanonicalUser", "Group"]),
                                 st.sampled_from([OWNER, OTHER, ALL_USERS, AUTHENTICATED_USERS,
                                                  LOG_DELIVERY]),
                                 st.sampled_from(PERMISSIONS)), max_size=5),
       who=st.sampled_from([None, OWNER, OTHER]), perm=st.sampled_from(PERMISSIONS))
def test_allows_model(grants: list[tuple[str, str, str]], who: str | None, perm: str) -> None:
    acl = Acl(OWNER, tuple(Grant(*g) for g in grants))

    def matches(kind: str, value: str) -> bool:
        if kind == "Group":
            return value == ALL_USERS or (value == AUTHENTICATED_USERS and who is not None)
        return who is not None and value == who

    expected = any(p in (perm, "FULL_CONTROL") and matches(k, v) for k, v, p in grants)
    assert acl.allows(who, perm) is expected
    assert Acl.from_json(acl.to_json()) == acl


# ------------------------------------------------------------------ headers

def test_no_acl_headers() -> None:
    assert from_headers({"content-type": "x"}, OWNER) is None


def test_canned_header() -> None:
    assert from_headers({"x-amz-acl": "public-read"}, OWNER) == canned("public-read", OWNER)
    assert from_headers({"x-amz-acl": " private "}, OWNER) == canned("private", OWNER)


def test_canned_and_grants_conflict() -> None:
    with pytest.raises(S3Error) as ei:
        from_headers({"x-amz-acl": "private", "x-amz-grant-read": f'id="{OTHER}"'}, OWNER)
    assert ei.value.code == "InvalidRequest"


def test_grant_headers_doc_example() -> None:
    # PutObjectAcl docs: x-amz-grant-read: emailAddress="xyz@amazon.com", emailAddress=...
    headers = {
        "x-amz-grant-read": 'emailAddress="xyz@amazon.com", emailAddress="abc@amazon.com"',
        "x-amz-grant-write": f'uri="{LOG_DELIVERY}"',
        "x-amz-grant-full-control": 'id="111122223333", id="444455556666"',
        "x-amz-grant-read-acp": f"uri={ALL_USERS}",
        "x-amz-grant-write-acp": f'ID = "{OTHER}"',
    }
    emails = {"xyz@amazon.com": "xyz-id", "abc@amazon.com": "abc-id"}
    acl = from_headers(headers, OWNER, resolve_email=emails)
    assert acl is not None and acl.owner == OWNER
    assert set(acl.grants) == {
        G("CanonicalUser", "xyz-id", "READ"),
        G("CanonicalUser", "abc-id", "READ"),
        G("Group", LOG_DELIVERY, "WRITE"),
        G("CanonicalUser", "111122223333", "FULL_CONTROL"),
        G("CanonicalUser", "444455556666", "FULL_CONTROL"),
        G("Group", ALL_USERS, "READ_ACP"),
        G("CanonicalUser", OTHER, "WRITE_ACP"),
    }
    assert len(acl.grants) == 7
    assert acl.allows("abc-id", "READ") and not acl.allows("abc-id", "WRITE")
    assert acl.allows(None, "READ_ACP")


def test_email_lookup_is_case_insensitive() -> None:
    acl = from_headers({"x-amz-grant-read": 'emailAddress="User@Example.COM"'}, OWNER,
                       resolve_email={"user@example.com": "uid"})
    assert acl is not None and acl.grants == (G("CanonicalUser", "uid", "READ"),)


@pytest.mark.parametrize("value,code", [
    ('id="a" junk', "InvalidArgument"),
    ("nonsense", "InvalidArgument"),
    ('foo="bar"', "InvalidArgument"),
    ('uri="http://example.com/group"', "InvalidArgument"),
    ('emailAddress="nobody@example.com"', "UnresolvableGrantByEmailAddress"),
])
def test_bad_grant_header(value: str, code: str) -> None:
    with pytest.raises(S3Error) as ei:
        from_headers({"x-amz-grant-read": value}, OWNER, resolve_email={})
    assert ei.value.code == code


def test_json_round_trip() -> None:
    acl = canned("log-delivery-write", OWNER)
    assert Acl.from_json(acl.to_json()) == acl
