"""Server access logs against a real server: Put/GetBucketLogging and its errors, records
delivered as log objects (S3's format, request ids matching x-amz-request-id, errors and
anonymous requests included, log writes not logged), and no record lost across a clean
restart or a kill -9."""

from __future__ import annotations

import http.client
import re
import shlex
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server, meta_query, new_server, running

FIELDS = 26


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("logs") / "data",
                        extra_args=["--log-delivery-interval", "1", "--no-fsync"])
    with running(server, signal.SIGTERM):
        yield server


def _name(tag: str) -> str:
    return f"{tag}-{time.time_ns() % 10**12}"


def _target(s3: Any, acl: str = "log-delivery-write") -> str:
    name = _name("logs")
    s3.create_bucket(Bucket=name, ACL=acl)
    return name


def _enable(s3: Any, source: str, target: str, prefix: str = "log/",
            key_format: dict[str, Any] | None = None) -> None:
    enabled: dict[str, Any] = {"TargetBucket": target, "TargetPrefix": prefix}
    if key_format is not None:
        enabled["TargetObjectKeyFormat"] = key_format
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": enabled})


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def parse(line: str) -> list[str]:
    """A record's fields, as ceph/s3-tests and most log tools split them."""
    fields = shlex.split(line.replace("[", '"').replace("]", '"'))
    assert len(fields) == FIELDS, line
    return fields


def records(s3: Any, target: str, prefix: str = "", wait: float = 15.0,
            until: int = 1) -> tuple[list[str], list[list[str]]]:
    """(log object keys, records) in ``target`` once at least ``until`` records came."""
    deadline = time.time() + wait
    while True:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target, Prefix=prefix)
                .get("Contents", [])]
        out = []
        for k in keys:
            body = s3.get_object(Bucket=target, Key=k)["Body"].read().decode()
            out += [parse(line) for line in body.splitlines() if line]
        if len(out) >= until or time.time() > deadline:
            return keys, out
        time.sleep(0.3)


def test_put_get_logging_round_trip(srv: Server) -> None:
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)
    _enable(s3, source, target, key_format={"PartitionedPrefix": {
        "PartitionDateSource": "EventTime"}})
    got = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert got == {"TargetBucket": target, "TargetPrefix": "log/", "TargetObjectKeyFormat": {
        "PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    _enable(s3, source, target, prefix="")
    got = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert got["TargetPrefix"] == "" and got["TargetObjectKeyFormat"] == {"SimplePrefix": {}}
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)


def test_put_logging_errors(srv: Server) -> None:
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    with pytest.raises(ClientError) as exc:
        _enable(s3, source + "-none", target)
    assert _code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        _enable(s3, source, target + "-none")
    assert _code(exc) == "InvalidTargetBucketForLogging"
    plain = _target(s3, acl="private")  # no grant to the log delivery group, no policy
    with pytest.raises(ClientError) as exc:
        _enable(s3, source, plain)
    assert _code(exc) == "InvalidTargetBucketForLogging"
    assert "log-delivery group" in exc.value.response["Error"]["Message"]
    other = srv.client(srv.new_user())
    theirs = _target(other)
    with pytest.raises(ClientError) as exc:
        _enable(s3, source, theirs)
    assert _code(exc) == "InvalidTargetBucketForLogging"
    with pytest.raises(ClientError) as exc:  # only the source bucket's owner
        _enable(other, source, target)
    assert _code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        other.get_bucket_logging(Bucket=source)
    assert _code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        _enable(s3, source, target, key_format={"PartitionedPrefix": {
            "PartitionDateSource": "kaboom"}})
    assert _code(exc) == "MalformedXML"


def test_records_delivered(srv: Server) -> None:
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    _enable(s3, source, target)
    put = s3.put_object(Bucket=source, Key="dir/a b.txt", Body=b"hello")
    put_id = put["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    get = s3.get_object(Bucket=source, Key="dir/a b.txt")
    assert get["Body"].read() == b"hello"
    get_id = get["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    null = s3.get_object(Bucket=source, Key="dir/a b.txt", VersionId="null")
    null_id = null["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=source, Key="missing")
    missing_id = exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    try:  # anonymous, denied
        urllib.request.urlopen(f"{srv.endpoint}/{source}/dir/a%20b.txt", timeout=10)
        raise AssertionError("anonymous GET of a private object answered")
    except urllib.error.HTTPError as err:
        assert err.code == 403
        anon_id = err.headers["x-amz-request-id"]
    keys, recs = records(s3, target, "log/", until=5)
    assert keys and all(re.fullmatch(r"log/\d{4}(-\d\d){5}-[0-9A-F]{16}", k) for k in keys)
    by_id = {r[5]: r for r in recs}
    assert {put_id, get_id, missing_id, anon_id} <= set(by_id)
    owner = s3.list_buckets()["Owner"]["ID"]
    r = by_id[put_id]
    assert r[0] == owner and r[1] == source and r[6] == "REST.PUT.OBJECT"
    assert r[7] == "dir/a%20b.txt" and r[8].startswith("PUT /") and r[9] == "200"
    assert r[12] == "5" and r[19] == "SigV4" and r[21] == "AuthHeader" and r[17] == "-"
    assert by_id[null_id][17] == "null"  # the versionId the request named
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", r[2])
    r = by_id[get_id]
    assert r[6] == "REST.GET.OBJECT" and r[9] == "200" and r[11] == "5" and r[10] == "-"
    r = by_id[missing_id]
    assert r[6] == "REST.GET.OBJECT" and r[9] == "404" and r[10] == "NoSuchKey"
    r = by_id[anon_id]
    assert r[4] == "-" and r[9] == "403" and r[10] == "AccessDenied" and r[21] == "-"
    head = s3.head_object(Bucket=target, Key=keys[0])
    assert head["ContentType"] == "text/plain"
    acl = s3.get_object_acl(Bucket=target, Key=keys[0])
    assert acl["Owner"]["ID"] == owner


def test_copy_source_and_batch_delete_records(srv: Server) -> None:
    """S3's extra records: a copy's read in the source bucket's log (REST.COPY.OBJECT_GET)
    and one BATCH.DELETE.OBJECT per key of a DeleteObjects."""
    s3 = srv.client()
    source, dest, target = _name("src"), _name("dst"), _target(s3)
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=dest)  # not logged
    for k in ("a", "b"):
        s3.put_object(Bucket=source, Key=k, Body=b"x")
    _enable(s3, source, target)
    copied = s3.copy_object(Bucket=dest, Key="c", CopySource={"Bucket": source, "Key": "a"})
    copy_id = copied["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    deleted = s3.delete_objects(Bucket=source, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    delete_id = deleted["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    _, recs = records(s3, target, "log/", until=4)
    ops = sorted((r[5], r[6], r[7]) for r in recs)
    assert ops == sorted([(copy_id, "REST.COPY.OBJECT_GET", "a"),
                          (delete_id, "REST.POST.MULTI_OBJECT_DELETE", "-"),
                          (delete_id, "BATCH.DELETE.OBJECT", "a"),
                          (delete_id, "BATCH.DELETE.OBJECT", "b")])
    assert all(r[1] == source for r in recs)


def test_website_requests_logged(srv: Server) -> None:
    """Requests to the website endpoint are logged as WEBSITE.GET.OBJECT."""
    s3 = srv.client()
    source, target = _name("site"), _target(s3)
    s3.create_bucket(Bucket=source)
    s3.put_object(Bucket=source, Key="index.html", Body=b"<p>hi</p>", ACL="public-read")
    s3.put_bucket_website(Bucket=source, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    _enable(s3, source, target)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("GET", "/index.html",
                     headers={"Host": f"{source}.s3-website.localhost:{srv.port}"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b"<p>hi</p>"
        request_id = resp.getheader("x-amz-request-id")
        conn.request("GET", "/missing.html",
                     headers={"Host": f"{source}.s3-website.localhost:{srv.port}"})
        resp = conn.getresponse()
        resp.read()
        missing_id = resp.getheader("x-amz-request-id")
    finally:
        conn.close()
    _, recs = records(s3, target, "log/", until=2)
    by_id = {r[5]: r for r in recs}
    r = by_id[request_id]
    assert (r[1], r[4], r[6], r[7], r[9], r[10], r[11]) == (
        source, "-", "WEBSITE.GET.OBJECT", "index.html", "200", "-", "9")
    r = by_id[missing_id]
    assert (r[6], r[7], r[9], r[10]) == ("WEBSITE.GET.OBJECT", "missing.html", "403",
                                         "AccessDenied")


def test_log_writes_not_logged(srv: Server) -> None:
    """A target bucket logging into itself: its records are of the client's requests only,
    never of the log objects' own writes (which would otherwise never end)."""
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    _enable(s3, source, target, prefix="src/")
    _enable(s3, target, target, prefix="self/")
    s3.put_object(Bucket=source, Key="k", Body=b"x")
    records(s3, target, "src/", until=1)
    time.sleep(3)  # several delivery rounds
    _, own = records(s3, target, "self/", wait=0, until=0)
    assert own, "the requests that listed and read the target bucket are logged"
    assert all(r[6] != "REST.PUT.OBJECT" for r in own)


def test_delivery_no_longer_allowed_is_dropped(srv: Server) -> None:
    """A target whose owner took the log delivery group's grant away gets nothing: the
    records are dropped (as S3 does), not kept for ever."""
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    _enable(s3, source, target, prefix="gone/")
    s3.put_bucket_acl(Bucket=target, ACL="private")
    s3.put_object(Bucket=source, Key="k", Body=b"x")
    assert srv.log_path is not None
    said = f"access logs of {source}: 1 records dropped (not allowed by the target bucket)"
    deadline = time.time() + 10
    while said not in srv.log_path.read_text() and time.time() < deadline:
        time.sleep(0.2)
    assert said in srv.log_path.read_text()
    assert _waiting(srv, source) == 0
    assert records(s3, target, "gone/", wait=0, until=0)[0] == []


def _waiting(srv: Server, bucket: str) -> int:
    """Records of ``bucket`` not yet delivered (or dropped)."""
    return int(meta_query(srv, "SELECT COUNT(*) FROM access_log WHERE bucket=?",
                          (bucket,))[0][0])


def test_partitioned_keys(srv: Server) -> None:
    s3 = srv.client()
    source, target = _name("src"), _target(s3)
    s3.create_bucket(Bucket=source)
    _enable(s3, source, target, prefix="p/", key_format={"PartitionedPrefix": {
        "PartitionDateSource": "DeliveryTime"}})
    s3.put_object(Bucket=source, Key="k", Body=b"x")
    keys, _ = records(s3, target, "p/")
    assert keys
    m = re.fullmatch(r"p/(\d{12})/([^/]+)/([^/]+)/(\d{4})/(\d\d)/(\d\d)/"
                     r"(\d{4})-(\d\d)-(\d\d)-\d\d-\d\d-\d\d-[0-9A-F]{16}", keys[0])
    assert m is not None, keys[0]
    assert m.group(2) == "us-east-1" and m.group(3) == source
    assert m.group(4, 5, 6) == m.group(7, 8, 9)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_record_lost_across_restart(tmp_path: Path, sig: int) -> None:
    """Records kept before a clean stop are delivered at shutdown; records kept before a
    kill -9 are delivered after the restart."""
    server = new_server(tmp_path / "data", extra_args=[
        "--log-delivery-interval", "3600", "--job-lease-seconds", "2"])
    with running(server):
        s3 = server.client()
        source, target = _name("src"), _target(s3)
        s3.create_bucket(Bucket=source)
        _enable(s3, source, target)
        ids = []
        for i in range(5):
            resp = s3.put_object(Bucket=source, Key=f"k{i}", Body=b"x")
            ids.append(resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])
        time.sleep(1.5)  # the deliverer holds its lease by now (it looks after 1 s)
        if sig == signal.SIGKILL:
            assert records(s3, target, wait=0, until=0)[0] == []  # nothing delivered yet
        server.stop(sig)
        server.extra_args[1] = "1"
        server.start()
        s3 = server.client()
        _, recs = records(s3, target, "log/", wait=20, until=5)
        assert set(ids) <= {r[5] for r in recs}


def test_workers_deliver_each_record_once(tmp_path: Path) -> None:
    """With two server processes, records made in either are delivered by the one holding
    the delivery lease, each exactly once."""
    server = new_server(tmp_path / "data", extra_args=[
        "--workers", "2", "--log-delivery-interval", "1", "--no-fsync"])
    with running(server, signal.SIGTERM):
        s3 = server.client()
        source, target = _name("src"), _target(s3)
        s3.create_bucket(Bucket=source)
        _enable(s3, source, target)
        ids = []
        for i in range(20):
            s3 = server.client()  # new connections: both processes get requests
            resp = s3.put_object(Bucket=source, Key=f"k{i}", Body=b"x")
            ids.append(resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])
        _, recs = records(s3, target, "log/", wait=20, until=20)
        got = [r[5] for r in recs]
        assert sorted(got) == sorted(ids)
