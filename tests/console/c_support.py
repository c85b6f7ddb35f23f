"""Support for lane C's console tests (test_c_*.py): a real server with its console port,
headless Chromium, and a page signed in through the console's sign-in form (session
credentials from STS GetSessionToken)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/integration"))
sys.path.insert(0, str(ROOT / "tests"))

from console_util import CHROMIUM_ARGS, chromium  # noqa: E402
from harness import Creds, Server, free_port, new_server, running  # noqa: E402


def system_chromium() -> str:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (.ci/run installs it: apt-get install chromium)")
    return path

SESSION_KEY = "objectstore.console.session"


@contextmanager
def console_server(tmp: Path, *args: str) -> Iterator[Server]:
    """A running server with its web console on a free port."""
    srv = new_server(tmp / "data", extra_args=[*args, "--console-port", str(free_port())])
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    with running(srv):
        yield srv


def console_port(srv: Server) -> int:
    return int(srv.extra_args[srv.extra_args.index("--console-port") + 1])


@contextmanager
def chromium_browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=system_chromium(), headless=True,
                                  args=CHROMIUM_ARGS)
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
        self.browser = b
        self.creds = creds or srv.root
        self.context = b.new_context(viewport={"width": 1280, "height": 800},
                                     accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and "Content Security Policy" in m.text else None)
        self.base = f"http://127.0.0.1:{console_port(srv)}/"
        self._sign_in()

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
        self.page.goto(self.base + hash_)
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
