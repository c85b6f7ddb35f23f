"""Encryption at rest against a real server: SSE-S3, SSE-C, SSE-KMS, bucket default
encryption, copies across modes, rotation, tamper detection, and no plaintext on disk."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import urllib3
from botocore.exceptions import BotoCoreError, ClientError
from harness import Server, new_server, on_postgres, running
from storage_util import run_cli
from test_clients import aws_json, aws_runner

SERVE_ARGS = ["--no-fsync", "--allow-sse-c-over-http", "--kms-key", "testkey-1",
              "--kms-key", "testkey-2"]
CKEY = secrets.token_bytes(32)
OTHER = secrets.token_bytes(32)


def sse_c(key: bytes = CKEY, copy: bool = False) -> dict[str, str]:
    prefix = "CopySource" if copy else ""
    return {f"{prefix}SSECustomerAlgorithm": "AES256",
            f"{prefix}SSECustomerKey": base64.b64encode(key).decode(),
            f"{prefix}SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode()}


MODES: dict[str, tuple[dict[str, str], dict[str, str]]] = {  # put args, get args
    "plain": ({}, {}),
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-c": (sse_c(), sse_c()),
    "sse-kms": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "testkey-1"}, {}),
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("sse")
    server = new_server(base / "data", extra_args=SERVE_ARGS)
    with running(server, signal.SIGTERM):
        yield server


@pytest.fixture(scope="module")
def c(srv: Server) -> Any:
    return srv.client()


@pytest.fixture
def b(c: Any) -> str:
    name = "sse-" + uuid.uuid4().hex[:12]
    c.create_bucket(Bucket=name)
    return name


def marker() -> bytes:
    return b"MARKER-" + secrets.token_hex(16).encode() + b"-END"


def files_containing(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(path)
    return found


# ---------------------------------------------------------------- every mode round trips
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("size", [0, 1, 4096, 64 * 1024, 200_000, 3 * 1024 * 1024 + 5])
def test_round_trip_every_mode(c: Any, b: str, mode: str, size: int) -> None:
    put, get = MODES[mode]
    data = os.urandom(size)
    r = c.put_object(Bucket=b, Key="k", Body=data, **put)
    md5 = hashlib.md5(data).hexdigest()
    if mode in ("plain", "sse-s3"):
        assert r["ETag"] == f'"{md5}"'
    else:
        assert r["ETag"] != f'"{md5}"' and len(r["ETag"]) == 34
    got = c.get_object(Bucket=b, Key="k", **get)
    assert got["Body"].read() == data
    assert got["ETag"] == r["ETag"]
    head = c.head_object(Bucket=b, Key="k", **get)
    assert head["ContentLength"] == size
    if mode == "sse-s3":
        assert got["ServerSideEncryption"] == head["ServerSideEncryption"] == "AES256"
    elif mode == "sse-kms":
        assert got["ServerSideEncryption"] == "aws:kms"
        assert got["SSEKMSKeyId"] == "testkey-1"
    elif mode == "sse-c":
        assert got["SSECustomerAlgorithm"] == "AES256"
        assert got["SSECustomerKeyMD5"] == get["SSECustomerKeyMD5"]
    else:
        assert "ServerSideEncryption" not in got


@pytest.mark.parametrize("mode", ["sse-s3", "sse-c"])
def test_ranges_and_part_numbers(c: Any, b: str, mode: str) -> None:
    put, get = MODES[mode]
    data = os.urandom(700_000)
    c.put_object(Bucket=b, Key="r", Body=data, **put)
    for start, end in [(0, 0), (65535, 65536), (100, 300_000), (699_999, 699_999),
                       (131_072, 196_607), (5, 699_999)]:
        got = c.get_object(Bucket=b, Key="r", Range=f"bytes={start}-{end}", **get)
        assert got["Body"].read() == data[start:end + 1], (start, end)
    got = c.get_object(Bucket=b, Key="r", Range="bytes=-1000", **get)
    assert got["Body"].read() == data[-1000:]
    # multipart: parts encrypted with the upload's key, part GETs decrypt only their part
    up = c.create_multipart_upload(Bucket=b, Key="mp", **put)
    if mode == "sse-s3":
        assert up["ServerSideEncryption"] == "AES256"
    parts, pieces = [], [os.urandom(5 * 1024 * 1024 + 7), os.urandom(1234)]
    for n, piece in enumerate(pieces, 1):
        r = c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=n,
                          Body=piece, **get)
        parts.append({"ETag": r["ETag"], "PartNumber": n})
    listed = c.list_parts(Bucket=b, Key="mp", UploadId=up["UploadId"])
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in pieces]
    done = c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"],
                                       MultipartUpload={"Parts": parts}, **get)
    assert done["ETag"].endswith('-2"')
    whole = b"".join(pieces)
    assert c.get_object(Bucket=b, Key="mp", **get)["Body"].read() == whole
    p2 = c.get_object(Bucket=b, Key="mp", PartNumber=2, **get)
    assert p2["Body"].read() == pieces[1] and p2["PartsCount"] == 2
    span = c.get_object(Bucket=b, Key="mp", Range=f"bytes={len(pieces[0]) - 10}-"
                        f"{len(pieces[0]) + 10}", **get)
    assert span["Body"].read() == whole[len(pieces[0]) - 10:len(pieces[0]) + 11]
    attrs = c.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectSize",
                                    "ObjectParts", "ETag"], **get)
    assert attrs["ObjectSize"] == len(whole)


# ---------------------------------------------------------------- SSE-C rules
def test_sse_c_key_rules(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="c", Body=b"secret", **sse_c())
    for call in (c.get_object, c.head_object):
        with pytest.raises(ClientError) as e:  # no key
            call(Bucket=b, Key="c")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        with pytest.raises(ClientError) as e:  # another key
            call(Bucket=b, Key="c", **sse_c(OTHER))
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    bad_md5 = {**sse_c(), "SSECustomerKeyMD5": base64.b64encode(b"x" * 16).decode()}
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=b, Key="d", Body=b"x", **bad_md5)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as e:  # a key for a plain object
        c.put_object(Bucket=b, Key="p", Body=b"x")
        c.get_object(Bucket=b, Key="p", **sse_c())
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    def add_sse(params: dict[str, Any], **_: Any) -> None:
        params["headers"]["x-amz-server-side-encryption"] = "AES256"
    c.meta.events.register("before-call.s3.HeadObject", add_sse)
    try:
        with pytest.raises(ClientError) as e:  # SSE headers on HEAD/GET
            c.head_object(Bucket=b, Key="p")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        c.meta.events.unregister("before-call.s3.HeadObject", add_sse)


def test_sse_c_refused_over_http_without_the_switch(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=["--no-fsync"])
    with running(server):
        s3 = server.client()
        s3.create_bucket(Bucket="plainhttp")
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="plainhttp", Key="k", Body=b"x", **sse_c())
        assert e.value.response["Error"]["Code"] == "InvalidRequest"
        assert "secure connection" in e.value.response["Error"]["Message"]
        s3.put_object(Bucket="plainhttp", Key="k", Body=b"x", ServerSideEncryption="AES256")


def test_unknown_kms_key(c: Any, b: str) -> None:
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=b, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                     SSEKMSKeyId="no-such-key")
    assert e.value.response["Error"]["Code"] == "KMS.NotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    r = c.put_object(Bucket=b, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    assert r["SSEKMSKeyId"] == "aws/s3"  # the default KMS key
    ctx = base64.b64encode(b'{"a":"b"}').decode()
    r = c.put_object(Bucket=b, Key="k2", Body=b"x", ServerSideEncryption="aws:kms",
                     SSEKMSKeyId="testkey-2", SSEKMSEncryptionContext=ctx,
                     BucketKeyEnabled=True)
    got = c.get_object(Bucket=b, Key="k2")
    assert got["SSEKMSKeyId"] == "testkey-2" and got["BucketKeyEnabled"] is True
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-server-side-encryption-context"] == ctx


# ---------------------------------------------------------------- copies
@pytest.mark.parametrize("src_mode", list(MODES))
@pytest.mark.parametrize("dst_mode", list(MODES))
def test_copy_matrix(c: Any, b: str, src_mode: str, dst_mode: str) -> None:
    data = os.urandom(150_000)
    c.put_object(Bucket=b, Key="src", Body=data, **MODES[src_mode][0])
    args = dict(MODES[dst_mode][0])
    if dst_mode == "sse-c":
        args = sse_c(OTHER)
    if src_mode == "sse-c":
        args.update(sse_c(copy=True))
    c.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"}, **args)
    get = sse_c(OTHER) if dst_mode == "sse-c" else {}
    assert c.get_object(Bucket=b, Key="dst", **get)["Body"].read() == data
    # UploadPartCopy across modes too
    up = c.create_multipart_upload(Bucket=b, Key="mpc", **(
        sse_c(OTHER) if dst_mode == "sse-c" else MODES[dst_mode][0]))
    pargs = dict(get)
    if src_mode == "sse-c":
        pargs.update(sse_c(copy=True))
    r = c.upload_part_copy(Bucket=b, Key="mpc", UploadId=up["UploadId"], PartNumber=1,
                           CopySource={"Bucket": b, "Key": "src"},
                           CopySourceRange="bytes=10-99999", **pargs)
    c.complete_multipart_upload(Bucket=b, Key="mpc", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"ETag": r["CopyPartResult"]["ETag"], "PartNumber": 1}]}, **get)
    assert c.get_object(Bucket=b, Key="mpc", **get)["Body"].read() == data[10:100_000]


def test_copy_of_sse_c_source_needs_its_key(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="src", Body=b"data", **sse_c())
    with pytest.raises(ClientError) as e:
        c.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        c.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"},
                      **sse_c(OTHER, copy=True))


# ---------------------------------------------------------------- bucket default encryption
def test_bucket_default_encryption(c: Any, b: str) -> None:
    with pytest.raises(ClientError) as e:
        c.get_bucket_encryption(Bucket=b)
    assert e.value.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError"
    c.put_object(Bucket=b, Key="before", Body=b"x")
    assert "ServerSideEncryption" not in c.head_object(Bucket=b, Key="before")
    c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": "testkey-2"},
        "BucketKeyEnabled": True}]})
    got = c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                         "KMSMasterKeyID": "testkey-2"}
    assert got["BucketKeyEnabled"] is True
    r = c.put_object(Bucket=b, Key="after", Body=b"x")
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == "testkey-2"
    r = c.put_object(Bucket=b, Key="asked", Body=b"x", ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"  # the request wins over the default
    c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    up = c.create_multipart_upload(Bucket=b, Key="mp")
    assert up["ServerSideEncryption"] == "AES256"
    c.delete_bucket_encryption(Bucket=b)
    with pytest.raises(ClientError):
        c.get_bucket_encryption(Bucket=b)
    assert "ServerSideEncryption" not in c.put_object(Bucket=b, Key="later", Body=b"x")
    with pytest.raises(ClientError) as e:
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": "nope"}}]})
    assert e.value.response["Error"]["Code"] == "KMS.NotFoundException"


def test_server_default_sse_s3(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=["--no-fsync", "--default-encryption",
                                                       "sse-s3"])
    with running(server):
        s3 = server.client()
        s3.create_bucket(Bucket="dflt")
        r = s3.put_object(Bucket="dflt", Key="k", Body=b"hello")
        assert r["ServerSideEncryption"] == "AES256"
        assert s3.get_object(Bucket="dflt", Key="k")["Body"].read() == b"hello"
        s3.put_object(Bucket="dflt", Key="k2", Body=b"x", ServerSideEncryption="aws:kms")
        assert s3.head_object(Bucket="dflt", Key="k2")["ServerSideEncryption"] == "aws:kms"


# ---------------------------------------------------------------- POST, presigned, AWS CLI
def test_presigned_and_post_object(c: Any, b: str, srv: Server) -> None:
    url = c.generate_presigned_url("put_object", Params={
        "Bucket": b, "Key": "pre", "ServerSideEncryption": "AES256"})
    r = requests.put(url, data=b"presigned", headers={"x-amz-server-side-encryption": "AES256"},
                     timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    assert c.get_object(Bucket=b, Key="pre")["Body"].read() == b"presigned"
    post = c.generate_presigned_post(b, "posted", Fields={"x-amz-server-side-encryption":
                                                          "AES256"},
                                     Conditions=[{"x-amz-server-side-encryption": "AES256"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": b"posted data"},
                      timeout=30)
    assert r.status_code == 204, r.text
    assert c.head_object(Bucket=b, Key="posted")["ServerSideEncryption"] == "AES256"


def test_aws_cli(c: Any, b: str, srv: Server, tmp_path: Path) -> None:
    aws = aws_runner(srv, tmp_path / "home", srv.root)
    src = tmp_path / "f.bin"
    data = os.urandom(9 * 1024 * 1024)  # multipart through the CLI
    src.write_bytes(data)
    out = aws("s3", "cp", str(src), f"s3://{b}/cli-s3", "--sse", "AES256")
    assert out.returncode == 0, out.stderr
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(CKEY)
    out = aws("s3", "cp", str(src), f"s3://{b}/cli-c", "--sse-c", "AES256",
              "--sse-c-key", f"fileb://{key_file}")
    assert out.returncode == 0, out.stderr
    head = aws_json(aws("s3api", "head-object", "--bucket", b, "--key", "cli-s3"))
    assert head["ServerSideEncryption"] == "AES256"
    back = tmp_path / "back.bin"
    out = aws("s3", "cp", f"s3://{b}/cli-c", str(back), "--sse-c", "AES256",
              "--sse-c-key", f"fileb://{key_file}")
    assert out.returncode == 0, out.stderr
    assert back.read_bytes() == data
    out = aws("s3", "cp", f"s3://{b}/cli-c", str(back))
    assert out.returncode != 0


# ---------------------------------------------------------------- what is on disk
@pytest.mark.skipif(on_postgres(), reason="inline data lives in PostgreSQL, not "
                                          "under the data dir")
def test_no_plaintext_anywhere_under_the_data_dir(c: Any, b: str, srv: Server) -> None:
    marks = {}
    for mode, (put, _) in MODES.items():
        if mode == "plain":
            continue
        m = marker()
        marks[mode] = m
        c.put_object(Bucket=b, Key=f"small-{mode}", Body=m, **put)  # would be inline if plain
        c.put_object(Bucket=b, Key=f"big-{mode}", Body=m * 30_000, **put)
        up = c.create_multipart_upload(Bucket=b, Key=f"mp-{mode}", **put)
        get = MODES[mode][1]
        c.upload_part(Bucket=b, Key=f"mp-{mode}", UploadId=up["UploadId"], PartNumber=1,
                      Body=m * 10, **get)  # left incomplete: the part blob stays
        c.copy_object(Bucket=b, Key=f"copy-{mode}", CopySource={"Bucket": b,
                      "Key": f"small-{mode}"}, **put,
                      **({k.replace("SSE", "CopySourceSSE", 1): v for k, v in get.items()}))
    plain = marker()
    c.put_object(Bucket=b, Key="plain", Body=plain)
    time.sleep(0.2)
    data_dir = srv.data_dir
    assert files_containing(data_dir, plain)  # the check can find what is there
    for mode, m in marks.items():
        assert files_containing(data_dir, m) == [], mode
    assert files_containing(data_dir, base64.b64encode(CKEY)) == []
    assert files_containing(data_dir, CKEY) == []
    md5 = hashlib.md5(CKEY).digest()  # not even the key's MD5 is kept
    assert files_containing(data_dir, md5) == []
    assert files_containing(data_dir, base64.b64encode(md5)) == []


def _blob_files(data_dir: Path) -> set[Path]:
    return {p for p in (data_dir / "blobs").rglob("*") if p.is_file() and len(p.name) == 32}


def test_flipped_bit_is_never_returned(c: Any, b: str, srv: Server) -> None:
    before = _blob_files(srv.data_dir)
    data = os.urandom(3 * 1024 * 1024)
    c.put_object(Bucket=b, Key="rot", Body=data, ServerSideEncryption="AES256")
    new = _blob_files(srv.data_dir) - before
    assert len(new) == 1
    path = new.pop()
    raw = bytearray(path.read_bytes())
    raw[2 * 1024 * 1024 + 5] ^= 0x10
    path.write_bytes(bytes(raw))
    os.posix_fadvise(os.open(path, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
    try:
        body = c.get_object(Bucket=b, Key="rot")["Body"].read()
    except (ClientError, BotoCoreError, urllib3.exceptions.HTTPError):
        body = None  # an error answer, or a stream cut off mid-way: never wrong bytes
    assert body is None or len(body) < len(data), "damaged data was returned"
    got = c.get_object(Bucket=b, Key="rot", Range="bytes=0-99")["Body"].read()
    assert got == data[:100]  # undamaged segments still read
    damaged = (2 * 1024 * 1024 + 5) // (64 * 1024 + 16) * 64 * 1024  # its segment's plaintext
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=b, Key="rot", Range=f"bytes={damaged}-{damaged + 9}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


# ---------------------------------------------------------------- rotation and crashes
def test_rotation_keeps_old_objects_readable(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=SERVE_ARGS)
    with running(server):
        s3 = server.client()
        s3.create_bucket(Bucket="rot")
        s3.put_object(Bucket="rot", Key="old", Body=b"old data", ServerSideEncryption="AES256")
        s3.put_object(Bucket="rot", Key="oldkms", Body=b"kms data",
                      ServerSideEncryption="aws:kms", SSEKMSKeyId="testkey-1")
        out = server.admin("keyring", "rotate")
        assert "new SSE-S3 master key" in out
        out = server.admin("kms", "rotate", "testkey-1")
        assert "new active version" in out
        s3.put_object(Bucket="rot", Key="new", Body=b"new data", ServerSideEncryption="AES256")
        s3.put_object(Bucket="rot", Key="newkms", Body=b"new kms",
                      ServerSideEncryption="aws:kms", SSEKMSKeyId="testkey-1")
        for key, want in (("old", b"old data"), ("new", b"new data"),
                          ("oldkms", b"kms data"), ("newkms", b"new kms")):
            assert s3.get_object(Bucket="rot", Key=key)["Body"].read() == want
        status = server.admin("keyring", "status")
        assert status.count("\tsse\t") == 2 and status.count("kms:testkey-1") == 2
        out = server.admin("keyring", "prune")  # both sse keys are still in use
        assert s3.get_object(Bucket="rot", Key="old")["Body"].read() == b"old data"
        listed = server.admin("kms", "list")
        assert "testkey-1" in listed and "testkey-2" in listed
    with running(server):  # after a restart too
        s3 = server.client()
        assert s3.get_object(Bucket="rot", Key="old")["Body"].read() == b"old data"


def test_kill_during_encrypted_upload_leaves_no_plaintext(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=["--kms-key", "k1"])
    m = marker()
    with running(server):
        s3 = server.client()
        s3.create_bucket(Bucket="crash")
        url = s3.generate_presigned_url("put_object", Params={
            "Bucket": "crash", "Key": "k", "ServerSideEncryption": "AES256"})
        total = 64 * 1024 * 1024
        host, port = "127.0.0.1", server.port
        path = url.split(f"{port}", 1)[1]
        sock = socket.create_connection((host, port))
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {total}"
                     "\r\nx-amz-server-side-encryption: AES256\r\n\r\n".encode())
        chunk = m * (1024 * 1024 // len(m))
        for _ in range(20):  # 20 MiB of 64, then the server dies
            sock.sendall(chunk)
        time.sleep(0.5)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        server.proc = None
        sock.close()
    assert files_containing(server.data_dir, m) == []
    with running(server):
        with pytest.raises(ClientError):
            server.client().head_object(Bucket="crash", Key="k")


def test_scrub_checks_encrypted_blobs_without_keys(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=SERVE_ARGS)
    with running(server):
        s3 = server.client()
        s3.create_bucket(Bucket="scr")
        for mode, (put, get) in MODES.items():
            s3.put_object(Bucket="scr", Key=mode, Body=os.urandom(3 * 1024 * 1024), **put)
            up = s3.create_multipart_upload(Bucket="scr", Key=f"mp-{mode}", **put)
            s3.upload_part(Bucket="scr", Key=f"mp-{mode}", UploadId=up["UploadId"],
                           PartNumber=1, Body=os.urandom(1024 * 1024), **get)
    clean = run_cli(server.data_dir, "scrub")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 corrupt" in clean.stdout and "0 truncated" in clean.stdout
    blobs = sorted(_blob_files(server.data_dir), key=lambda p: p.stat().st_size)
    raw = bytearray(blobs[-1].read_bytes())
    raw[1000] ^= 1
    blobs[-1].write_bytes(bytes(raw))
    damaged = run_cli(server.data_dir, "scrub")
    assert "1 corrupt" in damaged.stdout, damaged.stdout


def test_versions_of_encrypted_objects(c: Any, b: str) -> None:
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = c.put_object(Bucket=b, Key="v", Body=b"first", ServerSideEncryption="AES256")
    v2 = c.put_object(Bucket=b, Key="v", Body=b"second", **sse_c())
    assert v1["VersionId"] != v2["VersionId"]
    old = c.get_object(Bucket=b, Key="v", VersionId=v1["VersionId"])
    assert old["Body"].read() == b"first" and old["ServerSideEncryption"] == "AES256"
    with pytest.raises(ClientError):  # the current version needs its customer key
        c.get_object(Bucket=b, Key="v")
    assert c.get_object(Bucket=b, Key="v", **sse_c())["Body"].read() == b"second"
    # restoring the old version by copy re-encrypts it as asked
    r = c.copy_object(Bucket=b, Key="v", CopySource={"Bucket": b, "Key": "v",
                                                     "VersionId": v1["VersionId"]},
                      ServerSideEncryption="aws:kms", SSEKMSKeyId="testkey-2")
    assert r["SSEKMSKeyId"] == "testkey-2"
    assert c.get_object(Bucket=b, Key="v")["Body"].read() == b"first"
    versions = c.list_object_versions(Bucket=b, Prefix="v")["Versions"]
    assert len(versions) == 3
