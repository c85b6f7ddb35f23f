"""Operators' pieces without a server: access log lines, metrics folding, routing of the
internal paths, the admin action, URL redaction."""

from __future__ import annotations

import asyncio
import json

import pytest

from objectstore.s3.errors import S3Error
from objectstore.s3.routing import route
from objectstore.server.jsonlog import Clock, record_line
from objectstore.service import access
from objectstore.statuscli import redact_url
from objectstore.storage.model import Principal


def test_record_line_is_one_json_object() -> None:
    line = record_line(Clock(), 1796026059.5123, "ID1", "PutObject", "PUT", "b",
                       'we"ird\nkey\u00e9\U0001f600', 200, None, 4096, 0, 0.0123, "AK",
                       "127.0.0.1:5", '"h:1"', 7)
    assert line.endswith("\n") and line.count("\n") == 1 and line.isascii()
    rec = json.loads(line)
    assert rec["key"] == 'we"ird\nkey\u00e9\U0001f600'
    assert rec["time"] == "2026-11-30T08:07:39.512Z"
    assert rec["duration_ms"] == 12.3 and rec["error_code"] is None and rec["pid"] == 7
    assert rec["gateway"] == "h:1" and rec["remote_addr"] == "127.0.0.1:5"
    rec = json.loads(record_line(Clock(), 0.0, "ID", "GetObject", "GET", None, None, 404,
                                 "NoSuchKey", 0, 0, 0.0, None, None, '"g"', 1))
    assert rec["error_code"] == "NoSuchKey" and rec["bucket"] is None
    assert rec["remote_addr"] is None and rec["access_key_id"] is None


def test_metrics_fold_into_prometheus_values() -> None:
    from prometheus_client import generate_latest

    from objectstore.server.metrics import Metrics

    m = Metrics(None, "g:1")

    async def requests() -> None:
        for seconds in (0.0004, 0.003, 0.003, 7.0):
            m.request("GetObject", 200, None, seconds, 0, 100)
        m.request("GetObject", 404, "NoSuchKey", 0.001, 0, 50)
        m.fold()

    asyncio.run(requests())
    text = generate_latest(m.registry).decode()
    assert 'objectstore_requests_total{operation="GetObject",status="200"} 4.0' in text
    assert 'objectstore_errors_total{code="NoSuchKey"} 1.0' in text
    assert 'objectstore_sent_bytes_total{operation="GetObject"} 450.0' in text
    assert 'le="0.0005",operation="GetObject"} 1.0' in text
    assert 'le="0.005",operation="GetObject"} 4.0' in text  # cumulative: 1 + 2 + the 404
    assert 'le="5.0",operation="GetObject"} 4.0' in text
    assert 'le="10.0",operation="GetObject"} 5.0' in text
    assert 'objectstore_request_duration_seconds_count{operation="GetObject"} 5.0' in text


def test_internal_paths_are_routed_apart() -> None:
    assert route("GET", "h", "/_metrics", (), {}).op == "Internal"
    assert route("GET", "h", "/_health/ready", (), {}).key == "_health/ready"
    assert route("GET", "h", "/_images", (), {}).op == "Images"
    assert route("GET", "h", "/_other/x", (), {}).op == "GetObject"  # as before
    # virtual-hosted style: a bucket's own key, never the endpoint
    assert route("GET", "bkt.s3.localhost", "/_metrics", (), {}).op == "GetObject"


def test_metrics_admin_action() -> None:
    admin = Principal("root", "acct", "a", True, "AK")
    user = Principal("u", "acct", "a", False, "AK2")
    access.require_admin_action(admin, access.READ_METRICS)
    for who in (user, None):
        with pytest.raises(S3Error) as err:
            access.require_admin_action(who, access.READ_METRICS)
        assert err.value.code == "AccessDenied"
    with pytest.raises(ValueError):
        access.require_admin_action(admin, "s3:GetObject")


def test_redact_url() -> None:
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert "pw" not in redact_url("postgresql://h/db?password=pw&sslmode=require")
