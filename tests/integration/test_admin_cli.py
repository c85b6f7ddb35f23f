"""The admin CLI (`objectstore account|user|key ...`) against a running server's data dir."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Creds, Server, free_port

from objectstore.s3.identity import account_number


def cli(server: Server | Path, *args: str) -> subprocess.CompletedProcess[str]:
    data_dir = server.data_dir if isinstance(server, Server) else server
    meta = ["--meta", server.meta_url] if isinstance(server, Server) and server.meta_url \
        else []
    return subprocess.run([sys.executable, "-m", "objectstore", *args, "--data-dir",
                           str(data_dir), *meta], capture_output=True, text=True, timeout=60)


def ok(server: Server | Path, *args: str) -> str:
    out = cli(server, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def fails(server: Server | Path, *args: str) -> str:
    out = cli(server, *args)
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    return out.stderr


def name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def new_account(server: Server) -> tuple[str, str]:
    acc = name("cli-acct")
    out = ok(server, "account", "create", acc, "--email", f"{acc}@example.com")
    m = re.fullmatch(rf"account {acc} id ([0-9a-f]+)\n", out)
    assert m, out
    return acc, m.group(1)


def new_key(server: Server, user: str) -> tuple[str, str]:
    out = ok(server, "key", "create", user)
    fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
    return fields["access key"], fields["secret key"]


def client_for(server: Server, access: str, secret: str, account: str = "",
               user: str = "") -> Any:
    return server.client(Creds(access, secret, account, user))


def denied_key(call: Any) -> None:
    with pytest.raises(ClientError) as info:
        call()
    resp = info.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert resp["Error"]["Code"] == "InvalidAccessKeyId"


def test_account_create_list_duplicate(server: Server) -> None:
    acc, acc_id = new_account(server)
    number = account_number(acc_id)  # the 12-digit account id policies and ARNs use
    assert f"{acc}\t{acc_id}\t{acc}@example.com\t{number}" in \
        ok(server, "account", "list").splitlines()
    assert "exists" in fails(server, "account", "create", acc)
    assert fails(server, "account", "create", "x" * 65)
    assert fails(server, "account", "delete", name("no-such-account"))


def test_user_create_and_list(server: Server) -> None:
    acc, _ = new_account(server)
    user, admin = name("cli-user"), name("cli-admin")
    assert ok(server, "user", "create", user, "--account", acc).strip() == \
        f"user {user} in account {acc}"
    assert ok(server, "user", "create", admin, "--account", acc, "--admin").strip() == \
        f"user {admin} in account {acc} (admin)"
    lines = ok(server, "user", "list").splitlines()
    assert f"{user}\t{acc}" in lines
    assert f"{admin}\t{acc}\tadmin" in lines
    assert "exists" in fails(server, "user", "create", user, "--account", acc)
    assert fails(server, "user", "create", name("orphan"), "--account", name("no-such"))
    assert fails(server, "key", "create", name("no-such-user"))


def test_created_key_works_at_once_and_deleted_key_stops(server: Server) -> None:
    acc, acc_id = new_account(server)
    user = name("cli-user")
    ok(server, "user", "create", user, "--account", acc)
    access, secret = new_key(server, user)
    s3 = client_for(server, access, secret)
    assert s3.list_buckets()["Owner"] == {"ID": acc_id, "DisplayName": acc}
    bucket = name("cli-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")

    assert f"{access}\t{user}" in ok(server, "key", "list", user).splitlines()
    assert f"{access}\t{user}" in ok(server, "key", "list").splitlines()
    assert secret not in ok(server, "key", "list")

    second_access, second_secret = new_key(server, user)
    assert second_access != access
    assert ok(server, "key", "delete", access).strip() == f"deleted key {access}"
    assert access not in ok(server, "key", "list", user)
    denied_key(s3.list_buckets)  # same client, same pooled connection
    denied_key(lambda: client_for(server, access, secret).get_object(Bucket=bucket, Key="k"))
    other = client_for(server, second_access, second_secret)
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert fails(server, "key", "delete", access)


def test_account_delete_refuses_while_owning_buckets(server: Server) -> None:
    acc, _ = new_account(server)
    user = name("cli-user")
    ok(server, "user", "create", user, "--account", acc)
    access, secret = new_key(server, user)
    s3 = client_for(server, access, secret)
    bucket = name("cli-owned")
    s3.create_bucket(Bucket=bucket)

    assert "bucket" in fails(server, "account", "delete", acc)
    assert acc in ok(server, "account", "list")
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200

    s3.delete_bucket(Bucket=bucket)
    assert ok(server, "account", "delete", acc).strip() == f"deleted account {acc}"
    assert acc not in ok(server, "account", "list")
    assert user not in ok(server, "user", "list")
    denied_key(s3.list_buckets)


def test_user_delete_revokes_keys(server: Server) -> None:
    acc, _ = new_account(server)
    user = name("cli-user")
    ok(server, "user", "create", user, "--account", acc)
    access, secret = new_key(server, user)
    s3 = client_for(server, access, secret)
    s3.list_buckets()
    ok(server, "user", "delete", user)
    assert access not in ok(server, "key", "list")
    denied_key(s3.list_buckets)
    assert fails(server, "user", "delete", user)


def test_admin_flag_grants_cross_account_access(server: Server) -> None:
    owner = server.new_user()
    bucket = name("cli-private")
    server.client(owner).create_bucket(Bucket=bucket)
    server.client(owner).put_object(Bucket=bucket, Key="secret", Body=b"s")
    acc, _ = new_account(server)
    plain, admin = name("cli-plain"), name("cli-admin")
    ok(server, "user", "create", plain, "--account", acc)
    ok(server, "user", "create", admin, "--account", acc, "--admin")
    with pytest.raises(ClientError) as info:
        client_for(server, *new_key(server, plain)).get_object(Bucket=bucket, Key="secret")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    got = client_for(server, *new_key(server, admin)).get_object(Bucket=bucket, Key="secret")
    assert got["Body"].read() == b"s"


# ------------------------------------------------------------------ first start

def _serve_without_root_env(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBJECTSTORE_")}
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "objectstore", "serve", "--data-dir", str(data_dir),
             "--port", str(port)], stdout=fh, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_first_start_prints_generated_admin_credentials(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    log = tmp_path / "first.log"
    srv = Server(data_dir, port, Creds("", "", "admin", "admin"))  # for .client() only
    proc = _serve_without_root_env(data_dir, port, log)
    try:
        text = log.read_text()
        access = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", text)
        secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", text)
        assert access and secret, text
        s3 = client_for(srv, access.group(1), secret.group(1))
        owner = s3.list_buckets()["Owner"]
        assert owner["DisplayName"] == "admin"
        s3.create_bucket(Bucket="first-start")
        s3.put_object(Bucket="first-start", Key="k", Body=b"v")
        assert f"{access.group(1)}\tadmin" in ok(data_dir, "key", "list", "admin").splitlines()
    finally:
        _stop(proc)

    # a second start keeps the same credentials and does not print the secret again
    log2 = tmp_path / "second.log"
    proc = _serve_without_root_env(data_dir, port, log2)
    try:
        text = log2.read_text()
        assert secret.group(1) not in text
        assert f"admin access key: {access.group(1)}" in text
        s3 = client_for(srv, access.group(1), secret.group(1))
        assert s3.get_object(Bucket="first-start", Key="k")["Body"].read() == b"v"
    finally:
        _stop(proc)
