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


def test_every_s3_operation_is_listed_with_its_real_status() -> None:
    ops = botocore.session.get_session().get_service_model("s3").operation_names
    table = _table()
    for op in ops:
        assert op in table, f"{op} missing from docs/compatibility.md"
        if op in bucket_config.HANDLERS:
            expected = "answers as unconfigured"
        elif op in HANDLERS:
            expected = "supported"
        else:
            expected = "not implemented (501)"
        assert table[op] == expected, f"{op}: doc says {table[op]!r}, server: {expected!r}"
