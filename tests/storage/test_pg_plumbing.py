"""The PostgreSQL plumbing: SQL rewriting, listing bounds, password redaction, migrations
applied once by gateways starting together, a newer schema refused, and 503-style
Unavailable (then recovery) when PostgreSQL cannot be reached."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

import pgtest
from objectstore.service.stores import Stores
from objectstore.storage.db import key_upper_bound
from objectstore.storage.meta import Unavailable
from objectstore.storage.model import Bucket
from objectstore.storage.pg_conn import text_bound, translate
from objectstore.storage.pg_schema import MIGRATIONS, SchemaTooNew, migrate
from objectstore.storage.postgres import redacted


def test_translate() -> None:
    t = translate("SELECT 1 FROM v WHERE a=? AND version_id IS ? AND key > CAST(? AS TEXT) "
                  "AND b LIKE 'x%' AND c < CAST(? AS TEXT) LIMIT ?")
    assert t.sql == ("SELECT 1 FROM v WHERE a=%s AND version_id IS NOT DISTINCT FROM %s AND "
                     "key > %s AND b LIKE 'x%%' AND c < %s LIMIT %s")
    assert t.text_params == ((2, ">"), (3, "<"))


def test_bounds() -> None:
    assert key_upper_bound("ab") == "ac"
    assert key_upper_bound("a\U0010ffff") == "b"
    assert key_upper_bound("\ud7ff") == "\ue000"
    assert key_upper_bound("\U0010ffff") is None
    assert text_bound("é".encode()) == "é"
    assert text_bound("pré".encode() + b"\xff") == "prê"
    assert text_bound("x") == "x"
    assert text_bound(b"a\x00b", ">") == "a"
    assert text_bound(b"a\x00b", ">=") == text_bound(b"a\x00", "<") == "a\x01"
    assert len(text_bound(b"a\x00", "=").encode()) > 1024


def test_redacted() -> None:
    assert redacted("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redacted("postgresql://u@h/db") == "postgresql://u@h/db"
    assert "s3cr3t" not in redacted("postgres://u:s3cr3t@h/db?sslmode=require")


def test_migrations_once_under_concurrent_starts(pg_cluster: pgtest.Cluster) -> None:
    url = pg_cluster.new_database("mig")
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                assert migrate(conn) == MIGRATIONS[-1][0]
        except BaseException as exc:  # noqa: BLE001 - collected
            errors.append(exc)
    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        assert rows == [(v,) for v, _ in MIGRATIONS]
        conn.execute("INSERT INTO schema_version VALUES (9999, 0)")
        with pytest.raises(SchemaTooNew):
            migrate(conn)
    pg_cluster.drop_database(url)


def test_unreachable_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable):
        Stores.open(tmp_path, meta_url="postgresql://nobody@127.0.0.1:1/none")


def test_connections_lost_then_recovered(tmp_path: Path, pg_cluster: pgtest.Cluster) -> None:
    """Every connection of a store killed (as a PostgreSQL restart does): reads and writes
    go on, on new connections."""
    url = pg_cluster.new_database("lost")
    stores = Stores.open(tmp_path, meta_url=url)
    meta = stores.meta
    meta.run(meta.create_bucket_txn(Bucket("b", "a", time.time(), "us-east-1", "{}")))
    assert meta.get_bucket("b") is not None
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
    meta.run(meta.set_bucket_acl_txn("b", '{"x":1}'))  # dropped connections are replaced:
    assert meta.get_bucket("b") is not None  # no request fails once the server is back
    found = meta.get_bucket("b")
    assert found is not None and found.acl == '{"x":1}'
    stores.close()
    pg_cluster.drop_database(url)
