"""Drive a real objectstore server with real third-party S3 clients, as subprocesses.

Each client runs with a private HOME / config so nothing from the machine leaks in:
  * AWS CLI v1 (``aws s3`` and ``aws s3api``)
  * s3cmd, with SigV2 (``--signature-v2``) and SigV4
  * a boto-2-era SigV2 client (``S3.AWSAuthConnection`` equivalent, see clients_util)
  * rclone (skipped when not installed)

Files stay below 5 MiB so no client switches to multipart uploads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import uuid
from email.utils import formatdate
from pathlib import Path
from typing import Any, Iterator

import pytest
from clients_util import (
    AWSAuthConnection,
    Runner,
    anonymous_get,
    check,
    isolated_env,
    make_tree,
    payload,
    read_tree,
    run,
    s3cmd_runner,
    xml_texts,
)
from harness import Creds, Server

SMALL = b"hello, objectstore\n"
MEDIUM = payload(3 * 1024 * 1024 + 17, "medium")  # 3 MiB + a bit: single PUT for every client


def new_bucket_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def purge_bucket(s3: Any, name: str) -> None:
    """Best-effort cleanup through boto3 (the client under test may have failed half-way)."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


def bucket_keys(s3: Any, name: str) -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=name, Key=obj["Key"])["Body"].read()
    return out


def bucket_exists(s3: Any, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError:
        return False
    return True


@pytest.fixture
def fresh_name(s3: Any) -> Iterator[str]:
    """A bucket name that does not exist yet; the bucket is removed afterwards if it does."""
    name = new_bucket_name("cli")
    yield name
    purge_bucket(s3, name)


# ======================================================================== AWS CLI


def aws_command() -> list[str]:
    exe = shutil.which("aws")
    return [exe] if exe else [sys.executable, "-m", "awscli"]


@pytest.fixture
def aws(server: Server, tmp_path: Path) -> Runner:
    return aws_runner(server, tmp_path / "aws-home", server.root)


def aws_runner(server: Server, home: Path, creds: Creds, config: str = "") -> Runner:
    env = isolated_env(
        home,
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_PAGER="",
    )
    (home / "config").write_text(config)

    def call(*args: str, cwd: Path | None = None,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run([*aws_command(), "--endpoint-url", server.endpoint, "--output", "json",
                    *args], env, cwd=cwd, input=input)

    return call


def aws_json(cp: subprocess.CompletedProcess[str]) -> Any:
    check(cp)
    return json.loads(cp.stdout) if cp.stdout.strip() else {}


def test_aws_s3_mb_cp_ls_rm_rb(aws: Runner, s3: Any, fresh_name: str, tmp_path: Path) -> None:
    b = fresh_name
    out = check(aws("s3", "mb", f"s3://{b}")).stdout
    assert f"make_bucket: {b}" in out
    assert bucket_exists(s3, b)

    listing = check(aws("s3", "ls")).stdout
    assert any(line.split()[-1] == b for line in listing.splitlines())

    up = tmp_path / "up"
    up.mkdir()
    (up / "small.txt").write_bytes(SMALL)
    (up / "medium.bin").write_bytes(MEDIUM)

    out = check(aws("s3", "cp", str(up / "small.txt"), f"s3://{b}/small.txt")).stdout
    assert re.search(rf"^upload: \S*small\.txt to s3://{b}/small\.txt$", out, re.M), out
    check(aws("s3", "cp", str(up / "medium.bin"), f"s3://{b}/data/medium.bin"))

    # The server holds exactly those bytes, and the ETag is the MD5 (single PUT).
    assert s3.get_object(Bucket=b, Key="small.txt")["Body"].read() == SMALL
    head = s3.head_object(Bucket=b, Key="data/medium.bin")
    assert head["ContentLength"] == len(MEDIUM)
    assert head["ETag"] == '"%s"' % hashlib.md5(MEDIUM).hexdigest()

    down = tmp_path / "down"
    down.mkdir()
    check(aws("s3", "cp", f"s3://{b}/small.txt", str(down / "small.txt")))
    check(aws("s3", "cp", f"s3://{b}/data/medium.bin", str(down / "medium.bin")))
    assert (down / "small.txt").read_bytes() == SMALL
    assert (down / "medium.bin").read_bytes() == MEDIUM

    # Non-recursive listing shows the common prefix; recursive shows every key with its size.
    top = check(aws("s3", "ls", f"s3://{b}/")).stdout.splitlines()
    assert any(line.split() == ["PRE", "data/"] for line in top), top
    assert any(line.split()[-2:] == [str(len(SMALL)), "small.txt"] for line in top), top
    rec = check(aws("s3", "ls", "--recursive", f"s3://{b}")).stdout.splitlines()
    assert sorted((line.split()[-1], line.split()[-2]) for line in rec) == [
        ("data/medium.bin", str(len(MEDIUM))), ("small.txt", str(len(SMALL)))]
    prefixed = check(aws("s3", "ls", f"s3://{b}/data/")).stdout.split()
    assert "medium.bin" in prefixed and "small.txt" not in prefixed

    # rb refuses a non-empty bucket.
    cp = aws("s3", "rb", f"s3://{b}")
    assert cp.returncode != 0
    assert "BucketNotEmpty" in cp.stderr
    assert bucket_exists(s3, b)

    out = check(aws("s3", "rm", "--recursive", f"s3://{b}")).stdout
    assert f"delete: s3://{b}/small.txt" in out
    assert f"delete: s3://{b}/data/medium.bin" in out
    assert bucket_keys(s3, b) == {}
    assert check(aws("s3", "ls", "--recursive", f"s3://{b}")).stdout.strip() == ""

    out = check(aws("s3", "rb", f"s3://{b}")).stdout
    assert f"remove_bucket: {b}" in out
    assert not bucket_exists(s3, b)


def test_aws_s3_sync_tree_roundtrip(aws: Runner, s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    expected = make_tree(src)

    out = check(aws("s3", "sync", str(src), f"s3://{bucket}/tree")).stdout
    assert out.count("upload: ") == len(expected)
    assert bucket_keys(s3, bucket) == {f"tree/{k}": v for k, v in expected.items()}

    # A second sync has nothing to do.
    assert check(aws("s3", "sync", str(src), f"s3://{bucket}/tree")).stdout.strip() == ""

    dst = tmp_path / "dst"
    out = check(aws("s3", "sync", f"s3://{bucket}/tree", str(dst))).stdout
    assert out.count("download: ") == len(expected)
    assert read_tree(dst) == expected
    # Sizes and LastModified from the listing match the downloaded files: nothing to redo.
    assert check(aws("s3", "sync", f"s3://{bucket}/tree", str(dst))).stdout.strip() == ""

    # A local change plus a deletion, synced with --delete, is mirrored on the server.
    (src / "top.txt").write_bytes(b"changed, and longer than before\n")
    (src / "empty.bin").unlink()
    check(aws("s3", "sync", "--delete", str(src), f"s3://{bucket}/tree"))
    now = bucket_keys(s3, bucket)
    assert "tree/empty.bin" not in now
    assert now["tree/top.txt"] == b"changed, and longer than before\n"
    assert len(now) == len(expected) - 1


def test_aws_s3api_object_operations(aws: Runner, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    body.write_bytes(MEDIUM[:100_000])
    md5 = hashlib.md5(MEDIUM[:100_000]).hexdigest()
    key = "dir/obj with space ✓.bin"

    put = aws_json(aws("s3api", "put-object", "--bucket", bucket, "--key", key,
                       "--body", str(body), "--content-type", "application/x-test",
                       "--metadata", "color=blue,shape=round"))
    assert put["ETag"] == f'"{md5}"'

    head = aws_json(aws("s3api", "head-object", "--bucket", bucket, "--key", key))
    assert head["ContentLength"] == 100_000
    assert head["ETag"] == f'"{md5}"'
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"color": "blue", "shape": "round"}

    out = tmp_path / "out.bin"
    got = aws_json(aws("s3api", "get-object", "--bucket", bucket, "--key", key, str(out)))
    assert got["ContentLength"] == 100_000
    assert got["Metadata"] == {"color": "blue", "shape": "round"}
    assert out.read_bytes() == MEDIUM[:100_000]

    ranged = tmp_path / "range.bin"
    got = aws_json(aws("s3api", "get-object", "--bucket", bucket, "--key", key,
                       "--range", "bytes=10-19", str(ranged)))
    assert ranged.read_bytes() == MEDIUM[10:20]
    assert got["ContentRange"] == "bytes 10-19/100000"

    aws_json(aws("s3api", "put-object", "--bucket", bucket, "--key", "dir/second",
                 "--body", str(body)))
    aws_json(aws("s3api", "put-object", "--bucket", bucket, "--key", "other"))
    lst = aws_json(aws("s3api", "list-objects-v2", "--bucket", bucket))
    assert [o["Key"] for o in lst["Contents"]] == ["dir/obj with space ✓.bin", "dir/second",
                                                   "other"]
    assert lst["Contents"][0]["Size"] == 100_000
    assert lst["Contents"][2]["Size"] == 0
    raw = aws_json(aws("s3api", "list-objects-v2", "--no-paginate", "--bucket", bucket))
    assert raw["KeyCount"] == 3 and raw["IsTruncated"] is False
    lst = aws_json(aws("s3api", "list-objects-v2", "--bucket", bucket, "--delimiter", "/"))
    assert [p["Prefix"] for p in lst["CommonPrefixes"]] == ["dir/"]
    assert [o["Key"] for o in lst["Contents"]] == ["other"]
    lst = aws_json(aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "dir/",
                       "--max-items", "1"))
    assert [o["Key"] for o in lst["Contents"]] == ["dir/obj with space ✓.bin"]
    assert "NextToken" in lst

    assert aws_json(aws("s3api", "delete-object", "--bucket", bucket, "--key", key)) == {}
    cp = aws("s3api", "head-object", "--bucket", bucket, "--key", key)
    assert cp.returncode != 0 and "Not Found" in cp.stderr
    cp = aws("s3api", "get-object", "--bucket", bucket, "--key", key, str(tmp_path / "x"))
    assert cp.returncode != 0 and "NoSuchKey" in cp.stderr
    lst = aws_json(aws("s3api", "list-objects-v2", "--bucket", bucket))
    assert [o["Key"] for o in lst["Contents"]] == ["dir/second", "other"]


def test_aws_s3api_acls(aws: Runner, server: Server, bucket: str, tmp_path: Path) -> None:
    acl = aws_json(aws("s3api", "get-bucket-acl", "--bucket", bucket))
    owner_id = acl["Owner"]["ID"]
    assert owner_id
    assert [(g["Grantee"]["Type"], g["Grantee"].get("ID"), g["Permission"])
            for g in acl["Grants"]] == [("CanonicalUser", owner_id, "FULL_CONTROL")]

    f = tmp_path / "f.txt"
    f.write_bytes(SMALL)
    aws_json(aws("s3api", "put-object", "--bucket", bucket, "--key", "pub.txt", "--body", str(f)))
    assert anonymous_get("127.0.0.1", server.port, f"/{bucket}/pub.txt").status == 403

    assert aws_json(aws("s3api", "put-object-acl", "--bucket", bucket, "--key", "pub.txt",
                        "--acl", "public-read")) == {}
    oacl = aws_json(aws("s3api", "get-object-acl", "--bucket", bucket, "--key", "pub.txt"))
    grants = {(g["Grantee"].get("URI") or g["Grantee"].get("ID"), g["Permission"])
              for g in oacl["Grants"]}
    assert grants == {(owner_id, "FULL_CONTROL"),
                      ("http://acs.amazonaws.com/groups/global/AllUsers", "READ")}
    resp = anonymous_get("127.0.0.1", server.port, f"/{bucket}/pub.txt")
    assert (resp.status, resp.body) == (200, SMALL)

    # Explicit grants via --grant-read, then back to private.
    assert aws_json(aws("s3api", "put-object-acl", "--bucket", bucket, "--key", "pub.txt",
                        "--grant-full-control", f"id={owner_id}",
                        "--grant-read", "uri=http://acs.amazonaws.com/groups/global/AllUsers")
                    ) == {}
    assert anonymous_get("127.0.0.1", server.port, f"/{bucket}/pub.txt").status == 200
    assert aws_json(aws("s3api", "put-object-acl", "--bucket", bucket, "--key", "pub.txt",
                        "--acl", "private")) == {}
    oacl = aws_json(aws("s3api", "get-object-acl", "--bucket", bucket, "--key", "pub.txt"))
    assert [g["Permission"] for g in oacl["Grants"]] == ["FULL_CONTROL"]
    resp = anonymous_get("127.0.0.1", server.port, f"/{bucket}/pub.txt")
    assert resp.status == 403
    assert xml_texts(resp.body, "Code") == ["AccessDenied"]


def test_aws_s3_cp_options_copy_move_presign(aws: Runner, server: Server, s3: Any,
                                             bucket: str, tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(SMALL)
    check(aws("s3", "cp", str(f), f"s3://{bucket}/opt.txt", "--acl", "public-read",
              "--content-type", "text/x-custom", "--cache-control", "max-age=60",
              "--metadata", "origin=cli"))
    head = s3.head_object(Bucket=bucket, Key="opt.txt")
    assert (head["ContentType"], head["CacheControl"], head["Metadata"]) == (
        "text/x-custom", "max-age=60", {"origin": "cli"})
    resp = anonymous_get("127.0.0.1", server.port, f"/{bucket}/opt.txt")
    assert (resp.status, resp.body) == (200, SMALL)

    # Streams: stdin up, stdout down.
    text = "streamed through stdin ✓\n" * 1000
    check(aws("s3", "cp", "-", f"s3://{bucket}/stdin.txt", input=text))
    assert check(aws("s3", "cp", f"s3://{bucket}/stdin.txt", "-")).stdout == text

    # Server-side copy keeps data and metadata but not the ACL; mv removes the source.
    out = check(aws("s3", "cp", f"s3://{bucket}/opt.txt", f"s3://{bucket}/copy.txt")).stdout
    assert f"copy: s3://{bucket}/opt.txt to s3://{bucket}/copy.txt" in out
    head = s3.head_object(Bucket=bucket, Key="copy.txt")
    assert (head["ContentType"], head["Metadata"]) == ("text/x-custom", {"origin": "cli"})
    assert s3.get_object(Bucket=bucket, Key="copy.txt")["Body"].read() == SMALL
    assert anonymous_get("127.0.0.1", server.port, f"/{bucket}/copy.txt").status == 403
    check(aws("s3", "mv", f"s3://{bucket}/copy.txt", f"s3://{bucket}/moved/copy.txt"))
    assert set(bucket_keys(s3, bucket)) == {"opt.txt", "stdin.txt", "moved/copy.txt"}

    # A presigned URL (awscli v1 presigns with SigV2 query auth) works without credentials,
    # and stops working when the path is tampered with.
    url = check(aws("s3", "presign", f"s3://{bucket}/moved/copy.txt", "--expires-in", "300")
                ).stdout.strip()
    assert url.startswith(f"{server.endpoint}/{bucket}/moved/copy.txt?")
    path = url[len(server.endpoint):]
    resp = anonymous_get("127.0.0.1", server.port, path)
    assert (resp.status, resp.body) == (200, SMALL)
    resp = anonymous_get("127.0.0.1", server.port, path.replace("/moved/copy.txt", "/opt.txt"))
    assert resp.status == 403 and xml_texts(resp.body, "Code") == ["SignatureDoesNotMatch"]
    # The same with SigV4 query auth, selected through the CLI's config file.
    aws4 = aws_runner(server, tmp_path / "v4-home", server.root,
                      "[default]\ns3 =\n    signature_version = s3v4\n")
    url = check(aws4("s3", "presign", f"s3://{bucket}/moved/copy.txt", "--expires-in", "300")
                ).stdout.strip()
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Signature=" in url
    resp = anonymous_get("127.0.0.1", server.port, url[len(server.endpoint):])
    assert (resp.status, resp.body) == (200, SMALL)

    # Another account: may read the public object, not the private one.
    other = aws_runner(server, tmp_path / "other-home", server.new_user())
    assert check(other("s3", "cp", f"s3://{bucket}/opt.txt", "-")).stdout == SMALL.decode()
    cp = other("s3", "cp", f"s3://{bucket}/stdin.txt", "-")
    assert cp.returncode != 0 and "403" in cp.stderr
    cp = other("s3", "ls", f"s3://{bucket}")
    assert cp.returncode != 0 and "AccessDenied" in cp.stderr


# ======================================================================== s3cmd




SIGNATURES = [pytest.param(["--signature-v2"], id="sigv2"), pytest.param([], id="sigv4")]


@pytest.fixture(params=SIGNATURES)
def s3cmd(request: pytest.FixtureRequest, server: Server, tmp_path: Path) -> Runner:
    return s3cmd_runner(server, tmp_path, list(request.param))




def s3cmd_ls_keys(out: str) -> dict[str, int]:
    """`s3cmd ls` object lines: 'DATE TIME SIZE s3://bucket/key' -> {uri: size}."""
    found = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[3].startswith("s3://") and parts[2] != "DIR":
            found[parts[3]] = int(parts[2])
    return found


def test_s3cmd_bucket_and_object_flow(s3cmd: Runner, s3: Any, fresh_name: str,
                                      tmp_path: Path) -> None:
    b = fresh_name
    out = check(s3cmd("mb", f"s3://{b}")).stdout
    assert f"Bucket 's3://{b}/' created" in out
    assert bucket_exists(s3, b)
    assert f"s3://{b}" in check(s3cmd("ls")).stdout.split()

    small = tmp_path / "small.txt"
    small.write_bytes(SMALL)
    medium = tmp_path / "medium.bin"
    medium.write_bytes(MEDIUM)
    check(s3cmd("put", str(small), f"s3://{b}/small.txt"))
    check(s3cmd("put", "--mime-type=application/x-test", str(medium),
                f"s3://{b}/dir/medium ✓.bin"))
    assert s3.get_object(Bucket=b, Key="small.txt")["Body"].read() == SMALL
    assert s3.get_object(Bucket=b, Key="dir/medium ✓.bin")["Body"].read() == MEDIUM

    assert s3cmd_ls_keys(check(s3cmd("ls", f"s3://{b}")).stdout) == {
        f"s3://{b}/small.txt": len(SMALL)}
    out = check(s3cmd("ls", f"s3://{b}")).stdout
    assert re.search(rf"^\s*DIR\s+s3://{b}/dir/$", out, re.M), out
    assert s3cmd_ls_keys(check(s3cmd("ls", "--recursive", f"s3://{b}")).stdout) == {
        f"s3://{b}/small.txt": len(SMALL), f"s3://{b}/dir/medium ✓.bin": len(MEDIUM)}
    la = s3cmd_ls_keys(check(s3cmd("la", "--recursive")).stdout)
    assert la[f"s3://{b}/small.txt"] == len(SMALL)
    assert la[f"s3://{b}/dir/medium ✓.bin"] == len(MEDIUM)

    got = tmp_path / "got"
    got.mkdir()
    check(s3cmd("get", f"s3://{b}/small.txt", str(got / "small.txt")))
    check(s3cmd("get", f"s3://{b}/dir/medium ✓.bin", str(got / "medium.bin")))
    assert (got / "small.txt").read_bytes() == SMALL
    assert (got / "medium.bin").read_bytes() == MEDIUM

    info = check(s3cmd("info", f"s3://{b}/dir/medium ✓.bin")).stdout
    assert f"File size: {len(MEDIUM)}" in info
    assert "MIME type: application/x-test" in info
    assert f"MD5 sum:   {hashlib.md5(MEDIUM).hexdigest()}" in info
    assert "owner: FULL_CONTROL" in info or "FULL_CONTROL" in info
    binfo = check(s3cmd("info", f"s3://{b}")).stdout
    assert f"s3://{b}/ (bucket):" in binfo
    assert "Location:" in binfo and "FULL_CONTROL" in binfo

    cp = s3cmd("rb", f"s3://{b}")
    assert cp.returncode != 0 and "BucketNotEmpty" in (cp.stdout + cp.stderr)

    out = check(s3cmd("del", f"s3://{b}/small.txt")).stdout
    assert f"delete: 's3://{b}/small.txt'" in out
    assert set(bucket_keys(s3, b)) == {"dir/medium ✓.bin"}
    check(s3cmd("del", "--recursive", "--force", f"s3://{b}/dir/"))
    assert bucket_keys(s3, b) == {}
    out = check(s3cmd("rb", f"s3://{b}")).stdout
    assert f"Bucket 's3://{b}/' removed" in out
    assert not bucket_exists(s3, b)


def test_s3cmd_setacl_public_private(s3cmd: Runner, server: Server, s3: Any, bucket: str,
                                     tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(SMALL)
    check(s3cmd("put", str(f), f"s3://{bucket}/acl.txt"))
    path = f"/{bucket}/acl.txt"
    assert anonymous_get("127.0.0.1", server.port, path).status == 403
    assert "*anon*" not in check(s3cmd("info", f"s3://{bucket}/acl.txt")).stdout

    out = check(s3cmd("setacl", "--acl-public", f"s3://{bucket}/acl.txt")).stdout
    assert "ACL set to Public" in out
    info = check(s3cmd("info", f"s3://{bucket}/acl.txt")).stdout
    assert "*anon*: READ" in info
    resp = anonymous_get("127.0.0.1", server.port, path)
    assert (resp.status, resp.body) == (200, SMALL)
    grants = s3.get_object_acl(Bucket=bucket, Key="acl.txt")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [
        g["Grantee"] for g in grants if g["Permission"] == "READ"]

    out = check(s3cmd("setacl", "--acl-private", f"s3://{bucket}/acl.txt")).stdout
    assert "ACL set to Private" in out
    assert "*anon*" not in check(s3cmd("info", f"s3://{bucket}/acl.txt")).stdout
    assert anonymous_get("127.0.0.1", server.port, path).status == 403

    # Bucket ACL: public-read makes the listing anonymous-readable.
    check(s3cmd("setacl", "--acl-public", f"s3://{bucket}"))
    resp = anonymous_get("127.0.0.1", server.port, f"/{bucket}/")
    assert resp.status == 200 and xml_texts(resp.body, "Key") == ["acl.txt"]
    check(s3cmd("setacl", "--acl-private", f"s3://{bucket}"))
    assert anonymous_get("127.0.0.1", server.port, f"/{bucket}/").status == 403


def test_s3cmd_put_acl_public(s3cmd: Runner, server: Server, bucket: str,
                              tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(SMALL)
    check(s3cmd("put", "--acl-public", str(f), f"s3://{bucket}/public-at-put.txt"))
    resp = anonymous_get("127.0.0.1", server.port, f"/{bucket}/public-at-put.txt")
    assert (resp.status, resp.body) == (200, SMALL)


def test_s3cmd_sync_tree_roundtrip(s3cmd: Runner, s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    expected = make_tree(src)
    check(s3cmd("sync", f"{src}/", f"s3://{bucket}/tree/"))
    assert bucket_keys(s3, bucket) == {f"tree/{k}": v for k, v in expected.items()}

    # Nothing to do the second time (s3cmd compares size and MD5/ETag).
    out = check(s3cmd("sync", f"{src}/", f"s3://{bucket}/tree/")).stdout
    assert "upload:" not in out

    dst = tmp_path / "dst"
    dst.mkdir()
    out = check(s3cmd("sync", f"s3://{bucket}/tree/", f"{dst}/")).stdout
    assert out.count("download:") == len(expected)
    assert read_tree(dst) == expected
    out = check(s3cmd("sync", f"s3://{bucket}/tree/", f"{dst}/")).stdout
    assert "download:" not in out

    (src / "top.txt").write_bytes(b"changed\n")
    (src / "empty.bin").unlink()
    check(s3cmd("sync", "--delete-removed", f"{src}/", f"s3://{bucket}/tree/"))
    now = bucket_keys(s3, bucket)
    assert now["tree/top.txt"] == b"changed\n"
    assert "tree/empty.bin" not in now and len(now) == len(expected) - 1


def test_s3cmd_copy_move_modify_du_signurl(s3cmd: Runner, server: Server, s3: Any,
                                           bucket: str, tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(SMALL)
    check(s3cmd("put", "--mime-type=text/x-a", "--add-header=x-amz-meta-color:red", str(f),
                f"s3://{bucket}/src.txt"))
    out = check(s3cmd("cp", f"s3://{bucket}/src.txt", f"s3://{bucket}/copy.txt")).stdout
    assert "remote copy:" in out
    head = s3.head_object(Bucket=bucket, Key="copy.txt")
    assert head["ContentType"] == "text/x-a" and head["Metadata"]["color"] == "red"
    check(s3cmd("mv", f"s3://{bucket}/copy.txt", f"s3://{bucket}/moved.txt"))
    assert bucket_keys(s3, bucket) == {"src.txt": SMALL, "moved.txt": SMALL}

    check(s3cmd("modify", "--add-header=Cache-Control:no-cache", f"s3://{bucket}/moved.txt"))
    head = s3.head_object(Bucket=bucket, Key="moved.txt")
    assert head["CacheControl"] == "no-cache"
    assert head["ContentType"] == "text/x-a" and head["Metadata"]["color"] == "red"
    assert s3.get_object(Bucket=bucket, Key="moved.txt")["Body"].read() == SMALL

    du = check(s3cmd("du", f"s3://{bucket}")).stdout.split()
    assert du[:3] == [str(2 * len(SMALL)), "2", "objects"]

    url = check(s3cmd("signurl", f"s3://{bucket}/moved.txt", "+300")).stdout.strip()
    assert url.startswith(f"{server.endpoint}/{bucket}/moved.txt?")
    resp = anonymous_get("127.0.0.1", server.port, url[len(server.endpoint):])
    assert (resp.status, resp.body) == (200, SMALL)


def test_s3cmd_info_bucket_shows_payer(server: Server, bucket: str, tmp_path: Path) -> None:
    s3cmd = s3cmd_runner(server, tmp_path, [])
    out = check(s3cmd("info", f"s3://{bucket}")).stdout
    assert "Location:  us-east-1" in out
    assert "Payer:     BucketOwner" in out


# ======================================================================== legacy SigV2


@pytest.fixture
def legacy(server: Server) -> AWSAuthConnection:
    return AWSAuthConnection(server.root.access_key, server.root.secret_key, "127.0.0.1",
                             server.port)


def test_legacy_sigv2_bucket_and_object_crud(legacy: AWSAuthConnection, s3: Any) -> None:
    b = new_bucket_name("legacy")
    try:
        resp = legacy.create_bucket(b)
        assert resp.status == 200, resp.body
        assert bucket_exists(s3, b)
        assert b in xml_texts(legacy.list_all_my_buckets().body, "Name")

        key = "photos/my summer ✓.jpg"
        data = payload(12_345, "legacy")
        md5 = hashlib.md5(data)
        resp = legacy.put(b, key, data, {"Content-Type": "image/jpeg",
                                         "Content-MD5": base64.b64encode(md5.digest()).decode(),
                                         "x-amz-meta-Author": "nova",
                                         "x-amz-acl": "private"})
        assert resp.status == 200, resp.body
        assert resp.headers["etag"] == f'"{md5.hexdigest()}"'
        assert legacy.put(b, "photos/other", b"x").status == 200
        assert legacy.put(b, "readme", b"").status == 200

        resp = legacy.get(b, key)
        assert resp.status == 200, resp.body
        assert resp.body == data
        assert resp.headers["content-type"] == "image/jpeg"
        assert resp.headers["x-amz-meta-author"] == "nova"
        assert resp.headers["etag"] == f'"{md5.hexdigest()}"'
        head = legacy.head(b, key)
        assert head.status == 200 and head.headers["content-length"] == str(len(data))

        resp = legacy.list_bucket(b)
        assert resp.status == 200, resp.body
        assert xml_texts(resp.body, "Key") == ["photos/my summer ✓.jpg", "photos/other",
                                               "readme"]
        assert xml_texts(resp.body, "Size") == [str(len(data)), "1", "0"]
        resp = legacy.list_bucket(b, {"prefix": "photos/", "delimiter": "/", "max-keys": "1"})
        assert resp.status == 200, resp.body
        assert xml_texts(resp.body, "Key") == ["photos/my summer ✓.jpg"]
        assert xml_texts(resp.body, "IsTruncated") == ["true"]
        resp = legacy.list_bucket(b, {"delimiter": "/"})
        assert xml_texts(resp.body, "Prefix")[-1:] == ["photos/"]
        assert xml_texts(resp.body, "Key") == ["readme"]

        resp = legacy.get_bucket_acl(b)
        assert resp.status == 200, resp.body
        assert xml_texts(resp.body, "Permission") == ["FULL_CONTROL"]

        resp = legacy.delete_bucket(b)
        assert resp.status == 409 and xml_texts(resp.body, "Code") == ["BucketNotEmpty"]
        for k in (key, "photos/other", "readme"):
            assert legacy.delete(b, k).status == 204
        resp = legacy.get(b, key)
        assert resp.status == 404 and xml_texts(resp.body, "Code") == ["NoSuchKey"]
        assert xml_texts(legacy.list_bucket(b).body, "Key") == []
        assert legacy.delete_bucket(b).status == 204
        assert not bucket_exists(s3, b)
    finally:
        purge_bucket(s3, b)


def test_legacy_sigv2_x_amz_date_header(legacy: AWSAuthConnection, s3: Any,
                                        bucket: str) -> None:
    """With x-amz-date the Date line of the string to sign is empty (boto 2 behaviour)."""
    resp = legacy.put(bucket, "dated", b"abc", {"x-amz-date": formatdate(usegmt=True)})
    assert resp.status == 200, resp.body
    assert legacy.last_string_to_sign.startswith("PUT\n\n\n\nx-amz-date:")
    assert s3.get_object(Bucket=bucket, Key="dated")["Body"].read() == b"abc"


def test_legacy_sigv2_wrong_secret(server: Server, bucket: str) -> None:
    bad = AWSAuthConnection(server.root.access_key, "not-the-secret", "127.0.0.1", server.port)
    resp = bad.put(bucket, "k", b"data", {"Content-Type": "text/plain"})
    assert resp.status == 403
    assert resp.headers["content-type"].startswith("application/xml")
    assert xml_texts(resp.body, "Code") == ["SignatureDoesNotMatch"]
    assert xml_texts(resp.body, "StringToSign") == [bad.last_string_to_sign]
    assert xml_texts(resp.body, "AWSAccessKeyId") == [server.root.access_key]
    assert bad.last_string_to_sign.endswith(f"\n/{bucket}/k")

    resp = bad.list_bucket(bucket)
    assert resp.status == 403 and xml_texts(resp.body, "Code") == ["SignatureDoesNotMatch"]
    assert xml_texts(resp.body, "StringToSign") == [f"GET\n\n\n{_date_of(bad)}\n/{bucket}"]

    unknown = AWSAuthConnection("NOSUCHKEY", "x", "127.0.0.1", server.port)
    resp = unknown.list_bucket(bucket)
    assert resp.status == 403 and xml_texts(resp.body, "Code") == ["InvalidAccessKeyId"]


def _date_of(conn: AWSAuthConnection) -> str:
    return conn.last_string_to_sign.split("\n")[3]


# ======================================================================== rclone


@pytest.fixture
def rclone(server: Server, tmp_path: Path) -> Runner:
    exe = shutil.which("rclone")
    if exe is None:
        pytest.skip("rclone is not installed")
    home = tmp_path / "rclone-home"
    env = isolated_env(
        home,
        RCLONE_CONFIG=str(home / "rclone.conf"),
        RCLONE_CONFIG_OS_TYPE="s3",
        RCLONE_CONFIG_OS_PROVIDER="Other",
        RCLONE_CONFIG_OS_ENV_AUTH="false",
        RCLONE_CONFIG_OS_ENDPOINT=server.endpoint,
        RCLONE_CONFIG_OS_ACCESS_KEY_ID=server.root.access_key,
        RCLONE_CONFIG_OS_SECRET_ACCESS_KEY=server.root.secret_key,
        RCLONE_CONFIG_OS_REGION="us-east-1",
        RCLONE_CONFIG_OS_FORCE_PATH_STYLE="true",
    )

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return run([exe, "--retries", "1", "--low-level-retries", "1", *args], env)

    return call


def test_rclone_copy_check_ls_delete(rclone: Runner, s3: Any, bucket: str,
                                     tmp_path: Path) -> None:
    src = tmp_path / "src"
    expected = make_tree(src)
    expected["medium.bin"] = MEDIUM
    (src / "medium.bin").write_bytes(MEDIUM)
    remote = f"os:{bucket}/tree"

    cp = check(rclone("copy", "-v", str(src), remote))
    assert cp.stderr.count("Copied (new)") == len(expected), cp.stderr
    assert bucket_keys(s3, bucket) == {f"tree/{k}": v for k, v in expected.items()}
    cp = check(rclone("copy", "-v", str(src), remote))
    assert "Copied" not in cp.stderr, cp.stderr

    cp = check(rclone("check", str(src), remote))
    assert "0 differences found" in cp.stderr
    assert f"{len(expected)} matching files" in cp.stderr

    listed = {}
    for line in check(rclone("ls", remote)).stdout.splitlines():
        size, name = line.strip().split(" ", 1)
        listed[name] = int(size)
    assert listed == {k: len(v) for k, v in expected.items()}

    dst = tmp_path / "dst"
    cp = check(rclone("copy", "-v", remote, str(dst)))
    assert cp.stderr.count("Copied (new)") == len(expected), cp.stderr
    assert read_tree(dst) == expected
    # rclone stores the mtime in X-Amz-Meta-Mtime and restores it on download.
    assert (dst / "top.txt").stat().st_mtime == pytest.approx((src / "top.txt").stat().st_mtime,
                                                              abs=1e-3)

    # A changed local file is detected by check.
    (src / "top.txt").write_bytes(b"different\n")
    cp = rclone("check", str(src), remote)
    assert cp.returncode != 0 and "1 differences found" in cp.stderr

    check(rclone("delete", remote))
    assert bucket_keys(s3, bucket) == {}
    assert check(rclone("ls", remote)).stdout.strip() == ""


def test_rclone_mkdir_server_side_copy_move_purge(rclone: Runner, s3: Any,
                                                  tmp_path: Path) -> None:
    b = new_bucket_name("rclone")
    try:
        check(rclone("mkdir", f"os:{b}"))
        assert bucket_exists(s3, b)
        assert b in check(rclone("lsd", "os:")).stdout.split()

        f = tmp_path / "f.txt"
        f.write_bytes(SMALL)
        check(rclone("copyto", str(f), f"os:{b}/a/f.txt"))
        check(rclone("copyto", f"os:{b}/a/f.txt", f"os:{b}/b/g.txt"))
        check(rclone("moveto", f"os:{b}/b/g.txt", f"os:{b}/c/h.txt"))
        assert bucket_keys(s3, b) == {"a/f.txt": SMALL, "c/h.txt": SMALL}

        md5 = hashlib.md5(SMALL).hexdigest()
        listed = json.loads(check(rclone("lsjson", "-R", "--hash", "--files-only",
                                         f"os:{b}")).stdout)
        assert sorted((e["Path"], e["Size"], e["Hashes"]["md5"]) for e in listed) == [
            ("a/f.txt", len(SMALL), md5), ("c/h.txt", len(SMALL), md5)]
        assert check(rclone("cat", "--offset", "7", "--count", "11",
                            f"os:{b}/c/h.txt")).stdout == SMALL[7:18].decode()

        cp = rclone("rmdir", f"os:{b}")
        assert cp.returncode != 0 and "BucketNotEmpty" in cp.stderr
        check(rclone("purge", f"os:{b}"))
        assert not bucket_exists(s3, b)
    finally:
        purge_bucket(s3, b)
