"""A full disk and a read-only data directory (issue 9, item 3): writes are refused with
an answer that says why, deletes keep working, writes come back once there is room.

Needs root (mounts a small tmpfs, and an ext4 image on a loop device); skipped otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server, new_server, temp_files

MiB = 1024 * 1024


def _mount(*args: str) -> None:
    res = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"cannot mount ({res.stderr.strip()})")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    _mount("-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt))
    try:
        yield mnt
    finally:
        _umount(mnt)


def _server(data_dir: Path, *extra: str) -> Server:
    return new_server(data_dir, "FULL", list(extra))


def _err(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    r = exc.value.response
    return (int(r["ResponseMetadata"]["HTTPStatusCode"]), str(r["Error"]["Code"]),
            str(r["Error"].get("Message", "")))


def _fill(path: Path) -> None:
    """Take every free byte, as another program would."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (256 * 1024, 4096, 1):
            block = b"\0" * size
            try:
                while True:
                    os.write(fd, block)
            except OSError:
                pass
    finally:
        os.close(fd)


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_disk_full(small_fs: Path) -> None:
    srv = _server(small_fs / "data", "--min-free-space", "8M", "--tmp-max-age", "2")
    srv.start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="full")
        stored: list[str] = []
        body = os.urandom(MiB)
        for i in range(60):  # 40 MiB: the reserve stops this well before the end
            try:
                s3.put_object(Bucket="full", Key=f"k{i}", Body=body)
            except ClientError as exc:
                r = exc.response
                assert r["ResponseMetadata"]["HTTPStatusCode"] == 507
                assert r["Error"]["Code"] == "InsufficientStorage"
                assert "out of storage space" in r["Error"]["Message"]
                break
            stored.append(f"k{i}")
        else:
            raise AssertionError("the disk never filled up")
        assert 20 <= len(stored) <= 34
        assert _free(small_fs) >= 6 * MiB  # the reserve held
        assert temp_files(srv.data_dir) == []  # nothing half-written left behind
        # every kind of new data is refused alike, small (inline) bodies too
        assert _err(lambda: s3.put_object(Bucket="full", Key="tiny", Body=b"x"))[:2] == \
            (507, "InsufficientStorage")
        # a copy shares the source's blob (even with a new checksum, computed by reading
        # it): no new data, so it goes through
        s3.copy_object(Bucket="full", Key="copy", CopySource={"Bucket": "full", "Key": "k0"},
                       ChecksumAlgorithm="SHA256")
        s3.copy_object(Bucket="full", Key="copy", CopySource={"Bucket": "full", "Key": "k0"})
        s3.delete_object(Bucket="full", Key="copy")
        up = s3.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
        assert _err(lambda: s3.upload_part(Bucket="full", Key="mp", UploadId=up,
                                           PartNumber=1, Body=body))[0] == 507
        # UploadPartCopy copies bytes: refused
        assert _err(lambda: s3.upload_part_copy(Bucket="full", Key="mp", UploadId=up,
                                                PartNumber=2, CopySource={
                                                    "Bucket": "full", "Key": "k0"}))[0] == 507
        # reads work; a delete goes through and frees space
        assert s3.get_object(Bucket="full", Key="k0")["Body"].read() == body
        s3.delete_object(Bucket="full", Key=stored.pop())
        s3.delete_objects(Bucket="full", Delete={"Objects": [{"Key": k} for k in stored[-8:]]})
        del stored[-8:]
        s3.put_object(Bucket="full", Key="again", Body=body)  # room again: accepted
        assert s3.get_object(Bucket="full", Key="again")["Body"].read() == body

        # another program takes the last byte: deletes still commit (the ballast is given
        # up for them), new data is refused
        ballast = small_fs / "ballast"
        _fill(ballast)
        assert _free(small_fs) < 64 * 1024
        assert _err(lambda: s3.put_object(Bucket="full", Key="tiny", Body=b"x"))[0] == 507
        s3.delete_object(Bucket="full", Key=stored.pop())
        # ... also after a restart while the disk is full
        srv.stop()
        srv.start()
        s3 = srv.client()
        s3.delete_object(Bucket="full", Key=stored.pop())
        assert _err(lambda: s3.put_object(Bucket="full", Key="tiny", Body=b"x"))[0] == 507
        ballast.unlink()
        s3.put_object(Bucket="full", Key="tiny", Body=b"x")
        s3.put_object(Bucket="full", Key="big", Body=body)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="full")["Contents"]}
        assert keys == {*stored, "again", "tiny", "big"}
        assert "Traceback" not in (srv.log_path.read_text() if srv.log_path else "")
    finally:
        srv.stop(signal.SIGKILL)


def test_disk_full_mid_upload_removes_the_temp_file(small_fs: Path) -> None:
    """ENOSPC while a body is being written (the reserve is off here): 507, and the
    partial temp file is gone."""
    srv = _server(small_fs / "data", "--min-free-space", "0")
    srv.start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="full")
        status, code, _msg = _err(lambda: s3.put_object(Bucket="full", Key="huge",
                                                        Body=os.urandom(48 * MiB)))
        assert (status, code) == (507, "InsufficientStorage")
        assert temp_files(srv.data_dir) == []
        s3.put_object(Bucket="full", Key="fits", Body=os.urandom(MiB))
    finally:
        srv.stop(signal.SIGKILL)


@pytest.fixture
def ext4_fs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A small ext4 file system on a loop device that turns read-only on an error."""
    image = tmp_path / "fs.img"
    with open(image, "wb") as f:
        f.truncate(64 * MiB)
    res = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)],
                         capture_output=True, timeout=60)
    if res.returncode != 0:
        pytest.skip("mkfs.ext4 not available")
    mnt = tmp_path / "ext4"
    mnt.mkdir()
    _mount("-o", "loop,errors=remount-ro", str(image), str(mnt))
    try:
        dev = ""
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if fields[1] == str(mnt):
                dev = fields[0].rsplit("/", 1)[-1]
        trigger = Path("/sys/fs/ext4") / dev / "trigger_fs_error"
        if not trigger.exists():
            pytest.skip("ext4 cannot be made read-only on demand here")
        yield mnt, trigger
    finally:
        _umount(mnt)


def test_read_only_data_dir(ext4_fs: tuple[Path, Path]) -> None:
    mnt, trigger = ext4_fs
    (mnt / "data").mkdir()
    (mnt.parent / "logs").mkdir()
    (mnt.parent / "logs" / "data").symlink_to(mnt / "data")  # the log stays writable
    srv = _server(mnt.parent / "logs" / "data", "--min-free-space", "4M")
    srv.start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="rofs")
        body = os.urandom(300 * 1024)
        s3.put_object(Bucket="rofs", Key="a", Body=body)
        s3.put_object(Bucket="rofs", Key="tiny", Body=b"t")
        trigger.write_text("1")  # the kernel turns the file system read-only
        time.sleep(0.2)
        for call in (lambda: s3.put_object(Bucket="rofs", Key="b", Body=body),
                     lambda: s3.put_object(Bucket="rofs", Key="c", Body=b"small"),
                     lambda: s3.delete_object(Bucket="rofs", Key="tiny"),
                     lambda: s3.create_multipart_upload(Bucket="rofs", Key="m")):
            status, code, message = _err(call)
            assert (status, code) == (503, "ServiceUnavailable")
            assert "read-only" in message
        assert s3.get_object(Bucket="rofs", Key="a")["Body"].read() == body  # reads go on
        assert s3.get_object(Bucket="rofs", Key="tiny")["Body"].read() == b"t"
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="rofs")["Contents"]}
        assert keys == {"a", "tiny"}
    finally:
        srv.stop(signal.SIGKILL)
