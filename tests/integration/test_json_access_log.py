"""The JSON lines access log (issue 12): one record per response, its request id the
response's x-amz-request-id, with the right status, S3 error code and byte counts, and no
secret, signature or presigned query value anywhere in it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import new_server, running
from observe_util import log_records

FIELDS = {"time", "request_id", "operation", "method", "bucket", "key", "status",
          "error_code", "bytes_in", "bytes_out", "duration_ms", "access_key_id",
          "remote_addr", "gateway", "pid"}


def test_every_response_has_exactly_one_record(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    server = new_server(tmp_path / "data", extra_args=["--access-log", str(log)])
    seen: list[tuple[str, int]] = []  # (request id, status) of every response boto3 got

    def note(http_response: Any, **_: Any) -> None:
        seen.append((http_response.headers["x-amz-request-id"], http_response.status_code))

    with running(server, sig=15):
        s3 = server.client()
        s3.meta.events.register("after-call", note)  # errors too (before raising)
        bucket = "jlog-" + secrets.token_hex(6)
        s3.create_bucket(Bucket=bucket)
        body = secrets.token_bytes(4096)
        put = s3.put_object(Bucket=bucket, Key="dir/obj", Body=body)
        got = s3.get_object(Bucket=bucket, Key="dir/obj")
        assert got["Body"].read() == body
        s3.head_object(Bucket=bucket, Key="dir/obj")
        s3.list_objects_v2(Bucket=bucket)
        try:
            s3.get_object(Bucket=bucket, Key="missing")
        except ClientError:
            pass
        # presigned URLs (SigV4 and SigV2): their signatures must not reach the log
        v4 = server.client(signature_version="s3v4")
        url4 = v4.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                                 "Key": "dir/obj"})
        v2 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                          aws_access_key_id=server.root.access_key,
                          aws_secret_access_key=server.root.secret_key,
                          config=Config(signature_version="s3"))
        url2 = v2.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                                 "Key": "dir/obj"})
        plain = []
        for url in (url4, url2, url4.replace("X-Amz-Signature=", "X-Amz-Signature=0")):
            r = requests.get(url, timeout=10)
            plain.append((r.headers["x-amz-request-id"], r.status_code, len(r.content)))
        r = requests.get(server.endpoint + "/_health/ready", timeout=10)
        plain.append((r.headers["x-amz-request-id"], r.status_code, len(r.content)))
        s3.delete_object(Bucket=bucket, Key="dir/obj")
        s3.delete_bucket(Bucket=bucket)
    # stopped: everything flushed
    text = log.read_text()
    records = log_records(log)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        assert set(rec) == FIELDS, rec
        by_id.setdefault(rec["request_id"], []).append(rec)
    assert len(seen) == 8  # create, put, get, head, list, missing, delete x2
    for rid, status in seen:
        assert len(by_id.get(rid, [])) == 1, (rid, by_id.get(rid))
        assert by_id[rid][0]["status"] == status
    for rid, status, size in plain:
        assert len(by_id.get(rid, [])) == 1
        assert by_id[rid][0]["status"] == status
        assert by_id[rid][0]["bytes_out"] == size
    assert len(records) == len(seen) + len(plain)  # nothing else, nothing twice

    put_rec = by_id[put["ResponseMetadata"]["RequestId"]][0]
    assert put_rec["operation"] == "PutObject" and put_rec["bucket"] == bucket
    assert put_rec["key"] == "dir/obj" and put_rec["bytes_in"] >= 4096
    assert put_rec["access_key_id"] == server.root.access_key
    assert put_rec["remote_addr"].startswith("127.0.0.1:")
    assert put_rec["gateway"].endswith(f":{server.port}")
    get_rec = by_id[got["ResponseMetadata"]["RequestId"]][0]
    assert get_rec["operation"] == "GetObject" and get_rec["bytes_out"] == 4096
    assert get_rec["status"] == 200 and get_rec["error_code"] is None
    missing = [r for r in records if r["key"] == "missing"]
    assert len(missing) == 1 and missing[0]["status"] == 404
    assert missing[0]["error_code"] == "NoSuchKey"
    denied = by_id[plain[2][0]][0]
    assert denied["status"] == 403 and denied["error_code"] == "SignatureDoesNotMatch"
    assert by_id[plain[0][0]][0]["access_key_id"] == server.root.access_key

    # no secret, signature or presigned query value
    assert server.root.secret_key not in text
    for url in (url4, url2):
        for part in url.split("?", 1)[1].split("&"):
            name, _, val = part.partition("=")
            if name in ("X-Amz-Signature", "Signature", "X-Amz-Credential", "Expires"):
                assert val not in text, name
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text


def test_access_log_to_standard_output(tmp_path: Path) -> None:
    server = new_server(tmp_path / "data", extra_args=["--access-log", "-"])
    with running(server, sig=15):
        r = requests.get(server.endpoint + "/_health/live", timeout=10)
        rid = r.headers["x-amz-request-id"]
    assert server.log_path is not None
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines()
             if line.startswith("{")]
    assert [rec["request_id"] for rec in lines] == [rid]
    assert lines[0]["operation"] == "Internal" and lines[0]["status"] == 200


def test_access_log_off_by_default(tmp_path: Path) -> None:
    """Off unless asked; the bare flag keeps meaning uvicorn's plain request lines."""
    server = new_server(tmp_path / "data", extra_args=["--access-log"])
    with running(server, sig=15):
        requests.get(server.endpoint + "/_health/live", timeout=10)
    assert server.log_path is not None
    text = server.log_path.read_text()
    assert not any(line.startswith("{") for line in text.splitlines())
    assert '"GET /_health/live HTTP/1.1" 200' in text
