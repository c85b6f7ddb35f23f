"""axe-core (vendored from the npm registry, tests/console/vendor) finds no serious or
critical accessibility violation on any page of the console: sign-in, buckets, objects,
object details, bucket settings (every tab), images, the administration pages and status,
and the main dialogs. The same visits write the screenshots of docs/console.md."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest
from console_util import (
    ROOT,
    SHOTS,
    VIEWPORT,
    Console,
    axe,
    axe_report,
    new_console,
    no_traceback,
    quiet,
    settle,
    shot,
    sign_in,
    wait_listening,
)
from harness import running

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _image_args() -> tuple[list[str], Any]:
    """Server arguments for the test cloud key, and the helpers to register an image with
    it (none where the shared image fixtures are missing: the images page is then empty)."""
    try:
        import images_helpers
    except (ImportError, FileNotFoundError):
        return [], None
    euca = images_helpers.EUCA
    return ["--cloud-key", str(euca / "cakey.pem"), "--cloud-cert", str(euca / "cacert.pem")], \
        images_helpers


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A server with things to show: buckets with objects and folders, an image, users."""
    args, images = _image_args()
    c = new_console(tmp_path_factory.mktemp("console-a11y"), args)
    with running(c.server):
        wait_listening(c.port)
        s3 = c.s3()
        s3.create_bucket(Bucket="photos")
        s3.create_bucket(Bucket="reports")
        s3.put_bucket_versioning(Bucket="reports",
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(Bucket="backups")
        for key, body in [("2026/q1/summary.txt", b"Q1 summary\n" * 40),
                          ("2026/q2/summary.txt", b"Q2 summary\n" * 40),
                          ("2026/readme.txt", b"Quarterly reports.\n"),
                          ("archive/2025.csv", b"month,total\n1,10\n"),
                          ("index.html", b"<h1>reports</h1>"),
                          ("notes.txt", b"Remember the milk.\n")]:
            s3.put_object(Bucket="reports", Key=key, Body=body, Metadata={"team": "finance"})
        s3.put_object(Bucket="reports", Key="notes.txt", Body=b"Remember the bread.\n",
                      ContentType="text/plain", Metadata={"team": "finance"})
        s3.put_object_tagging(Bucket="reports", Key="notes.txt", Tagging={"TagSet": [
            {"Key": "project", "Value": "console"}]})
        for n in range(3):
            s3.put_object(Bucket="photos", Key=f"cat-{n}.txt", Body=b"meow" * (n + 1))
        account = "research"
        c.server.admin("account", "create", account, "--email", "research@example.com")
        c.server.new_user(account=account)
        c.server.new_user(account=account, admin=True)
        if images is not None:
            s3.create_bucket(Bucket="images")
            location = images.upload(s3, "images", "debian", images.fixture_files())
            nova = images.Nova(c.server, c.root)
            nova.wait(nova.register_ok(location, display_name="debian-12"))
        yield c
    no_traceback(c.server)


@pytest.fixture(scope="module")
def tab(browser: Any, console: Console) -> Iterator[Any]:
    """One signed-in tab for the whole module (pages are visited by their hash routes)."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    sign_in(page, console, console.root)
    yield page
    ctx.close()


def _check(page: Any, what: str) -> None:
    found = axe(page)
    assert found == [], f"{what}:\n{axe_report(found)}"


def _visit(page: Any, console: Console, route: str, ready: Callable[[Any], Any]) -> None:
    page.goto(console.route(route))
    expect(ready(page)).to_be_visible()
    settle(page)


def _h1(text: str) -> Callable[[Any], Any]:
    return lambda p: p.locator("main h1").filter(has_text=re.compile(text, re.I))


PAGES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("buckets", "#/buckets", lambda p: p.get_by_test_id("bucket-row").first),
    ("objects", "#/b/reports/", lambda p: p.get_by_test_id("object-row").first),
    ("objects-folder", "#/b/reports/2026/", lambda p: p.get_by_test_id("object-row").first),
    ("object", "#/o/reports/notes.txt", _h1("notes.txt")),
    ("images", "#/images", _h1("image")),
    ("admin-users", "#/admin/users", _h1("user")),
    ("admin-accounts", "#/admin/accounts", _h1("account")),
    ("admin-keys", "#/admin/keys", _h1("key")),
    ("admin-policies", "#/admin/policies", _h1("polic")),
    ("admin-public-access", "#/admin/public-access", _h1("public")),
    ("admin-sessions", "#/admin/sessions", _h1("session")),
    ("status", "#/status", _h1("status")),
]


def test_sign_in_page(browser: Any, console: Console) -> None:
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        page.goto(console.url)
        expect(page.get_by_test_id("signin")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shot(page, "signin")
        _check(page, "sign-in")
        # a failed sign-in shows its error accessibly too
        form = page.get_by_test_id("signin")
        form.get_by_label(re.compile(r"^\s*access key", re.I)).fill("AKIANOSUCHKEY")
        form.get_by_label(re.compile("secret", re.I)).fill("wrong")
        form.get_by_role("button", name=re.compile(r"^\s*sign in\s*$", re.I)).click()
        expect(page.get_by_test_id("error").or_(page.get_by_test_id("toast")).first
               ).to_be_visible()
        _check(page, "sign-in with an error")
    finally:
        ctx.close()


@pytest.mark.parametrize("name,route,ready", PAGES, ids=[p[0] for p in PAGES])
def test_page(tab: Any, console: Console, name: str, route: str,
              ready: Callable[[Any], Any]) -> None:
    _visit(tab, console, route, ready)
    shot(tab, name)
    _check(tab, name)


def test_bucket_settings_every_tab(tab: Any, console: Console) -> None:
    _visit(tab, console, "#/settings/reports", _h1("reports"))
    shot(tab, "settings")
    _check(tab, "settings")
    tabs = tab.get_by_role("tab")
    count = tabs.count()
    assert count >= 5, "settings are grouped in tabs"
    for i in range(count):
        t = tabs.nth(i)
        label = t.inner_text()
        t.click()
        expect(t).to_have_attribute("aria-selected", "true")
        quiet(tab)
        _check(tab, f"settings tab {label!r}")


def test_dialogs(tab: Any, console: Console) -> None:
    _visit(tab, console, "#/buckets", lambda p: p.get_by_test_id("bucket-row").first)
    tab.get_by_role("button", name=re.compile("create bucket", re.I)).click()
    dialog = tab.locator("dialog[open]")
    expect(dialog).to_be_visible()
    shot(tab, "create-bucket")
    _check(tab, "create-bucket dialog")
    tab.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    _visit(tab, console, "#/b/reports/", lambda p: p.get_by_test_id("object-row").first)
    row = tab.get_by_test_id("object-row").filter(has_text="notes.txt")
    row.get_by_role("button", name=re.compile("^share", re.I)).click()
    dialog = tab.locator("dialog[open]")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=re.compile("create link", re.I)).click()
    expect(tab.get_by_test_id("share-url")).not_to_be_empty()
    shot(tab, "share")
    _check(tab, "share dialog")
    tab.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_keyboard_reaches_the_main_navigation(tab: Any, console: Console) -> None:
    _visit(tab, console, "#/buckets", lambda p: p.get_by_test_id("bucket-row").first)
    seen = []
    for _ in range(15):  # backwards from where the page put the focus, up to the skip link
        tab.keyboard.press("Shift+Tab")
        seen.append(tab.evaluate("() => document.activeElement && "
                                 "(document.activeElement.textContent || '').trim()"))
        if re.search("skip", seen[-1] or "", re.I):
            break
    assert re.search("skip", seen[-1] or "", re.I), seen  # a skip link, first of all
    assert "Images" in seen and "Buckets" in seen, seen  # the main navigation
    tab.keyboard.press("Tab")
    tab.keyboard.press("Tab")
    # focus is visible: the focused element draws an outline or a box shadow
    style = tab.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }""")
    assert style[0] != "none" or style[2] != "none", style



def test_docs_show_the_screenshots() -> None:
    """docs/console.md shows every screenshot these tests take, each 1280x800."""
    import struct

    doc = (ROOT / "docs" / "console.md").read_text()
    shown = set(re.findall(r"\]\((console/[a-z0-9-]+\.png)\)", doc))
    taken = {f"console/{p.name}" for p in SHOTS.glob("*.png")}
    assert shown == taken and len(shown) >= 12, (shown ^ taken)
    for name in shown:
        head = (ROOT / "docs" / name).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", name
        assert struct.unpack(">II", head[16:24]) == (1280, 800), name
