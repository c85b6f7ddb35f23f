"""A real browser (headless system Chromium driven by Playwright) visits a small static site
served by the website endpoint: the index, a link to a nested folder's index, the folder
without its slash, the custom 404 page, an object redirect and a routing-rule redirect.

The browser resolves *.localhost to 127.0.0.1, so http://SITE.s3-website.localhost:PORT/
needs no DNS set-up. .ci/run installs Playwright and Chromium; the test skips only where
they cannot be had."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from harness import Server, new_server, running

playwright_api = pytest.importorskip("playwright.sync_api")

PAGES = {
    "index.html": "<html><head><title>Home</title></head><body><h1>Welcome</h1>"
                  "<a id='docs' href='/docs/'>Docs</a> <a id='old' href='/old.html'>Old</a>"
                  "</body></html>",
    "docs/index.html": "<html><head><title>Docs</title></head><body><h1>Documentation</h1>"
                       "<a id='guide' href='guide/'>Guide</a></body></html>",
    "docs/guide/index.html": "<html><head><title>Guide</title></head><body><h1>The guide"
                             "</h1></body></html>",
    "404.html": "<html><head><title>Not here</title></head><body><h1>Page not found</h1>"
                "</body></html>",
}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs it: apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    base: Path = tmp_path_factory.mktemp("website-browser")
    srv = new_server(base / "data")
    with running(srv):
        s3 = srv.client()
        name = "browser-" + secrets.token_hex(4)
        s3.create_bucket(Bucket=name, ACL="public-read")
        for key, text in PAGES.items():
            s3.put_object(Bucket=name, Key=key, Body=text.encode(), ACL="public-read",
                          ContentType="text/html; charset=utf-8")
        s3.put_object(Bucket=name, Key="old.html", Body=b"", ACL="public-read",
                      WebsiteRedirectLocation="/docs/guide/")
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"},
            "RoutingRules": [{"Condition": {"KeyPrefixEquals": "manual/"},
                              "Redirect": {"ReplaceKeyPrefixWith": "docs/"}}]})
        yield srv, f"http://{name}.s3-website.localhost:{srv.port}"


@pytest.fixture(scope="module")
def page(site: tuple[Server, str]) -> Iterator[Any]:
    executable = chromium()
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, headless=True,
                                        args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001 - a Chromium that cannot start at all
            pytest.skip(f"Chromium at {executable} does not start: {exc}")
        context = browser.new_context()
        yield context.new_page()
        browser.close()


def test_browser_visits_the_site(site: tuple[Server, str], page: Any) -> None:
    _, root = site
    resp = page.goto(root + "/")
    assert resp.status == 200
    assert page.title() == "Home"
    assert page.inner_text("h1") == "Welcome"

    page.click("#docs")  # a nested folder's index document
    page.wait_for_load_state()
    assert page.url == root + "/docs/"
    assert page.inner_text("h1") == "Documentation"

    page.click("#guide")  # a relative link, resolved against /docs/
    page.wait_for_load_state()
    assert page.url == root + "/docs/guide/"
    assert page.title() == "Guide"


def test_browser_follows_the_folder_redirect(site: tuple[Server, str], page: Any) -> None:
    _, root = site
    resp = page.goto(root + "/docs")  # 302 to /docs/
    assert page.url == root + "/docs/"
    assert resp.status == 200
    assert page.inner_text("h1") == "Documentation"
    assert resp.request.redirected_from is not None
    assert resp.request.redirected_from.response().status == 302


def test_browser_gets_the_custom_404_page(site: tuple[Server, str], page: Any) -> None:
    _, root = site
    resp = page.goto(root + "/no/such/page.html")
    assert resp.status == 404
    assert page.title() == "Not here"
    assert page.inner_text("h1") == "Page not found"


def test_browser_follows_object_and_rule_redirects(site: tuple[Server, str],
                                                   page: Any) -> None:
    _, root = site
    resp = page.goto(root + "/")
    page.click("#old")  # old.html carries x-amz-website-redirect-location: /docs/guide/
    page.wait_for_load_state()
    assert page.url == root + "/docs/guide/"
    assert page.title() == "Guide"
    resp = page.goto(root + "/manual/guide/")  # routing rule: manual/ -> docs/
    assert resp.status == 200
    assert page.url == root + "/docs/guide/"
    first = resp.request.redirected_from
    assert first is not None and first.response().status == 301
