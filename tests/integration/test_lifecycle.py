"""Bucket lifecycle against a real server: configuration round trips and errors (boto3 and
the AWS CLI), x-amz-expiration headers, sweeps with a shortened lifecycle day (expiration,
aborted multipart uploads), one sweeper across --workers processes with take-over when its
holder dies, and kill -9 during a sweep."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from harness import Server, meta_query, new_server, running
from test_clients import aws_json, aws_runner


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    resp = exc.value.response
    return resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"]


def _rule(rule_id: str, prefix: str, days: int = 1, **more: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Filter": {"Prefix": prefix}, "Status": "Enabled",
            "Expiration": {"Days": days}, **more}


def _wait(cond: Callable[[], bool], timeout: float, step: float = 0.25) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def _keys(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _lease(srv: Server) -> tuple[str, int, float, str | None] | None:
    rows = meta_query(srv, "SELECT holder, epoch, expires, state FROM leases "
                           "WHERE name='lifecycle'")
    return tuple(rows[0]) if rows else None  # type: ignore[return-value]


# ------------------------------------------------------------------ configuration

def test_round_trip_and_delete(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _code(err) == (404, "NoSuchLifecycleConfiguration")
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    rules = [
        {"ID": "legacy", "Prefix": "logs/", "Status": "Disabled",
         "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=timezone.utc)}},
        {"ID": "and", "Status": "Enabled", "Expiration": {"Days": 3},
         "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "a", "Value": "1"}],
                            "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "up/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
         "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
        {"ID": "marker", "Status": "Enabled", "Filter": {},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]
    resp = s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                 LifecycleConfiguration={"Rules": rules})
    assert resp["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules
    # the legacy GET Bucket lifecycle reads the same document
    legacy = s3.get_bucket_lifecycle(Bucket=bucket)
    assert [r["ID"] for r in legacy["Rules"]] == ["legacy", "and", "mpu", "marker"]
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _code(err) == (404, "NoSuchLifecycleConfiguration")


def test_legacy_operations(s3: Any, bucket: str) -> None:
    """PUT/GET Bucket lifecycle (deprecated): rules with a top-level Prefix, same validation."""
    rules = [{"ID": "old", "Prefix": "tmp/", "Status": "Enabled",
              "Expiration": {"Days": 4}}]
    s3.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle(Bucket=bucket)["Rules"] == rules
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {**rules[0], "Status": "disabled"}]})
    assert _code(err) == (400, "MalformedXML")


def test_generated_ids(s3: Any, bucket: str) -> None:
    rules = [{"Prefix": "a/", "Status": "Enabled", "Expiration": {"Days": 1}},
             {"Prefix": "b/", "Status": "Enabled", "Expiration": {"Days": 2}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    ids = [r["ID"] for r in got]
    assert all(ids) and len(set(ids)) == 2
    assert [r["Prefix"] for r in got] == ["a/", "b/"]


@pytest.mark.parametrize("rules, code", [
    ([_rule("same", "a/"), _rule("same", "b/")], "InvalidArgument"),
    ([_rule("x" * 256, "a/")], "InvalidArgument"),
    ([{**_rule("r", "a/"), "Status": "enabled"}], "MalformedXML"),
    ([_rule("r", "a/", days=0)], "InvalidArgument"),
    ([{"ID": "r", "Filter": {"Prefix": "a/"}, "Status": "Enabled"}], "InvalidRequest"),
    ([{**_rule("r", "a/"), "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}}],
     "MalformedXML"),
    ([{"ID": "r", "Status": "Enabled", "Expiration": {"Date": "2030-01-01T12:00:00Z"},
       "Filter": {}}], "InvalidArgument"),
])
def test_invalid_configurations(s3: Any, bucket: str, rules: list[dict[str, Any]],
                                code: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": rules})
    assert _code(err) == (400, code)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)  # nothing was stored
    assert _code(err)[1] == "NoSuchLifecycleConfiguration"


def test_digests_of_the_document_are_checked(server: Server, bucket: str) -> None:
    import base64
    import hashlib

    import requests
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    body = (b'<LifecycleConfiguration><Rule><ID>r</ID><Prefix/><Status>Enabled</Status>'
            b'<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>')

    def put(headers: dict[str, str]) -> requests.Response:
        url = f"{server.endpoint}/{bucket}?lifecycle"
        req = AWSRequest("PUT", url, data=body, headers=headers)
        S3SigV4Auth(Credentials(server.root.access_key, server.root.secret_key), "s3",
                    "us-east-1").add_auth(req)
        return requests.put(url, data=body, headers=dict(req.headers), timeout=10)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    resp = put({"Content-MD5": wrong})
    assert resp.status_code == 400 and b"<Code>BadDigest</Code>" in resp.content
    resp = put({"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(b"x").digest())
                .decode()})
    assert resp.status_code == 400 and b"<Code>BadDigest</Code>" in resp.content
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    assert put({"Content-MD5": right}).status_code == 200


def test_only_the_owner_configures(server: Server, s3: Any, bucket: str) -> None:
    other = server.client(server.new_user())
    with pytest.raises(ClientError) as err:
        other.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [_rule("r", "a/")]})
    assert _code(err) == (403, "AccessDenied")


def test_aws_cli_round_trip(server: Server, bucket: str, tmp_path: Path) -> None:
    aws = aws_runner(server, tmp_path / "aws-home", server.root)
    config = {"Rules": [{"ID": "cli", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
                         "Expiration": {"Days": 9},
                         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]}
    aws_json(aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
                 "--lifecycle-configuration", json.dumps(config)))
    got = aws_json(aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket))
    assert got["Rules"] == config["Rules"]
    body = tmp_path / "body"
    body.write_bytes(b"cli")
    put = aws_json(aws("s3api", "put-object", "--bucket", bucket, "--key", "tmp/x", "--body",
                       str(body)))
    assert 'rule-id="cli"' in put["Expiration"]
    head = aws_json(aws("s3api", "head-object", "--bucket", bucket, "--key", "tmp/x"))
    assert head["Expiration"] == put["Expiration"]
    aws_json(aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket))
    cp = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert cp.returncode != 0 and "NoSuchLifecycleConfiguration" in cp.stderr


# ------------------------------------------------------------------ x-amz-expiration

def _expiry(headers: dict[str, str]) -> tuple[datetime, str] | None:
    value = headers.get("x-amz-expiration")
    if value is None:
        return None
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]+)"', value)
    assert m, value
    return parsedate_to_datetime(m.group(1)), m.group(2)


def test_expiration_headers(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="before/x", Body=b"1")
    plain = s3.head_object(Bucket=bucket, Key="before/x")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-expiration" not in plain  # no configuration, no header
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        _rule("week", "days/", 7),
        {"ID": "tagged", "Status": "Enabled", "Expiration": {"Days": 2},
         "Filter": {"Tag": {"Key": "temp", "Value": "yes"}}},
    ]})
    now = datetime.now(timezone.utc)
    resp = s3.put_object(Bucket=bucket, Key="days/a", Body=b"hello")
    found = _expiry(resp["ResponseMetadata"]["HTTPHeaders"])
    assert found is not None
    when, rule_id = found
    assert rule_id == "week"
    # creation + 7 days, rounded up to the next midnight UTC
    expected = (now + timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert when in (expected + timedelta(days=1), expected)
    assert (when.hour, when.minute, when.second) == (0, 0, 0)
    for call in (s3.head_object, s3.get_object):
        h = call(Bucket=bucket, Key="days/a")["ResponseMetadata"]["HTTPHeaders"]
        assert _expiry(h) == found
    # copy and complete answer it too
    copied = s3.copy_object(Bucket=bucket, Key="days/b", CopySource=f"{bucket}/days/a")
    assert _expiry(copied["ResponseMetadata"]["HTTPHeaders"])[1] == "week"  # type: ignore[index]
    up = s3.create_multipart_upload(Bucket=bucket, Key="days/mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="days/mp", UploadId=up, PartNumber=1, Body=b"x")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="days/mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert _expiry(done["ResponseMetadata"]["HTTPHeaders"])[1] == "week"  # type: ignore[index]
    # rules that do not match: no header; tags decide too
    h = s3.put_object(Bucket=bucket, Key="other", Body=b"1")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-expiration" not in h
    s3.put_object(Bucket=bucket, Key="t", Body=b"1", Tagging="temp=yes")
    h = s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"]
    assert _expiry(h)[1] == "tagged"  # type: ignore[index]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    h = s3.head_object(Bucket=bucket, Key="days/a")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-expiration" not in h


# ------------------------------------------------------------------ sweeps

DAY_ARGS = ["--no-fsync", "--lifecycle-day-seconds", "1", "--lifecycle-interval", "0.5"]


def test_sweep_expires_and_aborts(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", extra_args=DAY_ARGS)
    with running(srv):
        s3 = srv.client()
        b = "sweep-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=b)
        for key in ("expire/a", "expire/b", "keep/a", "late/a", "big/small"):
            s3.put_object(Bucket=b, Key=key, Body=b"data")
        s3.put_object(Bucket=b, Key="big/large", Body=b"x" * 5000)
        s3.put_object(Bucket=b, Key="tag/yes", Body=b"1", Tagging="gone=1")
        s3.put_object(Bucket=b, Key="tag/no", Body=b"1", Tagging="gone=0")
        doomed = s3.create_multipart_upload(Bucket=b, Key="tmp/upload")["UploadId"]
        s3.upload_part(Bucket=b, Key="tmp/upload", UploadId=doomed, PartNumber=1, Body=b"p")
        kept = s3.create_multipart_upload(Bucket=b, Key="other/upload")["UploadId"]
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            _rule("fast", "expire/", 2),
            _rule("slow", "late/", 300),
            {"ID": "big", "Status": "Enabled", "Expiration": {"Days": 1},
             "Filter": {"And": {"Prefix": "big/", "ObjectSizeGreaterThan": 1000}}},
            {"ID": "tag", "Status": "Enabled", "Expiration": {"Days": 1},
             "Filter": {"Tag": {"Key": "gone", "Value": "1"}}},
            {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"},
             "Expiration": {"Days": 1}},
        ]})
        left = {"keep/a", "late/a", "big/small", "tag/no"}
        assert _wait(lambda: _keys(s3, b) == left, 20), _keys(s3, b)
        uploads = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])}
        assert _wait(lambda: {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b)
                              .get("Uploads", [])} == {kept}, 10), uploads
        assert s3.get_object(Bucket=b, Key="keep/a")["Body"].read() == b"data"
        with pytest.raises(ClientError):
            s3.list_parts(Bucket=b, Key="tmp/upload", UploadId=doomed)
        lease = _lease(srv)
        assert lease is not None and lease[1] == 1
    assert "Traceback" not in srv.log_path.read_text()  # type: ignore[union-attr]


def test_cli_lifecycle_run(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", extra_args=["--no-fsync"])  # real days
    b = "cli-" + uuid.uuid4().hex[:8]
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="old/a", Body=b"1")
        s3.put_object(Bucket=b, Key="new/a", Body=b"1")
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            _rule("r", "old/", 1)]})
        time.sleep(1.5)
        srv.stop()
    # with real days nothing is due; a 1-second day expires old/a
    out = srv.admin("lifecycle", "run", "--bucket", b)
    assert "0 objects expired" in out
    out = srv.admin("lifecycle", "run", "--day-seconds", "1")
    assert "1 objects expired" in out, out
    with running(srv):
        assert _keys(srv.client(), b) == {"new/a"}
    cp = subprocess.run([sys.executable, "-m", "objectstore", "lifecycle", "run", "--bucket",
                         "nope", "--data-dir", str(srv.data_dir)], capture_output=True,
                        text=True, timeout=60)
    assert cp.returncode == 1 and "no bucket" in cp.stderr


def _worker_pids(server: Server) -> list[int]:
    assert server.proc is not None
    pid = server.proc.pid
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                cmd = Path(f"/proc/{kid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmd:  # not multiprocessing's resource tracker
                out.append(int(kid))
    return out


def test_one_sweeper_across_workers_and_take_over(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", extra_args=[*DAY_ARGS, "--workers", "2",
                                                    "--job-lease-seconds", "3"])
    with running(srv):
        assert _wait(lambda: len(_worker_pids(srv)) == 2, 20)
        s3 = srv.client()
        b = "workers-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=b)
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            _rule("r", "x/", 1)]})
        assert _wait(lambda: _lease(srv) is not None, 15)
        first = _lease(srv)
        assert first is not None
        holders = set()
        for _ in range(12):  # over several sweep intervals one process keeps the lease
            row = _lease(srv)
            assert row is not None
            holders.add((row[0], row[1]))
            time.sleep(0.25)
        assert holders == {(first[0], 1)}
        holder_pid = int(first[0].split(":")[-2])
        assert holder_pid in _worker_pids(srv)
        for i in range(5):
            s3.put_object(Bucket=b, Key=f"x/{i}", Body=b"1")
        assert _wait(lambda: not _keys(s3, b), 15)
        # the holder dies: another process takes the lease over (epoch 2) and sweeps on
        os.kill(holder_pid, signal.SIGKILL)
        for i in range(5):
            s3.put_object(Bucket=b, Key=f"x/again{i}", Body=b"1")
        assert _wait(lambda: (_lease(srv) or ("", 0))[1] >= 2, 30)
        row = _lease(srv)
        assert row is not None and row[0] != first[0]
        assert _wait(lambda: not _keys(s3, b), 15), _keys(s3, b)
        for pid in _worker_pids(srv):
            os.kill(pid, signal.SIGKILL)


def _kill_mid_sweep(srv: Server, bucket: str) -> None:
    """Start ``srv`` with a fast sweeper (half-second days) and kill -9 it as soon as a
    batch of the sweep has been committed with its cursor (the sweep is mid-way)."""
    srv.extra_args = ["--no-fsync", "--job-lease-seconds", "2",
                      "--lifecycle-day-seconds", "0.5", "--lifecycle-interval", "0.2"]
    srv.start()
    caught = None
    deadline = time.time() + 20
    while time.time() < deadline:
        row = _lease(srv)
        if row is not None and row[3] is not None:
            caught = json.loads(row[3])
            break
        time.sleep(0.002)
    srv.stop(signal.SIGKILL)
    assert caught is not None and caught["bucket"] == bucket  # killed with a cursor saved


def test_kill_during_sweep_then_resume(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", extra_args=["--no-fsync", "--job-lease-seconds", "2"])
    b = "crash-" + uuid.uuid4().hex[:8]
    n = 1500
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket=b)

        def put(i: int) -> None:
            key = f"expire/{i:05d}" if i % 3 else f"keep/{i:05d}"
            s3.put_object(Bucket=b, Key=key, Body=key.encode())
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(n)))
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            _rule("r", "expire/", 1)]})
    _kill_mid_sweep(srv, b)
    left = meta_query(srv, "SELECT count(*) FROM objects WHERE key LIKE 'expire/%'")[0][0]
    assert 0 < left < n  # ... in the middle of the sweep
    keep = {f"keep/{i:05d}" for i in range(n) if i % 3 == 0}
    srv.extra_args = srv.extra_args[:3] + ["--lifecycle-day-seconds", "0.5"]
    with running(srv):
        s3 = srv.client()
        paginator = s3.get_paginator("list_objects_v2")

        def listed() -> set[str]:
            return {o["Key"] for page in paginator.paginate(Bucket=b)
                    for o in page.get("Contents", [])}
        assert _wait(lambda: listed() == keep, 30), len(listed())
        for key in sorted(keep)[:20]:
            assert s3.get_object(Bucket=b, Key=key)["Body"].read() == key.encode()
        row = _lease(srv)
        assert row is not None and row[1] >= 2  # taken over from the killed holder


# ------------------------------------------------------------------ versioned buckets

def _versions(s3: Any, bucket: str, prefix: str) -> tuple[list[Any], list[Any]]:
    resp = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return resp.get("Versions", []), resp.get("DeleteMarkers", [])


def test_versioned_sweep(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "data", extra_args=DAY_ARGS)
    with running(srv):
        s3 = srv.client()
        b = "versioned-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        cur = s3.put_object(Bucket=b, Key="cur/a", Body=b"current")["VersionId"]
        for i in range(4):
            s3.put_object(Bucket=b, Key="nc/a", Body=f"v{i}".encode())
        s3.put_object(Bucket=b, Key="dm/a", Body=b"old")
        s3.delete_object(Bucket=b, Key="dm/a")
        s3.delete_object(Bucket=b, Key="lone/x")  # a marker with nothing under it
        s3.put_object(Bucket=b, Key="keep/a", Body=b"1")
        s3.delete_object(Bucket=b, Key="keep/a")
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            _rule("cur", "cur/", 2),
            {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": "nc/"},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1,
                                             "NewerNoncurrentVersions": 1}},
            {"ID": "dm", "Status": "Enabled", "Filter": {"Prefix": "dm/"},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
             "Expiration": {"ExpiredObjectDeleteMarker": True}},
            {"ID": "lone", "Status": "Enabled", "Filter": {"Prefix": "lone/"},
             "Expiration": {"ExpiredObjectDeleteMarker": True}},
            {"ID": "keep", "Status": "Enabled", "Filter": {"Prefix": "keep/"},
             "Expiration": {"ExpiredObjectDeleteMarker": True}},
        ]})

        def settled() -> bool:
            v, m = _versions(s3, b, "")
            return (len([x for x in v if x["Key"] == "nc/a"]) == 2
                    and not [x for x in v + m if x["Key"] in ("dm/a", "lone/x")]
                    and len([x for x in m if x["Key"] == "cur/a"]) == 1)
        assert _wait(settled, 20), _versions(s3, b, "")
        # Expiration of a current version: a delete marker on top, the data kept
        versions, markers = _versions(s3, b, "cur/")
        assert [v["VersionId"] for v in versions] == [cur] and not versions[0]["IsLatest"]
        assert markers[0]["IsLatest"]
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=b, Key="cur/a")
        assert _code(err)[0] == 404
        assert s3.get_object(Bucket=b, Key="cur/a", VersionId=cur)["Body"].read() == b"current"
        # the newest noncurrent version is kept (NewerNoncurrentVersions 1), with the current
        versions, _ = _versions(s3, b, "nc/")
        assert [s3.get_object(Bucket=b, Key="nc/a", VersionId=v["VersionId"])["Body"].read()
                for v in versions] == [b"v3", b"v2"]
        # a marker over a version is not an expired object delete marker
        versions, markers = _versions(s3, b, "keep/")
        assert len(versions) == 1 and len(markers) == 1
        time.sleep(3)  # and the marker stays (one more Days of the cur rule)
        versions, markers = _versions(s3, b, "cur/")
        assert len(versions) == 1 and len(markers) == 1  # never a second marker on a marker
    assert "Traceback" not in srv.log_path.read_text()  # type: ignore[union-attr]


def test_kill_during_versioned_sweep_then_resume(tmp_path: Path) -> None:
    """Noncurrent versions expire across a kill -9 mid-sweep; current versions never go."""
    srv = new_server(tmp_path / "data", extra_args=["--no-fsync", "--job-lease-seconds", "2"])
    b = "vcrash-" + uuid.uuid4().hex[:8]
    n = 800
    with running(srv):
        s3 = srv.client()
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})

        def put(i: int) -> None:
            for gen in ("old", "new"):
                s3.put_object(Bucket=b, Key=f"k/{i:05d}", Body=f"{gen}{i}".encode())
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(n)))
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "nc", "Status": "Enabled", "Filter": {},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    _kill_mid_sweep(srv, b)
    left = meta_query(srv, "SELECT count(*) FROM versions WHERE bucket=?", (b,))[0][0]
    assert 0 < left < n
    with running(srv):
        s3 = srv.client()

        def noncurrent() -> int:
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=b)
            return sum(1 for p in pages for v in p.get("Versions", []) if not v["IsLatest"])
        assert _wait(lambda: noncurrent() == 0, 30)
        for i in range(0, n, 97):
            assert s3.get_object(Bucket=b, Key=f"k/{i:05d}")["Body"].read() == f"new{i}".encode()
        keys = sum(len(p.get("Contents", [])) for p in
                   s3.get_paginator("list_objects_v2").paginate(Bucket=b))
        assert keys == n


def test_object_lock_stops_lifecycle_removals(tmp_path: Path) -> None:
    """Locked noncurrent versions survive NoncurrentVersionExpiration (the removal is
    refused alone; the rest of the batch goes); an expired current version still gets its
    delete marker (a marker deletes nothing)."""
    srv = new_server(tmp_path / "data", extra_args=DAY_ARGS)
    with running(srv):
        s3 = srv.client()
        b = "locked-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
        until = datetime.now(timezone.utc) + timedelta(hours=1)
        held = s3.put_object(Bucket=b, Key="nc/a", Body=b"locked", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=until)["VersionId"]
        free = s3.put_object(Bucket=b, Key="nc/b", Body=b"free")["VersionId"]
        s3.put_object(Bucket=b, Key="nc/a", Body=b"newer")
        s3.put_object(Bucket=b, Key="nc/b", Body=b"newer")
        s3.put_object(Bucket=b, Key="cur/a", Body=b"1", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until)
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": "nc/"},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            _rule("cur", "cur/", 1)]})

        def ids(prefix: str) -> set[str]:
            return {v["VersionId"] for v in _versions(s3, b, prefix)[0]}
        assert _wait(lambda: free not in ids("nc/b"), 15)
        assert _wait(lambda: len(_versions(s3, b, "cur/")[1]) == 1, 15)
        time.sleep(2)  # several more sweeps
        assert held in ids("nc/a")
        assert s3.get_object(Bucket=b, Key="nc/a", VersionId=held)["Body"].read() == b"locked"
        assert len(_versions(s3, b, "cur/")[0]) == 1  # the locked data is still there
        for v in _versions(s3, b, "")[0]:  # let the fixture-free cleanup go: bypass
            s3.delete_object(Bucket=b, Key=v["Key"], VersionId=v["VersionId"],
                             BypassGovernanceRetention=True)
    assert "Traceback" not in srv.log_path.read_text()  # type: ignore[union-attr]
