"""A metadata store that cannot be reached (here: SQLite locked by another process past
--meta-timeout) answers 503 ServiceUnavailable with Retry-After and S3's XML error body,
never a 500 or a hang, and the server recovers by itself once the lock is gone."""

from __future__ import annotations

import fcntl
import http.client
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Server, new_server, on_postgres, running


def _server(tmp_path: Path) -> Server:
    return new_server(tmp_path / "data", "UNAVAIL", ["--meta-timeout", "1"])


def _put_error(s3: Any, key: str) -> tuple[int, str, dict[str, str], float]:
    started = time.monotonic()
    try:
        s3.put_object(Bucket="locked", Key=key, Body=b"x" * 10_000)
    except ClientError as err:
        meta = err.response["ResponseMetadata"]
        return (meta["HTTPStatusCode"], err.response["Error"]["Code"], meta["HTTPHeaders"],
                time.monotonic() - started)
    return 200, "", {}, time.monotonic() - started


def _raw_put(srv: Server) -> tuple[int, dict[str, str], bytes]:
    """An anonymous PUT to a public-write bucket over plain HTTP: the XML body as sent."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("PUT", "/locked/raw", body=b"abc")
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


SQLITE_LOCKS = "locks the SQLite database (PostgreSQL going away: test_pg_restart.py)"


@pytest.mark.skipif(on_postgres(), reason=SQLITE_LOCKS)
def test_a_database_locked_by_another_process_answers_503(tmp_path: Path) -> None:
    with running(_server(tmp_path)) as srv:
        s3 = srv.client()
        s3.create_bucket(Bucket="locked", ACL="public-read-write")
        s3.put_object(Bucket="locked", Key="before", Body=b"old")
        other = sqlite3.connect(srv.data_dir / "meta.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        try:
            status, code, headers, took = _put_error(s3, "during")
            assert (status, code) == (503, "ServiceUnavailable")
            assert int(headers["retry-after"]) >= 1
            assert took < 10
            status, hdrs, body = _raw_put(srv)
            assert status == 503 and int(hdrs["retry-after"]) >= 1
            assert b"<Code>ServiceUnavailable</Code>" in body and b"<RequestId>" in body
            # reads do not need the write lock: they go on
            assert s3.get_object(Bucket="locked", Key="before")["Body"].read() == b"old"
        finally:
            other.execute("ROLLBACK")
            other.close()
        s3.put_object(Bucket="locked", Key="after", Body=b"new")  # recovered by itself
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="locked")["Contents"]]
        assert keys == ["after", "before"]  # the refused writes left nothing


@pytest.mark.skipif(on_postgres(), reason=SQLITE_LOCKS)
def test_a_writer_lock_held_elsewhere_answers_503_not_a_hang(tmp_path: Path) -> None:
    """The lock the server's processes take turns with (meta.sqlite3-writer.lock), held by
    a stuck process: each waiting write is refused after --meta-timeout."""
    with running(_server(tmp_path)) as srv:
        s3 = srv.client()
        s3.create_bucket(Bucket="locked")
        fd = os.open(srv.data_dir / "meta.sqlite3-writer.lock", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            for i in range(3):
                status, code, headers, took = _put_error(s3, f"k{i}")
                assert (status, code) == (503, "ServiceUnavailable"), i
                assert "retry-after" in headers and took < 10
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        s3.put_object(Bucket="locked", Key="after", Body=b"new")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="locked")["Contents"]]
        assert keys == ["after"]

