"""Bit rot, missing and truncated blobs: never a clean 200 of wrong bytes (issue 9, item 7
and the missing-blob part of item 3). Also scrub and fsck --repair.

Blobs are damaged on disk behind the running server's back.
"""

from __future__ import annotations

import http.client
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError, ResponseStreamingError
from harness import Server, new_server, running
from storage_util import blob_paths, flip_byte, run_cli
from urllib3.exceptions import ProtocolError

MiB = 1024 * 1024
TRAILER_FOOTER = 24


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(new_server(tmp_path_factory.mktemp("faults") / "data", "FAULTS")) as server:
        yield server


@pytest.fixture
def s3b(srv: Server) -> tuple[Any, str]:
    s3 = srv.client()
    name = "rot-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return s3, name


def stored(srv: Server, s3: Any, bucket: str, key: str, size: int) -> tuple[bytes, Path]:
    """A new object of ``size`` random bytes and the path of its (one) blob."""
    body = os.urandom(size)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    (path,) = blob_paths(srv.data_dir, bucket, key)
    return body, path


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return int(r["ResponseMetadata"]["HTTPStatusCode"]), str(r["Error"]["Code"])


def _log(srv: Server) -> str:
    assert srv.log_path is not None
    return srv.log_path.read_text(errors="replace")


def _wait_log(srv: Server, needle: str, timeout: float = 5.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = _log(srv)
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in the server log")


def test_small_blob_corrupted_is_500_not_wrong_bytes(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body = os.urandom(100 * 1024)  # above the inline limit, below the small-read limit
    s3.put_object(Bucket=b, Key="small", Body=body)
    assert s3.get_object(Bucket=b, Key="small")["Body"].read() == body
    (path,) = blob_paths(srv.data_dir, b, "small")
    assert path.stat().st_size == len(body) + 4 + TRAILER_FOOTER  # data + one CRC + footer
    flip_byte(path, 70_000)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="small")
    assert _code(exc) == (500, "InternalError")
    with pytest.raises(ClientError) as exc:  # a range inside the damaged block
        s3.get_object(Bucket=b, Key="small", Range="bytes=0-99")
    assert _code(exc) == (500, "InternalError")
    text = _wait_log(srv, f"object {b}/small")
    assert f"STORAGE FAULT blob {path.name} corrupt object {b}/small" in text
    # the metadata is kept: HEAD and LIST still show the object (scrub reports the damage)
    assert s3.head_object(Bucket=b, Key="small")["ContentLength"] == len(body)


def test_5mib_corrupted_in_third_mib(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "five", 5 * MiB)
    flip_byte(path, 2 * MiB + 12345)
    # a full GET: the first window (4 MiB) holds the bad block, so the answer is an error
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="five")
    assert _code(exc) == (500, "InternalError")
    # ranges over clean blocks still work, small and large
    got = s3.get_object(Bucket=b, Key="five", Range="bytes=0-1000")["Body"].read()
    assert got == body[:1001]
    got = s3.get_object(Bucket=b, Key="five", Range=f"bytes={4 * MiB - 10}-")["Body"].read()
    assert got == body[4 * MiB - 10:]
    got = s3.get_object(Bucket=b, Key="five", Range=f"bytes={3 * MiB}-{4 * MiB + 5}")
    assert got["Body"].read() == body[3 * MiB:4 * MiB + 6]
    # a range touching the bad block does not
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="five", Range=f"bytes={2 * MiB + 12000}-{2 * MiB + 12999}")
    assert _code(exc) == (500, "InternalError")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="five", Range=f"bytes={MiB}-{3 * MiB}")
    assert _code(exc) == (500, "InternalError")


def _raw_get(srv: Server, s3: Any, bucket: str, key: str) -> tuple[int, int, bytes, bool]:
    """(status, Content-Length, the bytes received, whether the body was complete)."""
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                                   "Key": key}))
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("GET", f"{url.path}?{url.query}")
        resp = conn.getresponse()
        length = int(resp.getheader("Content-Length") or -1)
        try:
            return resp.status, length, resp.read(), True
        except http.client.IncompleteRead as exc:
            return resp.status, length, bytes(exc.partial), False
    finally:
        conn.close()


def test_corruption_mid_body_drops_the_connection(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "ten", 10 * MiB)
    flip_byte(path, 9 * MiB + 5)
    status, length, got, complete = _raw_get(srv, s3, b, "ten")
    assert status == 200 and length == len(body)  # the headers went out before the damage
    assert not complete and len(got) < len(body)
    assert got == body[:len(got)], "no wrong byte may reach the client"
    assert len(got) <= 9 * MiB
    _wait_log(srv, "response body cut off, connection dropped")
    assert "Exception in ASGI application" not in _log(srv)
    with pytest.raises((ProtocolError, ResponseStreamingError)):  # boto3 sees it cut off too
        s3.get_object(Bucket=b, Key="ten")["Body"].read()


def test_multipart_part_corrupted(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    parts = [os.urandom(5 * MiB), os.urandom(MiB + 7)]
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    etags = [s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    first, second = blob_paths(srv.data_dir, b, "mp")
    flip_byte(second, MiB + 3)  # the short last block of part 2
    got = s3.get_object(Bucket=b, Key="mp", PartNumber=1)["Body"].read()
    assert got == parts[0]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="mp", PartNumber=2)
    assert _code(exc) == (500, "InternalError")
    status, _length, got, complete = _raw_get(srv, s3, b, "mp")
    assert status == 200 and not complete
    assert got == (parts[0] + parts[1])[:len(got)]


def test_copy_of_a_corrupted_object_fails(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "src", 3 * MiB)
    flip_byte(path, MiB + 1)
    # a copy that reads the bytes (a new checksum to compute) checks them
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"},
                       ChecksumAlgorithm="SHA256")
    assert _code(exc) == (500, "InternalError")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=b, Key="dst")
    assert _code(exc)[0] == 404  # the bad bytes were not laundered into a new object
    # a plain copy shares the source's blob (no bytes read): the damage shows on reading it
    s3.copy_object(Bucket=b, Key="shared", CopySource={"Bucket": b, "Key": "src"})
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="shared", Range=f"bytes={MiB}-{MiB + 10}")
    assert _code(exc) == (500, "InternalError")
    up = s3.create_multipart_upload(Bucket=b, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=b, Key="dst", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": b, "Key": "src"},
                            CopySourceRange=f"bytes={MiB}-{2 * MiB}")
    assert _code(exc) == (500, "InternalError")
    # a clean range of the same source copies fine
    s3.upload_part_copy(Bucket=b, Key="dst", UploadId=up, PartNumber=1,
                        CopySource={"Bucket": b, "Key": "src"},
                        CopySourceRange=f"bytes={2 * MiB}-{3 * MiB - 1}")
    s3.abort_multipart_upload(Bucket=b, Key="dst", UploadId=up)


def test_missing_blob_is_500_logged_and_kept(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "gone", 300 * 1024)
    path.unlink()
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="gone")
    assert _code(exc) == (500, "InternalError")  # a server fault, never a silent 404
    text = _wait_log(srv, f"blob {path.name} missing")
    assert f"STORAGE FAULT blob {path.name} missing object {b}/gone" in text
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]
    assert keys == ["gone"]  # metadata kept for the administrator to decide
    with pytest.raises(ClientError) as exc:  # HEAD does not pretend all is well either
        s3.head_object(Bucket=b, Key="gone")
    assert _code(exc)[0] == 500


def test_truncated_blob_is_500(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "short", 6 * MiB)
    os.truncate(path, 5 * MiB)
    status, _length, got, complete = _raw_get(srv, s3, b, "short")
    assert status == 500 and complete
    assert b"<Code>InternalError</Code>" in got
    _wait_log(srv, f"blob {path.name} truncated")


def test_old_format_blob_served_then_repaired(srv: Server, s3b: tuple[Any, str]) -> None:
    s3, b = s3b
    body, path = stored(srv, s3, b, "old", 2 * MiB + 100)
    os.truncate(path, len(body))  # as written before block checksums existed
    assert s3.get_object(Bucket=b, Key="old")["Body"].read() == body  # served unverified
    res = run_cli(srv.data_dir, "fsck", "--repair", "--grace", "3600")
    assert f"repaired: added block checksums to {path.name}" in res.stdout, res.stdout
    assert path.stat().st_size == len(body) + 3 * 4 + TRAILER_FOOTER
    assert s3.get_object(Bucket=b, Key="old")["Body"].read() == body
    flip_byte(path, 5)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=b, Key="old")
    assert _code(exc) == (500, "InternalError")


# ------------------------------------------------------------------ scrub and fsck

@pytest.fixture
def own(tmp_path: Path) -> Iterator[Server]:
    with running(new_server(tmp_path / "data", "SCRUB")) as server:
        yield server


def test_scrub_finds_everything_and_fsck_repairs_what_it_can(own: Server) -> None:
    s3 = own.client()
    s3.create_bucket(Bucket="bkt")
    bodies = {k: os.urandom(n) for k, n in (("good", 3 * MiB), ("rot", 3 * MiB),
                                            ("gone", 200 * 1024), ("cut", 2 * MiB),
                                            ("old", MiB + 1), ("tiny", 100))}
    for key, body in bodies.items():
        s3.put_object(Bucket="bkt", Key=key, Body=body)
    up = s3.create_multipart_upload(Bucket="bkt", Key="pending")["UploadId"]
    s3.upload_part(Bucket="bkt", Key="pending", UploadId=up, PartNumber=1, Body=os.urandom(MiB))
    clean = run_cli(own.data_dir, "scrub")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 corrupt" in clean.stdout and "0 missing" in clean.stdout

    path = {k: blob_paths(own.data_dir, "bkt", k) for k in bodies if k != "tiny"}
    flip_byte(path["rot"][0], 2 * MiB + 1)
    path["gone"][0].unlink()
    os.truncate(path["cut"][0], MiB)
    os.truncate(path["old"][0], MiB + 1)
    orphan = own.data_dir / "blobs" / "ab" / "cd" / ("abcd" + "0" * 28)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind")
    stale_tmp = own.data_dir / "tmp" / ("f" * 32)
    stale_tmp.write_bytes(b"cut off upload")
    for p in (orphan, stale_tmp):
        os.utime(p, (time.time() - 7200, time.time() - 7200))

    res = run_cli(own.data_dir, "scrub", "--rate", "100")
    out = res.stdout
    assert res.returncode == 1, out + res.stderr
    assert f"corrupt {path['rot'][0].name} object bkt/rot block 2" in out
    assert f"missing {path['gone'][0].name} object bkt/gone" in out
    assert f"truncated {path['cut'][0].name} object bkt/cut" in out
    assert f"old-format {path['old'][0].name} object bkt/old" in out
    assert f"orphan {orphan.name}" in out
    assert "tmp" in out and stale_tmp.name in out
    assert "1 corrupt" in out and "1 missing" in out and "1 truncated" in out
    assert "1 orphan" in out
    assert path["good"][0].name not in out

    res = run_cli(own.data_dir, "fsck", "--repair")
    assert res.returncode == 1  # damaged objects remain: reported, never deleted
    assert f"repaired: removed orphan blob {orphan.name}" in res.stdout
    assert f"repaired: added block checksums to {path['old'][0].name}" in res.stdout
    assert "removed 1 stale temporary files" in res.stdout
    assert not orphan.exists() and not stale_tmp.exists()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]}
    assert keys == set(bodies)  # no record was removed
    assert s3.get_object(Bucket="bkt", Key="old")["Body"].read() == bodies["old"]
    assert s3.get_object(Bucket="bkt", Key="good")["Body"].read() == bodies["good"]
    assert s3.list_parts(Bucket="bkt", Key="pending", UploadId=up)["Parts"]

    for key in ("rot", "gone", "cut"):  # the administrator gives up on the damaged ones
        s3.delete_object(Bucket="bkt", Key=key)
    res = run_cli(own.data_dir, "scrub")
    assert res.returncode == 0, res.stdout


def test_background_scrub_logs_findings(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", "BGSCRUB",
                        ["--scrub-interval", "0.0005", "--scrub-rate", "50"])
    server.start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="bkt")
        s3.put_object(Bucket="bkt", Key="rot", Body=os.urandom(2 * MiB))
        (path,) = blob_paths(server.data_dir, "bkt", "rot")
        flip_byte(path, 100)
        text = _wait_log(server, f"SCRUB corrupt {path.name} object bkt/rot", timeout=15)
        assert "background scrub done" in _wait_log(server, "background scrub done")
        assert "Traceback" not in text
    finally:
        server.stop(signal.SIGKILL)


def test_scrub_while_objects_are_overwritten_finds_nothing(own: Server) -> None:
    """Blobs replaced (and unlinked) while a slow scrub runs are not reported missing."""
    import threading

    s3 = own.client()
    s3.create_bucket(Bucket="busy")
    keys = [f"k{i}" for i in range(10)]
    for k in keys:
        s3.put_object(Bucket="busy", Key=k, Body=os.urandom(200 * 1024))
    stop = threading.Event()
    writes = 0

    def overwrite() -> None:
        nonlocal writes
        client = own.client()
        while not stop.is_set():
            client.put_object(Bucket="busy", Key=keys[writes % len(keys)],
                              Body=os.urandom(200 * 1024))
            writes += 1

    t = threading.Thread(target=overwrite)
    t.start()
    try:
        res = run_cli(own.data_dir, "scrub", "--rate", "1")
    finally:
        stop.set()
        t.join()
    assert writes >= 10  # the scrub really ran among overwrites
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 missing" in res.stdout


def test_cached_windows_are_trusted_unless_verify_reads_all(tmp_path: Path) -> None:
    """A window wholly in the page cache is served unchecked by default (its pages came
    from the server's own writes or a checked read); --verify-reads all checks it too.
    The damage here is made through the page cache (not evicted), which bit rot cannot
    do: it shows which mode checks what."""
    for mode, caught in (("uncached", False), ("all", True)):
        (tmp_path / mode).mkdir()
        server = new_server(tmp_path / mode / "data", "VERIFY", ["--verify-reads", mode])
        server.start()
        try:
            s3 = server.client()
            s3.create_bucket(Bucket="cached")
            body = os.urandom(6 * MiB)
            s3.put_object(Bucket="cached", Key="k", Body=body)
            (path,) = blob_paths(server.data_dir, "cached", "k")
            flip_byte(path, 5 * MiB + 7, evict=False)
            status, _, got, complete = _raw_get(server, s3, "cached", "k")
            if caught:
                assert status == 200 and not complete and got == body[:len(got)]
            else:
                assert status == 200 and complete and got[5 * MiB + 7] != body[5 * MiB + 7]
            # evicted (as bit rot is), both modes catch it
            os.posix_fadvise(os.open(path, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
            flip_byte(path, 5 * MiB + 9)
            status, _, got, complete = _raw_get(server, s3, "cached", "k")
            assert status == 200 and not complete and len(got) <= 4 * MiB
        finally:
            server.stop(signal.SIGKILL)
