"""`serve --workers 2`: several processes over one data directory answer as one server.

Every process caches keys, buckets and objects; a write acknowledged by one process must be
seen at once by the others (the shared change stamp), never up to a cache period later.
Fresh connections are spread over the processes by the kernel; each answer's request id
starts with its process's prefix, which shows that both processes served.
"""

from __future__ import annotations

import http.client
import uuid
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from harness import Server, new_server

FRESH = 8  # new connections per check


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("workers")
    srv = new_server(base / "data", "ROOTACCESSKEY", ["--workers", "2"])
    srv.start()
    yield srv
    srv.stop()


def fetch(url: str) -> tuple[int, bytes, str]:
    """GET ``url`` on a new connection: (status, body, request id)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("x-amz-request-id") or ""
    finally:
        conn.close()


def fresh_gets(url: str) -> list[tuple[int, bytes, str]]:
    return [fetch(url) for _ in range(FRESH)]


def processes(answers: list[list[tuple[int, bytes, str]]]) -> set[str]:
    return {rid[:8] for batch in answers for _, _, rid in batch}


def test_overwrites_are_seen_by_every_process_at_once(workers: Server) -> None:
    s3 = workers.client()
    bucket = "workers-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    answers = []
    for i in range(12):
        body = f"version {i}".encode() * (i + 1)
        s3.put_object(Bucket=bucket, Key="k", Body=body)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        batch = fresh_gets(url)
        answers.append(batch)
        assert [(status, got) for status, got, _ in batch] == [(200, body)] * FRESH, i
    s3.delete_object(Bucket=bucket, Key="k")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert {status for status, _, _ in fresh_gets(url)} == {404}
    # The kernel hands each new connection to whichever process accepts first, and an idle
    # machine tends to favour the one that answered last: keep asking (the object's final
    # state, checked on every answer) until both processes have answered.
    s3.put_object(Bucket=bucket, Key="k", Body=b"last")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    for _ in range(50):
        if len(processes(answers)) == 2:
            break
        batch = fresh_gets(url)
        assert [(status, got) for status, got, _ in batch] == [(200, b"last")] * FRESH
        answers.append(batch)
    assert len(processes(answers)) == 2, "expected answers from both worker processes"


def test_acl_changes_apply_in_every_process_at_once(workers: Server) -> None:
    s3 = workers.client()
    bucket = "workers-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    anonymous = f"{workers.endpoint}/{bucket}/k"
    for acl, expected in (("public-read", 200), ("private", 403), ("public-read", 200),
                          ("private", 403)):
        s3.put_object_acl(Bucket=bucket, Key="k", ACL=acl)
        assert {status for status, _, _ in fresh_gets(anonymous)} == {expected}, acl


def test_deleted_key_is_refused_by_every_process_at_once(workers: Server) -> None:
    creds = workers.new_user()
    s3: Any = workers.client(creds)
    bucket = "workers-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert {status for status, _, _ in fresh_gets(url)} == {200}  # cached in both processes
    workers.admin("key", "delete", creds.access_key)
    batch = fresh_gets(url)
    assert {status for status, _, _ in batch} == {403}
    assert all(b"InvalidAccessKeyId" in body for _, body, _ in batch)
