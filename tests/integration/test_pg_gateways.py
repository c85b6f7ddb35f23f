"""Two gateways (`serve` processes) on one PostgreSQL database and one blob directory:
every write acknowledged by one is seen by the next request to the other — objects,
overwrites, deletes, listings, bucket policies and keys — and races across gateways have
one winner."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server, free_port, pg_cluster, root_creds, running

import pgtest


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    reason = pgtest.unavailable()
    if reason:
        pytest.skip(reason)
    url = pg_cluster().new_database("gw")
    data = tmp_path_factory.mktemp("gateways") / "data"
    creds = root_creds()
    a = Server(data, free_port(), creds, meta_url=url)
    b = Server(data, free_port(), creds, meta_url=url)
    with running(a), running(b):
        yield a, b


def test_write_here_read_there(gateways: tuple[Server, Server]) -> None:
    a, b = gateways
    ca, cb = a.client(), b.client()
    bucket = "gw-" + secrets.token_hex(4)
    ca.create_bucket(Bucket=bucket)
    stale: list[str] = []
    for i in range(300):
        w, r = (ca, cb) if i % 2 else (cb, ca)
        body = secrets.token_bytes(64)
        w.put_object(Bucket=bucket, Key="hot", Body=body)  # the same key, over and over
        if r.get_object(Bucket=bucket, Key="hot")["Body"].read() != body:
            stale.append(f"{i}: hot")
        key = f"k{i:04d}"
        w.put_object(Bucket=bucket, Key=key, Body=b"x")
        listed = r.list_objects_v2(Bucket=bucket, StartAfter=f"k{i - 1:04d}" if i else "")
        if key not in [o["Key"] for o in listed.get("Contents", [])]:
            stale.append(f"{i}: list")
        if i % 10 == 0:
            w.delete_object(Bucket=bucket, Key=key)
            try:
                r.head_object(Bucket=bucket, Key=key)
                stale.append(f"{i}: deleted")
            except ClientError as err:
                if err.response["Error"]["Code"] != "404":
                    stale.append(f"{i}: {err}")
    assert stale == []


def test_policy_and_keys_exact_across_gateways(gateways: tuple[Server, Server]) -> None:
    a, b = gateways
    user = a.new_user()  # a new account's first user (admins are above bucket policies)
    ca, cb = a.client(user), b.client(user)
    bucket = "pol-" + secrets.token_hex(4)
    ca.create_bucket(Bucket=bucket)
    cb.head_bucket(Bucket=bucket)  # b caches the bucket (and no policy)
    deny = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
            f'"Action":"s3:PutObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}')
    for _ in range(5):
        ca.put_bucket_policy(Bucket=bucket, Policy=deny)
        with pytest.raises(ClientError) as err:
            cb.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        ca.delete_bucket_policy(Bucket=bucket)
        cb.put_object(Bucket=bucket, Key="k", Body=b"x")
    cb.list_buckets()
    a.admin("key", "delete", user.access_key)  # an admin command, as an operator runs it
    with pytest.raises(ClientError) as err:
        cb.list_buckets()
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_if_none_match_race_across_gateways(gateways: tuple[Server, Server]) -> None:
    a, b = gateways
    bucket = "race-" + secrets.token_hex(4)
    a.client().create_bucket(Bucket=bucket)
    clients = [a.client(), b.client(), a.client(), b.client(), a.client(), b.client()]
    for round_ in range(5):
        key = f"r{round_}"
        start = threading.Barrier(len(clients))
        outcome: list[Any] = []

        def put(c: Any, i: int, start: threading.Barrier = start, key: str = key,
                outcome: list[Any] = outcome) -> None:
            start.wait()
            try:
                c.put_object(Bucket=bucket, Key=key, Body=str(i).encode(), IfNoneMatch="*")
                outcome.append(("ok", i))
            except ClientError as err:
                outcome.append((err.response["Error"]["Code"], i))
        threads = [threading.Thread(target=put, args=(c, i)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for code, i in outcome if code == "ok"]
        assert len(winners) == 1, outcome
        assert {code for code, _ in outcome} <= {"ok", "PreconditionFailed",
                                                 "ConditionalRequestConflict"}
        body = b.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == str(winners[0]).encode()


def test_multipart_parts_through_two_gateways(gateways: tuple[Server, Server],
                                              tmp_path: Path) -> None:
    a, b = gateways
    ca, cb = a.client(), b.client()
    bucket = "mp-" + secrets.token_hex(4)
    ca.create_bucket(Bucket=bucket)
    up = ca.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    p1, p2 = b"a" * (5 << 20), b"b" * 1024
    e1 = ca.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = cb.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    cb.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert ca.get_object(Bucket=bucket, Key="big")["Body"].read() == p1 + p2
