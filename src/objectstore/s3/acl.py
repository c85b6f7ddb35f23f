"""Access control lists: canned ACLs, x-amz-grant-* headers, and permission checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Container, Final, Mapping

from objectstore.s3.errors import S3Error

ALL_USERS: Final = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS: Final = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY: Final = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS: Final = frozenset({ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY})
PERMISSIONS: Final = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
CANNED: Final = frozenset(
    {
        "private", "public-read", "public-read-write", "authenticated-read",
        "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
        "aws-exec-read",
    }
)
GRANT_HEADERS: Final = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}


@dataclass(frozen=True, slots=True)
class Grant:
    kind: str  # CanonicalUser | Group | AmazonCustomerByEmail
    value: str  # canonical id, group URI or email
    permission: str


@dataclass(frozen=True, slots=True)
class Acl:
    owner: str  # canonical id of the owner
    grants: tuple[Grant, ...]

    def to_json(self) -> str:
        if len(self.grants) > 4:  # remembered are the common, small ACLs only
            return _to_json.__wrapped__(self)
        return _to_json(self)

    @staticmethod
    def from_json(text: str) -> Acl:
        if len(text) > 1024:
            return _from_json.__wrapped__(text)
        return _from_json(text)

    def allows(self, account: str | None, permission: str, *,
               ignore_public: bool = False) -> bool:
        """Whether ``account`` (None: anonymous) holds ``permission`` through these grants;
        ``ignore_public``: grants to AllUsers and AuthenticatedUsers count for nothing
        (Block Public Access's IgnorePublicAcls)."""
        for g in self.grants:
            if g.permission != permission and g.permission != "FULL_CONTROL":
                continue
            if g.kind == "Group":
                if ignore_public:
                    continue
                if g.value == ALL_USERS or (g.value == AUTHENTICATED_USERS and account):
                    return True
            elif g.kind == "CanonicalUser" and account is not None and g.value == account:
                return True
        return False


@lru_cache(maxsize=1024)
def canned(name: str, owner: str, bucket_owner: str | None = None) -> Acl:
    """The grants of a canned ACL: group grants first, then the owner's FULL_CONTROL.
    (Remembered: immutable, and every PUT without ACL headers asks for "private".)"""
    grants: list[Grant] = []
    if name == "public-read":
        grants.append(Grant("Group", ALL_USERS, "READ"))
    elif name == "public-read-write":
        grants += [Grant("Group", ALL_USERS, "READ"), Grant("Group", ALL_USERS, "WRITE")]
    elif name == "authenticated-read":
        grants.append(Grant("Group", AUTHENTICATED_USERS, "READ"))
    elif name == "log-delivery-write":
        grants += [Grant("Group", LOG_DELIVERY, "WRITE"), Grant("Group", LOG_DELIVERY, "READ_ACP")]
    elif name not in CANNED:
        raise S3Error("InvalidArgument", ArgumentName="x-amz-acl", ArgumentValue=name)
    grants.append(Grant("CanonicalUser", owner, "FULL_CONTROL"))
    if bucket_owner and bucket_owner != owner:
        if name == "bucket-owner-read":
            grants.append(Grant("CanonicalUser", bucket_owner, "READ"))
        elif name == "bucket-owner-full-control":
            grants.append(Grant("CanonicalUser", bucket_owner, "FULL_CONTROL"))
    return Acl(owner, tuple(grants))


_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(?:,|$)', re.IGNORECASE)


def from_headers(
    headers: Mapping[str, str],
    owner: str,
    bucket_owner: str | None = None,
    *,
    resolve_email: Mapping[str, str] | None = None,
    known_ids: Callable[[], Container[str]] | None = None,
) -> Acl | None:
    """The ACL a request asks for via x-amz-acl or x-amz-grant-*; None when neither is sent.

    ``known_ids`` gives the canonical ids that exist: a grant to any other id is refused
    (S3: 400 InvalidArgument "Invalid id")."""
    canned_name = headers.get("x-amz-acl")
    grant_headers = [(h, headers[h]) for h in GRANT_HEADERS if h in headers]
    if canned_name is not None and grant_headers:
        raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not "
                      "allowed")
    if canned_name is not None:
        return canned(canned_name.strip(), owner, bucket_owner)
    if not grant_headers:
        return None
    grants: list[Grant] = []
    ids: list[tuple[str, str]] = []
    for header, value in grant_headers:
        perm = GRANT_HEADERS[header]
        pos = 0
        while pos < len(value):
            m = _GRANTEE.match(value, pos)
            if not m or m.end() == pos:
                raise S3Error("InvalidArgument", ArgumentName=header, ArgumentValue=value)
            kind, who = m.group(1).lower(), m.group(2).strip()
            grants.append(_grant(kind, who, perm, resolve_email))
            if kind == "id":
                ids.append((header, who))
            pos = m.end()
    if ids and known_ids is not None:
        known = known_ids()
        for header, who in ids:
            if who not in known:
                raise S3Error("InvalidArgument", "Invalid id", ArgumentName=header,
                              ArgumentValue=who)
    return Acl(owner, tuple(grants))


def _grant(kind: str, who: str, perm: str, resolve_email: Mapping[str, str] | None) -> Grant:
    if kind == "id":
        return Grant("CanonicalUser", who, perm)
    if kind == "uri":
        if who not in GROUPS:
            raise S3Error("InvalidArgument", "Invalid group uri", ArgumentName="uri",
                          ArgumentValue=who)
        return Grant("Group", who, perm)
    account = (resolve_email or {}).get(who.lower())
    if account is None:
        raise S3Error("UnresolvableGrantByEmailAddress", Email=who)
    return Grant("CanonicalUser", account, perm)


# Stored ACLs repeat (most objects carry their owner's private ACL), and both directions run
# on every request that writes or checks one: remembered, as the values are immutable.
@lru_cache(maxsize=1024)
def _to_json(acl: Acl) -> str:
    return json.dumps(
        {"owner": acl.owner, "grants": [[g.kind, g.value, g.permission] for g in acl.grants]}
    )


@lru_cache(maxsize=1024)
def _from_json(text: str) -> Acl:
    data = json.loads(text)
    return Acl(data["owner"], tuple(Grant(k, v, p) for k, v, p in data["grants"]))
