"""The IAM policy language: parse and validate a policy document, evaluate it (pure).

Interface fixed for issue #11 (the implementation fills it in):

- ``parse_bucket_policy(text, bucket)`` / ``parse_identity_policy(text)`` validate a
  document the way S3 / IAM do and raise ``S3Error("MalformedPolicy", <S3's message>)``;
  they return a ``Policy``, parsed once and pre-indexed by action.
- ``Policy.decide(ask)`` is "Deny" when a statement explicitly denies, else "Allow" when a
  statement allows, else None (no statement applies: an implicit deny).
- ``Policy.public`` is S3's PolicyStatus judgement (IsPublic).

Condition values come from ``Ask.context``: a function of the condition key, lower case
(``"aws:sourceip"``, ``"s3:existingobjecttag/project"``), giving its values or None when the
request has no such key. It is called only for keys a matching statement names, so
expensive keys (an object's tags) are looked up only when a policy asks for them.

Principals. ``"*"`` / ``{"AWS": "*"}`` is everyone, anonymous callers included. An account
(12-digit id, ``arn:aws:iam::<id>:root``) or its ``CanonicalUser`` id names every caller of
that account (its root and its users); a user ARN names that user. Objectstore extension
(for ceph/s3-tests' tenant ARNs): an ARN whose account part is not 12 digits,
``arn:aws:iam::<name>:root`` or ``...:user/<user>``, names the account by its objectstore
account name (``Caller.account_name``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from objectstore.s3.errors import S3Error
from objectstore.s3.policy_match import Pattern, compile_pattern, has_wildcard

Effect = Literal["Allow", "Deny"]
Context = Callable[[str], Sequence[str] | None]

LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"


def _no_keys(key: str) -> Sequence[str] | None:
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, in the names a policy's Principal can use."""

    account: str | None  # 12-digit account id; None: anonymous (or a service)
    canonical_id: str | None = None  # the account's canonical id (CanonicalUser)
    arn: str | None = None  # arn:aws:iam::<account>:user/<name>
    user: str | None = None  # the IAM user name (aws:username)
    service: str | None = None  # an AWS service principal, e.g. LOG_DELIVERY_SERVICE
    account_name: str | None = None  # objectstore's name of the account (tenant ARNs)


ANONYMOUS = Caller(None)


@dataclass(frozen=True, slots=True)
class Ask:
    caller: Caller
    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key"
    context: Context = _no_keys


def _malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


# --- principals ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principals:
    """The callers a Principal / NotPrincipal element names."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()  # 12-digit ids
    account_names: frozenset[str] = frozenset()  # objectstore account names (extension)
    users: frozenset[tuple[str, str]] = frozenset()  # (12-digit id or account name, user)
    canonical: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    def names_account_of(self, caller: Caller) -> bool:
        return ((caller.account is not None and caller.account in self.accounts)
                or (caller.account_name is not None and caller.account_name in self.account_names)
                or (caller.canonical_id is not None and caller.canonical_id in self.canonical))

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

        As IAM documents: a user's request is evaluated as the user and as its account, so
        a user is exempted only when both its ARN and its account are listed."""
        if self.everyone:
            return True
        if caller.service is not None:
            return caller.service in self.services
        if caller.account is None and caller.account_name is None:
            return False
        if not self.names_account_of(caller):
            return False
        return caller.user is None or self.names_user(caller)


def _principal_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise _malformed("Invalid principal in policy")


def _parse_principal(value: Any) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, dict) or not value:
        raise _malformed("Invalid principal in policy")
    everyone = False
    accounts: set[str] = set()
    names: set[str] = set()
    users: set[tuple[str, str]] = set()
    canonical: set[str] = set()
    services: set[str] = set()
    for kind, raw in value.items():
        values = _principal_values(raw)
        if kind == "AWS":
            for v in values:
                if v == "*":
                    everyone = True
                    continue
                _parse_aws_principal(v, accounts, names, users)
        elif kind == "CanonicalUser":
            for v in values:
                if not _is_canonical_id(v):
                    raise _malformed("Invalid principal in policy")
                canonical.add(v.lower())
        elif kind == "Service":
            for v in values:
                if not v or "*" in v or " " in v:
                    raise _malformed("Invalid principal in policy")
                services.add(v)
        elif kind == "Federated":
            raise _malformed("Invalid principal in policy")
        else:
            raise _malformed("Invalid principal in policy")
    return Principals(everyone, frozenset(accounts), frozenset(names), frozenset(users),
                      frozenset(canonical), frozenset(services))


def _is_account_id(v: str) -> bool:
    return len(v) == 12 and v.isascii() and v.isdigit()


def _is_canonical_id(v: str) -> bool:
    return len(v) == 64 and all(c in "0123456789abcdefABCDEF" for c in v)


def _is_account_name(v: str) -> bool:
    return bool(v) and v.isascii() and all(c.isalnum() or c in "-_." for c in v)


def _parse_aws_principal(v: str, accounts: set[str], names: set[str],
                         users: set[tuple[str, str]]) -> None:
    if _is_account_id(v):
        accounts.add(v)
        return
    parts = v.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3] != "":
        raise _malformed("Invalid principal in policy")
    account, rest = parts[4], parts[5]
    if not (_is_account_id(account) or _is_account_name(account)):
        raise _malformed("Invalid principal in policy")
    if rest == "root":
        (accounts if _is_account_id(account) else names).add(account)
        return
    if rest.startswith("user/"):
        user = rest[5:].rsplit("/", 1)[-1]
        if user and "*" not in user and "?" not in user:
            users.add((account, user))
            return
    raise _malformed("Invalid principal in policy")


# --- statements ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    effect: Effect
    principals: Principals | None  # None: an identity policy (the caller is the principal)
    not_principal: bool
    actions: tuple[Pattern, ...]
    not_action: bool
    resources: tuple[Pattern, ...]
    not_resource: bool
    conditions: tuple[Any, ...] = ()

    def action_matches(self, action: str) -> bool:
        hit = any(p.match(action) for p in self.actions)
        return hit != self.not_action

    def principal_matches(self, caller: Caller) -> bool:
        if self.principals is None:
            return True
        if self.not_principal:
            return not self.principals.excludes(caller)
        return self.principals.match(caller)

    def resource_matches(self, resource: str, resolve: Callable[[str], str | None]) -> bool:
        hit = any(p.match(resource, resolve) for p in self.resources)
        return hit != self.not_resource

    def applies(self, ask: Ask, resolve: Callable[[str], str | None]) -> bool:
        """Principal, resource and conditions (the action is matched by the index)."""
        return (self.principal_matches(ask.caller)
                and self.resource_matches(ask.resource, resolve))


@dataclass(slots=True)
class _Resolver:
    """Policy variables of one Ask, looked up once each."""

    ask: Ask
    cache: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, key: str) -> str | None:
        low = key.lower()
        if low in self.cache:
            return self.cache[low]
        value = _variable(self.ask, low)
        self.cache[low] = value
        return value


def _variable(ask: Ask, key: str) -> str | None:
    caller = ask.caller
    if key == "aws:username":
        return caller.user
    if key == "aws:principalaccount":
        return caller.account
    if key == "aws:userid":
        if caller.user is not None:
            return caller.user
        return caller.account
    if key == "aws:principalarn" or key == "aws:principal":
        if caller.arn is not None:
            return caller.arn
        return f"arn:aws:iam::{caller.account}:root" if caller.account else None
    values = ask.context(key)
    if values is None or len(values) != 1:
        return None
    return values[0]


class Policy:
    """A parsed policy document."""

    public: bool

    def __init__(self, statements: Sequence[Statement], version: str,
                 public: bool = False) -> None:
        self.statements = tuple(statements)
        self.version = version
        self.public = public
        exact: dict[str, list[int]] = {}
        loose: list[int] = []
        for i, st in enumerate(self.statements):
            if st.not_action or any(has_wildcard(p.text) for p in st.actions):
                loose.append(i)
            else:
                for p in st.actions:
                    exact.setdefault(p.text.lower(), []).append(i)
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._loose = tuple(loose)
        self._by_action: dict[str, tuple[Statement, ...]] = {}

    def candidates(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction matches ``action``, Deny ones first."""
        key = action.lower()
        got = self._by_action.get(key)
        if got is not None:
            return got
        idx = set(self._exact.get(key, ()))
        idx.update(i for i in self._loose if self.statements[i].action_matches(key))
        ordered = sorted(idx, key=lambda i: (self.statements[i].effect != "Deny", i))
        got = tuple(self.statements[i] for i in ordered)
        if len(self._by_action) < 4096:
            self._by_action[key] = got
        return got

    def decide(self, ask: Ask) -> Effect | None:
        resolve = _Resolver(ask)
        allowed = False
        for st in self.candidates(ask.action):
            if allowed and st.effect == "Allow":
                break
            if st.applies(ask, resolve):
                if st.effect == "Deny":
                    return "Deny"
                allowed = True
        return "Allow" if allowed else None


# --- parsing ------------------------------------------------------------------------------

VERSIONS = ("2012-10-17", "2008-10-17")


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _malformed(f"Invalid {what}")


def _load(text: str) -> dict[str, Any]:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(doc, dict):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    return doc


def _parse(text: str, *, bucket: str | None) -> Policy:
    doc = _load(text)
    version = doc.get("Version", "2008-10-17")
    if not isinstance(version, str) or version not in VERSIONS:
        raise _malformed("The policy must contain a valid version string")
    variables = version == "2012-10-17"
    if "Statement" not in doc:
        raise _malformed("Missing required field Statement")
    raw = doc["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    statements = [_parse_statement(s, bucket=bucket, variables=variables) for s in items]
    return Policy(statements, version)


def _parse_statement(raw: Any, *, bucket: str | None, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise _malformed("Statement is missing required element")
    sid = raw.get("Sid")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _malformed("Invalid effect: " + str(effect) if effect is not None
                         else "Missing required field Effect")
    principals: Principals | None = None
    not_principal = False
    if bucket is not None:
        if "Principal" in raw:
            principals = _parse_principal(raw["Principal"])
        elif "NotPrincipal" in raw:
            principals = _parse_principal(raw["NotPrincipal"])
            not_principal = True
        else:
            raise _malformed("Missing required field Principal")
    if "Action" in raw:
        action_texts, not_action = _strings(raw["Action"], "action"), False
    elif "NotAction" in raw:
        action_texts, not_action = _strings(raw["NotAction"], "action"), True
    else:
        raise _malformed("Missing required field Action")
    if "Resource" in raw:
        res_texts, not_resource = _strings(raw["Resource"], "resource"), False
    elif "NotResource" in raw:
        res_texts, not_resource = _strings(raw["NotResource"], "resource"), True
    else:
        raise _malformed("Missing required field Resource")
    actions = tuple(compile_pattern(a, ignore_case=True, variables=False) for a in action_texts)
    resources = tuple(compile_pattern(r, variables=variables) for r in res_texts)
    return Statement(sid if isinstance(sid, str) else None, effect, principals, not_principal,
                     actions, not_action, resources, not_resource)


def parse_bucket_policy(text: str, bucket: str) -> Policy:
    """A bucket policy (Principal required; every Resource within ``bucket``)."""
    return _parse(text, bucket=bucket)


def parse_identity_policy(text: str) -> Policy:
    """An identity policy attached to a user (no Principal)."""
    return _parse(text, bucket=None)
