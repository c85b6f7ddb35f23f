"""The web console's "Done when" (issue 13), driven through the system's headless Chromium
against a real server with its console port: sign-in and sign-out (sign-out revokes the
session on the server), bucket create, a 50 MiB upload whose progress reaches 100 % and whose
bytes boto3 reads back, folder browsing, a share link fetched by a plain HTTP client,
deletes, an admin creating a user whose new key works in boto3, a hostile key name shown as
text, hostile HTML/SVG objects that never run in the console's origin, and actions denied
to a read-only user and to a user of another account (shown as AccessDenied, nothing
changed on the server).

Hooks: roles and visible labels, plus the contract's data-testid names (signin, bucket-row,
object-row, upload-overall, upload-file, share-url, toast, error)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import urllib.request
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from console_util import (
    SIGN_OUT,
    Console,
    MiB,
    session_client,
    session_creds,
    settle,
    storage,
)
from harness import Creds

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SignedIn = Callable[..., Any]
HOSTILE = "<img src=x onerror=alert(1)>"


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def _bucket(console: Console, prefix: str, creds: Creds | None = None, **kw: Any) -> str:
    name = f"{prefix}-{secrets.token_hex(4)}"
    console.s3(creds).create_bucket(Bucket=name, **kw)
    return name


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _objects_route(bucket: str, prefix: str = "") -> str:
    return f"#/b/{bucket}/{prefix}"


def _row(page: Any, testid: str, name: str) -> Any:
    """The table row (data-testid) whose text contains ``name``."""
    return page.get_by_test_id(testid).filter(has_text=name)


def _shown_error(page: Any, code: str) -> Any:
    """An error message or toast naming the S3 error ``code``."""
    return (page.get_by_test_id("error").or_(page.get_by_test_id("toast"))
            .filter(has_text=code).first)


def _dialog(page: Any) -> Any:
    return page.locator("dialog[open]").last


def _confirm(page: Any, name: re.Pattern[str]) -> None:
    """Confirm the open <dialog> with its button called ``name``."""
    dialog = _dialog(page)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=name).click()


def _select_row(row: Any) -> None:
    row.get_by_role("checkbox").check()


def _text_or_value(locator: Any) -> str:
    """The value of an <input>/<textarea>, else the text of the element."""
    return str(locator.evaluate(
        "e => (e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement)"
        " ? e.value : e.textContent")).strip()


def _file_input(page: Any) -> Any:
    """The file picker for files (not the one for folders)."""
    return page.locator("input[type=file]:not([webkitdirectory])").first


# ---------------------------------------------------------------- sign-in, sign-out

def test_sign_in_and_sign_out_revokes_the_session(console: Console, page: Any,
                                                  signed_in: SignedIn) -> None:
    user = console.server.new_user()
    page.goto(console.url)
    expect(page.get_by_test_id("signin")).to_be_visible()
    signed_in(page, user)
    expect(page.locator("header")).to_contain_text(user.user)
    creds = session_creds(page)
    assert creds is not None, storage(page, "sessionStorage")
    assert creds["accessKeyId"] != user.access_key
    s3 = session_client(console.endpoint, creds)
    mine = _bucket(console, "session", user)
    assert mine in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    page.reload()  # the session survives a reload of the tab (sessionStorage)
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible()

    page.get_by_role("button", name=SIGN_OUT).click()
    expect(page.get_by_test_id("signin")).to_be_visible()
    assert session_creds(page) is None
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert _code(e.value) == "ExpiredToken"
    # and the user's long-term key is untouched
    console.s3(user).head_bucket(Bucket=mine)


def test_wrong_secret_is_refused(console: Console, page: Any) -> None:
    page.goto(console.url)
    form = page.get_by_test_id("signin")
    form.get_by_label(re.compile(r"^\s*access key", re.I)).fill(console.root.access_key)
    form.get_by_label(re.compile("secret", re.I)).fill("not-the-secret")
    form.get_by_role("button", name=re.compile(r"^\s*sign in\s*$", re.I)).click()
    expect(_shown_error(page, "SignatureDoesNotMatch")).to_be_visible()
    expect(form).to_be_visible()
    assert session_creds(page) is None


# ---------------------------------------------------------------- buckets and objects

def test_create_bucket_with_versioning(console: Console, page: Any,
                                       signed_in: SignedIn) -> None:
    name = "made-in-ui-" + secrets.token_hex(4)
    signed_in(page, route="#/buckets")
    page.get_by_role("button", name=re.compile("create bucket", re.I)).click()
    dialog = _dialog(page)
    dialog.get_by_label(re.compile("name", re.I)).fill(name)
    dialog.get_by_label(re.compile("versioning", re.I)).check()
    dialog.get_by_role("button", name=re.compile(r"^\s*create", re.I)).click()
    expect(_row(page, "bucket-row", name)).to_be_visible()
    s3 = console.s3()
    s3.head_bucket(Bucket=name)
    assert s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"


def test_upload_50_mib_progress_reaches_100_and_bytes_match(
        console: Console, page: Any, signed_in: SignedIn, tmp_path: Path, shot: Any) -> None:
    bucket = _bucket(console, "upload")
    src = tmp_path / "big.bin"
    data = os.urandom(50 * MiB)
    src.write_bytes(data)
    del data
    signed_in(page, route=_objects_route(bucket))
    settle(page)
    # sample the overall bar while the upload runs (injected through DevTools, not the page)
    page.evaluate("""() => { window.__seen = []; window.__sampler = setInterval(() => {
        const p = document.querySelector('[data-testid=upload-overall]');
        if (p && p.max > 0) window.__seen.push(p.value / p.max); }, 10); }""")
    _file_input(page).set_input_files(str(src))
    overall = page.get_by_test_id("upload-overall")
    expect(overall).to_be_attached()
    page.wait_for_function(
        """() => { const p = document.querySelector('[data-testid=upload-overall]');
                   return p !== null && p.max > 0 && p.value >= p.max; }""",
        timeout=180_000)
    seen = page.evaluate("() => { clearInterval(window.__sampler); return window.__seen; }")
    assert seen == sorted(seen), "the overall progress never goes back"
    assert any(0 < f < 1 for f in seen), f"no progress between 0 and 100 %: {seen[:20]}"
    per_file = page.get_by_test_id("upload-file")
    expect(per_file).to_have_count(1)
    assert per_file.evaluate("p => p.value >= p.max && p.max > 0")
    expect(_row(page, "object-row", "big.bin")).to_be_visible(timeout=30_000)
    shot(page, "upload")
    s3 = console.s3()
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    digest = hashlib.sha256()
    for chunk in got["Body"].iter_chunks(MiB):
        digest.update(chunk)
    assert got["ContentLength"] == src.stat().st_size
    assert digest.hexdigest() == hashlib.sha256(src.read_bytes()).hexdigest()
    # above 16 MiB the console uploads in parts: a multipart ETag ("…-N")
    assert re.fullmatch(r'"[0-9a-f]{32}-\d+"', got["ETag"]), got["ETag"]
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_browse_folders_with_breadcrumbs(console: Console, page: Any,
                                         signed_in: SignedIn) -> None:
    bucket = _bucket(console, "browse")
    s3 = console.s3()
    for key in ("docs/guide/intro.txt", "docs/readme.txt", "photos/cat.jpg", "top.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    signed_in(page, route=_objects_route(bucket))
    rows = page.get_by_test_id("object-row")
    expect(rows).to_have_count(3)  # docs/, photos/, top.txt
    expect(_row(page, "object-row", "top.txt")).to_be_visible()
    expect(rows.filter(has_text="readme.txt")).to_have_count(0)

    _row(page, "object-row", "docs/").get_by_role("link").first.click()
    expect(rows).to_have_count(2)  # guide/, readme.txt
    expect(_row(page, "object-row", "readme.txt")).to_be_visible()
    expect(rows.filter(has_text="top.txt")).to_have_count(0)
    assert "docs/" in page.url

    _row(page, "object-row", "guide/").get_by_role("link").first.click()
    expect(rows).to_have_count(1)
    expect(_row(page, "object-row", "intro.txt")).to_be_visible()

    # breadcrumbs lead back up: to docs/, then to the bucket's root
    crumbs = page.get_by_role("navigation", name=re.compile("breadcrumb", re.I))
    crumbs.get_by_role("link", name=re.compile(r"^docs\/?$")).click()
    expect(_row(page, "object-row", "readme.txt")).to_be_visible()
    crumbs.get_by_role("link", name=bucket).click()
    expect(_row(page, "object-row", "top.txt")).to_be_visible()
    expect(rows).to_have_count(3)


def test_share_link_is_fetched_by_a_plain_http_client(console: Console, page: Any,
                                                      signed_in: SignedIn) -> None:
    bucket = _bucket(console, "share")
    body = b"shared through the console " + secrets.token_bytes(16)
    console.s3().put_object(Bucket=bucket, Key="notes/share me.txt", Body=body)
    signed_in(page, route=_objects_route(bucket, "notes/"))
    row = _row(page, "object-row", "share me.txt")
    row.get_by_role("button", name=re.compile("^share", re.I)).click()
    dialog = _dialog(page)
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("valid for", re.I)).select_option("900")
    dialog.get_by_role("button", name=re.compile("create link", re.I)).click()
    output = dialog.get_by_test_id("share-url")
    expect(output).not_to_be_empty()
    expect(dialog).to_contain_text("15 minutes")  # it says how long the link lives
    url = _text_or_value(output)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == console.endpoint
    query = parse_qs(parts.query)
    # made with the session's credentials: it carries the token and lives no longer than it
    assert "X-Amz-Security-Token" in query, url
    assert query["X-Amz-Expires"] == ["900"]
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.read() == body


def test_delete_selected_objects_then_the_bucket(console: Console, page: Any,
                                                 signed_in: SignedIn) -> None:
    bucket = _bucket(console, "delete")
    s3 = console.s3()
    for key in ("a.txt", "b.txt", "keep.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    signed_in(page, route=_objects_route(bucket))
    _select_row(_row(page, "object-row", "a.txt"))
    _select_row(_row(page, "object-row", "b.txt"))
    page.locator("main").get_by_role("button", name=re.compile(r"^\s*delete", re.I)).first.click()
    _confirm(page, re.compile(r"^\s*delete", re.I))
    expect(page.get_by_test_id("object-row")).to_have_count(1)
    expect(_row(page, "object-row", "keep.txt")).to_be_visible()
    assert _keys(s3, bucket) == ["keep.txt"]

    # the bucket: not empty, so a clear warning and a typed confirmation first
    page.goto(console.route("#/buckets"))
    row = _row(page, "bucket-row", bucket)
    row.get_by_role("button", name=re.compile("^delete", re.I)).click()
    dialog = _dialog(page)
    expect(dialog.get_by_role("note")).to_contain_text("not empty")
    dialog.get_by_role("button", name=re.compile("^cancel", re.I)).click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    assert _keys(s3, bucket) == ["keep.txt"]  # cancelled: nothing deleted

    row.get_by_role("button", name=re.compile("^delete", re.I)).click()
    dialog = _dialog(page)
    dialog.get_by_label(re.compile("type the bucket name", re.I)).fill(bucket)
    dialog.get_by_role("button", name=re.compile("delete", re.I)).click()
    expect(row).to_have_count(0)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# ---------------------------------------------------------------- administration

def test_admin_creates_a_user_whose_key_works_in_boto3(console: Console, page: Any,
                                                       signed_in: SignedIn) -> None:
    account = "team-" + secrets.token_hex(3)
    console.server.admin("account", "create", account, "--email", f"{account}@example.com")
    user = "ui-user-" + secrets.token_hex(3)
    signed_in(page, route="#/admin/users")
    form = page.get_by_role("form", name=re.compile("create a user", re.I))
    form.get_by_label(re.compile("name", re.I)).fill(user)
    form.get_by_label(re.compile("^account", re.I)).select_option(account)
    form.get_by_role("button", name=re.compile("create", re.I)).click()
    expect(page.get_by_test_id("user-row").filter(has_text=user)).to_be_visible()

    page.goto(console.route("#/admin/keys"))
    form = page.get_by_role("form", name=re.compile("create an access key", re.I))
    form.get_by_label(re.compile("^user", re.I)).select_option(user)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and urlsplit(r.url).path == "/_admin/keys") as answer:
        form.get_by_role("button", name=re.compile("create", re.I)).click()
    assert answer.value.status == 201
    made = answer.value.json()
    # the secret is shown, once, in a dialog
    shown = page.get_by_test_id("secret-dialog")
    expect(shown.get_by_label(re.compile("secret", re.I))).to_have_value(made["secret"])
    expect(shown.get_by_label(re.compile("access key", re.I)).first).to_have_value(
        made["accessKey"])
    shown.get_by_role("button").filter(has_text=re.compile("saved", re.I)).click()
    expect(shown).to_be_hidden()
    expect(page.get_by_test_id("key-row").filter(has_text=made["accessKey"])).to_be_visible()
    assert made["secret"] not in page.content()  # not shown again

    s3 = console.s3(Creds(made["accessKey"], made["secret"], account, user))
    bucket = "key-works-" + secrets.token_hex(3)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"made with a key made in the console")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read().startswith(b"made with")
    listed = console.server.admin("user", "list").splitlines()
    assert any(user in line and account in line for line in listed), listed


# ---------------------------------------------------------------- hostile content

def test_hostile_key_name_is_shown_as_text(console: Console, page: Any,
                                           signed_in: SignedIn) -> None:
    bucket = _bucket(console, "hostile")
    s3 = console.s3()
    s3.put_object(Bucket=bucket, Key=HOSTILE, Body=b"x", Metadata={"note": HOSTILE})
    s3.put_object_tagging(Bucket=bucket, Key=HOSTILE,
                          Tagging={"TagSet": [{"Key": "t", "Value": HOSTILE}]})
    s3.put_object(Bucket=bucket, Key=f"{HOSTILE}/inside.txt", Body=b"y")
    signed_in(page, route=_objects_route(bucket))
    expect(_row(page, "object-row", HOSTILE)).to_have_count(2)  # the object, the folder
    expect(page.get_by_text(HOSTILE, exact=True).first).to_be_visible()
    assert page.locator("img[src=x], img[onerror]").count() == 0

    # its details: key, metadata value and tag value are text too
    page.get_by_role("link", name=HOSTILE, exact=True).first.click()
    expect(page.locator("main h1")).to_contain_text(HOSTILE)
    expect(page.locator("main")).to_contain_text("onerror=alert(1)")
    settle(page)
    # the metadata value in its table cell, the tag value in its (editable) field
    expect(page.get_by_role("cell", name=HOSTILE, exact=True)).to_have_count(1)
    expect(page.get_by_label("Tag 1 value")).to_have_value(HOSTILE)
    assert page.locator("img[src=x], img[onerror]").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
    assert page.dialogs == [], page.dialogs


def _marker_script() -> str:
    # tries every way to reach the console's window and sets a marker where it can
    return ("<script>window.__pwned = 1; document.title = 'PWNED';"
            "try { window.opener.__pwned = 1; } catch (e) {}"
            "try { window.parent.__pwned = 1; window.top.__pwned = 1; } catch (e) {}"
            "try { localStorage.setItem('pwned', '1'); } catch (e) {}"
            "try { sessionStorage.setItem('pwned', '1'); } catch (e) {}</script>")


def test_hostile_html_and_svg_never_run_in_the_console_origin(
        console: Console, context: Any, page: Any, signed_in: SignedIn) -> None:
    bucket = _bucket(console, "evil")
    s3 = console.s3()
    s3.put_object(Bucket=bucket, Key="evil.html", ContentType="text/html",
                  Body=f"<html><body><h1>evil</h1>{_marker_script()}</body></html>".encode())
    s3.put_object(Bucket=bucket, Key="evil.svg", ContentType="image/svg+xml", Body=(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
        'onload="window.__pwned = 1">'
        '<script>window.__pwned = 1; try { top.__pwned = 1 } catch (e) {}</script>'
        '<rect width="10" height="10"/></svg>').encode())
    signed_in(page, route=_objects_route(bucket))

    for key in ("evil.html", "evil.svg"):
        page.goto(console.route(f"#/o/{bucket}/{key}"))
        settle(page)
        assert page.locator("iframe, object, embed").count() == 0  # never previewed inline
        # both at most shown as source text (an SVG is a document that can hold script)
        expect(page.locator("main pre")).to_contain_text("<script>" if key.endswith(".html")
                                                         else "<svg")
        assert page.locator("main img").count() == 0
        opener = page.locator("main").get_by_role("link", name=re.compile(r"^\s*open", re.I))
        expect(opener).to_have_attribute("target", "_blank")
        rel = set((opener.get_attribute("rel") or "").split())
        assert {"noopener", "noreferrer"} <= rel, rel
        assert (opener.get_attribute("href") or "").startswith(console.endpoint + "/")
        with context.expect_page() as popup_info:
            opener.click()
        popup = popup_info.value
        popup.wait_for_load_state()
        # it opens on the S3 origin, cut off from the console's window (noopener, noreferrer)
        assert popup.url.startswith(console.endpoint + "/"), popup.url
        assert popup.evaluate("() => window.opener") is None
        assert popup.evaluate("() => document.referrer") == ""
        popup.close()

        assert page.evaluate("() => window.__pwned") is None
        assert "PWNED" not in page.title()
        assert "pwned" not in storage(page, "localStorage")
        assert "pwned" not in storage(page, "sessionStorage")
    assert page.dialogs == []


# ---------------------------------------------------------------- denied actions

READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}


def _try_upload(page: Any, path: Path) -> None:
    _file_input(page).set_input_files(str(path))


def test_read_only_user_is_denied_and_nothing_changes(
        console: Console, page: Any, signed_in: SignedIn, tmp_path: Path) -> None:
    owner = console.server.new_user()
    bucket = _bucket(console, "readonly", owner)
    s3 = console.s3(owner)
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"keep")
    reader = console.server.new_user(account=owner.account)
    policy = tmp_path / "read-only.json"
    policy.write_text(json.dumps(READ_ONLY))
    console.server.admin("user", "policy", "set", reader.user, "--file", str(policy))

    signed_in(page, reader, route=_objects_route(bucket))
    _delete_and_upload_refused(page, console, bucket, tmp_path / "new.txt")

    page.goto(console.route("#/buckets"))
    page.get_by_role("button", name=re.compile("create bucket", re.I)).click()
    dialog = _dialog(page)
    denied_bucket = "ro-made-" + secrets.token_hex(4)
    dialog.get_by_label(re.compile("name", re.I)).first.fill(denied_bucket)
    dialog.get_by_role("button", name=re.compile(r"^\s*create", re.I)).click()
    expect(_shown_error(page, "AccessDenied")).to_be_visible()

    assert _keys(s3, bucket) == ["keep.txt"]
    assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"keep"
    names = [b["Name"] for b in console.s3().list_buckets()["Buckets"]]
    assert denied_bucket not in names


def test_other_account_user_is_denied_and_nothing_changes(
        console: Console, page: Any, signed_in: SignedIn, tmp_path: Path) -> None:
    owner = console.server.new_user()
    s3 = console.s3(owner)
    # readable by anyone (public-read bucket ACL), writable only by its owner
    shared = _bucket(console, "other-acct", owner, ACL="public-read")
    s3.put_object(Bucket=shared, Key="keep.txt", Body=b"keep")
    private = _bucket(console, "private", owner)
    s3.put_object(Bucket=private, Key="secret.txt", Body=b"secret")
    stranger = console.server.new_user()

    signed_in(page, stranger, route="#/buckets")
    settle(page)
    expect(page.get_by_test_id("bucket-row").filter(has_text=private)).to_have_count(0)

    page.goto(console.route(_objects_route(private)))
    expect(_shown_error(page, "AccessDenied")).to_be_visible()
    expect(page.get_by_text("secret.txt")).to_have_count(0)

    page.goto(console.route(_objects_route(shared)))
    _delete_and_upload_refused(page, console, shared, tmp_path / "drop.txt")

    assert _keys(s3, shared) == ["keep.txt"]
    assert _keys(s3, private) == ["secret.txt"]
    s3.head_bucket(Bucket=private)


def _delete_and_upload_refused(page: Any, console: Any, bucket: str, new: Path) -> None:
    """On the objects page of ``bucket``: keep.txt is listed (reading is allowed), deleting
    it and uploading ``new`` are refused and the console shows AccessDenied."""
    row = _row(page, "object-row", "keep.txt")
    expect(row).to_be_visible()
    _select_row(row)
    page.locator("main").get_by_role("button", name=re.compile(r"^\s*delete", re.I)).first.click()
    _confirm(page, re.compile(r"^\s*delete", re.I))
    expect(_shown_error(page, "AccessDenied")).to_be_visible()
    new.write_bytes(b"must not land")
    page.goto(console.route(_objects_route(bucket)))
    settle(page)
    _try_upload(page, new)
    expect(_shown_error(page, "AccessDenied")).to_be_visible()
