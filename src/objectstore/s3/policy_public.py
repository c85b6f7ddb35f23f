"""S3's judgement of whether a bucket policy is public (PolicyStatus IsPublic), pure.

From the S3 User Guide, "Blocking public access to your Amazon S3 storage", The meaning of
"public": S3 begins by assuming a policy is public; to be non-public, every statement that
allows must grant access only to fixed values (no wildcard, no policy variable) of a
principal (an account, user or service principal), or be restricted by a condition on fixed
values of one of these keys: ``aws:SourceIp`` (a CIDR no broader than /8 for IPv4, /32 for
IPv6), ``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceOwner``,
``aws:SourceAccount``, ``aws:SourceOrgID``, ``aws:PrincipalAccount``, ``aws:PrincipalArn``,
``aws:PrincipalOrgID``, ``s3:x-amz-server-side-encryption-aws-kms-key-id``, ``aws:userid``
(a fixed id, or ``<role id>:*``), ``s3:DataAccessPointArn`` (the access point name may be a
wildcard if the account is fixed) and ``s3:DataAccessPointAccount``.

A condition a request without its key satisfies (``...IfExists``, ``ForAllValues:``) or a
negated operator restricts nothing, so it does not make a statement non-public.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from objectstore.s3.policy_conditions import Condition, parse_network

FIXING_KEYS: Final[frozenset[str]] = frozenset({
    "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner",
    "aws:sourceaccount", "aws:sourceorgid", "aws:principalaccount", "aws:principalarn",
    "aws:principalorgid", "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:userid",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
})

_FIXING_FAMILIES: Final[frozenset[str]] = frozenset({"string", "string_ci", "string_like",
                                                     "arn", "ip"})


def _fixed(text: str) -> bool:
    return "*" not in text and "?" not in text and "${" not in text


def _fixed_value(key: str, text: str) -> bool:
    if key == "aws:userid" and text.endswith(":*"):
        return _fixed(text[:-2]) and bool(text[:-2])
    if key == "s3:dataaccesspointarn":
        parts = text.split(":", 5)
        return len(parts) == 6 and all(_fixed(p) for p in parts[:5])
    return _fixed(text)


def condition_fixes(cond: Condition) -> bool:
    """Does this condition confine the statement to fixed values of a key S3 counts?"""
    op = cond.operator
    if op.if_exists or op.qualifier == "all" or op.negated:
        return False
    if cond.key not in FIXING_KEYS or op.family not in _FIXING_FAMILIES or not cond.texts:
        return False
    if cond.key == "aws:sourceip":
        if op.family != "ip":
            return False
        for text in cond.texts:
            net = parse_network(text)
            if net is None or net.prefixlen < (8 if net.version == 4 else 32):
                return False
        return True
    if op.family == "ip":
        return False
    return all(_fixed_value(cond.key, t) for t in cond.texts)


def statement_is_public(allows: bool, everyone: bool, conditions: Iterable[Condition]) -> bool:
    """``everyone``: the statement's principal is ``*`` (or a NotPrincipal)."""
    if not allows or not everyone:
        return False
    return not any(condition_fixes(c) for c in conditions)
