"""Fixtures: one shared server process per session, a boto3 client, a fresh bucket."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest
from harness import Server, new_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("objectstore")
    srv = new_server(base / "data", "ROOTACCESSKEY")
    srv.start()
    yield srv
    srv.stop()
    # no client, however hostile, may make the shared server raise
    assert srv.log_path is not None
    log = srv.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000):][:8000]


@pytest.fixture(scope="session")
def s3(server: Server) -> Any:
    return server.client()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = "test-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    yield name
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass
