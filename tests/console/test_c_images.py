"""The console's machine images page (js/pages/images.js) in headless Chromium against a real
server: register from a manifest picked in a bucket with progress until available, a failed
registration's reason, publish / unpublish, rename, a presigned download fetched by a plain
HTTP client, deregister."""

from __future__ import annotations

import hashlib
import secrets
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from c_support import Console, chromium_browser, console_server, eventually

pytest.importorskip("playwright.sync_api")
images_helpers = pytest.importorskip("images_helpers")

EUCA = images_helpers.EUCA
Nova = images_helpers.Nova


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Console, str]]:
    tmp = tmp_path_factory.mktemp("c-images")
    with console_server(tmp, "--cloud-key", str(EUCA / "cakey.pem"),
                        "--cloud-cert", str(EUCA / "cacert.pem")) as srv, chromium_browser() as b:
        bucket = "imgs-" + secrets.token_hex(5)
        srv.client().create_bucket(Bucket=bucket)
        console = Console(b, srv)
        yield srv, console, bucket
        assert not console.errors, console.errors
        console.close()


def row(page: Any, image_id: str) -> Any:
    return page.get_by_test_id("image-row").filter(has_text=image_id)


def test_register_publish_rename_download_deregister(env: tuple[Any, Console, str]) -> None:
    srv, console, bucket = env
    s3 = srv.client()
    nova = Nova(srv, srv.root)
    images_helpers.upload(s3, bucket, "good", images_helpers.fixture_files())
    page = console.go("#/images")
    assert page.get_by_role("heading", level=1).inner_text() == "Machine images"
    page.get_by_text("No images yet").wait_for()

    page.get_by_label("Bucket", exact=True).select_option(bucket)
    manifest = page.get_by_label("Manifest", exact=True)
    eventually(lambda: manifest.is_enabled())
    manifest.select_option("good/1mb.manifest.xml")
    assert page.get_by_label("Manifest location (bucket/key)").input_value() == \
        f"{bucket}/good/1mb.manifest.xml"
    page.get_by_label("Name (optional)").fill("<b>fixture</b>")
    page.get_by_role("button", name="Register image").click()
    progress = page.locator(".c-progress")
    eventually(lambda: "available" in progress.inner_text(), timeout=60)
    (image,) = nova.list()
    image_id = image["imageId"]
    assert image["imageState"] == "available" and image["displayName"] == "<b>fixture</b>"
    r = row(page, image_id)
    eventually(lambda: "available" in r.inner_text())
    assert "<b>fixture</b>" in r.inner_text() and r.locator("b").count() == 0
    assert "Private" in r.inner_text()

    r.get_by_role("button", name="Publish").click()
    eventually(lambda: "Public" in row(page, image_id).inner_text())
    assert nova.find(image_id)["isPublic"] is True
    row(page, image_id).get_by_role("button", name="Unpublish").click()
    eventually(lambda: "Private" in row(page, image_id).inner_text())
    assert nova.find(image_id)["isPublic"] is False

    row(page, image_id).get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("renamed disk")
    dialog.get_by_label("Description").fill("from the console")
    dialog.get_by_role("button", name="Save").click()
    eventually(lambda: "renamed disk" in row(page, image_id).inner_text())
    found = nova.find(image_id)
    assert (found["displayName"], found["description"]) == ("renamed disk", "from the console")

    # the download is a presigned GET of /_images/{id} on the S3 origin: catch its URL and
    # fetch it with a plain HTTP client
    page.evaluate("""() => document.addEventListener('click', (e) => {
        const a = e.target.closest && e.target.closest('a[data-testid=image-download]');
        if (a) { window.caughtDownload = a.href; e.preventDefault(); } }, true)""")
    row(page, image_id).get_by_role("button", name="Download").click()
    url = page.wait_for_function("() => window.caughtDownload").json_value()
    assert url.startswith(f"{srv.endpoint}/_images/{image_id}?") and "X-Amz-Signature=" in url
    assert srv.root.secret_key not in url
    with urllib.request.urlopen(url, timeout=30) as resp:
        body = resp.read()
    assert hashlib.sha1(body).hexdigest() == images_helpers.FIXTURE_SHA1

    row(page, image_id).get_by_role("button", name="Deregister").click()
    page.get_by_role("dialog").get_by_role("button", name="Deregister").click()
    eventually(lambda: row(page, image_id).count() == 0)
    assert nova.find(image_id) is None


def test_failed_registration_shows_the_reason(env: tuple[Any, Console, str]) -> None:
    srv, console, bucket = env
    files = images_helpers.fixture_files()
    blob = bytearray(files.parts["1mb.part.0"])
    blob[500] ^= 0x01
    files.parts["1mb.part.0"] = bytes(blob)
    images_helpers.upload(srv.client(), bucket, "bad", files)
    page = console.go("#/images")
    where = page.get_by_label("Manifest location (bucket/key)")
    where.fill("just-a-name")
    page.get_by_role("button", name="Register image").click()
    error = page.locator("form").get_by_test_id("error")
    assert error.inner_text().startswith("Give the manifest as bucket/key")

    where.fill(f"{bucket}/bad/1mb.manifest.xml")
    page.get_by_role("button", name="Register image").click()
    eventually(lambda: "digest differs" in error.inner_text(), timeout=60)
    assert error.inner_text().startswith("Registration of ami-")
    failed = [im for im in Nova(srv, srv.root).list() if im["imageState"] == "failed"]
    assert len(failed) == 1
    assert "failed: " in row(page, failed[0]["imageId"]).inner_text()

    where.fill(f"{bucket}/nothing/here.manifest.xml")
    page.get_by_role("button", name="Register image").click()
    eventually(lambda: error.inner_text() != "" and "digest" not in error.inner_text(),
               timeout=60)
    text = error.inner_text()
    assert text.startswith(("NotFound: ", "InvalidManifest: ", "AccessDenied: ",
                            "Registration of ami-")), text
