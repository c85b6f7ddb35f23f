"""The metadata stores under contract: SQLite and PostgreSQL, each test on a new database.

PostgreSQL: OBJECTSTORE_TEST_PG_URL's server, or a private cluster started for the session
(tests/pgtest.py); skipped, with the reason, when neither can be had."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metastore_util import Opener  # noqa: E402

import pgtest  # noqa: E402
from objectstore.service.stores import Stores  # noqa: E402


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgtest.Cluster]:
    reason = pgtest.unavailable()
    if reason:
        pytest.skip(reason)
    cluster = pgtest.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def open_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a store on this test's database (call it twice: two gateways on one)."""
    url: str | None = None
    cluster: pgtest.Cluster | None = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database("contract")
    opened: list[Stores] = []

    def opener() -> Stores:
        stores = Stores.open(tmp_path / "data", fsync=False, meta_url=url)
        opened.append(stores)
        return stores

    yield opener
    for s in opened:
        s.close()
    if cluster is not None and url is not None:
        cluster.drop_database(url)


@pytest.fixture
def stores(open_stores: Opener) -> Stores:
    return open_stores()
