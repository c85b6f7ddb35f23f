"""The signed JSON admin API (/_admin/..., docs/admin-api.md) against a real server:
real HTTP requests signed with botocore's SigV4, boto3 for what the keys then do."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from harness import Creds, Server, new_server, on_postgres, running

UNSIGNED = "UNSIGNED-PAYLOAD"


def call(server: Server, method: str, path: str, body: Any = None,
         creds: Creds | None = None, *, payload_hash: str | None = None,
         raw: bytes | None = None, token: str | None = None) -> requests.Response:
    """``method`` ``/_admin/<path>`` signed by ``creds`` (default: the server's admin; with
    ``token``: session credentials), with ``body`` as JSON (or ``raw`` bytes);
    x-amz-content-sha256 is the body's SHA-256 unless ``payload_hash`` says otherwise."""
    creds = creds or server.root
    url = f"{server.endpoint}/_admin/{path}"
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = {"x-amz-content-sha256": payload_hash or hashlib.sha256(data).hexdigest()}
    if data:
        headers["Content-Type"] = "application/json"
    req = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(Credentials(creds.access_key, creds.secret_key, token), "s3",
              "us-east-1").add_auth(req)
    return requests.request(method, url, data=data, headers=dict(req.headers.items()),
                            timeout=30)


def ok(resp: requests.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    if status == 204:
        assert resp.content == b""
        return None
    assert resp.headers["content-type"] == "application/json"
    return resp.json()


def error(resp: requests.Response, status: int, code: str) -> str:
    """The error's message, after checking its status and code (S3 error XML)."""
    assert resp.status_code == status, resp.text
    found = re.search(r"<Code>([^<]*)</Code>", resp.text)
    assert found is not None and found.group(1) == code, resp.text
    message = re.search(r"<Message>([^<]*)</Message>", resp.text)
    return message.group(1) if message else ""


def s3_code(fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as exc:
        fn(**kw)
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base: Path = tmp_path_factory.mktemp("admin-api")
    with running(new_server(base / "data", "ADMINAPIROOT")) as server:
        yield server
    log = (server.log_path.read_text(errors="replace") if server.log_path else "")
    assert "Traceback" not in log, log[-4000:]


def new_account(srv: Server) -> str:
    name = "acct-" + secrets.token_hex(4)
    ok(call(srv, "POST", "accounts", {"name": name, "email": f"{name}@example.com"}), 201)
    return name


def new_user(srv: Server, account: str, admin: bool = False) -> Creds:
    """A user with a key, both made through the admin API."""
    name = "user-" + secrets.token_hex(4)
    made = ok(call(srv, "POST", "users", {"name": name, "account": account, "admin": admin}),
              201)
    assert made == {"name": name, "account": account, "admin": admin,
                    "created": made["created"], "hasPolicy": False, "keys": 0}
    key = ok(call(srv, "POST", "keys", {"user": name}), 201)
    assert key["user"] == name and key["status"] == "Active" and len(key["secret"]) == 40
    return Creds(key["accessKey"], key["secret"], account, name)


@pytest.fixture(scope="module")
def team(srv: Server) -> Creds:
    return new_user(srv, new_account(srv))


# ------------------------------------------------------------------------ identity
def test_whoami_for_admin_user_and_nobody(srv: Server, team: Creds) -> None:
    me = ok(call(srv, "GET", "whoami"))
    assert me["user"] == "admin" and me["account"] == "admin" and me["isAdmin"] is True
    assert me["accessKey"] == srv.root.access_key and me["session"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", me["accountId"])
    assert re.fullmatch(r"[0-9]{12}", me["accountNumber"])
    them = ok(call(srv, "GET", "whoami", creds=team))
    assert (them["user"], them["account"], them["isAdmin"]) == (team.user, team.account, False)
    assert them["accessKey"] == team.access_key
    anonymous = requests.get(f"{srv.endpoint}/_admin/whoami", timeout=30)
    error(anonymous, 403, "AccessDenied")
    wrong = Creds(team.access_key, "x" * 40, team.account, team.user)
    error(call(srv, "GET", "whoami", creds=wrong), 403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("method,path,body", [
    ("GET", "status", None), ("GET", "accounts", None), ("POST", "accounts", {"name": "x"}),
    ("DELETE", "accounts/admin", None), ("GET", "users", None),
    ("POST", "users", {"name": "x", "account": "admin", "admin": True}),
    ("DELETE", "users/admin", None), ("GET", "users/admin/policy", None),
    ("PUT", "users/admin/policy", {"Version": "2012-10-17", "Statement": []}),
    ("GET", "policies", None), ("GET", "keys", None), ("POST", "keys", {"user": "admin"}),
    ("PUT", "accounts/admin/public-access-block", {"BlockPublicAcls": True}),
    ("GET", "sessions", None),
])
def test_admin_operations_refuse_other_users(srv: Server, team: Creds, method: str,
                                             path: str, body: Any) -> None:
    error(call(srv, method, path, body, creds=team), 403, "AccessDenied")
    anonymous = requests.request(method, f"{srv.endpoint}/_admin/{path}", timeout=30,
                                 data=json.dumps(body).encode() if body else b"")
    error(anonymous, 403, "AccessDenied")


def test_admin_keys_of_others_cannot_be_touched_by_a_user(srv: Server, team: Creds) -> None:
    error(call(srv, "PUT", f"keys/{srv.root.access_key}", {"status": "Inactive"}, team),
          403, "AccessDenied")
    error(call(srv, "DELETE", f"keys/{srv.root.access_key}", creds=team), 403, "AccessDenied")
    error(call(srv, "POST", f"keys/{srv.root.access_key}/rotate", creds=team),
          403, "AccessDenied")
    assert srv.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


# ------------------------------------------------------------------------------ keys
def test_key_made_by_the_api_works_deactivates_and_rotates(srv: Server) -> None:
    creds = new_user(srv, new_account(srv))
    s3 = srv.client(creds)
    bucket = "adm-" + secrets.token_hex(5)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    listed = ok(call(srv, "GET", f"keys?user={creds.user}"))
    assert listed == [{"accessKey": creds.access_key, "user": creds.user, "status": "Active",
                       "created": listed[0]["created"]}]  # never the secret
    assert creds.secret_key not in call(srv, "GET", "keys").text

    changed = ok(call(srv, "PUT", f"keys/{creds.access_key}", {"status": "Inactive"}))
    assert changed["status"] == "Inactive"
    assert s3_code(s3.get_object, Bucket=bucket, Key="k") == "InvalidAccessKeyId"
    error(call(srv, "GET", "whoami", creds=creds), 403, "InvalidAccessKeyId")
    ok(call(srv, "PUT", f"keys/{creds.access_key}", {"status": "Active"}))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    error(call(srv, "PUT", f"keys/{creds.access_key}", {"status": "Sleeping"}), 400,
          "InvalidArgument")

    new = ok(call(srv, "POST", f"keys/{creds.access_key}/rotate"), 201)
    assert new["user"] == creds.user and new["status"] == "Active"
    assert new["accessKey"] != creds.access_key and len(new["secret"]) == 40
    rotated = Creds(new["accessKey"], new["secret"], creds.account, creds.user)
    assert srv.client(rotated).get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    assert s3_code(s3.list_buckets) == "InvalidAccessKeyId"  # the old one: Inactive
    statuses = {k["accessKey"]: k["status"]
                for k in ok(call(srv, "GET", f"keys?user={creds.user}"))}
    assert statuses == {creds.access_key: "Inactive", rotated.access_key: "Active"}

    ok(call(srv, "DELETE", f"keys/{creds.access_key}"), 204)
    error(call(srv, "DELETE", f"keys/{creds.access_key}"), 404, "NoSuchEntity")
    error(call(srv, "POST", f"keys/{creds.access_key}/rotate"), 404, "NoSuchEntity")
    error(call(srv, "POST", "keys", {"user": "nobody-" + secrets.token_hex(3)}), 404,
          "NoSuchEntity")
    srv.client(rotated).delete_object(Bucket=bucket, Key="k")
    srv.client(rotated).delete_bucket(Bucket=bucket)


def test_cli_deactivates_and_activates_a_key(srv: Server) -> None:
    creds = new_user(srv, new_account(srv))
    s3 = srv.client(creds)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Inactive" in srv.admin("key", "deactivate", creds.access_key)
    assert f"{creds.access_key}\t{creds.user}\tInactive" in \
        srv.admin("key", "list", creds.user).splitlines()
    assert s3_code(s3.list_buckets) == "InvalidAccessKeyId"
    status = {k["accessKey"]: k["status"] for k in ok(call(srv, "GET", "keys"))}
    assert status[creds.access_key] == "Inactive"
    srv.admin("key", "activate", creds.access_key)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_deleting_a_user_takes_its_keys(srv: Server) -> None:
    account = new_account(srv)
    creds = new_user(srv, account)
    assert srv.client(creds).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    users = {u["name"]: u for u in ok(call(srv, "GET", f"users?account={account}"))}
    assert users[creds.user]["keys"] == 1 and users[creds.user]["account"] == account
    ok(call(srv, "DELETE", f"users/{creds.user}"), 204)
    assert s3_code(srv.client(creds).list_buckets) == "InvalidAccessKeyId"
    assert ok(call(srv, "GET", "keys?user=admin"))  # the admin's are untouched
    error(call(srv, "GET", f"keys?user={creds.user}"), 404, "NoSuchEntity")
    error(call(srv, "DELETE", f"users/{creds.user}"), 404, "NoSuchEntity")
    error(call(srv, "DELETE", "users/admin"), 409, "DeleteConflict")  # the caller itself


# -------------------------------------------------------------------------- policies
def test_canned_policy_attached_denies_writes(srv: Server, team: Creds) -> None:
    canned = {p["name"]: p for p in ok(call(srv, "GET", "policies"))}
    assert list(canned) == ["ReadOnly", "ReadWrite", "FullAccess"]
    assert all(p["description"] and p["document"]["Version"] == "2012-10-17"
               for p in canned.values())
    reader = new_user(srv, team.account)
    bucket = "adm-pol-" + secrets.token_hex(4)
    srv.client(team).create_bucket(Bucket=bucket)
    srv.client(team).put_object(Bucket=bucket, Key="a", Body=b"a")
    s3 = srv.client(reader)
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")  # no policy: the account's access
    ok(call(srv, "PUT", f"users/{reader.user}/policy", canned["ReadOnly"]["document"]), 204)
    assert ok(call(srv, "GET", f"users/{reader.user}/policy")) == \
        canned["ReadOnly"]["document"]
    users = {u["name"]: u for u in ok(call(srv, "GET", "users"))}
    assert users[reader.user]["hasPolicy"] is True
    assert s3_code(s3.put_object, Bucket=bucket, Key="c", Body=b"c") == "AccessDenied"
    assert s3_code(s3.delete_object, Bucket=bucket, Key="a") == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"
    ok(call(srv, "PUT", f"users/{reader.user}/policy", canned["ReadWrite"]["document"]), 204)
    s3.put_object(Bucket=bucket, Key="c", Body=b"c")
    ok(call(srv, "DELETE", f"users/{reader.user}/policy"), 204)
    error(call(srv, "GET", f"users/{reader.user}/policy"), 404, "NoSuchEntity")
    for key in ("a", "b", "c"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


@pytest.mark.parametrize("document,says", [
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Fly",
                                               "Resource": "*"}]}, "invalid action"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:GetObject",
                                               "Resource": "*"}]}, "Effect"),
    ("not json at all", "must be valid JSON"),
])
def test_bad_policy_is_a_malformed_policy_document(srv: Server, team: Creds, document: Any,
                                                   says: str) -> None:
    raw = document.encode() if isinstance(document, str) else None
    resp = call(srv, "PUT", f"users/{team.user}/policy", document, raw=raw)
    message = error(resp, 400, "MalformedPolicyDocument")
    assert says.lower() in message.lower(), message
    users = {u["name"]: u for u in ok(call(srv, "GET", "users"))}
    assert users[team.user]["hasPolicy"] is False  # nothing was stored


# -------------------------------------------------------------------------- accounts
def test_accounts_create_list_conflicts_delete(srv: Server) -> None:
    name = new_account(srv)
    accounts = {a["name"]: a for a in ok(call(srv, "GET", "accounts"))}
    made = accounts[name]
    assert made["email"] == f"{name}@example.com" and made["publicAccessBlock"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", made["id"]) and "admin" in accounts
    error(call(srv, "POST", "accounts", {"name": name}), 409, "EntityAlreadyExists")
    error(call(srv, "POST", "accounts", {"name": "bad/name"}), 400, "InvalidArgument")
    error(call(srv, "POST", "accounts", {"name": 7}), 400, "InvalidArgument")
    error(call(srv, "POST", "accounts", raw=b"{not json"), 400, "InvalidRequest")
    creds = new_user(srv, name)
    error(call(srv, "DELETE", f"accounts/{name}"), 409, "DeleteConflict")  # a user
    bucket = "adm-own-" + secrets.token_hex(4)
    srv.client(creds).create_bucket(Bucket=bucket)
    ok(call(srv, "DELETE", f"users/{creds.user}"), 204)
    error(call(srv, "DELETE", f"accounts/{name}"), 409, "DeleteConflict")  # a bucket
    srv.client().delete_bucket(Bucket=bucket)  # (the admin may)
    ok(call(srv, "DELETE", f"accounts/{name}"), 204)
    error(call(srv, "DELETE", f"accounts/{name}"), 404, "NoSuchEntity")
    assert name not in {a["name"] for a in ok(call(srv, "GET", "accounts"))}


def test_account_public_access_block(srv: Server) -> None:
    name = new_account(srv)
    creds = new_user(srv, name)
    s3 = srv.client(creds)
    bucket = "adm-pab-" + secrets.token_hex(4)
    s3.create_bucket(Bucket=bucket)
    error(call(srv, "GET", f"accounts/{name}/public-access-block"), 404,
          "NoSuchPublicAccessBlockConfiguration")
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
             "RestrictPublicBuckets": False}
    assert ok(call(srv, "PUT", f"accounts/{name}/public-access-block",
                   {"BlockPublicAcls": True})) == block
    assert ok(call(srv, "GET", f"accounts/{name}/public-access-block")) == block
    listed = {a["name"]: a for a in ok(call(srv, "GET", "accounts"))}
    assert listed[name]["publicAccessBlock"] == block
    assert s3_code(s3.put_bucket_acl, Bucket=bucket, ACL="public-read") == "AccessDenied"
    error(call(srv, "PUT", f"accounts/{name}/public-access-block", {"Blocks": True}), 400,
          "InvalidArgument")
    error(call(srv, "PUT", f"accounts/{name}/public-access-block",
               {"BlockPublicAcls": "yes"}), 400, "InvalidArgument")
    ok(call(srv, "DELETE", f"accounts/{name}/public-access-block"), 204)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    error(call(srv, "GET", "accounts/nobody-here/public-access-block"), 404, "NoSuchEntity")
    s3.delete_bucket(Bucket=bucket)


# ------------------------------------------------------------------ buckets and status
def test_bucket_statistics_match_the_uploads(srv: Server, team: Creds) -> None:
    s3 = srv.client(team)
    bucket = "adm-stats-" + secrets.token_hex(4)
    s3.create_bucket(Bucket=bucket)
    sizes = [0, 1, 1000, 70_000, 200_000]  # empty, inline and blob-file objects
    for i, size in enumerate(sizes):
        s3.put_object(Bucket=bucket, Key=f"dir/{i}", Body=b"x" * size)
    s3.put_object(Bucket=bucket, Key="dir/0", Body=b"y" * 10)  # overwrite: 10, not 0
    versioned = "adm-stats-v-" + secrets.token_hex(4)
    s3.create_bucket(Bucket=versioned)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=versioned, Key="k", Body=b"1" * 100)
    s3.put_object(Bucket=versioned, Key="k", Body=b"2" * 30)  # current: 30 bytes
    s3.put_object(Bucket=versioned, Key="gone", Body=b"3")
    s3.delete_object(Bucket=versioned, Key="gone")  # a delete marker: not an object

    listed = {b["name"]: b for b in ok(call(srv, "GET", "buckets", creds=team))}
    assert set(listed) >= {bucket, versioned}
    mine = listed[bucket]
    assert (mine["objects"], mine["bytes"]) == (5, sum(sizes) + 10)
    assert mine["owner"] == team.account and mine["region"] == "us-east-1"
    assert mine["versioning"] == "Disabled" and mine["objectLock"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", mine["ownerId"])
    assert (listed[versioned]["objects"], listed[versioned]["bytes"]) == (1, 30)
    assert listed[versioned]["versioning"] == "Enabled"

    assert all(b["owner"] == team.account for b in listed.values())  # its own only
    other = new_user(srv, new_account(srv))
    assert bucket not in {b["name"] for b in ok(call(srv, "GET", "buckets", creds=other))}
    everything = {b["name"]: b for b in ok(call(srv, "GET", "buckets"))}  # the admin
    assert everything[bucket] == mine

    restricted = new_user(srv, team.account)  # a policy without s3:ListAllMyBuckets
    ok(call(srv, "PUT", f"users/{restricted.user}/policy", {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "*"}]}), 204)
    error(call(srv, "GET", "buckets", creds=restricted), 403, "AccessDenied")


def test_status(srv: Server, team: Creds) -> None:
    s3 = srv.client(team)
    bucket = "adm-status-" + secrets.token_hex(4)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 4096)
    first = ok(call(srv, "GET", "status"))
    second = ok(call(srv, "GET", "status"))
    assert re.fullmatch(r"\d+\.\d+.*|unknown", first["version"])
    assert first["started"].endswith("Z") and 0 < first["uptimeSeconds"] < 3600
    assert second["uptimeSeconds"] >= first["uptimeSeconds"]
    assert first["gateway"].endswith(f":{srv.port}")
    assert first["metaStore"] == ("postgresql" if on_postgres() else "sqlite")
    storage = first["storage"]
    assert storage["dataDir"] == str(srv.data_dir)
    stats = ok(call(srv, "GET", "buckets"))
    assert storage["buckets"] == len(stats)
    assert storage["objects"] == sum(b["objects"] for b in stats)
    assert storage["bytesUsed"] >= sum(b["bytes"] for b in stats) >= 4096
    assert storage["bytesFree"] > 0
    requests_ = first["requests"]
    assert requests_["total"] >= 5 and second["requests"]["total"] > requests_["total"]
    assert requests_["ratePerSecond"] > 0 and requests_["source"] == "process"
    assert requests_["errors"] is None  # counted only with --metrics
    assert any(g["id"] == first["gateway"] and g["lastSeen"].endswith("Z")
               for g in first["gateways"])
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_bucket(Bucket=bucket)


# ------------------------------------------------------------------------ the protocol
def test_body_hash_is_verified(srv: Server) -> None:
    body = {"name": "acct-" + secrets.token_hex(4)}
    other = hashlib.sha256(b'{"name": "someone-else"}').hexdigest()
    error(call(srv, "POST", "accounts", body, payload_hash=other), 400,
          "XAmzContentSHA256Mismatch")
    assert body["name"] not in {a["name"] for a in ok(call(srv, "GET", "accounts"))}
    # a change's body must be bound to the signature: UNSIGNED-PAYLOAD is refused
    error(call(srv, "POST", "accounts", body, payload_hash=UNSIGNED), 400, "InvalidRequest")
    assert body["name"] not in {a["name"] for a in ok(call(srv, "GET", "accounts"))}
    ok(call(srv, "POST", "accounts", body), 201)
    ok(call(srv, "DELETE", f"accounts/{body['name']}"), 204)
    # a JSON string that is not Unicode (a lone surrogate) is refused, never a 500
    lone = b'{"name": "acct-x", "email": "\\ud800@example.com"}'
    error(call(srv, "POST", "accounts", raw=lone), 400, "InvalidArgument")


def test_unknown_paths_and_methods(srv: Server) -> None:
    error(call(srv, "GET", "nothing-here"), 404, "NoSuchEntity")
    error(call(srv, "PATCH", "users"), 405, "MethodNotAllowed")
    error(call(srv, "PUT", "whoami"), 405, "MethodNotAllowed")
    error(call(srv, "POST", "users", raw=b"[" * 100_000), 400, "InvalidRequest")
    error(call(srv, "POST", "users", raw=b"x" * 300_000), 400, "MaxMessageLengthExceeded")
    error(call(srv, "POST", "users", {"name": "u-" + secrets.token_hex(3),
                                      "account": "no-such-account"}), 404, "NoSuchEntity")
    error(call(srv, "DELETE", "session"), 400, "InvalidRequest")  # a long-term key


# ------------------------------------------------------------------------------ sessions
def session(srv: Server, creds: Creds, seconds: int = 900) -> tuple[Creds, str, datetime]:
    """Session credentials of ``creds`` (boto3's STS client): creds, token, expiration."""
    sts = boto3.client("sts", endpoint_url=srv.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds.access_key,
                       aws_secret_access_key=creds.secret_key,
                       config=Config(retries={"max_attempts": 1}))
    c = sts.get_session_token(DurationSeconds=seconds)["Credentials"]
    return (Creds(c["AccessKeyId"], c["SecretAccessKey"], creds.account, creds.user),
            c["SessionToken"], c["Expiration"])


def session_s3(srv: Server, creds: Creds, token: str) -> Any:
    return boto3.client("s3", endpoint_url=srv.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds.access_key,
                        aws_secret_access_key=creds.secret_key, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}))


def test_whoami_and_sign_out_with_a_session(srv: Server) -> None:
    creds = new_user(srv, new_account(srv))
    temp, token, expiration = session(srv, creds)
    me = ok(call(srv, "GET", "whoami", creds=temp, token=token))
    assert me["user"] == creds.user and me["accessKey"] == temp.access_key
    assert me["accessKey"].startswith("ASIA") and me["isAdmin"] is False
    shown = datetime.fromisoformat(me["session"]["expiration"].replace("Z", "+00:00"))
    assert abs((shown - expiration).total_seconds()) < 1
    s3 = session_s3(srv, temp, token)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    error(call(srv, "GET", "whoami", creds=temp), 400, "InvalidToken")  # no token (as S3)

    ok(call(srv, "DELETE", "session", creds=temp, token=token), 204)  # sign out
    error(call(srv, "GET", "whoami", creds=temp, token=token), 400, "ExpiredToken")
    assert s3_code(s3.list_buckets) == "ExpiredToken"
    assert srv.client(creds).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_admin_session_is_an_admin(srv: Server) -> None:
    temp, token, _ = session(srv, srv.root)
    assert ok(call(srv, "GET", "whoami", creds=temp, token=token))["isAdmin"] is True
    assert ok(call(srv, "GET", "status", creds=temp, token=token))["metaStore"]
    ok(call(srv, "DELETE", "session", creds=temp, token=token), 204)


def test_admin_lists_and_revokes_sessions(srv: Server) -> None:
    creds = new_user(srv, new_account(srv))
    temp, token, _ = session(srv, creds)
    listed = {s["accessKey"]: s for s in ok(call(srv, "GET", f"sessions?user={creds.user}"))}
    assert set(listed) == {temp.access_key}
    mine = listed[temp.access_key]
    assert (mine["user"], mine["sourceKey"]) == (creds.user, creds.access_key)
    assert mine["created"] < mine["expiration"]
    assert token not in call(srv, "GET", "sessions").text and temp.secret_key not in \
        call(srv, "GET", "sessions").text
    error(call(srv, "GET", "sessions", creds=temp, token=token), 403, "AccessDenied")
    error(call(srv, "DELETE", f"sessions/{temp.access_key}", creds=temp, token=token), 403,
          "AccessDenied")

    ok(call(srv, "DELETE", f"sessions/{temp.access_key}"), 204)
    assert s3_code(session_s3(srv, temp, token).list_buckets) == "ExpiredToken"
    assert ok(call(srv, "GET", f"sessions?user={creds.user}")) == []
    error(call(srv, "DELETE", f"sessions/{temp.access_key}"), 404, "NoSuchEntity")


def test_deactivating_or_rotating_a_key_ends_its_sessions(srv: Server) -> None:
    creds = new_user(srv, new_account(srv))
    temp, token, _ = session(srv, creds)
    s3 = session_s3(srv, temp, token)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    ok(call(srv, "PUT", f"keys/{creds.access_key}", {"status": "Inactive"}))
    assert s3_code(s3.list_buckets) == "ExpiredToken"
    ok(call(srv, "PUT", f"keys/{creds.access_key}", {"status": "Active"}))
    assert s3_code(s3.list_buckets) == "ExpiredToken"  # ended for good
    assert srv.client(creds).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200

    temp, token, _ = session(srv, creds)
    s3 = session_s3(srv, temp, token)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    ok(call(srv, "POST", f"keys/{creds.access_key}/rotate"), 201)
    assert s3_code(s3.list_buckets) == "ExpiredToken"


def test_status_counts_requests_and_errors_with_metrics(tmp_path: Path) -> None:
    with running(new_server(tmp_path / "data", "ADMINAPIMETRICS",
                            ["--metrics", "--metrics-token", "t0ken"])) as server:
        s3 = server.client()
        assert s3_code(s3.head_bucket, Bucket="no-such-bucket-here") in ("404", "NoSuchBucket")
        assert s3_code(s3.get_bucket_acl, Bucket="no-such-bucket-here") == "NoSuchBucket"
        s3.list_buckets()
        first = ok(call(server, "GET", "status"))["requests"]
        assert first["source"] == "metrics"
        assert first["total"] >= 4 and first["errors"] >= 2
        second = ok(call(server, "GET", "status"))["requests"]
        assert second["total"] == first["total"] + 1  # the status call before it
        assert second["errors"] == first["errors"]


def test_a_presigned_get(srv: Server) -> None:
    from botocore.auth import S3SigV4QueryAuth

    url = f"{srv.endpoint}/_admin/whoami"
    req = AWSRequest(method="GET", url=url)
    S3SigV4QueryAuth(Credentials(srv.root.access_key, srv.root.secret_key), "s3", "us-east-1",
                   expires=60).add_auth(req)
    assert "X-Amz-Signature=" in req.url
    assert ok(requests.get(req.url, timeout=30))["user"] == "admin"
    error(requests.get(req.url.replace("whoami", "status"), timeout=30), 403,
          "SignatureDoesNotMatch")
