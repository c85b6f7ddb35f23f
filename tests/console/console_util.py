"""Helpers for the console's browser tests (tests/console): a server with its console port,
signing in through the sign-in form, the session credentials the page keeps, axe-core runs
and screenshots for docs/console.md.

(Imported by name from the tests and from conftest.py; tests/integration is put on sys.path
by conftest.py so that `harness` is importable here.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from harness import Creds, Server, free_port, new_server

ROOT = Path(__file__).resolve().parents[2]
VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SHOTS = ROOT / "docs" / "console"
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

ACCESS_LABEL = re.compile(r"^\s*access key", re.I)
SECRET_LABEL = re.compile(r"secret", re.I)
SIGN_IN = re.compile(r"^\s*sign in\s*$", re.I)
SIGN_OUT = re.compile(r"^\s*sign out\s*$", re.I)
MiB = 1 << 20


def chromium() -> str | None:
    """The system Chromium (Debian's `chromium` package), or None."""
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Console:
    """A running `objectstore serve` with its console port."""

    server: Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def root(self) -> Creds:
        return self.server.root

    def s3(self, creds: Creds | None = None) -> Any:
        return self.server.client(creds)

    def route(self, fragment: str) -> str:
        """The console URL of a hash route, e.g. ``route("#/buckets")``."""
        return self.url + fragment


def new_console(base: Path, extra_args: list[str] | tuple[str, ...] = ()) -> Console:
    """A server (not started) with a free console port."""
    port = free_port()
    srv = new_server(base / "data", "ROOTACCESSKEY",
                     extra_args=["--console-port", str(port), *extra_args])
    return Console(srv, port)


def wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on the console port {port}") from None
            time.sleep(0.05)


def no_traceback(server: Server) -> None:
    """No request, however hostile, may make the server raise."""
    assert server.log_path is not None
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000):][:8000]


def session_client(endpoint: str, creds: dict[str, str]) -> Any:
    """boto3 S3 client with session credentials {accessKeyId, secretAccessKey, sessionToken}."""
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"], config=Config(retries={"max_attempts": 1}))


# ---------------------------------------------------------------- the page

def sign_in(page: Any, console: Console, creds: Creds, route: str = "") -> Any:
    """Sign in through the form (a fresh load of the console), then go to ``route``."""
    from playwright.sync_api import expect

    page.goto(console.url)
    form = page.get_by_test_id("signin")
    expect(form).to_be_visible()
    form.get_by_label(ACCESS_LABEL).fill(creds.access_key)
    form.get_by_label(SECRET_LABEL).fill(creds.secret_key)
    form.get_by_role("button", name=SIGN_IN).click()
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible()
    expect(form).to_have_count(0)
    if route:
        page.goto(console.route(route))
    return page


def storage(page: Any, which: str) -> dict[str, str]:
    """All entries of the page's ``sessionStorage`` or ``localStorage``."""
    assert which in ("sessionStorage", "localStorage")
    return dict(page.evaluate(
        f"() => Object.fromEntries(Object.keys({which}).map(k => [k, {which}.getItem(k)]))"))


def _find_creds(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        if {"accesskeyid", "secretaccesskey", "sessiontoken"} <= lowered.keys():
            return {"accessKeyId": str(lowered["accesskeyid"]),
                    "secretAccessKey": str(lowered["secretaccesskey"]),
                    "sessionToken": str(lowered["sessiontoken"])}
        for v in value.values():
            found = _find_creds(v)
            if found:
                return found
    if isinstance(value, list):
        for v in value:
            found = _find_creds(v)
            if found:
                return found
    return None


def session_creds(page: Any) -> dict[str, str] | None:
    """The session credentials the console keeps in sessionStorage (any key; a JSON value
    holding accessKeyId, secretAccessKey and sessionToken), or None."""
    for raw in storage(page, "sessionStorage").values():
        try:
            found = _find_creds(json.loads(raw))
        except (ValueError, TypeError):
            continue
        if found:
            return found
    return None


def hostile_watch(page: Any) -> list[str]:
    """Every JavaScript dialog the page opens (alert/confirm/prompt), dismissed."""
    seen: list[str] = []

    def on_dialog(dialog: Any) -> None:
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def settle(page: Any) -> None:
    """The page has rendered: its <h1> is visible and nothing is loading any more (no
    `aria-busy` placeholder, no "Loading…" text). (A hash navigation keeps the document, so
    Playwright's load states say nothing about it.)"""
    from playwright.sync_api import expect

    expect(page.locator("main h1").first).to_be_visible()
    quiet(page)


def quiet(page: Any) -> None:
    """Nothing on the page is loading any more."""
    from playwright.sync_api import expect

    expect(page.locator("[aria-busy=true], .loading")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Loading…")


# ---------------------------------------------------------------- axe-core, screenshots

def axe_source() -> str:
    data = (VENDOR / "axe.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "vendor/axe.min.js was changed"
    return data.decode()


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page with impact serious or critical (axe is evaluated
    through the DevTools protocol, which the console's CSP does not govern)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html,
                                      summary: n.failureSummary}))}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']} {v['id']}: {v['help']}")
        for n in v["nodes"][:5]:
            lines.append(f"    {n['target']}: {n['html'][:200]}")
            lines.append(f"      {(n['summary'] or '').replace(chr(10), ' ')[:300]}")
    return "\n".join(lines)


def shot(page: Any, name: str) -> Path:
    """docs/console/<name>.png (the 1280x800 viewport), written when OBJECTSTORE_SCREENSHOTS=1
    or when the file is missing."""
    path = SHOTS / f"{name}.png"
    if os.environ.get("OBJECTSTORE_SCREENSHOTS") == "1" or not path.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size(VIEWPORT)
        page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path
