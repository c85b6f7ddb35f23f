"""docs/compatibility.md lists every S3 operation with the status the server really has."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session

from objectstore.server.app import HANDLERS
from objectstore.server.handlers import bucket_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


def _table() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| ([A-Z][A-Za-z0-9]+) \| ([^|]+) \|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def _status(op: str) -> str:
    if op in bucket_config.HANDLERS:
        return "answers as unconfigured"
    if op in HANDLERS:
        return "supported"
    return "not implemented (501)"


def test_every_s3_operation_is_listed_with_its_real_status() -> None:
    """Rows tell the truth; an operation newer than the table (botocore learns new ones
    before the table does) must at least not be one the server implements."""
    ops = botocore.session.get_session().get_service_model("s3").operation_names
    table = _table()
    assert len(table) >= 100
    for op, status in table.items():
        assert status == _status(op), f"{op}: doc says {status!r}, server: {_status(op)!r}"
    for op in ops:
        if op not in table:
            assert _status(op) == "not implemented (501)", f"{op} missing from the table"
