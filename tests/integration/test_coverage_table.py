"""docs/compatibility.md and the integration tests stay in step: every operation the table
calls supported (or answers as unconfigured) is exercised by at least one integration test
against the live server.

An operation counts as exercised by a test module when the module calls its boto3 method
(`.put_object(`, or names it as a string, e.g. for generate_presigned_url) or carries a tag
comment `# op: OperationName ...` (for raw HTTP requests). The authorization matrix is left
out on purpose: it sends every operation, but checks only who may, not what it does.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
from botocore import xform_name

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "compatibility.md"
EXCLUDED = {"test_authz_matrix.py", Path(__file__).name}
STATUSES = ("supported", "answers as unconfigured")


def documented(statuses: tuple[str, ...] = STATUSES) -> list[str]:
    ops = []
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| ([A-Z][A-Za-z0-9]+) \| ([^|]+) \|", line)
        if m and m.group(2).strip() in statuses:
            ops.append(m.group(1))
    return ops


def sources() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(HERE.glob("test_*.py"))
            if p.name not in EXCLUDED}


def tags(text: str) -> set[str]:
    return {name for line in re.findall(r"#\s*op:([^\n]*)", text) for name in line.split()}


def exercised_by(op: str, files: dict[str, str]) -> list[str]:
    method = xform_name(op)
    call = re.compile(rf"\.{method}\(|[\"']{method}[\"']")
    return [name for name, text in files.items() if call.search(text) or op in tags(text)]


def test_every_supported_operation_has_an_integration_test() -> None:
    files = sources()
    ops = documented()
    assert len(ops) >= 50, ops
    missing = [op for op in ops if not exercised_by(op, files)]
    assert missing == [], f"supported in docs/compatibility.md, no integration test: {missing}"


def test_op_tags_name_real_operations() -> None:
    model = set(botocore.session.get_session().get_service_model("s3").operation_names)
    for name, text in sources().items():
        unknown = tags(text) - model - {"PostObject"}
        assert not unknown, f"{name}: '# op:' names no S3 operation: {unknown}"


def test_the_check_can_fail() -> None:
    """The matcher is not vacuous: an operation nobody calls is reported."""
    files = {"test_x.py": "s3.put_object(Bucket=b)\n# op: GetBucketLocation\n",
             "test_y.py": "s3.put_objects_later()\n"}
    assert exercised_by("PutObject", files) == ["test_x.py"]
    assert exercised_by("GetBucketLocation", files) == ["test_x.py"]
    assert exercised_by("DeleteObjects", files) == []
    assert exercised_by("GetObjectAcl", {"t.py": "s3.get_object(Key='acl')"}) == []
