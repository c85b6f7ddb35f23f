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
expensive keys (an object's tags) are looked up only when a policy asks for them. Values are
text: booleans "true"/"false", times ISO 8601 or epoch seconds, numbers in decimal, IP
addresses as written; an empty sequence counts as a missing key (``ForAllValues:`` holds,
``ForAnyValue:`` does not). Keys describing the principal (``aws:username``,
``aws:userid``, ``aws:principalaccount``, ``aws:principalarn``, ``aws:principaltype``) fall
back to ``Ask.caller`` when the context answers None.

The language is split over small modules: s3/policy_principals.py (Principal),
s3/policy_conditions.py (Condition operators), s3/policy_match.py (wildcards and policy
variables), s3/policy_actions.py (S3's actions and condition keys), s3/policy_validate.py
(Action/Resource checks) and s3/policy_public.py (IsPublic).

Evaluation: ``decide`` looks only at the statements whose Action/NotAction names the asked
action (an index built at parse time: exact action -> statements, plus the wildcard and
NotAction statements matched once per action and remembered), Deny statements first; for
each it checks the principal, then the resource, then the conditions, asking ``context``
for a key only then.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from objectstore.s3.errors import S3Error
from objectstore.s3.policy_actions import S3_CONDITION_KEYS, TAG_CONDITION_KEYS
from objectstore.s3.policy_conditions import Condition, ConditionError, parse_conditions
from objectstore.s3.policy_match import Pattern, compile_pattern, has_wildcard
from objectstore.s3.policy_principals import PrincipalError, Principals, parse_principal
from objectstore.s3.policy_public import statement_is_public
from objectstore.s3.policy_validate import (
    Catalog,
    bucket_resource_ok,
    catalog,
    identity_resource_ok,
    key_applies,
    resource_kinds,
)

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


@dataclass(slots=True)  # made per request: a frozen dataclass's __init__ costs 3x
class Ask:
    caller: Caller
    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key"; "*": no resource
    context: Context = _no_keys



def _malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


# --- statements ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    effect: Effect
    principals: Principals | None  # None: an identity policy (the caller is the principal)
    not_principal: bool
    actions: tuple[Pattern, ...]  # lower case
    not_action: bool
    resources: tuple[Pattern, ...]
    not_resource: bool
    conditions: tuple[Condition, ...] = ()

    def action_matches(self, action: str) -> bool:
        low = action.lower()
        hit = any(p.match(low) for p in self.actions)
        return hit != self.not_action

    def principal_matches(self, caller: Caller) -> bool:
        if self.principals is None:
            return True
        if self.not_principal:
            return not self.principals.excludes(caller)
        return self.principals.match(caller)

    def resource_matches(self, ask: Ask, env: _Env) -> bool:
        resource = ask.resource
        if resource == "*":
            # An action on no particular resource (s3:ListAllMyBuckets): a pattern naming
            # every resource of the action's service matches, "*" or "arn:aws:s3:::*".
            every = f"arn:aws:{ask.action.partition(':')[0].lower()}:::*"
            hit = any(p.text == "*" or p.match(every, env.variable) for p in self.resources)
        else:
            hit = False
            for p in self.resources:
                if p.match(resource, env.variable):
                    hit = True
                    break
        if not hit and self.not_resource and any(p.unresolved(env.variable)
                                                 for p in self.resources):
            return False  # a NotResource with an unresolvable variable names nothing
        return hit != self.not_resource

    def applies(self, ask: Ask, env: _Env) -> bool:
        """Resource, then conditions (action and principal are matched by the index)."""
        if not self.resource_matches(ask, env):
            return False
        for c in self.conditions:
            if not c.holds(env.values, env.variable):
                return False
        return True


# --- the request's keys -------------------------------------------------------------------



class _Env:
    """The condition keys of one Ask, each looked up at most once, when first needed.

    ``Ask.context`` answers first; the keys that describe the principal fall back to what
    ``Ask.caller`` says (``aws:username``, ``aws:userid``, ``aws:PrincipalAccount``,
    ``aws:PrincipalArn``, ``aws:PrincipalType``, ``aws:PrincipalServiceName``,
    ``aws:PrincipalIsAWSService``)."""

    __slots__ = ("ask", "cache")

    def __init__(self, ask: Ask) -> None:
        self.ask = ask
        self.cache: dict[str, Sequence[str] | None] = {}

    def values(self, key: str) -> Sequence[str] | None:
        cache = self.cache
        if key in cache:
            return cache[key]
        found = self.ask.context(key)
        if isinstance(found, str):
            found = (found,)  # one value, not a sequence of characters
        if found is None:
            found = _caller_key(self.ask.caller, key)
        cache[key] = found
        return found

    def variable(self, key: str) -> str | None:
        """A policy variable's value: the key's single value (None: absent or multivalued)."""
        found = self.values(key.lower())
        if found is None or len(found) != 1:
            return None
        return found[0]


def _caller_key(caller: Caller, key: str) -> Sequence[str] | None:
    if key == "aws:username":
        return (caller.user,) if caller.user is not None else None
    if key == "aws:principalaccount":
        return (caller.account,) if caller.account is not None else None
    if key == "aws:userid":
        if caller.user is not None:
            return (caller.user,)
        if caller.account is not None:
            return (caller.account,)
        return ("anonymous",) if caller.service is None else None
    if key == "aws:principalarn":
        if caller.arn is not None:
            return (caller.arn,)
        return (f"arn:aws:iam::{caller.account}:root",) if caller.account is not None else None
    if key == "aws:principaltype":
        if caller.service is not None:
            return None
        if caller.account is None and caller.account_name is None:
            return ("Anonymous",)
        return ("User",) if caller.user is not None else ("Account",)
    if key == "aws:principalservicename":
        return (caller.service,) if caller.service is not None else None
    if key == "aws:principalisawsservice":
        return ("true",) if caller.service is not None else ("false",)
    return None


# --- the policy ---------------------------------------------------------------------------


CALLER_MEMO: Final = 1024  # (action, caller) pairs remembered per policy


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
                    exact.setdefault(p.text, []).append(i)
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._loose = tuple(loose)
        self._by_action: dict[str, tuple[Statement, ...]] = {}
        self._by_caller: dict[tuple[str | None, ...], tuple[Statement, ...]] = {}

    def candidates(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction names ``action``, Deny ones first."""
        key = action.lower()
        got = self._by_action.get(key)
        if got is not None:
            return got
        idx = set(self._exact.get(key, ()))
        idx.update(i for i in self._loose if self.statements[i].action_matches(key))
        ordered = sorted(idx, key=lambda i: (self.statements[i].effect != "Deny", i))
        got = tuple(self.statements[i] for i in ordered)
        if len(self._by_action) < 1024:  # actions come from the server, not from requests
            self._by_action[key] = got
        return got

    def for_caller(self, action: str, caller: Caller) -> tuple[Statement, ...]:
        """The candidates for ``action`` whose Principal / NotPrincipal admits ``caller``
        (remembered per action and caller, bounded: a request then examines only the
        statements that can concern it)."""
        key = (action, caller.account, caller.canonical_id, caller.arn, caller.user,
               caller.service, caller.account_name)
        got = self._by_caller.get(key)
        if got is None:
            got = tuple(st for st in self.candidates(action) if st.principal_matches(caller))
            if len(self._by_caller) >= CALLER_MEMO:
                self._by_caller.clear()
            self._by_caller[key] = got
        return got

    def decide(self, ask: Ask) -> Effect | None:
        statements = self.for_caller(ask.action, ask.caller)
        if not statements:
            return None
        env = _Env(ask)
        allowed = False
        for st in statements:
            if allowed and st.effect == "Allow":
                break  # Deny statements come first: nothing left can deny
            if st.applies(ask, env):
                if st.effect == "Deny":
                    return "Deny"
                allowed = True
        return "Allow" if allowed else None


# --- parsing ------------------------------------------------------------------------------

VERSIONS = ("2012-10-17", "2008-10-17")
MAX_BUCKET_POLICY_BYTES = 20 * 1024
_NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"
_SYNTAX = "Invalid policy syntax."
_STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action",
                               "NotAction", "Resource", "NotResource", "Condition"})


class _DuplicateKey(Exception):
    """A JSON object names a key twice (Python's json would silently keep the last)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# A lone surrogate (escaped, or in a str argument) cannot be encoded; JSON pairs are fine.
_SURROGATE = re.compile("\\\\u[dD][89abcdefABCDEF]|[\ud800-\udfff]")


def _load(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, bytes):
        if not raw.startswith(b"{"):
            raise _malformed(_NOT_JSON)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("This policy contains invalid Json") from None
    else:
        text = raw
    if not text.startswith("{"):
        raise _malformed(_NOT_JSON)
    try:
        # Decimal keeps a number as written (it only matters as a condition value).
        doc = json.loads(text, parse_float=Decimal, parse_constant=_no_constant,
                         object_pairs_hook=_object)
    except (ValueError, RecursionError):
        raise _malformed("This policy contains invalid Json") from None
    except _DuplicateKey:
        raise _malformed(_SYNTAX) from None
    if not isinstance(doc, dict):
        raise _malformed(_NOT_JSON)
    if _SURROGATE.search(text) is not None:
        try:
            json.dumps(doc, ensure_ascii=False, default=str).encode()
        except UnicodeEncodeError:
            raise _malformed("This policy contains invalid Json") from None
    return doc


def _strings(value: Any, empty: str) -> list[str]:
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise _malformed(_SYNTAX)
    if not items or any(not v for v in items):
        raise _malformed(empty)
    return items


@dataclass(frozen=True, slots=True)
class _Rules:
    """What differs between a bucket policy and an identity policy."""

    bucket: str | None  # a bucket policy's bucket; None: an identity policy
    actions: Catalog

    def key_ok(self, key: str) -> bool:
        service, _, name = key.partition(":")
        if not service or not name:
            return False
        if service == "aws":
            return True
        if service == "s3":
            return key in S3_CONDITION_KEYS or any(
                key.startswith(t) and len(key) > len(t) for t in TAG_CONDITION_KEYS)
        return self.bucket is None and service == "ec2"


def _parse(text: str | bytes, rules: _Rules) -> Policy:
    doc = _load(text)
    if rules.bucket is not None:
        compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)
        if len(compact.encode()) > MAX_BUCKET_POLICY_BYTES:
            raise _malformed("Normalized policy document exceeds the maximum allowed size "
                             f"of {MAX_BUCKET_POLICY_BYTES} bytes")
    for name in doc:
        if name not in ("Version", "Id", "Statement"):
            raise _malformed(f"Unknown field {name}")
    version = doc.get("Version", "2008-10-17")
    if not isinstance(version, str) or version not in VERSIONS:
        raise _malformed("The policy must contain a valid version string")
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise _malformed(_SYNTAX)
    if "Statement" not in doc:
        raise _malformed("Missing required field Statement")
    raw = doc["Statement"]
    if isinstance(raw, dict):
        items: list[Any] = [raw]
    elif isinstance(raw, list):
        items = raw
    else:
        raise _malformed(_SYNTAX)
    if not items:
        raise _malformed("Could not parse the policy: Statement is empty!")
    variables = version == "2012-10-17"
    statements = [_statement(s, rules, variables) for s in items]
    public = rules.bucket is not None and any(
        statement_is_public(st.effect == "Allow",
                            st.principals is not None and (st.principals.everyone
                                                           or st.not_principal),
                            st.conditions)
        for st in statements)
    return Policy(statements, version, public)


def _statement(raw: Any, rules: _Rules, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise _malformed(_SYNTAX)
    for name in raw:
        if name not in _STATEMENT_FIELDS:
            raise _malformed(f"Unknown field {name}")
    for a, b in (("Principal", "NotPrincipal"), ("Action", "NotAction"),
                 ("Resource", "NotResource")):
        if a in raw and b in raw:
            raise _malformed(_SYNTAX)
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _malformed(_SYNTAX)
    effect = _effect(raw)
    principals, not_principal = _principals(raw, rules, effect)
    action_texts, not_action = _element(raw, "Action")
    resource_texts, not_resource = _element(raw, "Resource")
    for a in action_texts:
        if not rules.actions.named(a):
            raise _malformed("Policy has invalid action")
    for r in resource_texts:
        ok = (bucket_resource_ok(r, rules.bucket) if rules.bucket is not None
              else identity_resource_ok(r))
        if not ok:
            raise _malformed("Policy has invalid resource")
    if rules.bucket is not None and not not_action and not not_resource:
        _check_applies(action_texts, resource_texts, rules)
    conditions: tuple[Condition, ...] = ()
    if "Condition" in raw:
        try:
            conditions = parse_conditions(raw["Condition"], variables=variables,
                                          key_ok=rules.key_ok)
        except ConditionError as e:
            raise _malformed(str(e)) from None
        if rules.bucket is not None and not not_action:
            named = {name for a in action_texts for name, _ in rules.actions.matching(a)}
            if not all(key_applies(c.key, named) for c in conditions):
                raise _malformed("Conditions do not apply to combination of actions and "
                                 "resources in statement")
    actions = tuple(compile_pattern(a.lower(), variables=False) for a in action_texts)
    resources = tuple(compile_pattern(r, variables=variables) for r in resource_texts)
    return Statement(sid, effect, principals, not_principal, actions, not_action, resources,
                     not_resource, conditions)


def _effect(raw: dict[str, Any]) -> Effect:
    if "Effect" not in raw:
        raise _malformed("Missing required field Effect")
    effect = raw["Effect"]
    if effect == "Allow":
        return "Allow"
    if effect == "Deny":
        return "Deny"
    if effect == "":
        raise _malformed("Missing required field Effect cannot be empty!")
    if isinstance(effect, str):
        raise _malformed(f"Invalid effect: {effect}")
    raise _malformed(_SYNTAX)


def _principals(raw: dict[str, Any], rules: _Rules,
                effect: Effect) -> tuple[Principals | None, bool]:
    if rules.bucket is None:
        if "Principal" in raw or "NotPrincipal" in raw:
            raise _malformed("Policy document should not specify a principal.")
        return None, False
    not_principal = "NotPrincipal" in raw
    if not not_principal and "Principal" not in raw:
        raise _malformed("Missing required field Principal")
    try:
        principals = parse_principal(raw["NotPrincipal" if not_principal else "Principal"])
    except PrincipalError as e:
        raise _malformed(str(e)) from None
    if not_principal and effect == "Allow":
        # IAM: NotPrincipal is supported only with "Effect": "Deny".
        raise _malformed("Invalid principal in policy")
    return principals, not_principal


def _element(raw: dict[str, Any], name: str) -> tuple[list[str], bool]:
    empty = f"Policy has invalid {name.lower()}"
    negated = "Not" + name
    if name in raw:
        return _strings(raw[name], empty), False
    if negated in raw:
        return _strings(raw[negated], empty), True
    raise _malformed("Statement is missing required element")


def _check_applies(actions: list[str], resources: list[str], rules: _Rules) -> None:
    """Every action must apply to one of the statement's resources (the bucket or objects)."""
    assert rules.bucket is not None
    kinds: set[str] = set()
    for r in resources:
        kinds |= resource_kinds(r, rules.bucket)
    for a in actions:
        if not any(kind in kinds for kind in rules.actions.named(a)):
            raise _malformed("Action does not apply to any resource(s) in statement")


def parse_bucket_policy(text: str | bytes, bucket: str) -> Policy:
    """A bucket policy (Principal required; every Resource within ``bucket``).

    ``text`` may be the request body as bytes (UTF-8)."""
    return _parse(text, _Rules(bucket, catalog(("s3",))))


def parse_identity_policy(text: str | bytes) -> Policy:
    """An identity policy attached to a user (no Principal; any bucket; S3 and EC2 actions)."""
    return _parse(text, _Rules(None, catalog(("s3", "ec2"))))
