"""`objectstore status` (issue 12): version, metadata store, data directory, counts, disk
free, the gateways serving now, the last gc and scrub."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import Server, admin_env, new_bucket, new_server, on_postgres, running


def status(data: Path, *extra: str) -> str:
    out = subprocess.run([sys.executable, "-m", "objectstore", "status", "--data-dir",
                          str(data), *extra], capture_output=True, text=True, timeout=60,
                         check=True, env=admin_env(data))
    return out.stdout


def status_json(data: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(status(data, "--json"))
    return found


def _wait_gateways(data: Path, n: int, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        found = status_json(data)
        if len(found["gateways"]) == n or time.time() > deadline:
            return found
        time.sleep(0.3)


def test_status_of_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = new_server(data, extra_args=["--workers", "2"])
    with running(server, sig=15):
        s3 = server.client()
        bucket = new_bucket(s3, "status")
        for i in range(4):
            s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * 1000)
        found = _wait_gateways(data, 2)
        assert [g["gateway"].rsplit(":", 1)[1] for g in found["gateways"]] == \
            [str(server.port)] * 2  # one row per worker process
        assert len({g["pid"] for g in found["gateways"]}) == 2
        assert found["buckets"] == 1 and found["objects"] == 4 and found["bytes"] == 4000
        if on_postgres():
            assert found["metadata_store"].startswith("postgresql://")
        else:
            assert found["metadata_store"] == f"sqlite:{data / 'meta.sqlite3'}"
        assert found["data_directory"] == str(data.resolve())
        assert 0 < found["disk"]["free_bytes"] <= found["disk"]["total_bytes"]
        assert found["version"]
        text = status(data)
        assert "objects:         4 (3.9 KiB, 4000 bytes)" in text
        assert "gateways seen in the last 5 minutes: 2" in text
        assert "gc           never" in text and "scrub        never" in text
        server.admin("gc")
        server.admin("scrub")
        text = status(data)
        assert "gc           " in text and "removed 0 orphan blobs" in text
        assert "scrub        " in text and "checked 4 records" in text
    # a clean stop removes the processes' rows
    assert _wait_gateways(data, 0)["gateways"] == []


def test_status_redacts_database_urls() -> None:
    from objectstore.statuscli import redact_url

    assert redact_url("postgresql://os:s3cret@db.example:5432/objects?sslmode=require") == \
        "postgresql://os:***@db.example:5432/objects?sslmode=require"
    assert "hunter2" not in redact_url("postgresql://db/objects?password=hunter2&user=os")
    assert redact_url("postgresql://os@db/objects") == "postgresql://os@db/objects"


def test_status_of_an_unused_data_dir(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", 0, new_server(tmp_path).root)
    srv.data_dir.mkdir()
    found = status_json(srv.data_dir)
    assert found["objects"] == 0 and found["gateways"] == [] and found["last_runs"] == []
