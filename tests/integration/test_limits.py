"""Limits of the HTTP layer against the real server: request-head size, header count and URL
length, head-read / idle / body-progress timeouts, the connection cap, bounded caches, and
graceful shutdown on SIGTERM."""

from __future__ import annotations

import secrets
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
from harness import Creds, Server, free_port, temp_files

CAP = 30
SMALL = ["--no-fsync", "--head-timeout", "1", "--idle-timeout", "1", "--body-timeout", "1",
         "--max-connections", str(CAP)]


def _root() -> Creds:
    return Creds("ROOTACCESSKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20),
                 "admin", "admin")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with one-second timeouts and a cap of 30 connections."""
    srv = Server(tmp_path_factory.mktemp("limits") / "data", free_port(), _root(),
                 extra_args=SMALL)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(limited: Server) -> Any:
    return limited.client()


@pytest.fixture(scope="module")
def bkt(client: Any) -> str:
    name = "limits-" + secrets.token_hex(6)
    client.create_bucket(Bucket=name)
    return name


def _conn(srv: Server, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)


def _read_all(s: socket.socket) -> bytes:
    """Everything until the server closes (or resets) the connection."""
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return out


def _send_ignoring_reset(s: socket.socket, data: bytes) -> None:
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server refused before the whole head was sent: expected


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _works(srv: Server) -> None:
    assert srv.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


# ---------------------------------------------------------------------------- head limits
def test_huge_header_is_refused_quickly_and_others_are_served(limited: Server) -> None:
    s = _conn(limited)
    t0 = time.monotonic()
    _send_ignoring_reset(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (64 << 20)
                         + b"\r\n\r\n")
    answer = _read_all(s)
    elapsed = time.monotonic() - t0
    s.close()
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"<Code>RequestHeaderSectionTooLarge</Code>" in answer
    assert b"Your request header section exceeds the maximum allowed size." in answer
    assert elapsed < 3.0
    _works(limited)


def test_too_many_headers_refused(limited: Server) -> None:
    s = _conn(limited)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"
              + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n")
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"RequestHeaderSectionTooLarge" in answer


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",  # a control character
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",  # a lone CR in a value
    b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",  # not a method
    b"GET / HTTP/9.9x\r\nHost: x\r\n\r\n",  # not a version
])
def test_bytes_that_are_not_http_get_an_s3_error(limited: Server, raw: bytes) -> None:
    s = _conn(limited)
    s.sendall(raw)
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"<Code>BadRequest</Code>" in answer
    assert b"content-type: application/xml" in answer.lower()
    _works(limited)


def test_repeated_header_name(limited: Server) -> None:
    # below the count: answered normally (anonymous ListBuckets -> 403), and quickly
    s = _conn(limited)
    t0 = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Same: value\r\n" * 150
              + b"Connection: close\r\n\r\n")
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
    # tens of thousands of repetitions: refused at once, not joined
    s = _conn(limited)
    _send_ignoring_reset(s, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Same: v\r\n" * 40000
                         + b"\r\n")
    answer = _read_all(s)
    s.close()
    assert b"RequestHeaderSectionTooLarge" in answer
    assert time.monotonic() - t0 < 3.0


def test_long_url_refused_but_long_presigned_query_passes(limited: Server, client: Any,
                                                          bkt: str) -> None:
    s = _conn(limited)
    _send_ignoring_reset(s, b"GET /" + b"k" * (40 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"RequestHeaderSectionTooLarge" in _read_all(s)
    s.close()
    # a presigned URL with a long extra query (an STS-token-like 6 KB value) still works
    client.put_object(Bucket=bkt, Key="presigned", Body=b"hello")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bkt, "Key": "presigned",
                              "ResponseContentType": "text/" + "x" * 6000})
    parts = urlsplit(url)
    s = _conn(limited)
    s.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
              "Connection: close\r\n\r\n".encode())
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:400]
    assert answer.endswith(b"hello")


# ------------------------------------------------------------------------------ timeouts
def test_head_sent_byte_by_byte_is_cut_off(limited: Server) -> None:
    s = _conn(limited)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 100
    t0 = time.monotonic()
    closed_after = None
    for byte in head:
        try:
            s.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - t0
            break
        time.sleep(0.1)  # ten bytes a second: the 1 s head timeout runs out first
    answer = _read_all(s) if closed_after is None else b""
    elapsed = time.monotonic() - t0
    s.close()
    assert elapsed < 4.0, "a slowly sent head was never cut off"
    assert closed_after is not None or b"RequestTimeout" in answer or answer == b""
    _works(limited)


def test_fresh_idle_connection_is_closed(limited: Server) -> None:
    s = _conn(limited)
    t0 = time.monotonic()
    assert _read_all(s) == b""
    elapsed = time.monotonic() - t0
    s.close()
    assert 0.9 < elapsed < 3.0


def test_idle_keep_alive_connection_is_closed(limited: Server) -> None:
    s = _conn(limited)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 403 ")
    t0 = time.monotonic()
    _read_all(s)
    assert time.monotonic() - t0 < 3.0
    s.close()


def test_stalled_upload_is_closed_and_the_old_version_stays(limited: Server, client: Any,
                                                           bkt: str) -> None:
    client.put_object(Bucket=bkt, Key="stall", Body=b"old version")
    url = client.generate_presigned_url("put_object", Params={"Bucket": bkt, "Key": "stall"})
    parts = urlsplit(url)
    s = _conn(limited)
    s.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
              "Content-Length: 100000\r\n\r\n".encode() + b"n" * 1000)
    t0 = time.monotonic()
    answer = _read_all(s)
    elapsed = time.monotonic() - t0
    s.close()
    assert elapsed < 4.0
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>RequestTimeout</Code>" in answer, \
        answer[:300]
    assert client.get_object(Bucket=bkt, Key="stall")["Body"].read() == b"old version"
    time.sleep(0.3)
    assert temp_files(limited.data_dir) == []


def test_slow_but_steady_upload_is_not_cut_off(limited: Server, client: Any,
                                               bkt: str) -> None:
    url = client.generate_presigned_url("put_object", Params={"Bucket": bkt, "Key": "steady"})
    parts = urlsplit(url)
    s = _conn(limited)
    s.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
              "Content-Length: 30\r\nConnection: close\r\n\r\n".encode())
    for _ in range(6):  # 2.4 s in all, more than the body timeout, but never 1 s silent
        s.sendall(b"sssss")
        time.sleep(0.4)
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert client.get_object(Bucket=bkt, Key="steady")["Body"].read() == b"s" * 30


# ------------------------------------------------------------------------ connection cap
def test_connection_cap(limited: Server) -> None:
    assert limited.proc is not None
    fds_before = _fds(limited.proc.pid)
    socks = [_conn(limited, timeout=3.0) for _ in range(CAP + 10)]
    time.sleep(0.3)
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(65536)
        except BlockingIOError:
            continue  # open and waiting, as it should be within the cap
        assert data == b"" or data.startswith(b"HTTP/1.1 503 ")
        assert data == b"" or b"<Code>SlowDown</Code>" in data
        refused += 1
    # the pytest process holds none of the server's connections; all 40 are new
    assert refused >= 10
    assert refused <= 12  # the few idle connections closed meanwhile do not matter
    assert _fds(limited.proc.pid) <= fds_before + CAP + 2
    for s in socks:
        s.close()
    time.sleep(0.3)
    _works(limited)


# --------------------------------------------------------------------------------- caches
def test_unique_large_values_do_not_pin_memory(limited: Server) -> None:
    """Anonymous requests with large unique Host, query and x-amz-date values: the caches
    on the request path must not keep them."""
    assert limited.proc is not None
    pid = limited.proc.pid

    def flood(n: int) -> None:
        s = _conn(limited)
        for _ in range(n):
            tag = secrets.token_hex(8)
            host = f"b{tag}{'h' * 6000}.s3.localhost"
            query = f"prefix=%41{tag}{'q' * 6000}&marker={tag}+{'m' * 3000}"
            s.sendall(f"GET /?{query} HTTP/1.1\r\nHost: {host}\r\n"
                      f"X-Amz-Date: {tag}{'d' * 3000}\r\n\r\n".encode())
            got = b""
            while b"</Error>" not in got:
                chunk = s.recv(65536)
                assert chunk, "connection closed"
                got += chunk
        s.close()

    flood(300)  # warm up allocator arenas
    before = _rss(pid)
    flood(1500)
    grown = _rss(pid) - before
    # unbounded caches would hold 1500 x ~20 KB (>= 30 MB) of these values
    print(f"RSS growth after 1500 large unique anonymous requests: {grown / 2**20:.1f} MiB")
    assert grown < 12 << 20, f"RSS grew by {grown >> 20} MiB"


def test_limits_apply_with_workers(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), _root(),
                 extra_args=["--no-fsync", "--workers", "2", "--max-head-bytes", "2000",
                             "--idle-timeout", "1"])
    srv.start()
    try:
        for _ in range(4):  # whichever worker accepts
            s = _conn(srv)
            _send_ignoring_reset(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 3000
                                 + b"\r\n\r\n")
            assert b"RequestHeaderSectionTooLarge" in _read_all(s)
            s.close()
        s = _conn(srv)
        t0 = time.monotonic()
        assert _read_all(s) == b""
        assert time.monotonic() - t0 < 3.0
        s.close()
        _works(srv)
    finally:
        srv.stop()


# ------------------------------------------------------------------------------ shutdown
def _put_slowly(srv: Server, url: str, body: bytes, pieces: int, pause: float,
                result: dict[str, bytes]) -> None:
    parts = urlsplit(url)
    s = _conn(srv, timeout=30)
    s.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
              f"Content-Length: {len(body)}\r\n\r\n".encode())
    step = len(body) // pieces
    try:
        for i in range(pieces):
            s.sendall(body[i * step:(i + 1) * step if i < pieces - 1 else len(body)])
            time.sleep(pause)
        result["answer"] = _read_all(s)
    except OSError as exc:
        result["error"] = repr(exc).encode()
    s.close()


def _sigterm_during_slow_put(srv: Server, body: bytes, pieces: int, pause: float,
                             check: Callable[[Server, float], None]) -> dict[str, bytes]:
    """Start ``srv``, PUT drain/k slowly (over an earlier "before"), SIGTERM the server
    half a second in, run ``check(srv, time of the signal)`` while it shuts down, wait for
    it to exit 0 and for the upload to end; the upload's outcome. No temp file may remain."""
    srv.start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="drain")
        s3.put_object(Bucket="drain", Key="k", Body=b"before")
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "drain", "Key": "k"})
        result: dict[str, bytes] = {}
        t = threading.Thread(target=_put_slowly, args=(srv, url, body, pieces, pause, result))
        t.start()
        time.sleep(0.5)
        assert srv.proc is not None
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        check(srv, t0)
        assert srv.proc.wait(timeout=15) == 0
        srv.proc = None
        t.join(20)
        assert temp_files(srv.data_dir) == []
        return result
    finally:
        srv.stop()


def _stored_after_restart(srv: Server) -> bytes:
    srv.start()
    try:
        return bytes(srv.client().get_object(Bucket="drain", Key="k")["Body"].read())
    finally:
        srv.stop()


def test_sigterm_finishes_an_upload_in_flight_and_refuses_new_connections(
        tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), _root(),
                 extra_args=["--no-fsync", "--shutdown-timeout", "10"])
    body = secrets.token_bytes(200_000)

    def refuses_new_connections(srv: Server, _t0: float) -> None:
        time.sleep(0.4)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()

    result = _sigterm_during_slow_put(srv, body, 10, 0.2, refuses_new_connections)
    assert result.get("answer", b"").startswith(b"HTTP/1.1 200 "), result
    assert _stored_after_restart(srv) == body


def test_sigterm_deadline_cuts_off_a_too_slow_upload_cleanly(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), _root(),
                 extra_args=["--no-fsync", "--shutdown-timeout", "1"])

    def exits_within_the_deadline(srv: Server, t0: float) -> None:
        assert srv.proc is not None and srv.proc.wait(timeout=15) == 0
        assert time.monotonic() - t0 < 4.0

    result = _sigterm_during_slow_put(srv, b"x" * 100_000, 20, 0.25,
                                      exits_within_the_deadline)
    assert not result.get("answer", b"").startswith(b"HTTP/1.1 200 ")
    assert _stored_after_restart(srv) == b"before"


def test_download_never_read_is_aborted(limited: Server, client: Any, bkt: str) -> None:
    big = b"r" * (48 << 20)
    client.put_object(Bucket=bkt, Key="big", Body=big)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "big"})
    parts = urlsplit(url)
    s = _conn(limited)
    s.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n"
              .encode())
    time.sleep(3.5)  # read nothing: the server's buffers fill, then the 1 s timeout runs
    got = len(_read_all(s))
    s.close()
    assert got < len(big), "the whole answer was kept for a client that did not read"
    _works(limited)


# ----------------------------------------------------------------------------- load test
def test_hostile_load_short(tmp_path: Path) -> None:
    """bench/hostile_load.py with small numbers: 40 well-behaved keep-alive clients mixing
    signed PUT/GET/HEAD/LIST/DELETE next to 40 idle or slow-head connections."""
    import json
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "bench" / "hostile_load.py"
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(script), "--good", "40", "--bad", "40", "--duration", "3",
         "--settle", "2", "--idle-for", "1.5", "--head-for", "1.5", "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["errors"] == 0, result["first_errors"]
    assert result["good_requests"] > 0 and result["hostile_requests"] >= 40
    assert result["p99_ms"] is not None
    assert not result["fd_leak"], result
    assert result["rss_within_25pct"], result
    assert not result["server_traceback"]
    assert proc.returncode == 0
