"""A PostgreSQL connection lost during the COMMIT of an object's record: the outcome is
unknown to the gateway, so it answers 503 and leaves the object's new blob in place (a
committed record may point at it; if the commit did not happen it is an orphan that gc
and scrub remove later) — deleting it could leave an acknowledged record without data.

The loss is made real, not simulated: a deferred constraint trigger ends its own backend
(pg_terminate_backend) while the COMMIT runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from harness import Server, free_port, pg_cluster, root_creds, running

import pgtest

LOSE_COMMIT = """
CREATE FUNCTION lose_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.key = 'doomed' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lose_commit AFTER INSERT OR UPDATE ON objects
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lose_commit();
"""


def _blob_files(data: Path) -> set[Path]:
    return {p for p in (data / "blobs").rglob("*") if p.is_file()}


def test_blobs_stay_when_the_commit_outcome_is_unknown(tmp_path: Path) -> None:
    reason = pgtest.unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg

    url = pg_cluster().new_database("commitlost")
    data = tmp_path / "data"
    srv = Server(data, free_port(), root_creds(), meta_url=url)
    body = bytes(range(256)) * 800  # 200 KiB: a blob file, not inline in the row
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket="lost")
        s3.put_object(Bucket="lost", Key="doomed", Body=b"first version")
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(LOSE_COMMIT)
        before = _blob_files(data)
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket="lost", Key="doomed", Body=body)
        err = exc.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert err["Error"]["Code"] in ("ServiceUnavailable", "SlowDown")
        # the commit did not happen (the backend ended first): the old version is current
        assert s3.get_object(Bucket="lost", Key="doomed")["Body"].read() == b"first version"
        # ... and each attempt's new blob (boto3 retries a 503) was left for gc, not deleted
        # under a possible record
        attempts = 1 + int(err["ResponseMetadata"].get("RetryAttempts", 0))
        assert len(_blob_files(data) - before) == attempts
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("DROP TRIGGER lose_commit ON objects")
        s3.put_object(Bucket="lost", Key="doomed", Body=body)
        assert s3.get_object(Bucket="lost", Key="doomed")["Body"].read() == body
