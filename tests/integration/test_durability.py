"""Durability across restarts and crashes; gc after a crash; clean SIGTERM shutdown.

Every test here runs its own server on its own data directory.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from harness import Server, new_server, running

MiB = 1024 * 1024


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    with running(new_server(tmp_path / "data", "DURABLE")) as srv:
        yield srv


def etag_of(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


def snapshot(s3: Any) -> dict[str, dict[str, tuple[int, str]]]:
    """bucket -> key -> (size, etag), as the server lists them."""
    out: dict[str, dict[str, tuple[int, str]]] = {}
    for b in s3.list_buckets()["Buckets"]:
        objs = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"]):
            for o in page.get("Contents", []):
                objs[o["Key"]] = (o["Size"], o["ETag"])
        out[b["Name"]] = objs
    return out


def populate(s3: Any) -> dict[tuple[str, str], bytes]:
    data = {
        ("dur-one", "empty"): b"",
        ("dur-one", "small"): b"hello durable world",
        ("dur-one", "dir/nested/ünï 🙂"): os.urandom(1000),
        ("dur-two", "big"): os.urandom(3 * MiB + 17),
        ("dur-two", "overwritten"): b"version 2",
    }
    s3.create_bucket(Bucket="dur-one")
    s3.create_bucket(Bucket="dur-two")
    s3.create_bucket(Bucket="dur-empty")
    s3.put_object(Bucket="dur-two", Key="overwritten", Body=b"version 1 - longer")
    s3.put_object(Bucket="dur-two", Key="deleted", Body=b"gone soon")
    for (bucket, key), body in data.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sha": hashlib.sha1(
            body).hexdigest()})
    s3.delete_object(Bucket="dur-two", Key="deleted")
    return data


def check(s3: Any, data: dict[tuple[str, str], bytes]) -> None:
    expected = {"dur-one": {}, "dur-two": {}, "dur-empty": {}}
    for (bucket, key), body in data.items():
        expected[bucket][key] = (len(body), etag_of(body))
    assert snapshot(s3) == expected
    for (bucket, key), body in data.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body, key
        assert got["ETag"] == etag_of(body)
        assert got["Metadata"] == {"sha": hashlib.sha1(body).hexdigest()}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_objects_and_buckets_survive_restart(own_server: Server, sig: int) -> None:
    data = populate(own_server.client())
    own_server.stop(sig)
    own_server.start()
    check(own_server.client(), data)
    # and the restarted server keeps working
    s3 = own_server.client()
    s3.put_object(Bucket="dur-empty", Key="after", Body=b"after restart")
    assert s3.get_object(Bucket="dur-empty", Key="after")["Body"].read() == b"after restart"


def test_acknowledged_writes_survive_immediate_kill(own_server: Server) -> None:
    s3 = own_server.client()
    s3.create_bucket(Bucket="ack")
    bodies = {f"k{i}": os.urandom(100 + i) for i in range(20)}
    for key, body in bodies.items():
        s3.put_object(Bucket="ack", Key=key, Body=body)
    s3.delete_object(Bucket="ack", Key="k0")
    own_server.stop(signal.SIGKILL)  # straight after the last acknowledgement
    own_server.start()
    s3 = own_server.client()
    listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket="ack")["Contents"]}
    assert listed == {k: etag_of(b) for k, b in bodies.items() if k != "k0"}


# ------------------------------------------------------------------ crash mid-PUT

class PartialPut:
    """A SigV4 UNSIGNED-PAYLOAD PUT announcing ``total`` bytes, streamed by hand."""

    def __init__(self, server: Server, bucket: str, key: str, total: int) -> None:
        req = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/{key}", data=b"",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        S3SigV4Auth(Credentials(server.root.access_key, server.root.secret_key), "s3",
                    "us-east-1").add_auth(req)
        assert req.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.conn.putrequest("PUT", f"/{bucket}/{key}", skip_accept_encoding=True)
        for name, value in req.headers.items():
            self.conn.putheader(name, value)
        self.conn.putheader("Content-Length", str(total))
        self.conn.endheaders()
        self.sent = 0

    def send(self, nbytes: int, chunk: bytes) -> None:
        while nbytes > 0:
            part = chunk[: min(len(chunk), nbytes)]
            self.conn.send(part)
            self.sent += len(part)
            nbytes -= len(part)

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass


def du(path: Path) -> int:
    """Bytes of data and metadata (not the ballast kept for deletes on a full disk)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()
               and f.name != "reserve.bin")


def test_kill_9_mid_put_keeps_previous_version(own_server: Server) -> None:
    s3 = own_server.client()
    s3.create_bucket(Bucket="crash")
    v1 = os.urandom(2 * MiB + 3)
    s3.put_object(Bucket="crash", Key="victim", Body=v1)
    s3.put_object(Bucket="crash", Key="bystander", Body=b"untouched")
    v1_etag = s3.head_object(Bucket="crash", Key="victim")["ETag"]
    assert v1_etag == etag_of(v1)

    chunk = os.urandom(MiB)
    overwrite = PartialPut(own_server, "crash", "victim", 200 * MiB)
    fresh = PartialPut(own_server, "crash", "fresh", 200 * MiB)
    try:
        for _ in range(40):  # 40 MiB of 200 on each connection
            overwrite.send(MiB, chunk)
            fresh.send(MiB, chunk)
        time.sleep(0.5)  # let the server ingest what it has
        assert own_server.proc is not None and own_server.proc.poll() is None
        own_server.stop(signal.SIGKILL)
    finally:
        overwrite.close()
        fresh.close()

    own_server.start()
    s3 = own_server.client()
    got = s3.get_object(Bucket="crash", Key="victim")
    assert got["ETag"] == v1_etag
    assert got["ContentLength"] == len(v1)
    assert got["Body"].read() == v1
    assert snapshot(s3)["crash"] == {"victim": (len(v1), v1_etag),
                                     "bystander": (9, etag_of(b"untouched"))}
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket="crash", Key="fresh")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    # (c) gc after the crash: the data stays readable, the cut-off uploads' bytes go
    out = own_server.admin("gc", "--grace", "0")
    assert "removed" in out
    got = s3.get_object(Bucket="crash", Key="victim")
    assert got["Body"].read() == v1 and got["ETag"] == v1_etag
    assert s3.get_object(Bucket="crash", Key="bystander")["Body"].read() == b"untouched"
    assert du(own_server.data_dir) < len(v1) + 16 * MiB, "partial upload bytes not reclaimed"
    # a restart after gc still has everything, and the key can be written again
    own_server.stop()
    own_server.start()
    s3 = own_server.client()
    assert s3.get_object(Bucket="crash", Key="victim")["Body"].read() == v1
    s3.put_object(Bucket="crash", Key="victim", Body=b"v2")
    assert s3.get_object(Bucket="crash", Key="victim")["Body"].read() == b"v2"


def test_gc_while_serving_keeps_data(own_server: Server) -> None:
    s3 = own_server.client()
    s3.create_bucket(Bucket="gc-test")
    bodies = {f"o{i}": os.urandom(70_000 + i) for i in range(5)}
    for key, body in bodies.items():
        s3.put_object(Bucket="gc-test", Key=key, Body=body)
    s3.put_object(Bucket="gc-test", Key="o0", Body=b"replaced")  # an old blob becomes garbage
    bodies["o0"] = b"replaced"
    own_server.admin("gc", "--grace", "0")
    for key, body in bodies.items():
        assert s3.get_object(Bucket="gc-test", Key=key)["Body"].read() == body


# ------------------------------------------------------------------ shutdown

def _sigterm(server: Server) -> tuple[int | None, float]:
    s3 = server.client()
    s3.create_bucket(Bucket="term")
    s3.put_object(Bucket="term", Key="k", Body=b"v")
    # an idle keep-alive connection is open in boto3's pool
    assert s3.get_object(Bucket="term", Key="k")["Body"].read() == b"v"
    t0 = time.monotonic()
    code = server.stop(signal.SIGTERM)
    return code, time.monotonic() - t0


def test_sigterm_shuts_down_gracefully_and_promptly(own_server: Server) -> None:
    code, elapsed = _sigterm(own_server)
    assert elapsed < 5, f"SIGTERM took {elapsed:.1f}s"
    assert code in (0, -signal.SIGTERM), code  # not killed by Server.stop's SIGKILL fallback
    assert own_server.log_path is not None
    assert "Application shutdown complete" in own_server.log_path.read_text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", own_server.port), timeout=1).close()
    own_server.start()  # the data directory is reusable at once
    assert own_server.client().get_object(Bucket="term", Key="k")["Body"].read() == b"v"


def test_sigterm_exit_code_is_zero(own_server: Server) -> None:
    code, elapsed = _sigterm(own_server)
    assert elapsed < 5
    assert code == 0


def test_sigterm_with_stalled_upload_exits_in_bounded_time(own_server: Server) -> None:
    own_server.client().create_bucket(Bucket="stall")
    stalled = PartialPut(own_server, "stall", "k", 10 * MiB)
    try:
        stalled.send(MiB, b"x" * 65536)  # then go quiet, like a dead client
        time.sleep(0.3)
        proc = own_server.proc
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)  # the default --shutdown-timeout is 10 s
            exited = True
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
            exited = False
        assert exited, "server still running 15 s after SIGTERM"
        # the cut-off upload left nothing behind
        own_server.proc = None
        own_server.start()
        with pytest.raises(ClientError):
            own_server.client().head_object(Bucket="stall", Key="k")
    finally:
        stalled.close()
