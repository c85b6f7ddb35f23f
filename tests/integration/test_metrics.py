"""Prometheus metrics (issue 12, "Operators can see inside"): /_metrics on the S3 port
for admin keys or the bearer token, /metrics on --metrics-port, counters that move with
real boto3 requests, several worker processes merged, cluster facts exported once."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest
import requests
from botocore.exceptions import ClientError
from harness import Server, admin_env, free_port, new_bucket, new_server, running
from observe_util import bearer, fresh_get, log_records, parse, scrape, signed_get, value

TOKEN = "metrics-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("metrics")
    server = new_server(base / "data", extra_args=["--metrics-token", TOKEN])
    with running(server, sig=15):
        yield server
    log = (server.log_path.read_text() if server.log_path else "")
    assert TOKEN not in log  # never logged
    assert "Traceback" not in log


def _code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code") or ""


def test_counters_move_with_boto3_requests(srv: Server) -> None:
    s3 = srv.client()
    bucket = new_bucket(s3, "metrics")
    before = scrape(srv, TOKEN)
    body = secrets.token_bytes(4096)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body)
    for i in range(3):
        assert s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read() == body
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="missing")
    after = scrape(srv, TOKEN)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("objectstore_requests_total", operation="PutObject", status="200") == 3
    assert moved("objectstore_requests_total", operation="GetObject", status="200") == 3
    assert moved("objectstore_requests_total", operation="GetObject", status="404") == 1
    assert moved("objectstore_errors_total", code="NoSuchKey") == 1
    assert moved("objectstore_received_bytes_total", operation="PutObject") >= 3 * 4096
    assert moved("objectstore_sent_bytes_total", operation="GetObject") >= 3 * 4096
    assert moved("objectstore_request_duration_seconds_count", operation="PutObject") == 3
    assert moved("objectstore_request_duration_seconds_bucket", operation="GetObject",
                 le="+Inf") == 4
    assert moved("objectstore_meta_duration_seconds_count", call="write") >= 3
    # the scrape itself is in flight while it is answered
    assert value(after, "objectstore_requests_in_flight") >= 1


def test_access_control(srv: Server) -> None:
    r = requests.get(srv.endpoint + "/_metrics", timeout=10)  # unsigned
    assert r.status_code == 403 and _code(r.content) == "AccessDenied"
    assert "x-amz-request-id" in r.headers
    r = requests.get(srv.endpoint + "/_metrics", headers=bearer("wrong" + TOKEN), timeout=10)
    assert r.status_code == 403 and _code(r.content) == "AccessDenied"
    assert TOKEN not in r.text
    user = srv.new_user()  # signed, but not an administrator
    r = signed_get(srv, "/_metrics", user)
    assert r.status_code == 403 and _code(r.content) == "AccessDenied"
    admin = srv.new_user(admin=True)
    r = signed_get(srv, "/_metrics", admin)
    assert r.status_code == 200 and "objectstore_requests_total" in r.text
    r = signed_get(srv, "/_metrics", srv.root)
    assert r.status_code == 200
    # a bucket can never be named after it
    with pytest.raises(ClientError) as err:
        srv.client().create_bucket(Bucket="_metrics")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    r = requests.put(srv.endpoint + "/_metrics", headers=bearer(TOKEN), timeout=10)
    assert r.status_code == 405 and _code(r.content) == "MethodNotAllowed"


def test_cluster_facts_per_bucket(srv: Server) -> None:
    s3 = srv.client()
    bucket = new_bucket(s3, "facts")
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"o{i}", Body=b"x" * (100 + i))
    # cached for up to 15 s: wait for the bucket to show up with its final numbers
    deadline = time.time() + 30
    while True:
        m = scrape(srv, TOKEN)
        if value(m, "objectstore_bucket_objects", bucket=bucket) == 5 or time.time() > deadline:
            break
        time.sleep(1)
    assert value(m, "objectstore_bucket_objects", bucket=bucket) == 5
    assert value(m, "objectstore_bucket_bytes", bucket=bucket) == 5 * 100 + 10
    assert ("objectstore_gc_pending_blobs", frozenset()) in m


def test_metrics_off_by_default(tmp_path: Path) -> None:
    with running(new_server(tmp_path / "data"), sig=15) as server:
        r = requests.get(server.endpoint + "/_metrics", headers=bearer("x"), timeout=10)
        assert r.status_code == 501 and _code(r.content) == "NotImplemented"
        assert requests.get(server.endpoint + "/_health/live", timeout=10).status_code == 200


def test_workers_are_merged_and_metrics_port(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "access.jsonl"
    server = new_server(tmp_path / "data", extra_args=[
        "--workers", "2", "--metrics-token", TOKEN, "--metrics-port", str(port),
        "--access-log", str(log)])
    with running(server, sig=15):
        before = scrape(server, TOKEN)
        n = 0
        pids: set[int] = set()
        while len(pids) < 2 and n < 800:  # fresh connections: the kernel picks a worker
            for _ in range(20):
                assert fresh_get(server, "/_health/live")[0] == 200
            n += 20
            pids = {r["pid"] for r in log_records(log) if r["key"] == "_health/live"}
        assert len(pids) == 2, "both workers should have served"
        time.sleep(1.5)  # each worker folds its figures into the shared files within 1 s
        after = scrape(server, TOKEN)
        moved = value(after, "objectstore_requests_total", operation="Internal",
                      status="200") - value(before, "objectstore_requests_total",
                                            operation="Internal", status="200")
        assert moved == n + 1  # every worker's requests (and the first scrape) counted
        # the supervisor's own port: the same merged values
        r = requests.get(f"http://127.0.0.1:{port}/metrics", headers=bearer(TOKEN), timeout=10)
        assert r.status_code == 200
        assert value(parse(r.text), "objectstore_requests_total", operation="Internal",
                     status="200") >= n + 1
        r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert r.status_code == 401
        assert requests.get(f"http://127.0.0.1:{port}/other", timeout=10).status_code == 404


def test_cluster_facts_exported_once(tmp_path: Path) -> None:
    """Two servers on one data directory (two gateways of one cluster): only the holder
    of the metrics-cluster lease exports per-bucket figures."""
    data = tmp_path / "data"
    one = new_server(data, extra_args=["--metrics-token", TOKEN])
    with running(one, sig=15):
        two = Server(data, free_port(), one.root, extra_args=["--metrics-token", TOKEN])
        with running(two, sig=15):
            bucket = new_bucket(one.client(), "once")
            one.client().put_object(Bucket=bucket, Key="k", Body=b"abc")
            exporting = [value(scrape(s, TOKEN), "objectstore_bucket_objects", bucket=bucket)
                         for s in (one, two, two, one)]
            assert sorted(exporting) == [0, 0, 1, 1]
            assert exporting[0] == exporting[3]  # the same gateway, each time
    out = subprocess.run([sys.executable, "-m", "objectstore", "status", "--data-dir",
                          str(data)], capture_output=True, text=True, timeout=60, check=True,
                         env=admin_env(data))
    assert "objects:         1" in out.stdout
