"""Helpers of the operators' endpoint tests: scraping /_metrics, signed plain requests."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import Creds, Server
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def signed_get(server: Server, path: str, creds: Creds) -> requests.Response:
    """GET ``path`` signed with SigV4 (header) by ``creds``."""
    req = AWSRequest(method="GET", url=server.endpoint + path, data=b"")
    S3SigV4Auth(Credentials(creds.access_key, creds.secret_key), "s3", "us-east-1") \
        .add_auth(req)
    return requests.get(server.endpoint + path, headers=dict(req.headers.items()), timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def scrape(server: Server, token: str) -> Samples:
    r = requests.get(server.endpoint + "/_metrics", headers=bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def fresh_get(server: Server, path: str, headers: dict[str, str] | None = None
              ) -> tuple[int, bytes, dict[str, str]]:
    """GET on a new connection (several worker processes: the kernel picks one)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def log_records(path: Path, wait_for: int = 0, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The JSON access log's records (waiting until at least ``wait_for`` are there)."""
    deadline = time.time() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        if len(records) >= wait_for or time.time() > deadline:
            return records
        time.sleep(0.1)
