"""The console's administration and status pages (js/pages/admin.js, status.js) in headless
Chromium against a real server: accounts, users, access keys (the secret shown once; keys
that then work — or stop working — in boto3), identity policies with the server's
validation message, the account-wide public access block, server status; and a non-admin
told AccessDenied."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from c_support import Console, chromium_browser, console_server, eventually
from harness import Creds

pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Console, Any]]:
    with console_server(tmp_path_factory.mktemp("c-admin")) as srv, chromium_browser() as b:
        console = Console(b, srv)
        yield srv, console, b
        assert not console.errors, console.errors
        console.close()


def name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return str(info.value.response["Error"]["Code"])


def toast_text(page: Any) -> str:
    return " | ".join(page.get_by_test_id("toast").all_inner_texts())


def create_account(page: Any, account: str) -> None:
    page.get_by_label("Account name").fill(account)
    page.get_by_label("Email (optional)").fill(f"{account}@example.com")
    page.get_by_role("button", name="Create account").click()
    page.get_by_test_id("account-row").filter(has_text=account).wait_for()


def create_user(page: Any, user: str, account: str, admin: bool = False) -> None:
    form = page.locator("form")
    form.get_by_label("User name").fill(user)
    form.get_by_label("Account", exact=True).select_option(account)
    if admin:
        form.get_by_label("Administrator", exact=False).check()
    form.get_by_role("button", name="Create user").click()
    page.get_by_test_id("user-row").filter(has_text=user).wait_for()


def read_secret(page: Any) -> Creds:
    dialog = page.get_by_test_id("secret-dialog")
    dialog.wait_for()
    assert "only time the secret key is shown" in dialog.inner_text()
    assert page.evaluate("() => document.activeElement.closest('dialog') !== null")
    ak = dialog.get_by_label("Access key ID").input_value()
    secret = dialog.get_by_label("Secret access key").input_value()
    assert dialog.get_by_role("button", name="Copy secret").is_visible()
    dialog.get_by_role("button", name="I have saved the secret").click()
    dialog.wait_for(state="detached")
    assert secret not in page.content()
    return Creds(ak, secret, "", "")


def test_accounts_users_and_keys(env: tuple[Any, Console, Any]) -> None:
    srv, console, _ = env
    account, user = name("acme"), name("alice")
    page = console.go("#/admin/accounts")
    assert page.get_by_role("heading", level=1).inner_text() == "Administration: Accounts"
    assert page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Accounts").get_attribute("aria-current") == "page"
    create_account(page, account)
    row = page.get_by_test_id("account-row").filter(has_text=account)
    assert f"{account}@example.com" in row.inner_text()

    page = console.go(f"#/admin/users?account={account}")
    create_user(page, user, account)
    row = page.get_by_test_id("user-row").filter(has_text=user)
    assert re.search(r"\bNo\b", row.inner_text())  # not an admin
    row.get_by_role("button", name=f"New key for {user}").click()
    key = read_secret(page)
    s3 = srv.client(key)
    s3.create_bucket(Bucket=name("alice-b"))  # the new key works in boto3
    assert s3.list_buckets()["Buckets"]

    # an account with users cannot be deleted: the server's error is shown
    page = console.go("#/admin/accounts")
    page.get_by_role("button", name=f"Delete account {account}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    eventually(lambda: "DeleteConflict: " in toast_text(page))

    # keys: deactivate (refused by S3), activate, rotate (old one inactive), delete
    page = console.go(f"#/admin/keys?user={user}")
    assert page.get_by_label("Show keys of user").input_value() == user
    krow = page.get_by_test_id("key-row").filter(has_text=key.access_key)
    assert "Active" in krow.inner_text()
    assert key.secret_key not in page.content()
    krow.get_by_role("button", name=f"Deactivate {key.access_key}").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    eventually(lambda: "Inactive" in page.get_by_test_id("key-row").filter(
        has_text=key.access_key).inner_text())
    assert error_code(lambda: srv.client(key).list_buckets()) == "InvalidAccessKeyId"
    page.get_by_role("button", name=f"Activate {key.access_key}").click()
    eventually(lambda: "Inactive" not in page.get_by_test_id("key-row").filter(
        has_text=key.access_key).inner_text())
    srv.client(key).list_buckets()

    page.get_by_role("button", name=f"Rotate {key.access_key}").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
    new = read_secret(page)
    assert new.access_key != key.access_key
    srv.client(new).list_buckets()
    eventually(lambda: "Inactive" in page.get_by_test_id("key-row").filter(
        has_text=key.access_key).inner_text())
    assert error_code(lambda: srv.client(key).list_buckets()) == "InvalidAccessKeyId"
    page.get_by_role("button", name=f"Delete {key.access_key}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    eventually(lambda: page.get_by_test_id("key-row").filter(
        has_text=key.access_key).count() == 0)
    eventually(lambda: page.get_by_test_id("key-row").count() == 1)

    # a key made from the keys form
    page.locator("form").get_by_label("User").select_option(user)
    page.get_by_role("button", name="Create access key").click()
    third = read_secret(page)
    srv.client(third).list_buckets()

    # users and accounts go
    page = console.go(f"#/admin/users?account={account}")
    page.get_by_role("button", name=f"Delete user {user}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    eventually(lambda: page.get_by_test_id("user-row").filter(has_text=user).count() == 0)
    assert error_code(lambda: srv.client(third).list_buckets()) == "InvalidAccessKeyId"


def test_identity_policies(env: tuple[Any, Console, Any]) -> None:
    srv, console, _ = env
    creds = srv.new_user()
    bucket = name("pol")
    srv.client(creds).create_bucket(Bucket=bucket)
    page = console.go(f"#/admin/policies?user={creds.user}")
    area = page.locator(".c-admin-section")
    eventually(lambda: f"{creds.user} has no identity policy." in area.inner_text())
    assert page.get_by_role("table", name="Canned policies").is_visible()

    area.get_by_label("Canned policy").select_option("ReadOnly")
    area.get_by_role("button", name="Attach canned policy").click()
    eventually(lambda: f"{creds.user} has a policy attached." in area.inner_text())
    s3 = srv.client(creds)
    s3.list_objects_v2(Bucket=bucket)
    assert error_code(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == \
        "AccessDenied"
    shown = json.loads(area.get_by_label("Policy document (JSON)").input_value())
    assert shown["Statement"]

    editor = area.get_by_label("Policy document (JSON)")
    editor.fill('{"Statement": [}')
    area.get_by_role("button", name="Attach custom policy").click()
    problem = area.locator("[data-testid=error]:not([hidden])")
    assert problem.inner_text().startswith("Not valid JSON")

    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*",
                                                    "Resource": "*"}]}
    editor.fill(json.dumps(bad))
    area.get_by_role("button", name="Attach custom policy").click()
    error = area.locator("[data-testid=error]:not([hidden])")
    eventually(lambda: error.inner_text().startswith("MalformedPolicyDocument: "))

    good = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                     "Resource": "*"}]}
    editor.fill(json.dumps(good))
    area.get_by_role("button", name="Attach custom policy").click()
    eventually(lambda: "Custom policy attached" in toast_text(page))
    srv.client(creds).put_object(Bucket=bucket, Key="k", Body=b"x")

    area.get_by_role("button", name="Detach policy").click()
    page.get_by_role("dialog").get_by_role("button", name="Detach").click()
    eventually(lambda: f"{creds.user} has no identity policy." in area.inner_text())


def test_account_public_access_block(env: tuple[Any, Console, Any]) -> None:
    srv, console, _ = env
    creds = srv.new_user()
    s3 = srv.client(creds)
    bucket = name("pab")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    page = console.go(f"#/admin/public-access?account={creds.account}")
    status = page.locator(".c-admin-section .c-status")
    eventually(lambda: status.inner_text() == "Not configured.")
    page.get_by_label("Block public ACLs").check()
    page.get_by_role("button", name="Save public access block").click()
    eventually(lambda: status.inner_text() == "Configured: BlockPublicAcls.")
    assert error_code(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == \
        "AccessDenied"
    page.get_by_role("button", name="Remove public access block").click()
    eventually(lambda: status.inner_text() == "Not configured.")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")


def test_status_page(env: tuple[Any, Console, Any]) -> None:
    srv, console, _ = env
    page = console.go("#/status")
    assert page.get_by_role("heading", level=1).inner_text() == "Server status"
    version = page.get_by_test_id("status-version")
    version.wait_for()
    assert version.inner_text() not in ("", "—")
    assert page.get_by_test_id("status-uptime").inner_text() != "—"
    assert re.match(r"^\d", page.get_by_test_id("status-total").inner_text())
    assert page.get_by_test_id("status-used").inner_text().endswith("B")
    rate = page.get_by_test_id("status-rate-measured")
    eventually(lambda: "requests/s" in rate.inner_text(), timeout=15)
    assert page.get_by_role("table").locator("caption").inner_text().endswith(
        ("gateway", "gateways"))


def test_non_admin_sees_the_servers_refusal(env: tuple[Any, Console, Any]) -> None:
    srv, _, b = env
    creds = srv.new_user()
    console = Console(b, srv, creds)
    try:
        page = console.go("#/admin/users")
        assert page.get_by_role("heading", level=1).inner_text() == "Administration: Users"
        error = page.get_by_test_id("error").first
        error.wait_for()
        assert error.inner_text().startswith("AccessDenied: ")
        assert page.get_by_test_id("user-row").count() == 0
        for route in ("#/status", "#/admin/policies", "#/admin/public-access",
                      "#/admin/keys", "#/admin/sessions"):
            page = console.go(route)
            error = page.get_by_test_id("error").first
            error.wait_for()
            assert error.inner_text().startswith("AccessDenied: "), route
    finally:
        console.close()


def test_keyboard_only_key_deactivation_keeps_the_focus_in_the_row(
        env: tuple[Any, Console, Any]) -> None:
    srv, console, _ = env
    creds = srv.new_user()
    page = console.go(f"#/admin/keys?user={creds.user}")
    button = page.get_by_role("button", name=f"Deactivate {creds.access_key}")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert page.evaluate("() => document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Enter")  # the dialog's first action: Deactivate
    dialog.wait_for(state="detached")
    eventually(lambda: page.evaluate("() => document.activeElement.getAttribute('aria-label')")
               == f"Activate {creds.access_key}")
    assert error_code(lambda: srv.client(creds).list_buckets()) == "InvalidAccessKeyId"


def test_admin_revokes_another_users_session(env: tuple[Any, Console, Any]) -> None:
    srv, console, b = env
    creds = srv.new_user()
    other = Console(b, srv, creds)
    try:
        page = console.go("#/admin/sessions")
        rows = page.get_by_test_id("session-row")
        mine = rows.filter(has_text="(this session)")
        mine.wait_for()
        theirs = rows.filter(has_text=creds.user)
        assert theirs.count() == 1
        akid = theirs.locator("td").first.inner_text()
        assert akid.startswith("ASIA") or akid != creds.access_key
        assert creds.access_key in theirs.inner_text()  # the key it came from
        theirs.get_by_role("button", name=f"Revoke {akid}").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
        eventually(lambda: rows.filter(has_text=creds.user).count() == 0)
        # the other browser's next request is refused; its console sends it to sign in
        other.go("#/images")
        eventually(lambda: other.page.evaluate("() => location.hash").startswith("#/signin"))
        assert mine.count() == 1
    finally:
        other.close()
