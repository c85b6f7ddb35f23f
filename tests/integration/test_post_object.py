"""Browser-based uploads (POST Object) with boto3's presigned POST forms."""

from __future__ import annotations

import secrets
from typing import Any

import requests
from harness import Server


def test_presigned_post(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"acl": "public-read", "Content-Type": "text/plain"},
        Conditions=[{"acl": "public-read"}, {"Content-Type": "text/plain"},
                    ["content-length-range", 1, 1000]])
    body = secrets.token_bytes(500)
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("a b.txt", body)},
                         timeout=30)
    assert resp.status_code == 204, resp.text
    got = s3.get_object(Bucket=bucket, Key="uploads/a b.txt")
    assert got["Body"].read() == body and got["ContentType"] == "text/plain"
    anonymous = requests.get(f"{post['url']}/uploads/a%20b.txt", timeout=30)
    assert anonymous.status_code == 200 and anonymous.content == body


def test_policy_violations_store_nothing(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "k", Conditions=[["content-length-range", 1, 10]])
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x" * 11)},
                         timeout=30)
    assert resp.status_code == 400 and "<Code>EntityTooLarge</Code>" in resp.text
    fields = dict(post["fields"], key="other")
    resp = requests.post(post["url"], data=fields, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 403 and "<Code>AccessDenied</Code>" in resp.text
    sig = "x-amz-signature" if "x-amz-signature" in post["fields"] else "signature"
    fields = dict(post["fields"], **{sig: "AAAA" + post["fields"][sig][4:]})
    resp = requests.post(post["url"], data=fields, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 403 and "SignatureDoesNotMatch" in resp.text
    fields = dict(post["fields"], extra="field")
    resp = requests.post(post["url"], data=fields, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 403 and "Extra input fields" in resp.text
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_sigv2_post_with_201_and_redirect(server: Server, bucket: str) -> None:
    s3v2 = server.client(signature_version="s3")
    post = s3v2.generate_presigned_post(
        bucket, "v2", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}])
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"data")},
                         timeout=30)
    assert resp.status_code == 201 and "<Key>v2</Key>" in resp.text
    post = s3v2.generate_presigned_post(
        bucket, "v2r", Fields={"success_action_redirect": "http://example.test/done"},
        Conditions=[{"success_action_redirect": "http://example.test/done"}])
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"data")},
                         timeout=30, allow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("http://example.test/done?bucket=")


def test_anonymous_post_needs_a_writable_bucket(server: Server, s3: Any, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}"
    resp = requests.post(url, data={"key": "anon"}, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 403
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    resp = requests.post(url, data={"key": "anon"}, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 204
    assert s3.get_object(Bucket=bucket, Key="anon")["Body"].read() == b"x"
    resp = requests.post(url, data={"nokey": "1"}, files={"file": ("f", b"x")}, timeout=30)
    assert resp.status_code == 400

