"""Helpers for driving objectstore with real third-party S3 clients (see test_clients.py).

Also holds a tiny SigV2 client equivalent to the boto-2-era ``S3.AWSAuthConnection`` that
the Nova objectstore tests used: http.client + HMAC-SHA1 over the classic canonical string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]

TIMEOUT = 120

# Environment variables that could make a client pick up config from outside the test.
_LEAKY_PREFIXES = ("AWS_", "BOTO_", "RCLONE_", "S3CMD", "HTTP_PROXY", "HTTPS_PROXY",
                   "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ without any AWS/rclone/s3cmd/proxy settings, with HOME pointing at ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        NO_PROXY="*",
        no_proxy="*",
        LC_ALL="C.UTF-8",
        LANG="C.UTF-8",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run(cmd: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None,
        input: str | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), env=dict(env), cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout, check=False,
                          input=input, stdin=None if input is not None else subprocess.DEVNULL)


def check(cp: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """Assert exit status 0, showing the whole conversation if not."""
    assert cp.returncode == 0, (
        f"command failed ({cp.returncode}): {cp.args}\n--- stdout ---\n{cp.stdout}"
        f"\n--- stderr ---\n{cp.stderr[-20000:]}")
    return cp


def payload(size: int, seed: str) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 32
    return bytes(out[:size])


# A tree with nesting, an empty file, spaces, unicode and characters that need URL-encoding.
TREE_FILES: dict[str, bytes] = {
    "top.txt": b"top level\n",
    "empty.bin": b"",
    "dir one/file with spaces.txt": b"spaces in both dir and file name\n",
    "dir one/nested/deep.bin": payload(70_001, "deep"),
    "ünïcødé/naïve café ✓.txt": "unicode content ✓\n".encode(),
    "special/a+b=c&d;e,f@g$h.txt": b"reserved characters\n",
    "special/percent%20literal.txt": b"percent literal\n",
}


def make_tree(root: Path, files: Mapping[str, bytes] = TREE_FILES) -> dict[str, bytes]:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return dict(files)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- legacy SigV2 client

SUBRESOURCES = ("acl", "location", "logging", "torrent")


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def xml(self) -> ElementTree.Element:
        return ElementTree.fromstring(self.body)


def _strip_ns(root: ElementTree.Element) -> ElementTree.Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def canonical_string(method: str, path: str, headers: Mapping[str, str],
                     query: Mapping[str, str] | None = None) -> str:
    """boto 2's ``boto.utils.canonical_string`` (path is the URL-encoded /bucket/key)."""
    interesting: dict[str, str] = {}
    for name, value in headers.items():
        lk = name.lower()
        if lk in ("content-md5", "content-type", "date") or lk.startswith("x-amz-"):
            interesting[lk] = str(value).strip()
    interesting.setdefault("content-type", "")
    interesting.setdefault("content-md5", "")
    if "x-amz-date" in interesting:
        interesting["date"] = ""
    buf = method + "\n"
    for key in sorted(interesting):
        if key.startswith("x-amz-"):
            buf += f"{key}:{interesting[key]}\n"
        else:
            buf += interesting[key] + "\n"
    buf += path
    subs = sorted(k for k in (query or {}) if k in SUBRESOURCES)
    if subs:
        buf += "?" + "&".join(subs)
    return buf


class AWSAuthConnection:
    """Path-style SigV2 connection with the same surface as boto 2's ``S3.AWSAuthConnection``."""

    def __init__(self, access_key: str, secret_key: str, host: str, port: int) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.host = host
        self.port = port
        self.last_string_to_sign = ""

    # -- buckets
    def list_all_my_buckets(self) -> Response:
        return self._request("GET", "", "")

    def create_bucket(self, bucket: str, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("PUT", bucket, "", headers=headers)

    def list_bucket(self, bucket: str, options: Mapping[str, str] | None = None) -> Response:
        return self._request("GET", bucket, "", query=options)

    def delete_bucket(self, bucket: str) -> Response:
        return self._request("DELETE", bucket, "")

    def get_bucket_acl(self, bucket: str) -> Response:
        return self._request("GET", bucket, "", query={"acl": ""})

    # -- objects
    def put(self, bucket: str, key: str, data: bytes,
            headers: Mapping[str, str] | None = None) -> Response:
        return self._request("PUT", bucket, key, body=data, headers=headers)

    def get(self, bucket: str, key: str, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("GET", bucket, key, headers=headers)

    def head(self, bucket: str, key: str) -> Response:
        return self._request("HEAD", bucket, key)

    def delete(self, bucket: str, key: str) -> Response:
        return self._request("DELETE", bucket, key)

    # -- plumbing
    def _request(self, method: str, bucket: str, key: str, *, body: bytes = b"",
                 headers: Mapping[str, str] | None = None,
                 query: Mapping[str, str] | None = None) -> Response:
        path = "/"
        if bucket:
            path += bucket
            if key:
                path += "/" + quote(key, safe="/~")
        hdrs = dict(headers or {})
        hdrs.setdefault("Date", formatdate(usegmt=True))
        hdrs["Content-Length"] = str(len(body))
        sts = canonical_string(method, path, hdrs, query)
        self.last_string_to_sign = sts
        sig = base64.b64encode(
            hmac.new(self.secret_key.encode(), sts.encode("utf-8"), hashlib.sha1).digest()
        ).decode()
        hdrs["Authorization"] = f"AWS {self.access_key}:{sig}"
        url = path
        if query:
            url += "?" + "&".join(
                quote(k, safe="") + ("=" + quote(v, safe="") if v else "")
                for k, v in query.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, url, body=body if body or method in ("PUT", "POST") else None,
                         headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason,
                            {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()


def xml_texts(body: bytes, tag: str) -> list[str]:
    """All texts of elements named ``tag`` (namespace ignored)."""
    root = _strip_ns(ElementTree.fromstring(body))
    return [el.text or "" for el in root.iter(tag)]


def anonymous_get(host: str, port: int, path: str) -> Response:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason,
                        {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def s3cmd_command() -> list[str]:
    """s3cmd's script, run with this interpreter (a pyenv shim on PATH is a shell script)."""
    candidates = [Path(sysconfig.get_path("scripts")) / "s3cmd",
                  Path(sys.executable).parent / "s3cmd"]
    found = shutil.which("s3cmd")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file():
            head = c.read_bytes()[:200]
            if head.startswith(b"#!") and b"python" in head.splitlines()[0]:
                return [sys.executable, str(c)]
    if found:
        return [found]
    pytest.skip("s3cmd is not installed")


def s3cmd_runner(server: Any, tmp_path: Path, extra: list[str]) -> Runner:
    home = tmp_path / "s3cmd-home"
    env = isolated_env(home)
    cfg = home / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {server.root.access_key}\n"
        f"secret_key = {server.root.secret_key}\n"
        f"host_base = 127.0.0.1:{server.port}\n"
        f"host_bucket = 127.0.0.1:{server.port}\n"
        "bucket_location = us-east-1\n"
        "use_https = False\n"
        "signature_v2 = False\n"
        "check_ssl_certificate = False\n"
        "proxy_host = \n"
        "proxy_port = 0\n"
        "progress_meter = False\n"
        "max_retries = 1\n"
    )

    def call(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run([*s3cmd_command(), "-c", str(cfg), "--no-progress", *extra, *args], env,
                   cwd=cwd)

    return call
