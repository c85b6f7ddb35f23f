"""Fixtures of the console's browser tests: a real server with its console port (one per
module), the system Chromium driven by Playwright (one per module), a fresh page per test
(1280x800, its JavaScript dialogs recorded), and callables for signing in, axe-core and
screenshots (see console_util.py).

Skips (does not fail) only where Playwright or Chromium cannot be had, as
tests/integration/test_website_browser.py does; .ci/run installs both."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from console_util import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    Console,
    axe,
    chromium,
    hostile_watch,
    new_console,
    no_traceback,
    shot,
    sign_in,
    wait_listening,
)
from harness import Creds, running  # noqa: E402


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    c = new_console(tmp_path_factory.mktemp("console"))
    with running(c.server):
        wait_listening(c.port)
        yield c
    no_traceback(c.server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API runs an event loop of its own, and
    other modules (test_b_*, test_c_*) start their own Playwright, which cannot run while
    one is active."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (.ci/run installs it: apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, headless=True,
                                  args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - a Chromium that cannot start at all
            pytest.skip(f"Chromium at {executable} does not start: {exc}")
        yield b
        b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    """A fresh tab; ``page.dialogs`` lists every alert/confirm/prompt it opened."""
    p = context.new_page()
    p.dialogs = hostile_watch(p)
    return p


@pytest.fixture
def signed_in(console: Console) -> Callable[..., Any]:
    """``signed_in(page, creds=None, route="")``: sign in (root when creds is None)."""

    def go(page: Any, creds: Creds | None = None, route: str = "") -> Any:
        return sign_in(page, console, creds or console.root, route)

    return go


@pytest.fixture(name="axe")
def axe_fixture() -> Callable[[Any], list[dict[str, Any]]]:
    """``axe(page)``: axe-core violations with impact serious or critical."""
    return axe


@pytest.fixture(name="shot")
def shot_fixture() -> Callable[[Any, str], Path]:
    """``shot(page, name)``: docs/console/<name>.png (when OBJECTSTORE_SCREENSHOTS=1 or
    missing)."""
    return shot
