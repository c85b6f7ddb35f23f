"""Version ids: opaque, URL-safe, 32 characters, never starting with "-" (the AWS CLI reads
`--version-id -abc…` as an option and fails; one in 64 random ids used to)."""

from __future__ import annotations

import re

from objectstore.storage.versions import new_version_id


def test_version_ids_are_url_safe_and_never_start_with_a_dash() -> None:
    ids = [new_version_id() for _ in range(5000)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", v) for v in ids)
    assert not [v for v in ids if v.startswith("-")]
    assert len(set(ids)) == len(ids)
