"""The web console's origin, seen over plain HTTP: its own port serving only the
console's files with strict security headers, ``/_console/`` on the S3 port redirecting
there, and server-level CORS on the S3 port for the console's origin only."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests
from harness import Server, free_port, new_server, running


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = new_server(tmp_path_factory.mktemp("console") / "data")
    srv.extra_args = ["--console-port", str(free_port())]
    with running(srv):
        yield srv


def console_url(srv: Server) -> str:
    return f"http://127.0.0.1:{srv.extra_args[1]}"


def test_console_port_serves_the_app_with_strict_headers(console: Server) -> None:
    r = requests.get(console_url(console) + "/", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    csp = r.headers["content-security-policy"]
    for part in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                 "frame-ancestors 'none'", f"connect-src 'self' {console.endpoint}",
                 "base-uri 'none'", "form-action 'none'"):
        assert part in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert "set-cookie" not in r.headers


def test_config_names_the_s3_endpoint_by_the_host_used(console: Server) -> None:
    r = requests.get(console_url(console) + "/config.json", timeout=10)
    assert r.status_code == 200
    cfg = r.json()
    assert cfg["endpoint"] == console.endpoint and cfg["region"] == "us-east-1"
    assert 900 <= cfg["sessionSeconds"] <= cfg["maxSessionSeconds"]
    r = requests.get(console_url(console) + "/config.json", timeout=10,
                     headers={"Host": f"localhost:{console.extra_args[1]}"})
    assert r.json()["endpoint"] == f"http://localhost:{console.port}"


def test_console_port_serves_nothing_else(console: Server) -> None:
    base = console_url(console)
    assert requests.get(base + "/no/such/file.js", timeout=10).status_code == 404
    assert requests.get(base + "/../../etc/passwd", timeout=10).status_code == 404
    r = requests.put(base + "/bucket/key", data=b"x", timeout=10)
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    # the S3 API is not reachable on the console's origin: objects never are served there
    assert requests.get(base + "/?list-type=2", timeout=10).text.lower().count("<html") == 1


def test_console_path_on_the_s3_port_redirects(console: Server) -> None:
    r = requests.get(console.endpoint + "/_console/", allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["location"] == console_url(console) + "/"


def test_server_cors_for_the_console_origin_only(console: Server) -> None:
    origin = console_url(console)
    pre = requests.options(console.endpoint + "/some-bucket/some/key", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, x-amz-date, x-amz-security-token"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == origin
    assert "PUT" in pre.headers["access-control-allow-methods"]
    assert "x-amz-security-token" in pre.headers["access-control-allow-headers"]
    for path in ("/", "/_admin/whoami", "/_images"):
        pre = requests.options(console.endpoint + path, timeout=10, headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 200, path
    # errors carry the headers too (the console reads their codes)
    r = requests.get(console.endpoint + "/", headers={"Origin": origin}, timeout=10)
    assert r.status_code == 403 and r.headers["access-control-allow-origin"] == origin
    assert "ETag" in r.headers["access-control-expose-headers"]
    # any other origin: no server-level CORS at all
    for other in ("http://evil.example:%s" % console.extra_args[1],
                  f"http://127.0.0.1:{console.port}", "null"):
        r = requests.get(console.endpoint + "/", headers={"Origin": other}, timeout=10)
        assert "access-control-allow-origin" not in r.headers, other
        pre = requests.options(console.endpoint + "/", timeout=10, headers={
            "Origin": other, "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in pre.headers, other


def _serve(data: Path, port: int, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "objectstore", "serve", "--data-dir",
                             str(data), "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    import time

    deadline = time.time() + 20
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else b""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


def _free_pair() -> int:
    """A port P with P + 1 free too."""
    for _ in range(100):
        port = free_port()
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise AssertionError("no two free ports in a row")


def test_default_console_port_is_the_next_one(tmp_path: Path) -> None:
    port = _free_pair()
    proc = _serve(tmp_path / "d1", port)
    try:
        _wait_port(port, proc)
        _wait_port(port + 1, proc)
        r = requests.get(f"http://127.0.0.1:{port + 1}/", timeout=10)
        assert r.status_code == 200 and "content-security-policy" in r.headers
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert f"web console at http://127.0.0.1:{port + 1}/" in out


def test_taken_default_port_leaves_the_console_off(tmp_path: Path) -> None:
    port = _free_pair()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port + 1))
        blocker.listen(1)
        proc = _serve(tmp_path / "d2", port)
        try:
            _wait_port(port, proc)
            r = requests.get(f"http://127.0.0.1:{port}/_console/", allow_redirects=False,
                             timeout=10)
            assert r.status_code == 404 and "<Code>NoSuchBucket</Code>" in r.text
        finally:
            proc.terminate()
            out = proc.communicate(timeout=20)[0].decode()
    assert "no web console" in out
    # an explicit --console-port that is taken stops the server instead
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port + 1))
        blocker.listen(1)
        proc = _serve(tmp_path / "d3", port, "--console-port", str(port + 1))
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode != 0 and "cannot listen on port" in out


def test_console_with_workers(tmp_path: Path) -> None:
    port, cport = free_port(), free_port()
    proc = _serve(tmp_path / "d4", port, "--workers", "2", "--console-port", str(cport))
    try:
        _wait_port(port, proc)
        _wait_port(cport, proc)
        for _ in range(4):
            assert requests.get(f"http://127.0.0.1:{cport}/config.json",
                                timeout=10).json()["endpoint"] == f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
