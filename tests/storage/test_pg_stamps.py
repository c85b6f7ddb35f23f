"""PostgreSQL's change stamps, read while a writer moves them: a gateway that reads the
two stamps between a configuration commit's two ``nextval`` calls (``changes`` moved,
``config_changes`` not yet) must still drop its cached lookups at its next request."""

from __future__ import annotations

import time
from pathlib import Path

import pgtest
from objectstore.service.stores import Stores
from objectstore.storage.model import Bucket
from objectstore.storage.rows import tags_json


def test_a_torn_stamp_read_keeps_no_stale_bucket(pg_cluster: pgtest.Cluster,
                                                 tmp_path: Path) -> None:
    import psycopg

    url = pg_cluster.new_database("stamps")
    stores = Stores.open(tmp_path / "data", fsync=False, meta_url=url)
    try:
        meta = stores.meta
        meta.run(meta.create_bucket_txn(Bucket("bk", "acct", time.time(), "us-east-1", "{}")))
        meta.new_request()  # (as the server does at each request's start)
        assert meta.get_bucket("bk").tags == ()  # cached now
        with psycopg.connect(url, autocommit=True) as other:  # another gateway's commit
            other.execute("UPDATE buckets SET tags=%s WHERE name='bk'",
                          (tags_json((("k", "v"),)),))
            other.execute("SELECT nextval('changes')")
            meta.new_request()  # a request starting between the two moves: may be stale
            other.execute("SELECT nextval('config_changes')")  # now the write is answered
        meta.new_request()  # a request after it: exact
        assert meta.get_bucket("bk").tags == (("k", "v"),)
    finally:
        stores.close()
        pg_cluster.drop_database(url)

