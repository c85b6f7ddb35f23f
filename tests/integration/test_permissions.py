"""Permission matrix: principals x canned ACLs (bucket and object) x operations."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import Any, Callable

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from harness import Server

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

PRINCIPALS = ("owner", "same-account", "other-account", "admin", "anonymous")
PRIVILEGED = {"owner", "same-account", "admin"}
ACLS = ("private", "public-read", "public-read-write", "authenticated-read")
BUCKET_OPS = ("ListObjects", "PutObject", "DeleteObject", "GetBucketAcl")
OBJECT_OPS = ("GetObject", "HeadObject", "GetObjectAcl")
GROUP_GRANTS = {
    "private": set(),
    "public-read": {(ALL_USERS, "READ")},
    "public-read-write": {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")},
    "authenticated-read": {(AUTH_USERS, "READ")},
}


def allowed(principal: str, acl: str, op: str) -> bool:
    """S3 semantics for the canned ACLs (no canned ACL grants READ_ACP to others)."""
    if principal in PRIVILEGED:
        return True
    if op in ("GetBucketAcl", "GetObjectAcl"):
        return False
    if op in ("ListObjects", "GetObject", "HeadObject"):
        return acl in ("public-read", "public-read-write") or (
            acl == "authenticated-read" and principal != "anonymous")
    assert op in ("PutObject", "DeleteObject")
    return acl == "public-read-write"


class World:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.creds = {}
        self.creds["owner"] = server.new_user()
        self.creds["same-account"] = server.new_user(account=self.creds["owner"].account)
        self.creds["other-account"] = server.new_user()
        self.creds["admin"] = server.new_user(admin=True)
        self.clients: dict[str, Any] = {p: server.client(c) for p, c in self.creds.items()}
        self.clients["anonymous"] = server.client(signature_version=UNSIGNED)
        self.owner = self.clients["owner"]
        self.owner_id = self.owner.list_buckets()["Owner"]["ID"]
        self.owner_name = self.creds["owner"].account
        self._buckets: dict[tuple[str, str], str] = {}
        self._objects: dict[tuple[str, str], tuple[str, str, bytes]] = {}

    def fresh_client(self, principal: str) -> Any:
        """A client with its own connection pool (see test_rejected_put_*: a rejected PUT
        poisons the keep-alive connection it was sent on)."""
        if principal == "anonymous":
            return self.server.client(signature_version=UNSIGNED)
        return self.server.client(self.creds[principal])

    def bucket(self, acl: str, how: str) -> str:
        """A bucket of the owner with ``acl`` set at creation or by PutBucketAcl; holds 'seed'."""
        if (acl, how) not in self._buckets:
            name = "perm-" + uuid.uuid4().hex[:20]
            if how == "create":
                self.owner.create_bucket(Bucket=name, ACL=acl)
            else:
                self.owner.create_bucket(Bucket=name)
                self.owner.put_bucket_acl(Bucket=name, ACL=acl)
            self.owner.put_object(Bucket=name, Key="seed", Body=b"seed")
            self._buckets[(acl, how)] = name
        return self._buckets[(acl, how)]

    def obj(self, acl: str, how: str) -> tuple[str, str, bytes]:
        """An object with ``acl`` (set on PutObject or by PutObjectAcl) in a private bucket."""
        if (acl, how) not in self._objects:
            bucket = self.bucket("private", "create")
            key = f"obj-{acl}-{how}"
            body = f"body of {key}".encode()
            if how == "put":
                self.owner.put_object(Bucket=bucket, Key=key, Body=body, ACL=acl)
            else:
                self.owner.put_object(Bucket=bucket, Key=key, Body=body)
                self.owner.put_object_acl(Bucket=bucket, Key=key, ACL=acl)
            self._objects[(acl, how)] = (bucket, key, body)
        return self._objects[(acl, how)]

    def exists(self, bucket: str, key: str) -> bool:
        keys = [o["Key"] for o in self.owner.list_objects_v2(Bucket=bucket, Prefix=key)
                .get("Contents", [])]
        return key in keys


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return World(server)


def expect_denied(call: Callable[[], Any]) -> None:
    with pytest.raises(ClientError) as info:
        call()
    resp = info.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 403, resp
    # HEAD responses carry no body, so botocore reports the status as the code.
    assert resp["Error"]["Code"] in ("AccessDenied", "403"), resp


@pytest.mark.parametrize("op", BUCKET_OPS)
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("how", ("create", "put-acl"))
@pytest.mark.parametrize("acl", ACLS)
def test_bucket_acl_matrix(world: World, acl: str, how: str, principal: str, op: str) -> None:
    bucket = world.bucket(acl, how)
    client = world.clients[principal]
    ok = allowed(principal, acl, op)
    key = f"k-{principal}-{uuid.uuid4().hex[:8]}"
    if op == "ListObjects":
        call = lambda: client.list_objects(Bucket=bucket)  # noqa: E731
        if ok:
            assert "seed" in [o["Key"] for o in call().get("Contents", [])]
        else:
            expect_denied(call)
    elif op == "PutObject":
        client = world.fresh_client(principal)
        call = lambda: client.put_object(Bucket=bucket, Key=key, Body=b"written")  # noqa: E731
        if ok:
            call()
        else:
            expect_denied(call)
        assert world.exists(bucket, key) is ok
    elif op == "DeleteObject":
        world.owner.put_object(Bucket=bucket, Key=key, Body=b"victim")
        call = lambda: client.delete_object(Bucket=bucket, Key=key)  # noqa: E731
        if ok:
            call()
        else:
            expect_denied(call)
        assert world.exists(bucket, key) is not ok
    else:
        call = lambda: client.get_bucket_acl(Bucket=bucket)  # noqa: E731
        if ok:
            assert call()["Owner"]["ID"] == world.owner_id
        else:
            expect_denied(call)


@pytest.mark.parametrize("op", OBJECT_OPS)
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("how", ("put", "put-acl"))
@pytest.mark.parametrize("acl", ACLS)
def test_object_acl_matrix(world: World, acl: str, how: str, principal: str, op: str) -> None:
    bucket, key, body = world.obj(acl, how)
    client = world.clients[principal]
    ok = allowed(principal, acl, op)
    if op == "GetObject":
        call = lambda: client.get_object(Bucket=bucket, Key=key)  # noqa: E731
        if ok:
            assert call()["Body"].read() == body
        else:
            expect_denied(call)
    elif op == "HeadObject":
        call = lambda: client.head_object(Bucket=bucket, Key=key)  # noqa: E731
        if ok:
            assert call()["ContentLength"] == len(body)
        else:
            expect_denied(call)
    else:
        call = lambda: client.get_object_acl(Bucket=bucket, Key=key)  # noqa: E731
        if ok:
            assert call()["Owner"]["ID"] == world.owner_id
        else:
            expect_denied(call)


def _grants(resp: dict[str, Any]) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    users, groups = set(), set()
    for g in resp["Grants"]:
        grantee = g["Grantee"]
        if grantee["Type"] == "Group":
            groups.add((grantee["URI"], g["Permission"]))
        else:
            assert grantee["Type"] == "CanonicalUser"
            users.add((grantee["ID"], grantee.get("DisplayName", ""), g["Permission"]))
    return users, groups


@pytest.mark.parametrize("how", ("create", "put-acl"))
@pytest.mark.parametrize("acl", ACLS)
def test_get_bucket_acl_document(world: World, acl: str, how: str) -> None:
    resp = world.owner.get_bucket_acl(Bucket=world.bucket(acl, how))
    assert resp["Owner"] == {"ID": world.owner_id, "DisplayName": world.owner_name}
    users, groups = _grants(resp)
    assert users == {(world.owner_id, world.owner_name, "FULL_CONTROL")}
    assert groups == GROUP_GRANTS[acl]


@pytest.mark.parametrize("how", ("put", "put-acl"))
@pytest.mark.parametrize("acl", ACLS)
def test_get_object_acl_document(world: World, acl: str, how: str) -> None:
    bucket, key, _ = world.obj(acl, how)
    resp = world.owner.get_object_acl(Bucket=bucket, Key=key)
    assert resp["Owner"] == {"ID": world.owner_id, "DisplayName": world.owner_name}
    users, groups = _grants(resp)
    assert users == {(world.owner_id, world.owner_name, "FULL_CONTROL")}
    assert groups == GROUP_GRANTS[acl]


def test_acl_owner_matches_list_buckets_owner(world: World) -> None:
    """The canonical id is the account's, shared by every user of the account."""
    mate = world.clients["same-account"]
    assert mate.list_buckets()["Owner"] == {"ID": world.owner_id, "DisplayName": world.owner_name}
    other_id = world.clients["other-account"].list_buckets()["Owner"]["ID"]
    assert other_id != world.owner_id
    bucket = world.bucket("private", "create")
    mate.put_object(Bucket=bucket, Key="by-mate", Body=b"m")
    resp = world.owner.get_object_acl(Bucket=bucket, Key="by-mate")
    assert resp["Owner"]["ID"] == world.owner_id
    listed = world.owner.list_objects(Bucket=bucket, Prefix="by-mate")["Contents"][0]
    assert listed["Owner"] == {"ID": world.owner_id, "DisplayName": world.owner_name}


@pytest.mark.parametrize("principal", ("other-account", "anonymous"))
def test_outsiders_cannot_change_acls(world: World, principal: str) -> None:
    bucket = world.bucket("public-read-write", "create")
    client = world.fresh_client(principal)
    expect_denied(lambda: client.put_bucket_acl(Bucket=bucket, ACL="public-read-write"))
    world.owner.put_object(Bucket=bucket, Key="acl-target", Body=b"x")
    client = world.fresh_client(principal)
    expect_denied(lambda: client.put_object_acl(Bucket=bucket, Key="acl-target",
                                                ACL="public-read"))
    # nothing changed
    _, groups = _grants(world.owner.get_object_acl(Bucket=bucket, Key="acl-target"))
    assert groups == set()


def test_admin_of_other_account_may_change_acls(world: World) -> None:
    bucket = "perm-" + uuid.uuid4().hex[:20]
    world.owner.create_bucket(Bucket=bucket)
    admin = world.clients["admin"]
    admin.put_bucket_acl(Bucket=bucket, ACL="public-read")
    _, groups = _grants(world.owner.get_bucket_acl(Bucket=bucket))
    assert groups == GROUP_GRANTS["public-read"]
    world.owner.put_object(Bucket=bucket, Key="now-public", Body=b"p")
    anon = world.clients["anonymous"]
    assert [o["Key"] for o in anon.list_objects(Bucket=bucket)["Contents"]] == ["now-public"]


@pytest.mark.parametrize("acl", ("private", "public-read"))
def test_missing_key_is_403_without_list_permission(world: World, acl: str) -> None:
    """Without READ on the bucket a missing key must not be revealed (403, not 404)."""
    bucket = world.bucket(acl, "create")
    other = world.clients["other-account"]
    with pytest.raises(ClientError) as info:
        other.get_object(Bucket=bucket, Key="no-such-key")
    code = info.value.response["Error"]["Code"]
    assert code == ("NoSuchKey" if acl == "public-read" else "AccessDenied")


def _urlopen(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_anonymous_plain_http(server: Server, world: World) -> None:
    bucket, key, body = world.obj("public-read", "put")
    assert _urlopen(f"{server.endpoint}/{bucket}/{key}") == (200, body)
    status, err = _urlopen(f"{server.endpoint}/{bucket}/seed")
    assert status == 403 and b"<Code>AccessDenied</Code>" in err
    status, err = _urlopen(f"{server.endpoint}/{bucket}")
    assert status == 403 and b"<Code>AccessDenied</Code>" in err
    public = world.bucket("public-read", "create")
    status, listing = _urlopen(f"{server.endpoint}/{public}?list-type=2")
    assert status == 200 and b"<Key>seed</Key>" in listing


def test_rejected_put_does_not_poison_the_connection(world: World) -> None:
    bucket = world.bucket("private", "create")
    other = world.fresh_client("other-account")
    expect_denied(lambda: other.put_object(Bucket=bucket, Key="nope", Body=b"written"))
    # the same client (and pooled connection) must still work
    assert other.list_buckets()["Owner"]["ID"] != world.owner_id
