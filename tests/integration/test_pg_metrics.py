"""Metrics of a gateway on PostgreSQL: the metadata store's connection pool is exported
(objectstore_meta_pool{stat=...}) beside the request figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Server, free_port, pg_cluster, root_creds, running
from observe_util import scrape, value

import pgtest

TOKEN = "pg-metrics-token-0123456789"


def test_pool_figures_are_exported(tmp_path: Path) -> None:
    reason = pgtest.unavailable()
    if reason:
        pytest.skip(reason)
    url = pg_cluster().new_database("metrics")
    srv = Server(tmp_path / "data", free_port(), root_creds(), meta_url=url,
                 extra_args=["--metrics-token", TOKEN])
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket="pooled")
        for i in range(5):
            s3.put_object(Bucket="pooled", Key=f"k{i}", Body=b"x")
        samples = scrape(srv, TOKEN)
        assert value(samples, "objectstore_meta_pool", stat="pool_max") >= 1
        assert value(samples, "objectstore_meta_pool", stat="pool_size") >= 1
        assert value(samples, "objectstore_meta_pool", stat="requests_num") >= 5
