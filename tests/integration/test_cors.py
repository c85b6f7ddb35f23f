"""Bucket CORS: configuration with boto3, preflight and actual requests over plain HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

RULES = {"CORSRules": [
    {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://*.example.com"],
     "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag"],
     "MaxAgeSeconds": 600},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
]}


def _options(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, method="OPTIONS", headers=headers)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}


def test_cors_configuration_round_trip(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert exc.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == ["https://*.example.com"]
    assert got[0]["MaxAgeSeconds"] == 600 and got[1]["AllowedMethods"] == ["GET"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_preflight_and_actual_requests(server: Any, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    url = f"{server.endpoint}/{bucket}/k"
    status, headers = _options(url, {"Origin": "https://app.example.com",
                                     "Access-Control-Request-Method": "PUT",
                                     "Access-Control-Request-Headers": "content-type"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in headers["access-control-allow-methods"]
    assert headers["access-control-max-age"] == "600"
    status, _ = _options(url, {"Origin": "https://evil.test",
                               "Access-Control-Request-Method": "PUT"})
    assert status == 403
    status, _ = _options(url, {"Access-Control-Request-Method": "GET"})
    assert status == 400
    req = urllib.request.Request(url, headers={"Origin": "https://evil.test"})
    with urllib.request.urlopen(req) as resp:
        assert resp.read() == b"x"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    req = urllib.request.Request(url, headers={"Origin": "https://a.example.com"})
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "https://a.example.com"
        assert resp.headers["Access-Control-Expose-Headers"] == "ETag"


def test_bad_cors_configuration_is_rejected(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]})
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
