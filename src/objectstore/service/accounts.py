"""Accounts (Nova's projects), users and access keys."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import string
import time
from dataclasses import dataclass

from objectstore.s3 import ownership, policy
from objectstore.s3.errors import S3Error
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import AccessKey, Account, User
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.sqlite_accounts import KEY_STATUSES

log = logging.getLogger("objectstore.accounts")

ROOT_ACCOUNT = "admin"
ROOT_USER = "admin"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


class AdminError(Exception):
    """An admin operation refused; ``code``: the error the admin API answers (IAM's codes
    where IAM has one; the CLI prints the message)."""

    def __init__(self, message: str, code: str = "InvalidArgument") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Bootstrap:
    created: bool
    access_key: str
    secret: str | None  # only printed when we generated it


def new_access_key() -> str:
    return "OS" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(18))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def canonical_id(name: str) -> str:
    return hashlib.sha256(f"objectstore-account:{name}:{secrets.token_hex(8)}".encode()).hexdigest()


def create_account(meta: SqliteMeta, name: str, email: str = "",
                   account_id: str | None = None) -> Account:
    if not name or len(name) > 64:
        raise AdminError("account name must be 1-64 characters")
    account = Account(account_id or canonical_id(name), name, email, time.time())
    try:
        meta.add_account(account)
    except Conflict:
        raise AdminError(f"account {name!r} already exists", "EntityAlreadyExists") from None
    return account


def delete_account(meta: SqliteMeta, name: str) -> None:
    account = meta.account_by_name(name)
    if account is None:
        raise AdminError(f"no account {name!r}", "NoSuchEntity")
    try:
        meta.delete_account(account.id)
    except Conflict:
        raise AdminError(f"account {name!r} still owns buckets", "DeleteConflict") from None
    except NotFound:
        raise AdminError(f"no account {name!r}", "NoSuchEntity") from None


def create_user(meta: SqliteMeta, name: str, account_name: str, is_admin: bool) -> User:
    account = meta.account_by_name(account_name)
    if account is None:
        raise AdminError(f"no account {account_name!r}", "NoSuchEntity")
    user = User(name, account.id, is_admin, time.time())
    try:
        meta.add_user(user)
    except Conflict:
        raise AdminError(f"user {name!r} already exists", "EntityAlreadyExists") from None
    except NotFound:
        raise AdminError(f"no account {account_name!r}", "NoSuchEntity") from None
    return user


def delete_user(meta: SqliteMeta, name: str) -> None:
    try:
        meta.delete_user(name)
    except NotFound:
        raise AdminError(f"no user {name!r}", "NoSuchEntity") from None


def create_key(meta: SqliteMeta, user: str, access_key: str | None = None,
               secret: str | None = None) -> AccessKey:
    key = AccessKey(access_key or new_access_key(), secret or new_secret(), user, time.time())
    try:
        meta.add_key(key)
    except NotFound:
        raise AdminError(f"no user {user!r}", "NoSuchEntity") from None
    except Conflict:
        raise AdminError("that access key already exists", "EntityAlreadyExists") from None
    return key


def delete_key(meta: SqliteMeta, access_key: str) -> None:
    try:
        meta.delete_key(access_key)
    except NotFound:
        raise AdminError(f"no access key {access_key!r}", "NoSuchEntity") from None


def set_key_status(meta: SqliteMeta, access_key: str, status: str) -> None:
    """Activate or deactivate a key: an Inactive key's requests are answered 403
    InvalidAccessKeyId, as AWS answers them."""
    if status not in KEY_STATUSES:
        raise AdminError(f"a key's status is Active or Inactive, not {status!r}")
    try:
        meta.set_key_status(access_key, status)
    except NotFound:
        raise AdminError(f"no access key {access_key!r}", "NoSuchEntity") from None


def rotate_key(meta: SqliteMeta, access_key: str) -> AccessKey:
    """A new key for the user of ``access_key``, which becomes Inactive (one transaction):
    clients move to the new key, then the old one is deleted."""
    old = meta.key_info(access_key)
    if old is None:
        raise AdminError(f"no access key {access_key!r}", "NoSuchEntity")
    key = AccessKey(new_access_key(), new_secret(), old.user_name, time.time())
    try:
        meta.rotate_key(access_key, key)
    except NotFound:
        raise AdminError(f"no access key {access_key!r}", "NoSuchEntity") from None
    return key


def bootstrap(meta: SqliteMeta, access_key: str | None, secret: str | None) -> Bootstrap:
    """Create the admin account, user and key on first start (or take them from the env).
    Several gateways may start at once on an empty store: a step another one has just done
    is taken as done."""
    if meta.get_user(ROOT_USER) is None:
        if meta.account_by_name(ROOT_ACCOUNT) is None:
            try:
                create_account(meta, ROOT_ACCOUNT)
            except AdminError:
                if meta.account_by_name(ROOT_ACCOUNT) is None:
                    raise
        try:
            create_user(meta, ROOT_USER, ROOT_ACCOUNT, True)
        except AdminError:
            if meta.get_user(ROOT_USER) is None:
                raise
    if access_key and secret:
        if meta.key_info(access_key) is not None and meta.lookup_key(access_key) is None:
            log.warning("the root access key from the environment is Inactive: it stays so "
                        "(`objectstore key activate` makes it work again)")
            return Bootstrap(False, access_key, None)
        found = meta.lookup_key(access_key)
        if found is None:
            try:
                create_key(meta, ROOT_USER, access_key, secret)
                return Bootstrap(True, access_key, None)
            except AdminError:  # made by another gateway starting at the same moment
                found = meta.lookup_key(access_key)
                if found is None:
                    raise
        if found[0] != secret:
            meta.delete_key(access_key)
            create_key(meta, ROOT_USER, access_key, secret)
        return Bootstrap(False, access_key, None)
    keys = meta.list_keys(ROOT_USER)
    if keys:
        return Bootstrap(False, keys[0].access_key, None)
    key = create_key(meta, ROOT_USER)
    return Bootstrap(True, key.access_key, key.secret)


# ------------------------------------------------------------------ identity policies, PAB
_READ = ["s3:Get*", "s3:List*", "ec2:Describe*"]
CANNED_POLICIES = {
    "readonly": _READ,
    "readwrite": [*_READ, "s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
                  "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging",
                  "s3:DeleteObjectVersionTagging", "s3:AbortMultipartUpload"],
    "writeonly": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
                  "s3:ListBucketMultipartUploads"],
}


def canned_policy(name: str) -> str:
    """The identity policy document of a canned policy (readonly, readwrite, writeonly)."""
    if name not in CANNED_POLICIES:
        raise AdminError(f"no canned policy {name!r} (give one of "
                         f"{', '.join(CANNED_POLICIES)})")
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": name, "Effect": "Allow", "Action": CANNED_POLICIES[name], "Resource": "*"}]},
        indent=2)


# the admin API's canned policies (GET /_admin/policies): name, description, actions
CONSOLE_POLICIES = (
    ("ReadOnly", "Read and list every bucket and object the account may reach; describe "
     "machine images.", _READ),
    ("ReadWrite", "ReadOnly, plus writing, tagging and deleting objects (not bucket "
     "settings).", CANNED_POLICIES["readwrite"]),
    ("FullAccess", "Every S3 and image registry action the account may do (as having no "
     "policy at all).", ["s3:*", "ec2:*"]),
)


def console_policies() -> list[tuple[str, str, str]]:
    """(name, description, identity policy document) of each canned policy the admin API
    offers."""
    return [(name, description, json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": name, "Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
        for name, description, actions in CONSOLE_POLICIES]


def set_user_policy(meta: SqliteMeta, user: str, text: str | None) -> None:
    """Attach an identity policy (validated as IAM validates it), or detach with None."""
    if text is not None:
        try:
            policy.parse_identity_policy(text)
        except S3Error as err:
            raise AdminError(f"invalid policy: {err.message}",
                             "MalformedPolicyDocument") from None
    try:
        meta.set_user_policy(user, text)
    except NotFound:
        raise AdminError(f"no user {user!r}", "NoSuchEntity") from None


def set_account_public_block(meta: SqliteMeta, account_name: str,
                             block: ownership.PublicBlock | None) -> None:
    account = meta.account_by_name(account_name)
    if account is None:
        raise AdminError(f"no account {account_name!r}", "NoSuchEntity")
    meta.set_account_public_block(account.id, block.to_json() if block is not None else None)
