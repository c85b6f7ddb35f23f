"""storage/versions.py on a real SQLite file: statement counts of the unversioned paths
(unchanged by versioning), promotion after permanent deletes, reference counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from objectstore.storage.model import Bucket, ObjectRecord, Segment
from objectstore.storage.sqlite import SqliteMeta


def _meta(tmp_path: Path, versioning: str = "", freed: list[str] | None = None) -> SqliteMeta:
    meta = SqliteMeta(tmp_path / "meta.sqlite3", fsync=False,
                      on_garbage=freed.extend if freed is not None else None)
    meta.run(meta.create_bucket_txn(Bucket("b", "acct", 0.0, "us-east-1", "{}",
                                           versioning=versioning)))
    return meta


def _rec(key: str, blob: str = "", data: bytes | None = b"x") -> ObjectRecord:
    return ObjectRecord("b", key, 1, '"e"', 0.0, "acct", "{}",
                        segments=(Segment(blob, 1),) if blob else (),
                        inline=None if blob else data)


def _statements(meta: SqliteMeta, txn) -> list[str]:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(meta.path, isolation_level=None)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    conn.execute("BEGIN")
    txn(conn)
    conn.execute("COMMIT")
    conn.close()
    return [s for s in seen if s not in ("BEGIN", "COMMIT")]


def test_unversioned_put_costs_what_it_did(tmp_path: Path) -> None:
    meta = _meta(tmp_path)
    try:
        assert len(_statements(meta, meta.put_object_txn(_rec("k")))) == 3
        # an overwrite: bucket check, old segments, insert (no version bookkeeping)
        assert len(_statements(meta, meta.put_object_txn(_rec("k")))) == 3
    finally:
        meta.close()


def test_permanent_delete_promotes_and_markers_hide(tmp_path: Path) -> None:
    meta = _meta(tmp_path, "Enabled")
    try:
        first = meta.run(meta.put_object_txn(_rec("k", data=b"1")))
        second = meta.run(meta.put_object_txn(_rec("k", data=b"2")))
        assert first.version_id and second.version_id and second.seq > first.seq
        marker = meta.run(meta.remove_txn("b", "k", owner="acct"))
        assert marker.marker and meta.get_object("b", "k") is None
        assert meta.latest_marker("b", "k") is not None
        meta.run(meta.remove_txn("b", "k", marker.version_id))
        current = meta.get_object("b", "k")
        assert current is not None and current.version_id == second.version_id
        meta.run(meta.remove_txn("b", "k", second.version_id))
        current = meta.get_object("b", "k")
        assert current is not None and current.version_id == first.version_id
        listed = list(meta.scan_versions("b", "", b"", None))
        assert [(v.version_id, v.latest) for v in listed] == [(first.version_id, True)]
    finally:
        meta.close()


def test_shared_blob_freed_with_its_last_reference(tmp_path: Path) -> None:
    freed: list[str] = []
    meta = _meta(tmp_path, freed=freed)
    try:
        src = meta.run(meta.put_object_txn(_rec("a", blob="B1")))
        meta.run(meta.put_object_txn(_rec("c", blob="B1"), shared=src))
        assert meta.reader().execute("SELECT refs FROM blob_refs").fetchall() == [(2,)]
        meta.run(meta.remove_txn("b", "a"))
        meta.run(meta.put_object_txn(_rec("x")))  # one more commit: garbage is collected
        assert "B1" not in freed and "B1" in meta.referenced_blobs()
        assert meta.reader().execute("SELECT COUNT(*) FROM blob_refs").fetchone()[0] == 0
        meta.run(meta.remove_txn("b", "c"))
        meta.run(meta.put_object_txn(_rec("y")))
        assert "B1" in freed
    finally:
        meta.close()


def test_listing_continues_after_a_deleted_marker_version(tmp_path: Path) -> None:
    """A client emptying a bucket page by page: the page's last version is gone (and an
    older one was promoted to current) when it asks for the next page."""
    meta = _meta(tmp_path, "Enabled")
    try:
        ids = [meta.run(meta.put_object_txn(_rec("k"))).version_id for _ in range(4)]
        seqs = {v.version_id: v.rec.seq for v in meta.scan_versions("b", "", b"", None)}
        page = list(meta.scan_versions("b", "", b"", None, batch=2))[:2]
        assert [v.version_id for v in page] == ids[:1:-1]
        for v in page:
            meta.run(meta.remove_txn("b", "k", v.version_id))
        assert meta.version_seq("b", "k", ids[2]) is None
        rest = list(meta.scan_versions("b", "", b"k", seqs[ids[2]]))
        assert [v.version_id for v in rest] == [ids[1], ids[0]]
        rest = list(meta.scan_versions("b", "", b"k", 1 << 62))  # an unknown marker
        assert [v.version_id for v in rest] == [ids[1], ids[0]]
    finally:
        meta.close()
