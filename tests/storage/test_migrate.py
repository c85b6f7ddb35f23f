"""`objectstore migrate`: SQLite -> PostgreSQL -> SQLite copies every table exactly (counts
and checksums), a second run finds everything there, a cut-off run resumes, and keys
holding U+0000 are refused unless skipped."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from metastore_util import bucket, put, record, upload

import pgtest
from objectstore.service.migrate import TABLES, MigrationError, _columns, migrate, summary
from objectstore.service.stores import Stores
from objectstore.storage import access_log
from objectstore.storage.model import AccessKey, Account, Part, User


def _fill(stores: Stores) -> None:
    meta = stores.meta
    meta.add_account(Account("id1", "acct1", "a@example.com", time.time()))
    meta.add_user(User("u1", "id1", True, time.time()))
    meta.add_key(AccessKey("AK1", "secret-1", "u1", time.time()))
    meta.add_user_cert("u1", b"-----BEGIN CERTIFICATE-----\n...")
    bucket(stores, "plain")
    bucket(stores, "ver", versioning="Enabled")
    for i in range(1200):
        put(stores, record("plain", f"k{i:05d}é", bytes([i % 256]) * 10))
    for i in range(3):
        put(stores, record("ver", "v", str(i).encode()))
    meta.run(meta.remove_txn("ver", "v", owner="acct"))
    uid = upload(stores, "plain", "mp")
    meta.run(stores.uploads.put_part_txn(Part(uid, 1, "", 0, '"e"', None, time.time())))
    meta.ensure_schema(access_log.SCHEMA)
    meta.run(access_log.append_txn([("plain", "{}", time.time(), "line 1")]))


def _same(a: Stores, b: Stores) -> None:
    for table, _ in TABLES:
        cols = _columns(a.meta.reader(), table)
        assert summary(a.meta.reader(), table, cols) == summary(b.meta.reader(), table, cols), table


def test_sqlite_to_postgresql_and_back(tmp_path: Path, pg_cluster: pgtest.Cluster) -> None:
    url = pg_cluster.new_database("mig")
    ring = tmp_path / "ring.json"
    src = Stores.open(tmp_path / "src", fsync=False, keyring=ring)
    _fill(src)
    pg = Stores.open(tmp_path / "src", meta_url=url, keyring=ring)
    reports = migrate(src, pg, batch=100, progress=None)
    assert {r.table: r.rows for r in reports}["objects"] == 1200
    _same(src, pg)
    assert pg.meta.lookup_key("AK1") is not None  # sealed secrets open with the keyring
    assert [r.key for r in pg.meta.scan_objects("plain", "", b"")][:2] == ["k00000é", "k00001é"]
    again = migrate(src, pg, progress=None)  # a second run: everything is there already
    assert all(r.equal and r.copied == 0 for r in again)
    back = Stores.open(tmp_path / "back", fsync=False, keyring=ring)
    migrate(pg, back, progress=None)
    _same(src, back)
    got = back.meta.get_object("plain", "k00007é")
    assert got is not None and got.inline == bytes([7]) * 10
    for s in (src, pg, back):
        s.close()
    pg_cluster.drop_database(url)


def test_cut_off_run_resumes(tmp_path: Path, pg_cluster: pgtest.Cluster) -> None:
    url = pg_cluster.new_database("mig")
    ring = tmp_path / "ring.json"
    src = Stores.open(tmp_path / "src", fsync=False, keyring=ring)
    _fill(src)
    pg = Stores.open(tmp_path / "src", meta_url=url, keyring=ring)

    class Cut(Exception):
        pass

    def stop_after_objects(report: object) -> None:
        if getattr(report, "table", "") == "objects":
            raise Cut
    with pytest.raises(Cut):
        migrate(src, pg, batch=100, progress=None, after_table=stop_after_objects)
    reports = migrate(src, pg, batch=100, progress=None)
    assert {r.table: r.equal for r in reports}["objects"]
    assert [r.copied for r in reports if r.table == "objects"] == [0]
    _same(src, pg)
    src.close()
    pg.close()
    pg_cluster.drop_database(url)


def test_nul_keys_refused_unless_skipped(tmp_path: Path, pg_cluster: pgtest.Cluster) -> None:
    url = pg_cluster.new_database("mig")
    ring = tmp_path / "ring.json"
    src = Stores.open(tmp_path / "src", fsync=False, keyring=ring)
    bucket(src, "b")
    put(src, record("b", "ok"))
    put(src, record("b", "bad\x00key"))  # an older release accepted it
    pg = Stores.open(tmp_path / "src", meta_url=url, keyring=ring)
    with pytest.raises(MigrationError, match="U\\+0000"):
        migrate(src, pg, progress=None)
    reports = migrate(src, pg, skip_nul=True, progress=None)
    assert [len(r.skipped_nul) for r in reports if r.table == "objects"] == [1]
    assert [r.key for r in pg.meta.scan_objects("b", "", b"")] == ["ok"]
    src.close()
    pg.close()
    pg_cluster.drop_database(url)


def test_cli_prints_progress_and_never_the_password(tmp_path: Path,
                                                   pg_cluster: pgtest.Cluster) -> None:
    url = pg_cluster.new_database("mig")
    src = Stores.open(tmp_path / "src", fsync=False)
    bucket(src, "b")
    put(src, record("b", "k"))
    src.close()
    with_password = url.replace("postgres@", "postgres:hunter2secret@")  # trust: ignored
    out = subprocess.run([sys.executable, "-m", "objectstore", "migrate", "--from",
                          str(tmp_path / "src"), "--to", with_password],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "objects" in out.stderr and "100%" in out.stderr
    assert "counts and checksums equal" in out.stdout
    assert "hunter2secret" not in out.stdout + out.stderr
    pg_cluster.drop_database(url)
