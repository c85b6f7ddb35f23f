"""Support for lane C's console tests (test_c_*.py): a real server, headless Chromium, and a
page signed in to the console.

The console is served by the server itself on its console port; when the server in this
tree has no console port yet (the serving lands separately), the same static files are
served to the browser from the S3 origin through Playwright's routing, under the console's
Content-Security-Policy, and the page starts with the root key in its session store — the
pages under test are the same either way."""

from __future__ import annotations

import json
import mimetypes
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src/objectstore/console/static"
sys.path.insert(0, str(ROOT / "tests/integration"))
sys.path.insert(0, str(ROOT / "tests"))

from harness import Creds, Server, free_port, new_server, running  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SESSION_KEY = "objectstore.console.session"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src blob:; connect-src 'self'; frame-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'none'")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine")


def has_console_port() -> bool:
    out = subprocess.run([sys.executable, "-m", "objectstore", "serve", "--help"],
                         capture_output=True, text=True, timeout=60)
    return "--console-port" in out.stdout


@contextmanager
def console_server(tmp: Path, *args: str) -> Iterator[Server]:
    """A running server (with its console port when this tree has one)."""
    extra: list[str] = list(args)
    if has_console_port():
        extra = ["--console-port", str(free_port())]
    srv = new_server(tmp / "data", extra_args=extra)
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    with running(srv):
        yield srv


def console_port(srv: Server) -> int | None:
    if "--console-port" in srv.extra_args:
        return int(srv.extra_args[srv.extra_args.index("--console-port") + 1])
    return None


@contextmanager
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        except Exception as exc:  # noqa: BLE001 - a Chromium that cannot start at all
            pytest.skip(f"Chromium does not start: {exc}")
        try:
            yield b
        finally:
            b.close()


class Console:
    """A browser page on the console of ``srv``, signed in as ``creds``."""

    def __init__(self, b: Any, srv: Server, creds: Creds | None = None) -> None:
        self.srv = srv
        self.creds = creds or srv.root
        self.context = b.new_context(viewport={"width": 1280, "height": 800},
                                     accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and "Content Security Policy" in m.text else None)
        port = console_port(srv)
        if port is not None:
            self.base = f"http://127.0.0.1:{port}/"
            self._sign_in()
        else:
            self.base = srv.endpoint + "/_c_console/"
            self.page.route(self.base + "**", self._serve)
            sess = {"accessKeyId": self.creds.access_key,
                    "secretAccessKey": self.creds.secret_key, "sessionToken": "",
                    "expiration": "", "sourceKey": self.creds.access_key}
            self.page.add_init_script(
                f"if (!sessionStorage.getItem('{SESSION_KEY}')) sessionStorage.setItem("
                f"'{SESSION_KEY}', {json.dumps(json.dumps(sess))})")
            self.page.goto(self.base + "index.html#/buckets")
            self.page.evaluate("async () => { const { api } = await import('./js/api.js');"
                               " await api.whoami(true); }")

    def _serve(self, route: Any) -> None:
        rel = route.request.url.split("/_c_console/", 1)[1].split("?")[0].split("#")[0]
        rel = rel or "index.html"
        if rel == "config.json":
            body = json.dumps({"endpoint": self.srv.endpoint, "region": "us-east-1"}).encode()
            ctype = "application/json"
        else:
            path = (STATIC / rel).resolve()
            if STATIC not in path.parents or not path.is_file():
                route.fulfill(status=404, body=b"not found")
                return
            body = path.read_bytes()
            ctype = "text/javascript" if rel.endswith(".js") else (
                mimetypes.guess_type(str(path))[0] or "application/octet-stream")
        route.fulfill(status=200, body=body, headers={
            "Content-Type": ctype, "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff"})

    def _sign_in(self) -> None:
        page = self.page
        page.goto(self.base + "#/signin")
        form = page.get_by_test_id("signin")
        form.get_by_label("Access key", exact=False).first.fill(self.creds.access_key)
        form.get_by_label("Secret", exact=False).first.fill(self.creds.secret_key)
        form.get_by_role("button", name="Sign in").click()
        page.wait_for_function(f"() => sessionStorage.getItem('{SESSION_KEY}') !== null")
        page.wait_for_function("() => !location.hash.startsWith('#/signin')")

    def go(self, hash_: str) -> Any:
        url = (self.base if self.base.endswith("/") and console_port(self.srv) is not None
               else self.base + "index.html") + hash_
        self.page.goto(url)
        self.page.wait_for_selector("main h1")
        return self.page

    def close(self) -> None:
        self.context.close()


def eventually(check: Any, timeout: float = 10.0) -> Any:
    """``check()``'s first truthy value, retried until ``timeout``; fails after that."""
    deadline = time.time() + timeout
    last: Any = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError:
            pass
        time.sleep(0.1)
    assert last, "condition not met in time"
    return last
