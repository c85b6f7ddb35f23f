"""The console's security model, checked on the wire and in the browser: its own origin with
a strict Content-Security-Policy and the other security headers, `/_console/` on the S3
port redirecting there, server-level CORS for the console's origin only, session
credentials kept in sessionStorage only (no secret in the URL, localStorage, cookies or the
server's log; the long-term secret dropped after sign-in), no CSP violation on any page.

The checks on the wire need no browser; the others skip where Playwright or Chromium
cannot be had (the `browser` fixture)."""

from __future__ import annotations

import http.client
import json
import re
import secrets
from typing import Any, Callable

import pytest
from console_util import Console, session_creds, settle, storage

SignedIn = Callable[..., Any]

CSP = {  # directive -> sources, as the contract gives them (connect-src: + the S3 origin)
    "default-src": {"'none'"}, "script-src": {"'self'"}, "style-src": {"'self'"},
    "img-src": {"'self'", "blob:", "data:"}, "media-src": {"blob:"},
    "frame-src": {"'none'"}, "frame-ancestors": {"'none'"}, "base-uri": {"'none'"},
    "form-action": {"'none'"},
}


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def _csp(header: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = set(words[1:])
    return out


# ---------------------------------------------------------------- the console's port

@pytest.mark.parametrize("path", ["/", "/index.html", "/config.json", "/app.css",
                                  "/js/main.js", "/no/such/file"])
def test_security_headers_on_every_console_answer(console: Console, path: str) -> None:
    status, headers, _ = _request(console.port, "GET", path)
    assert status == (404 if path.startswith("/no/") else 200), (path, status)
    policy = _csp(headers["Content-Security-Policy"])
    for directive, sources in CSP.items():
        assert policy.get(directive) == sources, (directive, policy.get(directive))
    assert policy["connect-src"] == {"'self'", console.endpoint}
    for source in ("'unsafe-inline'", "'unsafe-eval'", "*"):
        assert not any(source in s for s in policy.values()), policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in headers
    if path in ("/", "/index.html", "/config.json"):
        assert "no-store" in headers.get("Cache-Control", ""), headers.get("Cache-Control")


def test_config_json_names_the_s3_endpoint_of_the_request_host(console: Console) -> None:
    status, headers, body = _request(console.port, "GET", "/config.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    config = json.loads(body)
    assert config["endpoint"] == console.endpoint
    assert config["region"] == "us-east-1"
    assert config["sessionSeconds"] == 3600 and config["maxSessionSeconds"] == 43200
    assert config["version"]
    _, _, body = _request(console.port, "GET", "/config.json",
                          {"Host": f"localhost:{console.port}"})
    assert json.loads(body)["endpoint"] == f"http://localhost:{console.server.port}"


def test_console_port_serves_no_s3_api(console: Console) -> None:
    bucket = "not-here-" + secrets.token_hex(3)
    console.s3().create_bucket(Bucket=bucket)
    status, _, body = _request(console.port, "GET", f"/{bucket}")
    assert status == 404 and b"ListBucketResult" not in body
    status, _, _ = _request(console.port, "PUT", f"/{bucket}/k", body=b"x")
    assert status in (404, 405)
    assert "Contents" not in console.s3().list_objects_v2(Bucket=bucket)
    status, _, body = _request(console.port, "GET", "/_admin/whoami")
    assert status == 404 and b"accessKey" not in body


def test_index_html_has_no_inline_script_or_style(console: Console) -> None:
    _, _, body = _request(console.port, "GET", "/")
    html = body.decode()
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert re.search(r"\bsrc=", tag), tag
    for inner in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.I | re.S):
        assert inner.strip() == "", inner  # nothing between the tags
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)  # no inline event handlers
    assert not re.search(r"https?://", re.sub(r"<!--.*?-->", "", html, flags=re.S)), \
        "index.html loads nothing from elsewhere (no CDN)"


# ---------------------------------------------------------------- the S3 port

@pytest.mark.parametrize("path", ["/_console/", "/_console", "/_console/b/x"])
def test_s3_port_redirects_to_the_console(console: Console, path: str) -> None:
    status, headers, _ = _request(console.server.port, "GET", path)
    assert status == 302, (path, status)
    assert headers["Location"] == console.url
    _, headers, _ = _request(console.server.port, "GET", path,
                             {"Host": f"localhost:{console.server.port}"})
    assert headers["Location"] == f"http://localhost:{console.port}/"


@pytest.mark.parametrize("path", ["/", "/some-bucket", "/some-bucket/a/key.txt",
                                  "/_admin/whoami", "/_admin/users", "/_images"])
def test_preflight_from_the_console_origin_on_any_path(console: Console, path: str) -> None:
    status, headers, _ = _request(console.server.port, "OPTIONS", path, {
        "Origin": console.origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-content-sha256,"
                                          "x-amz-security-token,content-type"})
    assert status == 200, (path, status)
    assert headers["Access-Control-Allow-Origin"] == console.origin
    methods = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "PUT", "POST", "DELETE", "HEAD"} <= methods
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-amz-date", "x-amz-security-token"} <= allowed
    assert headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in headers


def test_answers_to_the_console_origin_expose_s3_headers(console: Console) -> None:
    bucket = "cors-" + secrets.token_hex(3)
    s3 = console.s3()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    path = url[len(console.endpoint):]
    status, headers, _ = _request(console.server.port, "GET", path,
                                  {"Origin": console.origin})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == console.origin
    assert "Origin" in headers.get("Vary", "")
    exposed = {h.strip().lower() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "x-amz-request-id", "x-amz-version-id", "content-length"} <= exposed
    # errors too (the browser must be able to read the S3 error)
    status, headers, body = _request(console.server.port, "GET", f"/{bucket}/k",
                                     {"Origin": console.origin})
    assert status == 403 and b"AccessDenied" in body
    assert headers["Access-Control-Allow-Origin"] == console.origin


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1",
                                    "http://localhost:{console}", "http://127.0.0.1:{s3}",
                                    "null"])
def test_other_origins_get_no_cors(console: Console, origin: str) -> None:
    origin = origin.format(console=console.port, s3=console.server.port)
    status, headers, _ = _request(console.server.port, "OPTIONS", "/_admin/whoami", {
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in headers, (origin, status)
    _, headers, _ = _request(console.server.port, "GET", "/", {"Origin": origin})
    assert "Access-Control-Allow-Origin" not in headers


# ---------------------------------------------------------------- in the browser

def test_secrets_live_in_session_storage_only(console: Console, context: Any, page: Any,
                                              signed_in: SignedIn) -> None:
    user = console.server.new_user(admin=True)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    signed_in(page, user, route="#/buckets")
    settle(page)
    creds = session_creds(page)
    assert creds is not None
    assert creds["accessKeyId"] != user.access_key
    # the long-term secret is gone; the session's secret is in sessionStorage only
    session = json.dumps(storage(page, "sessionStorage"))
    assert user.secret_key not in session
    assert storage(page, "localStorage") == {}
    assert context.cookies() == []
    for url in [page.url, *urls]:
        for secret in (user.secret_key, creds["secretAccessKey"]):
            assert secret not in url, url
    assert creds["sessionToken"] not in page.url
    page.reload()
    settle(page)
    assert storage(page, "localStorage") == {} and context.cookies() == []
    # nothing secret reaches the server's log
    assert console.server.log_path is not None
    log = console.server.log_path.read_text(errors="replace")
    for secret in (user.secret_key, creds["secretAccessKey"], creds["sessionToken"]):
        assert secret not in log


def test_a_new_tab_is_not_signed_in(console: Console, browser: Any, page: Any,
                                    signed_in: SignedIn) -> None:
    signed_in(page)
    other = browser.new_context()
    try:
        tab = other.new_page()
        tab.goto(console.url)
        tab.get_by_test_id("signin").wait_for(state="visible")
        assert session_creds(tab) is None
    finally:
        other.close()


ROUTES = ["#/buckets", "#/images", "#/admin/users", "#/admin/accounts", "#/admin/keys",
          "#/admin/policies", "#/admin/public-access", "#/admin/sessions", "#/status"]


def test_no_csp_violation_or_script_error_on_any_page(console: Console, page: Any,
                                                      signed_in: SignedIn) -> None:
    bucket = "csp-" + secrets.token_hex(3)
    s3 = console.s3()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/readme.txt", Body=b"hello", ContentType="text/plain")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.goto(console.url)
    settle(page)
    signed_in(page)
    routes = [*ROUTES, f"#/b/{bucket}/", f"#/b/{bucket}/dir/",
              f"#/o/{bucket}/dir/readme.txt", f"#/settings/{bucket}"]
    for route in routes:
        page.goto(console.route(route))
        settle(page)
        assert problems == [], (route, problems)


def test_the_console_cannot_be_framed(console: Console, page: Any) -> None:
    bucket = "frame-" + secrets.token_hex(3)
    s3 = console.s3()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="frame.html", ContentType="text/html",
                  Body=f'<iframe id="f" src="{console.url}"></iframe>'.encode())
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                          "Key": "frame.html"})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text)
            if "frame-ancestors" in m.text or "X-Frame-Options" in m.text else None)
    page.goto(url)
    page.wait_for_load_state("load")
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 1
    # Chromium refuses it (frame-ancestors 'none') and shows its error page instead
    assert frames[0].url.startswith("chrome-error://"), frames[0].url
    assert any("frame-ancestors" in m for m in blocked), blocked
