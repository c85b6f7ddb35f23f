"""The admin API's identity operations (docs/admin-api.md): accounts and their public
access block, users and their identity policies, canned policies, access keys, sessions.

Each operation is authorized by the admin router (server/handlers/admin.py) before it
runs; the use cases are service/accounts.py's, whose AdminError codes (IAM's where IAM has
one: NoSuchEntity, EntityAlreadyExists, DeleteConflict, MalformedPolicyDocument) become
the answer's error."""

from __future__ import annotations

import json
import re
from typing import Any

from objectstore.s3 import identity, ownership
from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.server.handlers.admin_common import (
    Call,
    Routes,
    bool_arg,
    json_response,
    no_content,
    run,
    text_arg,
)
from objectstore.server.request import Response
from objectstore.service import accounts, admin_stats
from objectstore.storage.model import AccessKey, Account, User

_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}\Z")  # IAM's user names (ASCII)
PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
              "RestrictPublicBuckets")


def _name(doc: dict[str, Any], field: str) -> str:
    value = text_arg(doc, field)
    if not _NAME.match(value):
        raise S3Error("InvalidArgument", f"{field} must be 1-64 characters of A-Z a-z 0-9 "
                      "and _+=,.@-", ArgumentName=field)
    return value


def _account(call: Call, name: str) -> Account:
    account = call.ctx.stores.meta.account_by_name(name)
    if account is None:
        raise S3Error("NoSuchEntity", f"No account {name!r}")
    return account


def _user(call: Call, name: str) -> User:
    user = call.ctx.stores.meta.get_user(name)
    if user is None:
        raise S3Error("NoSuchEntity", f"No user {name!r}")
    return user


def _block(stored: str | None) -> dict[str, bool] | None:
    if stored is None:
        return None
    flags = ownership.PublicBlock.from_json(stored).flags()
    return dict(zip(PAB_FIELDS, flags, strict=True))


def account_json(a: Account) -> dict[str, Any]:
    return {"name": a.name, "id": a.id, "accountNumber": identity.account_number(a.id),
            "email": a.email, "created": iso8601(a.created),
            "publicAccessBlock": _block(a.public_block)}


def key_json(k: AccessKey, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"accessKey": k.access_key, "user": k.user_name,
                           "status": k.status, "created": iso8601(k.created)}
    if secret:
        out["secret"] = k.secret
    return out


# ------------------------------------------------------------------------------ accounts
async def list_accounts(call: Call) -> Response:
    return json_response([account_json(a) for a in call.ctx.stores.meta.list_accounts()])


async def create_account(call: Call) -> Response:
    doc = await call.json()
    name = _name(doc, "name")
    email = text_arg(doc, "email", required=False)
    if len(email) > 256:
        raise S3Error("InvalidArgument", "email is too long", ArgumentName="email")
    account = await run(accounts.create_account, call.ctx.stores.meta, name, email)
    return json_response(account_json(account), 201)


async def delete_account(call: Call) -> Response:
    (name,) = call.args
    meta = call.ctx.stores.meta
    account = _account(call, name)
    if any(u.account_id == account.id for u in meta.list_users()):
        raise S3Error("DeleteConflict", f"Account {name!r} still has users: delete them first")
    await run(accounts.delete_account, meta, name)
    return no_content()


async def get_account_block(call: Call) -> Response:
    block = _block(_account(call, call.args[0]).public_block)
    if block is None:
        raise S3Error("NoSuchPublicAccessBlockConfiguration")
    return json_response(block)


async def put_account_block(call: Call) -> Response:
    (name,) = call.args
    _account(call, name)
    doc = await call.json()
    unknown = sorted(set(doc) - set(PAB_FIELDS))
    if unknown:
        raise S3Error("InvalidArgument", f"Unknown field {unknown[0]!r}: the fields are "
                      + ", ".join(PAB_FIELDS), ArgumentName=unknown[0][:64])
    block = ownership.PublicBlock(*(bool_arg(doc, f) for f in PAB_FIELDS))
    await run(accounts.set_account_public_block, call.ctx.stores.meta, name, block)
    return json_response(dict(zip(PAB_FIELDS, block.flags(), strict=True)))


async def delete_account_block(call: Call) -> Response:
    (name,) = call.args
    _account(call, name)
    await run(accounts.set_account_public_block, call.ctx.stores.meta, name, None)
    return no_content()


# --------------------------------------------------------------------------------- users
async def list_users(call: Call) -> Response:
    meta = call.ctx.stores.meta
    only = call.ctx.ep.arg("account")
    only_id = _account(call, only).id if only else None
    names = meta.account_names()
    keys = admin_stats.keys_per_user(meta)
    return json_response([{
        "name": u.name, "account": names.get(u.account_id, ""), "admin": u.is_admin,
        "created": iso8601(u.created), "hasPolicy": u.policy is not None,
        "keys": keys.get(u.name, 0),
    } for u in meta.list_users() if only_id is None or u.account_id == only_id])


async def create_user(call: Call) -> Response:
    doc = await call.json()
    name = _name(doc, "name")
    account = text_arg(doc, "account")
    admin = bool_arg(doc, "admin")
    user = await run(accounts.create_user, call.ctx.stores.meta, name, account, admin)
    return json_response({"name": user.name, "account": account, "admin": user.is_admin,
                          "created": iso8601(user.created), "hasPolicy": False, "keys": 0},
                         201)


async def delete_user(call: Call) -> Response:
    (name,) = call.args
    p = call.ctx.principal
    if p is not None and p.user == name:
        raise S3Error("DeleteConflict", "You cannot delete the user you are signed in as")
    await run(accounts.delete_user, call.ctx.stores.meta, name)
    return no_content()


# ------------------------------------------------------------------------------ policies
async def get_user_policy(call: Call) -> Response:
    user = _user(call, call.args[0])
    if user.policy is None:
        raise S3Error("NoSuchEntity", f"User {user.name!r} has no identity policy (it may "
                      "do everything its account may)")
    return Response(200, [("Content-Type", "application/json"),
                          ("Cache-Control", "no-store")], user.policy.encode())


async def put_user_policy(call: Call) -> Response:
    (name,) = call.args
    _user(call, name)
    body = await call.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise S3Error("MalformedPolicyDocument", "The policy document is not UTF-8") from None
    await run(accounts.set_user_policy, call.ctx.stores.meta, name, text)
    return no_content()


async def delete_user_policy(call: Call) -> Response:
    (name,) = call.args
    _user(call, name)
    await run(accounts.set_user_policy, call.ctx.stores.meta, name, None)
    return no_content()


async def list_policies(call: Call) -> Response:
    return json_response([{"name": name, "description": description,
                           "document": json.loads(document)}
                          for name, description, document in accounts.console_policies()])


# ---------------------------------------------------------------------------------- keys
async def list_keys(call: Call) -> Response:
    meta = call.ctx.stores.meta
    user = call.ctx.ep.arg("user")
    if user:
        _user(call, user)
    return json_response([key_json(k) for k in meta.key_infos(user or None)])


async def create_key(call: Call) -> Response:
    doc = await call.json()
    user = text_arg(doc, "user")
    key = await run(accounts.create_key, call.ctx.stores.meta, user)
    return json_response(key_json(key, secret=True), 201)


async def update_key(call: Call) -> Response:
    (access_key,) = call.args
    doc = await call.json()
    status = text_arg(doc, "status")
    meta = call.ctx.stores.meta
    await run(accounts.set_key_status, meta, access_key, status)
    found = meta.key_info(access_key)
    if found is None:  # deleted meanwhile
        raise S3Error("NoSuchEntity", f"No access key {access_key!r}")
    return json_response(key_json(found))


async def delete_key(call: Call) -> Response:
    (access_key,) = call.args
    await run(accounts.delete_key, call.ctx.stores.meta, access_key)
    return no_content()


async def rotate_key(call: Call) -> Response:
    (access_key,) = call.args
    key = await run(accounts.rotate_key, call.ctx.stores.meta, access_key)
    return json_response(key_json(key, secret=True), 201)


# ------------------------------------------------------------------------------ sessions
async def list_sessions(call: Call) -> Response:
    user = call.ctx.ep.arg("user")
    if user:
        _user(call, user)
    return json_response([{
        "accessKey": s.access_key, "user": s.user_name, "sourceKey": s.source_key,
        "created": iso8601(s.created), "expiration": iso8601(s.expires),
    } for s in call.ctx.stores.meta.list_sessions(user or None)])


async def revoke_session(call: Call) -> Response:
    (access_key,) = call.args
    if not await run(call.ctx.stores.meta.revoke_session, access_key):
        raise S3Error("NoSuchEntity", f"No session {access_key!r} (or it has ended)")
    return no_content()


ROUTES: Routes = {
    ("GET", ("accounts",)): ("objectstore:ListAccounts", list_accounts),
    ("POST", ("accounts",)): ("objectstore:CreateAccount", create_account),
    ("DELETE", ("accounts", "*")): ("objectstore:DeleteAccount", delete_account),
    ("GET", ("accounts", "*", "public-access-block")):
        ("objectstore:GetAccountPublicAccessBlock", get_account_block),
    ("PUT", ("accounts", "*", "public-access-block")):
        ("objectstore:PutAccountPublicAccessBlock", put_account_block),
    ("DELETE", ("accounts", "*", "public-access-block")):
        ("objectstore:DeleteAccountPublicAccessBlock", delete_account_block),
    ("GET", ("users",)): ("objectstore:ListUsers", list_users),
    ("POST", ("users",)): ("objectstore:CreateUser", create_user),
    ("DELETE", ("users", "*")): ("objectstore:DeleteUser", delete_user),
    ("GET", ("users", "*", "policy")): ("objectstore:GetUserPolicy", get_user_policy),
    ("PUT", ("users", "*", "policy")): ("objectstore:PutUserPolicy", put_user_policy),
    ("DELETE", ("users", "*", "policy")): ("objectstore:DeleteUserPolicy", delete_user_policy),
    ("GET", ("policies",)): ("objectstore:ListPolicies", list_policies),
    ("GET", ("keys",)): ("objectstore:ListAccessKeys", list_keys),
    ("POST", ("keys",)): ("objectstore:CreateAccessKey", create_key),
    ("PUT", ("keys", "*")): ("objectstore:UpdateAccessKey", update_key),
    ("DELETE", ("keys", "*")): ("objectstore:DeleteAccessKey", delete_key),
    ("POST", ("keys", "*", "rotate")): ("objectstore:RotateAccessKey", rotate_key),
    ("GET", ("sessions",)): ("objectstore:ListSessions", list_sessions),
    ("DELETE", ("sessions", "*")): ("objectstore:RevokeSession", revoke_session),
}
