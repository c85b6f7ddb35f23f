"""A gateway on PostgreSQL when PostgreSQL goes away and comes back: requests while it is
down get an S3 error answer quickly (never a hang), nothing acknowledged is lost, and the
gateway serves again by itself as soon as PostgreSQL is back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from harness import Server, free_port, root_creds, running

import pgtest


@pytest.fixture
def own_cluster() -> Iterator[pgtest.Cluster]:
    reason = pgtest.unavailable()
    if reason or pgtest.os.environ.get(pgtest.ENV_URL):
        pytest.skip(reason or "needs a private cluster to stop and start")
    cluster = pgtest.start()
    yield cluster
    cluster.stop()


def _get(srv: Server, url: str) -> tuple[int, float]:
    start = time.monotonic()
    r = requests.get(url, timeout=30)
    return r.status_code, time.monotonic() - start


def test_postgres_down_then_back(own_cluster: pgtest.Cluster, tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), root_creds(),
                 meta_url=own_cluster.new_database("restart"))
    with running(srv):
        s3: Any = srv.client()
        s3.create_bucket(Bucket="restart-b")
        s3.put_object(Bucket="restart-b", Key="before", Body=b"kept")
        url = s3.generate_presigned_url("get_object",
                                        Params={"Bucket": "restart-b", "Key": "before"})
        own_cluster.pg_ctl("stop")
        try:
            for _ in range(3):
                status, took = _get(srv, url)
                assert status >= 500 and took < 15, (status, took)  # an answer, not a hang
        finally:
            own_cluster.pg_ctl("start")
        status, _ = _get(srv, url)
        assert status == 200  # back at once: dropped connections are replaced
        s3.put_object(Bucket="restart-b", Key="after", Body=b"new")
        assert s3.get_object(Bucket="restart-b", Key="before")["Body"].read() == b"kept"
        assert s3.get_object(Bucket="restart-b", Key="after")["Body"].read() == b"new"
