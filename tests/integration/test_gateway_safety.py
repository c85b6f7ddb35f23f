"""Several gateways sharing one data directory (issue 12, lane C): blobs read with pread
where a remote unlink could kill a memory-mapping reader, garbage blobs kept for a grace
period, temp files per gateway, request ids unique across processes."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from harness import Server, free_port, new_server, on_postgres, read_until_cut, running, temp_files

MiB = 1024 * 1024


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def _blobs(data_dir: Path) -> set[Path]:
    return {p for p in (data_dir / "blobs").rglob("*") if p.is_file() and len(p.name) == 32}


def _started_get(srv: Server, bucket: str, key: str) -> tuple[http.client.HTTPConnection,
                                                                http.client.HTTPResponse]:
    """An anonymous GET (the bucket is public-read) whose body is left unread."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", f"/{bucket}/{key}")
    resp = conn.getresponse()
    assert resp.status == 200
    return conn, resp


def _public_bucket(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_bucket_acl(Bucket=name, ACL="public-read")


def _put_public(s3: Any, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ACL="public-read")


# ---------------------------------------------------------------- reads with pread
def test_pread_mode_serves_every_range_alike(tmp_path: Path) -> None:
    with running(new_server(tmp_path / "data", "PREAD", ["--blob-read", "pread"])) as srv:
        s3 = srv.client()
        s3.create_bucket(Bucket="prd")
        body = os.urandom(9 * MiB + 12345)
        s3.put_object(Bucket="prd", Key="k", Body=body)
        assert s3.get_object(Bucket="prd", Key="k")["Body"].read() == body
        for lo, hi in ((0, 0), (1, MiB), (MiB - 1, 5 * MiB + 7), (4 * MiB, 9 * MiB + 12344),
                       (300 * 1024, 700 * 1024)):
            got = s3.get_object(Bucket="prd", Key="k", Range=f"bytes={lo}-{hi}")["Body"].read()
            assert got == body[lo:hi + 1], (lo, hi)
        up = s3.create_multipart_upload(Bucket="prd", Key="mp")["UploadId"]
        parts = [os.urandom(5 * MiB), os.urandom(3 * MiB + 1)]
        etags = [s3.upload_part(Bucket="prd", Key="mp", UploadId=up, PartNumber=i + 1,
                                Body=p)["ETag"] for i, p in enumerate(parts)]
        s3.complete_multipart_upload(Bucket="prd", Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
        got = s3.get_object(Bucket="prd", Key="mp", Range=f"bytes={5 * MiB - 10}-")
        assert got["Body"].read() == (parts[0] + parts[1])[5 * MiB - 10:]


def test_pread_mode_detects_a_corrupted_block(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", "PREADBAD",
                     ["--blob-read", "pread", "--verify-reads", "all"])
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket="bad")
        body = os.urandom(6 * MiB)
        s3.put_object(Bucket="bad", Key="k", Body=body)
        (blob,) = _blobs(srv.data_dir)
        with open(blob, "r+b") as f:
            f.seek(2 * MiB + 5)
            f.write(bytes([body[2 * MiB + 5] ^ 0xFF]))
        got = b""
        try:
            got = s3.get_object(Bucket="bad", Key="k")["Body"].read()
        except Exception:  # noqa: BLE001 - a dropped connection is the expected outcome
            pass
        assert got != body  # never the damaged bytes passed off as the object
        assert s3.head_object(Bucket="bad", Key="k")["ContentLength"] == 6 * MiB  # still up


def test_a_blob_cut_short_under_a_reader_does_not_kill_a_pread_gateway(
        tmp_path: Path) -> None:
    """What a remote unlink does to a reader on NFS, done here by truncating the blob under
    a streaming GET: a memory map of it faults with SIGBUS (the process dies); pread gets a
    short read, the one answer is cut off, and the gateway serves on."""
    with running(new_server(tmp_path / "data", "SIGBUS", ["--blob-read", "pread"])) as srv:
        s3 = srv.client()
        _public_bucket(s3, "cut")
        body = os.urandom(64 * MiB)
        _put_public(s3, "cut", "big", body)
        (blob,) = _blobs(srv.data_dir)
        conn, resp = _started_get(srv, "cut", "big")
        assert resp.read(MiB) == body[:MiB]
        os.truncate(blob, 0)
        read_until_cut(conn, resp)
        assert srv.proc is not None and srv.proc.poll() is None, "the gateway died"
        assert s3.list_objects_v2(Bucket="cut")["KeyCount"] == 1


ONE_MACHINE = "one machine on SQLite (PostgreSQL means cluster mode: pread and a grace)"


@pytest.mark.skipif(on_postgres(), reason=ONE_MACHINE)
def test_auto_mode_is_mmap_on_a_local_disk_and_pread_in_cluster_mode(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "local", "AUTO1")
    with running(srv):
        srv.client().list_buckets()
    assert "cluster mode" not in (srv.log_path.read_text() if srv.log_path else "")
    srv = new_server(tmp_path / "shared", "AUTO2", ["--cluster", "--gateway-id", "gw-a"])
    with running(srv):
        srv.client().list_buckets()
    log = srv.log_path.read_text() if srv.log_path else ""
    assert "cluster mode: gateway gw-a, blobs read with pread, unlinked 3600 s" in log


# ---------------------------------------------------------------- the grace period
def _overwrite_under_a_slow_reader(srv: Server) -> tuple[set[Path], bytes, Any, Any]:
    s3 = srv.client()
    _public_bucket(s3, "grc")
    old = os.urandom(32 * MiB)
    _put_public(s3, "grc", "k", old)
    (old_blob,) = _blobs(srv.data_dir)
    conn, resp = _started_get(srv, "grc", "k")
    first = resp.read(MiB)  # the reader started before the overwrite ...
    _put_public(s3, "grc", "k", os.urandom(2 * MiB))
    s3.put_object(Bucket="grc", Key="other", Body=b"x" * 100_000)  # one more commit
    return {old_blob}, old, (conn, resp), first


def test_with_a_grace_an_old_blob_stays_until_it_expires(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", "GRACE", ["--blob-grace", "4"])
    with running(srv):
        olds, old, (conn, resp), first = _overwrite_under_a_slow_reader(srv)
        time.sleep(1.5)
        assert olds <= _blobs(srv.data_dir), "the old blob is kept during the grace"
        rest = resp.read()  # ... and finishes with the old bytes
        conn.close()
        assert hashlib.sha256(first + rest).digest() == hashlib.sha256(old).digest()
        assert _wait(lambda: not olds & _blobs(srv.data_dir), 10), "reaped after the grace"
        assert srv.client().get_object(Bucket="grc", Key="k")["ContentLength"] == 2 * MiB


@pytest.mark.skipif(on_postgres(), reason=ONE_MACHINE)
def test_without_a_grace_the_old_blob_goes_at_once(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", "NOGRACE")
    with running(srv):
        olds, old, (conn, resp), first = _overwrite_under_a_slow_reader(srv)
        assert _wait(lambda: not olds & _blobs(srv.data_dir), 3), "unlinked after the commit"
        rest = resp.read()  # an open file survives its unlink on one machine
        conn.close()
        assert first + rest == old


def test_a_reader_on_one_gateway_outlives_an_overwrite_on_another(tmp_path: Path) -> None:
    """Cluster mode on two gateways: a GET streaming from gateway a (pread) while gateway b
    overwrites the object finishes with the old bytes; the old blob is reaped after the
    grace by whichever gateway holds the blob-gc lease."""
    data = tmp_path / "data"
    args = ["--cluster", "--blob-grace", "4"]
    a = new_server(data, "XGRACE", ["--gateway-id", "a", *args])
    b = Server(data, free_port(), a.root, extra_args=["--gateway-id", "b", *args])
    with running(a), running(b):
        s3a, s3b = a.client(), b.client()
        _public_bucket(s3a, "xgw")
        old = os.urandom(32 * MiB)
        _put_public(s3a, "xgw", "k", old)
        (old_blob,) = _blobs(data)
        conn, resp = _started_get(a, "xgw", "k")
        first = resp.read(MiB)
        new = os.urandom(3 * MiB)
        _put_public(s3b, "xgw", "k", new)
        assert s3a.get_object(Bucket="xgw", Key="k")["Body"].read() == new  # read-after-write
        time.sleep(1.5)
        assert old_blob in _blobs(data)
        rest = resp.read()
        conn.close()
        assert first + rest == old
        assert _wait(lambda: old_blob not in _blobs(data), 12), "reaped after the grace"
        assert s3b.get_object(Bucket="xgw", Key="k")["Body"].read() == new


def test_gc_command_leaves_garbage_within_its_grace(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", "GCGRACE", ["--blob-grace", "3600"])
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket="gcb")
        s3.put_object(Bucket="gcb", Key="k", Body=os.urandom(MiB))
        (old_blob,) = _blobs(srv.data_dir)
        s3.put_object(Bucket="gcb", Key="k", Body=os.urandom(MiB))
        srv.admin("account", "create", "someone")  # an admin commit reaps nothing
        srv.admin("gc")  # its default --grace (3600 s) covers the garbage
        assert old_blob in _blobs(srv.data_dir), "garbage in its grace is no orphan"
        assert " 0 orphan," in srv.admin("scrub", "--grace", "0")
        srv.admin("gc", "--grace", "0")  # an operator's explicit "now"
        assert old_blob not in _blobs(srv.data_dir)


# ---------------------------------------------------------------- temp files per gateway
def test_gateways_never_sweep_each_others_temp_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = new_server(data, "GWA", ["--gateway-id", "gw-a", "--tmp-max-age", "1"])
    b = Server(data, free_port(), a.root,
               extra_args=["--gateway-id", "gw-b", "--tmp-max-age", "1"])
    with running(a), running(b):
        b_dir = data / "tmp" / "gw-b"
        assert (b_dir / ".alive").exists() and (data / "tmp" / "gw-a" / ".alive").exists()
        # b's own sweep would take an old file of its own: stop b's sweeps first by stopping
        # b (SIGSTOP keeps its lock), then leave an upload of b's, in its eyes still running
        assert b.proc is not None
        b.proc.send_signal(signal.SIGSTOP)
        stale = b_dir / ("f" * 32)
        past = time.time() - 60
        try:
            stale.write_bytes(b"x" * 1000)
            os.utime(stale, (past, past))
            time.sleep(2.5)  # several sweeps of gateway a
            assert stale.exists(), "gateway a swept a running gateway's temp file"
        finally:
            b.proc.send_signal(signal.SIGCONT)
        b.stop(signal.SIGKILL)  # gateway b is gone: its leftovers are anyone's to sweep
        os.utime(stale, (past, past))
        assert _wait(lambda: not stale.exists(), 5), "a dead gateway's temp file stays"
        assert temp_files(data) == []


# ---------------------------------------------------------------- request ids
def test_request_ids_are_unique_across_gateways(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = new_server(data, "RIDS", ["--gateway-id", "one"])
    b = Server(data, free_port(), a.root, extra_args=["--gateway-id", "two"])
    seen: set[str] = set()
    prefixes: set[str] = set()
    with running(a), running(b):
        for srv in (a, b, a, b):
            s3 = srv.client()
            for _ in range(50):
                meta = s3.list_buckets()["ResponseMetadata"]
                rid = meta["RequestId"]
                assert len(rid) == 24 and all(c in "0123456789ABCDEF" for c in rid)
                assert rid not in seen
                seen.add(rid)
                prefixes.add(rid[:16])
    assert len(prefixes) == 2  # one random 64-bit prefix per process


# ---------------------------------------------------------------- once per cluster
def test_the_periodic_scrub_runs_once_per_interval_across_gateways(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ["--scrub-interval", "0.0005", "--scrub-rate", "50"]  # every 1.8 s
    a = new_server(data, "SCRUBONCE", ["--gateway-id", "a", *args])
    b = Server(data, free_port(), a.root, extra_args=["--gateway-id", "b", *args])
    with running(a), running(b):
        a.client().create_bucket(Bucket="scrubbed")
        a.client().put_object(Bucket="scrubbed", Key="k", Body=os.urandom(MiB))
        time.sleep(9)

    def started(srv: Server) -> int:
        return (srv.log_path.read_text() if srv.log_path else "").count(
            "background scrub started")
    total = started(a) + started(b)
    assert 2 <= total <= 9 / 1.8 + 2, (started(a), started(b))  # not once per gateway


def test_workers_of_one_gateway_share_its_temp_directory(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", "WORKCL", ["--workers", "2", "--cluster",
                                                  "--gateway-id", "gw/1", "--blob-grace", "2"])
    with running(srv, signal.SIGTERM):
        s3 = srv.client()
        s3.create_bucket(Bucket="wkc")
        for i in range(6):  # over both workers
            s3.put_object(Bucket="wkc", Key="k", Body=os.urandom(MiB + i))
        assert sorted(p.name for p in (srv.data_dir / "tmp").iterdir()) == ["gw_1"]
        assert _wait(lambda: len(_blobs(srv.data_dir)) == 1, 15), "garbage reaped"
        assert s3.get_object(Bucket="wkc", Key="k")["ContentLength"] == MiB + 5
