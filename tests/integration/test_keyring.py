"""Secrets at rest: access-key secrets sealed in the metadata database under a master key
kept apart from it (the keyring), rotation while servers run, upgrades from databases
holding secrets in plain text, refusal to start without the keyring, and no secret or
signature in any log."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import boto3
import harness
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import Creds, Server, on_postgres


def new_server(base: Path, *extra: str) -> Server:
    return harness.new_server(base / "data", "ROOTACCESSKEY", extra)


def raw_db(data_dir: Path) -> bytes:
    """Every byte SQLite keeps on disk for the metadata database."""
    out = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = data_dir / f"meta.sqlite3{suffix}"
        if p.exists():
            out += p.read_bytes()
    return out


def stored_secrets(data_dir: Path) -> dict[str, str]:
    with sqlite3.connect(data_dir / "meta.sqlite3") as c:
        return dict(c.execute("SELECT access_key, secret FROM keys").fetchall())


def keyring_doc(data_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((data_dir / "keyring" / "keyring.json").read_bytes())
    return doc


def round_trip(srv: Server, creds: Creds, bucket: str) -> None:
    s3 = srv.client(creds)
    key = "k-" + uuid.uuid4().hex
    s3.put_object(Bucket=bucket, Key=key, Body=b"sealed")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"sealed"


def fetch(url: str) -> tuple[int, str]:
    """GET ``url`` on a new connection: (status, request id)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("x-amz-request-id") or ""
    finally:
        conn.close()


def spread(urls: Any) -> set[str]:
    """GET each URL on fresh connections until both worker processes answered it (the
    kernel picks the process; under load it may favour one): every answer must be 200."""
    processes: set[str] = set()
    for url in urls:
        answered: set[str] = set()
        for _ in range(30):
            status, rid = fetch(url)
            assert status == 200
            answered.add(rid[:8])
            if len(answered) == 2:
                break
        processes |= answered
    return processes


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = new_server(tmp_path_factory.mktemp("keyring"))
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.skipif(on_postgres(), reason="looks into the SQLite database file")
def test_secrets_are_sealed_in_the_database(sealed: Server) -> None:
    user = sealed.new_user()
    bucket = "kr-" + uuid.uuid4().hex[:12]
    sealed.client().create_bucket(Bucket=bucket)
    round_trip(sealed, sealed.root, bucket)
    sealed.client().put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    round_trip(sealed, user, bucket)
    data = raw_db(sealed.data_dir)
    for creds in (sealed.root, user):
        assert creds.access_key.encode() in data  # the rows are there ...
        assert creds.secret_key.encode() not in data  # ... their secrets are not
    rows = stored_secrets(sealed.data_dir)
    active = [k["id"] for k in keyring_doc(sealed.data_dir)["keys"] if k["active"]]
    assert len(active) == 1
    for access_key in (sealed.root.access_key, user.access_key):
        assert rows[access_key].startswith(f"v1:{active[0]}:")
    ring = sealed.data_dir / "keyring" / "keyring.json"
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(on_postgres(), reason="looks into the SQLite database file")
def test_a_sealed_secret_does_not_open_in_another_row(sealed: Server) -> None:
    """The sealed value is bound to its access key: copied into another row (by someone
    who can write the database), it authenticates nobody."""
    thief, victim = sealed.new_user(), sealed.new_user()
    with sqlite3.connect(sealed.data_dir / "meta.sqlite3") as c:
        c.execute("UPDATE keys SET secret=(SELECT secret FROM keys WHERE access_key=?) "
                  "WHERE access_key=?", (victim.access_key, thief.access_key))
    time.sleep(0.2)  # a change made behind the server's back is noticed within 50 ms
    stolen = Creds(thief.access_key, victim.secret_key, thief.account, thief.user)
    with pytest.raises(ClientError) as exc:
        sealed.client(stolen).list_buckets()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sealed.client(victim).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_key_commands_keep_working(sealed: Server) -> None:
    user = sealed.new_user()
    listed = sealed.admin("key", "list", user.user)
    assert user.access_key in listed and user.secret_key not in listed
    status = sealed.admin("keyring", "status")
    assert "active" in status and "secrets" in status
    material = [k["key"] for k in keyring_doc(sealed.data_dir)["keys"]]
    assert all(m not in status for m in material)  # ids and ages, never the keys


@pytest.mark.skipif(on_postgres(), reason="looks into the SQLite database file")
def test_rotation_while_two_workers_serve(tmp_path: Path) -> None:
    srv = new_server(tmp_path, "--workers", "2")
    srv.start()
    try:
        user = srv.new_user()
        s3 = srv.client()
        bucket = "rot-" + uuid.uuid4().hex[:12]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="obj", Body=b"x", ACL="public-read")
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
        urls = {c.access_key: srv.client(c).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "obj"}) for c in (srv.root, user)}
        spread(urls.values())  # both processes have the old secrets cached
        old = {k["id"] for k in keyring_doc(srv.data_dir)["keys"]}

        out = srv.admin("keyring", "rotate")
        assert "2 access-key secrets sealed again" in out
        doc = keyring_doc(srv.data_dir)
        new = [k["id"] for k in doc["keys"] if k["active"]]
        assert len(doc["keys"]) == 2 and len(new) == 1 and new[0] not in old
        assert all(v.startswith(f"v1:{new[0]}:") for v in stored_secrets(srv.data_dir).values())

        spread(urls.values())  # old URLs, old clients: still good on every process
        round_trip(srv, srv.root, bucket)
        round_trip(srv, user, bucket)
        later = srv.new_user()  # a key made after the rotation
        round_trip(srv, later, bucket)

        assert "dropped 1 retired keys" in srv.admin("keyring", "prune")
        assert [k["id"] for k in keyring_doc(srv.data_dir)["keys"]] == new
        for creds in (srv.root, user, later):
            round_trip(srv, creds, bucket)
        data = raw_db(srv.data_dir)
        assert all(c.secret_key.encode() not in data for c in (srv.root, user, later))
    finally:
        srv.stop()


@pytest.mark.skipif(on_postgres(), reason="looks into the SQLite database file")
def test_missing_keyring_refuses_to_start(tmp_path: Path) -> None:
    srv = new_server(tmp_path)
    srv.start()
    srv.stop()
    ring = srv.data_dir / "keyring" / "keyring.json"
    elsewhere = tmp_path / "secret-mount" / "ring.json"
    elsewhere.parent.mkdir()
    shutil.move(ring, elsewhere)
    with pytest.raises(RuntimeError) as exc:
        srv.start(timeout=15)
    assert "keyring" in str(exc.value) and "is missing" in str(exc.value)
    assert not ring.exists()  # no new key was made in its place
    admin = subprocess.run(
        [sys.executable, "-m", "objectstore", "key", "list", "--data-dir", str(srv.data_dir)],
        capture_output=True, text=True, timeout=60)
    assert admin.returncode == 1 and "is missing" in admin.stderr

    srv.extra_args = ["--keyring", str(elsewhere)]  # the keyring kept on another volume
    srv.start()
    try:
        assert srv.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert not ring.exists()
    finally:
        srv.stop()


@pytest.mark.skipif(on_postgres(), reason="looks into the SQLite database file")
def test_upgrade_seals_plaintext_secrets(tmp_path: Path) -> None:
    """A database of an earlier version (secrets in plain text, no keyring) is sealed at
    start, in place, and every key keeps working."""
    srv = new_server(tmp_path)
    srv.start()
    user = srv.new_user()
    srv.stop()
    shutil.rmtree(srv.data_dir / "keyring")
    with sqlite3.connect(srv.data_dir / "meta.sqlite3") as c:
        for creds in (srv.root, user):
            c.execute("UPDATE keys SET secret=? WHERE access_key=?",
                      (creds.secret_key, creds.access_key))
    assert user.secret_key.encode() in raw_db(srv.data_dir)

    srv.start()
    try:
        bucket = "up-" + uuid.uuid4().hex[:12]
        srv.client().create_bucket(Bucket=bucket)
        srv.client().put_bucket_acl(Bucket=bucket, ACL="public-read-write")
        round_trip(srv, srv.root, bucket)
        round_trip(srv, user, bucket)
        assert all(v.startswith("v1:") for v in stored_secrets(srv.data_dir).values())
        data = raw_db(srv.data_dir)
        assert srv.root.secret_key.encode() not in data
        assert user.secret_key.encode() not in data
    finally:
        srv.stop()
    srv.start()  # idempotent: a second start finds nothing to seal and still works
    try:
        round_trip(srv, user, bucket)
    finally:
        srv.stop()


def test_no_secret_or_signature_in_the_logs(tmp_path: Path) -> None:
    srv = new_server(tmp_path, "--access-log", "--log-level", "trace")
    srv.start()
    sent: list[str] = []  # every Authorization header and signature the clients sent
    try:
        user = srv.new_user()
        s3 = srv.client()

        def record(request: Any, **_: Any) -> None:
            auth = request.headers.get("Authorization")
            if auth:
                sent.append(auth.decode() if isinstance(auth, bytes) else auth)
        s3.meta.events.register("before-send", record)
        bucket = "log-" + uuid.uuid4().hex[:12]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="a", Body=b"hello")
        v4 = srv.client(signature_version="s3v4")
        url4 = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
        v2 = boto3.client("s3", endpoint_url=srv.endpoint, region_name="us-east-1",
                          aws_access_key_id=srv.root.access_key,
                          aws_secret_access_key=srv.root.secret_key,
                          config=Config(signature_version="s3"))
        url2 = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
        assert requests.get(url4, timeout=10).status_code == 200
        assert requests.get(url2, timeout=10).status_code == 200
        bad = url4.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        assert requests.get(bad, timeout=10).status_code == 403  # an error, logged
        customer_key = "c3VwZXJzZWNyZXRjdXN0b21lcmtleTEyMzQ1Njc4OTA="
        status = requests.put(f"{srv.endpoint}/{bucket}/ssec", data=b"x", timeout=10, headers={
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": customer_key,
            "x-amz-server-side-encryption-customer-key-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="},
        ).status_code
        assert status >= 400
        try:
            srv.client(Creds(user.access_key, "wrong" + user.secret_key[5:], "", "")) \
                .list_buckets()
        except ClientError:
            pass
        signatures = [re.search(f"[?&]{name}=([^&]+)", u).group(1)  # type: ignore[union-attr]
                      for u, name in ((url4, "X-Amz-Signature"), (url2, "Signature"))]
        signatures += [unquote(s) for s in signatures]
        signatures += [a.rsplit("Signature=", 1)[1] for a in sent if "Signature=" in a]
        assert len(signatures) >= 4
    finally:
        srv.stop()
    assert srv.log_path is not None
    log = srv.log_path.read_text()
    assert "GET /" + bucket + "/a?" in log  # the access log did record the requests
    assert "X-Amz-Signature=REDACTED" in log
    assert re.search(r"[?&]Signature=REDACTED", log)
    for secret in (srv.root.secret_key, user.secret_key, customer_key):
        assert secret not in log
    for sig in signatures:
        assert sig not in log
    for auth in sent:
        assert auth not in log


def test_keyring_file_from_environment(tmp_path: Path) -> None:
    """OBJECTSTORE_KEYRING puts the keyring elsewhere for serve and the admin commands."""
    ring = tmp_path / "vault" / "objectstore.keyring"
    srv = new_server(tmp_path)
    os.environ["OBJECTSTORE_KEYRING"] = str(ring)
    try:
        srv.start()
        try:
            user = srv.new_user()
            assert srv.client(user).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        finally:
            srv.stop()
        assert ring.exists() and not (srv.data_dir / "keyring").exists()
        assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    finally:
        del os.environ["OBJECTSTORE_KEYRING"]
