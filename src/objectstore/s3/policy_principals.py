"""The Principal / NotPrincipal element of a bucket policy: parsing and matching (pure).

``"*"`` / ``{"AWS": "*"}`` is everyone, anonymous callers included. An account (12-digit
id, ``arn:aws:iam::<id>:root``) or its ``CanonicalUser`` id names every caller of that account
(its root and its users); a user ARN (``arn:aws:iam::<id>:user/<path/><name>``) names that
user; ``{"Service": ...}`` names an AWS service principal.

Objectstore extension, for ceph/s3-tests' tenant ARNs: an ARN whose account part is not 12
digits (``arn:aws:iam::s3tenant1:root``, ``...:user/<name>``) names the account by its
objectstore account name (``Caller.account_name``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from objectstore.s3.policy import Caller


class PrincipalError(ValueError):
    """A principal S3 refuses; the message is S3's MalformedPolicy message."""


_INVALID = "Invalid principal in policy"


@dataclass(frozen=True, slots=True)
class Principals:
    """The callers a Principal / NotPrincipal element names."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()  # 12-digit ids
    account_names: frozenset[str] = frozenset()  # objectstore account names (extension)
    users: frozenset[tuple[str, str]] = frozenset()  # (12-digit id or account name, user)
    canonical: frozenset[str] = frozenset()  # lower case
    services: frozenset[str] = frozenset()

    def names_account_of(self, caller: Caller) -> bool:
        return ((caller.account is not None and caller.account in self.accounts)
                or (caller.account_name is not None and caller.account_name in self.account_names)
                or (caller.canonical_id is not None
                    and caller.canonical_id.lower() in self.canonical))

    def names_user(self, caller: Caller) -> bool:
        if caller.user is None or not self.users:
            return False
        return ((caller.account or "", caller.user) in self.users
                or (caller.account_name or "", caller.user) in self.users)

    def match(self, caller: Caller) -> bool:
        """Principal: does the element name this caller?"""
        if self.everyone:
            return True
        if caller.service is not None and caller.service in self.services:
            return True
        return self.names_account_of(caller) or self.names_user(caller)

    def excludes(self, caller: Caller) -> bool:
        """NotPrincipal: is the caller one of the listed (exempted) principals?

        As IAM documents for NotPrincipal: a user's request is evaluated as the user and as
        its account, so a user is exempted only when both its ARN and its account are
        listed; an account's root only needs the account listed."""
        if self.everyone:
            return True
        if caller.service is not None:
            return caller.service in self.services
        if not self.names_account_of(caller):
            return False
        return caller.user is None or self.names_user(caller)


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        if not value:
            raise PrincipalError(_INVALID)
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise PrincipalError(_INVALID)


def is_account_id(v: str) -> bool:
    return len(v) == 12 and v.isascii() and v.isdigit()


def _is_canonical_id(v: str) -> bool:
    return len(v) == 64 and all(c in "0123456789abcdefABCDEF" for c in v)


def _is_account_name(v: str) -> bool:
    return bool(v) and v.isascii() and all(c.isalnum() or c in "-_." for c in v)


def _is_service(v: str) -> bool:
    return (v.isascii() and "." in v and not v.startswith(".")
            and all(c.isalnum() or c in "-." for c in v))


def parse_principal(value: Any) -> Principals:
    """A Principal or NotPrincipal element's value."""
    if isinstance(value, str):
        if value == "*":
            return Principals(everyone=True)
        if not value:
            raise PrincipalError(_INVALID)
        raise PrincipalError("Invalid policy syntax.")
    if not isinstance(value, dict) or not value:
        raise PrincipalError(_INVALID)
    everyone = False
    accounts: set[str] = set()
    names: set[str] = set()
    users: set[tuple[str, str]] = set()
    canonical: set[str] = set()
    services: set[str] = set()
    for kind, raw in value.items():
        values = _values(raw)
        if kind == "AWS":
            for v in values:
                if v == "*":
                    everyone = True
                else:
                    _aws_principal(v, accounts, names, users)
        elif kind == "CanonicalUser":
            for v in values:
                if not _is_canonical_id(v):
                    raise PrincipalError(_INVALID)
                canonical.add(v.lower())
        elif kind == "Service":
            for v in values:
                if not _is_service(v):
                    raise PrincipalError(_INVALID)
                services.add(v)
        else:  # Federated: no identity provider here; anything else is not a principal type
            raise PrincipalError(_INVALID)
    return Principals(everyone, frozenset(accounts), frozenset(names), frozenset(users),
                      frozenset(canonical), frozenset(services))


def _aws_principal(v: str, accounts: set[str], names: set[str],
                   users: set[tuple[str, str]]) -> None:
    if is_account_id(v):
        accounts.add(v)
        return
    parts = v.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3] != "":
        raise PrincipalError(_INVALID)
    account, rest = parts[4], parts[5]
    if not (is_account_id(account) or _is_account_name(account)):
        raise PrincipalError(_INVALID)
    if rest == "root":
        (accounts if is_account_id(account) else names).add(account)
        return
    if rest.startswith("user/"):
        user = rest[5:].rsplit("/", 1)[-1]
        if user and "*" not in user and "?" not in user:
            users.add((account, user))
            return
    raise PrincipalError(_INVALID)
