"""The Condition element of the policy language: operators, parsing and evaluation (pure).

As IAM documents it ("IAM JSON policy elements: Condition operators", "Conditions with
multiple context keys or values", "Single-valued vs. multivalued context keys"):

- the operators of a Condition block AND, the keys of one operator AND, the values of one key
  OR; for a negated operator (``StringNotEquals``, ``NotIpAddress``, ...) the values NOR:
  it holds when the request's value matches none of them;
- a key the request lacks makes a condition false, except for a negated operator (true),
  ``...IfExists`` (true), ``Null`` (which tests exactly that) and ``ForAllValues:`` (true);
  ``ForAnyValue:`` over a missing or empty key is false;
- ``ForAllValues:`` holds when every value of the request satisfies the operator,
  ``ForAnyValue:`` when at least one does; without a set qualifier a multivalued key
  behaves as ``ForAnyValue:`` (negated operators: none of the request's values matches);
- policy variables (Version 2012-10-17) are interpreted in the String, Arn and Bool
  operators' values only.

A condition asks for its key's values through ``Lookup`` (the key in lower case), and only
when it is evaluated.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from objectstore.s3.policy_match import Pattern, Resolve, compile_pattern

Lookup = Callable[[str], Sequence[str] | None]
Qualifier = Literal["any", "all"] | None
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


MEMO_ENTRIES: Final = 256  # remembered answers per condition
MEMO_VALUE_CHARS: Final = 256  # only for request values this short (in all)


class ConditionError(ValueError):
    """A Condition element S3 refuses; the message is S3's MalformedPolicy message."""


# base operator -> (family, negated)
OPERATORS: Final[dict[str, tuple[str, bool]]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string_ci", False),
    "StringNotEqualsIgnoreCase": ("string_ci", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("numeric_eq", False),
    "NumericNotEquals": ("numeric_eq", True),
    "NumericLessThan": ("numeric_lt", False),
    "NumericLessThanEquals": ("numeric_le", False),
    "NumericGreaterThan": ("numeric_gt", False),
    "NumericGreaterThanEquals": ("numeric_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}

_VARIABLE_FAMILIES = frozenset({"string", "string_ci", "string_like", "bool", "arn"})


@dataclass(frozen=True, slots=True)
class Operator:
    name: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # "StringLike"
    family: str
    negated: bool
    qualifier: Qualifier
    if_exists: bool


def parse_operator(name: str) -> Operator:
    rest = name
    qualifier: Qualifier = None
    if rest.startswith("ForAnyValue:"):
        qualifier, rest = "any", rest[len("ForAnyValue:"):]
    elif rest.startswith("ForAllValues:"):
        qualifier, rest = "all", rest[len("ForAllValues:"):]
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    found = OPERATORS.get(base)
    if found is None or (if_exists and base == "Null"):
        raise ConditionError(f"Invalid Condition type : {name}")
    family, negated = found
    return Operator(name, base, family, negated, qualifier, if_exists)


# --- value parsing ------------------------------------------------------------------------


def parse_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def parse_date(text: str) -> float | None:
    """ISO 8601 (W3C profile) or epoch seconds, as seconds since the epoch."""
    text = text.strip()
    if not text:
        return None
    number = parse_number(text)
    if number is not None and "-" not in text[1:]:
        return float(number)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_network(text: str) -> IpNetwork | None:
    """A CIDR (or an address); an IPv4-mapped IPv6 network (``::ffff:10.0.0.0/104``) as the
    IPv4 network it is, as request addresses are read (see ``_address``)."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        mapped = net.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, net.prefixlen - 96))
    return net


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _ArnPattern:
    parts: tuple[Pattern, ...]  # six colon-separated parts; one whole pattern when not an ARN


def _compile_arn(text: str, variables: bool) -> _ArnPattern:
    pieces = text.split(":", 5)
    if len(pieces) != 6:
        return _ArnPattern((compile_pattern(text, variables=variables),))
    return _ArnPattern(tuple(compile_pattern(p, variables=variables) for p in pieces))


def _arn_match(pattern: _ArnPattern, value: str, resolve: Resolve) -> bool:
    if len(pattern.parts) == 1:
        return pattern.parts[0].match(value, resolve)
    pieces = value.split(":", 5)
    if len(pieces) != 6:
        return False
    return all(p.match(v, resolve) for p, v in zip(pattern.parts, pieces, strict=True))


def condition_value(raw: Any) -> str:
    """A condition value as text: JSON strings, numbers (kept as written) and booleans."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | Decimal):
        return str(raw)
    raise ConditionError("Invalid policy syntax.")


# --- conditions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key, values) triple of a Condition block."""

    operator: Operator
    key: str  # lower case
    texts: tuple[str, ...]  # the values as written
    compiled: tuple[Any, ...]  # per family: Pattern, Decimal, float, network, bytes, ...
    # Answers remembered by the request's values, for conditions without policy variables
    # (whose answer depends on nothing else): most requests repeat a few values (the
    # transport, the client's address, an encryption header). Bounded; long values are
    # not remembered.
    memo: dict[tuple[str, ...], bool] | None = field(default=None, compare=False)

    def holds(self, lookup: Lookup, resolve: Resolve) -> bool:
        values = lookup(self.key)
        memo = self.memo
        if memo is None or not values:
            return self._holds(values, resolve)
        key = tuple(values)
        got = memo.get(key)
        if got is None:
            got = self._holds(values, resolve)
            if len(memo) < MEMO_ENTRIES and sum(map(len, key)) <= MEMO_VALUE_CHARS:
                memo[key] = got
        return got

    def _holds(self, values: Sequence[str] | None, resolve: Resolve) -> bool:
        op = self.operator
        if op.family == "null":
            missing = not values
            return any((t.lower() == "true") == missing for t in self.texts)
        if not values:
            if op.if_exists or op.qualifier == "all":
                return True
            if op.qualifier == "any":
                return False
            return op.negated
        if self.memo is None and op.negated and _unresolved(self.compiled, resolve):
            # A value naming a variable the request has no value for: IAM treats the
            # statement as not valid for the request, so a negated operator does not hold
            # either (the positive ones cannot match anyway).
            return False
        if op.qualifier == "all":
            return all(self._one(v, resolve) != op.negated for v in values)
        if op.qualifier == "any":
            return any(self._one(v, resolve) != op.negated for v in values)
        hit = any(self._one(v, resolve) for v in values)
        return hit != op.negated

    def _one(self, value: str, resolve: Resolve) -> bool:
        """Does one request value match any of the policy's values (the positive operator)?"""
        family = self.operator.family
        if family == "string":
            return any(_literal(p, resolve) == value for p in self.compiled)
        if family == "string_ci":
            folded = value.casefold()
            return any((lit := _literal(p, resolve)) is not None and lit.casefold() == folded
                       for p in self.compiled)
        if family == "string_like":
            return any(p.match(value, resolve) for p in self.compiled)
        if family == "arn":
            return any(_arn_match(p, value, resolve) for p in self.compiled)
        if family == "bool":
            low = value.strip().lower()
            return any((lit := _literal(p, resolve)) is not None and lit.lower() == low
                       for p in self.compiled)
        if family == "ip":
            address = _address(value)
            if address is None:
                return False
            version, packed = address
            return any(net.version == version and packed & net.mask == net.network
                       for net in self.compiled)
        if family == "binary":
            got = _decode_base64(value)
            return got is not None and any(got == want for want in self.compiled)
        if family.startswith("numeric"):
            number = parse_number(value)
            return number is not None and any(
                want is not None and _compare(family, number, want) for want in self.compiled)
        if family.startswith("date"):
            when = parse_date(value)
            return when is not None and any(
                want is not None and _compare(family, when, want) for want in self.compiled)
        return False


def _unresolved(compiled: tuple[Any, ...], resolve: Resolve) -> bool:
    for value in compiled:
        patterns = value.parts if isinstance(value, _ArnPattern) else (value,)
        if any(isinstance(p, Pattern) and p.unresolved(resolve) for p in patterns):
            return True
    return False


def _address(text: str) -> tuple[int, int] | None:
    """A request's address as (version, integer); IPv4-mapped IPv6 (a dual-stack socket's)
    as IPv4. ``inet_pton`` is a pure conversion, much cheaper than ``ipaddress``."""
    text = text.strip()
    try:
        if ":" not in text:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        packed = socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0])
    except (OSError, ValueError):
        return None
    if packed[:12] == _V4_MAPPED:
        return 4, int.from_bytes(packed[12:], "big")
    return 6, int.from_bytes(packed, "big")


_V4_MAPPED = b"\0" * 10 + b"\xff\xff"


@dataclass(frozen=True, slots=True)
class _Net:
    version: int
    network: int
    mask: int


def _net(net: IpNetwork) -> _Net:
    return _Net(net.version, int(net.network_address), int(net.netmask))


def _literal(pattern: Pattern, resolve: Resolve) -> str | None:
    return pattern.literal(resolve)


def _compare(family: str, got: Any, want: Any) -> bool:
    test = family.rsplit("_", 1)[1]
    if test == "eq":
        return bool(got == want)
    if test == "lt":
        return bool(got < want)
    if test == "le":
        return bool(got <= want)
    if test == "gt":
        return bool(got > want)
    return bool(got >= want)


def _compile_value(op: Operator, text: str, variables: bool) -> Any:
    family = op.family
    use_vars = variables and family in _VARIABLE_FAMILIES
    if family in ("string", "string_ci", "bool"):
        return compile_pattern(text, variables=use_vars, wildcards=False)
    if family == "string_like":
        return compile_pattern(text, variables=use_vars)
    if family == "arn":
        return _compile_arn(text, use_vars)
    if family == "ip":
        net = parse_network(text)
        if net is None:
            raise ConditionError("Invalid IP address in Conditions")
        return _net(net)
    if family == "binary":
        return _decode_base64(text)
    if family.startswith("numeric"):
        return parse_number(text)
    if family.startswith("date"):
        return parse_date(text)
    return text  # Null: "true" / "false"


KeyCheck = Callable[[str], bool]


def _has_variables(compiled: tuple[Any, ...]) -> bool:
    """Whether a condition's values hold policy variables (its answer then depends on more
    than the request's values for its key)."""
    patterns = [c for c in compiled if isinstance(c, Pattern)]
    patterns += [p for c in compiled if isinstance(c, _ArnPattern) for p in c.parts]
    return any(p.regex is None and p.parts for p in patterns)


def parse_conditions(raw: Any, *, variables: bool, key_ok: KeyCheck) -> tuple[Condition, ...]:
    """A statement's Condition element. ``key_ok(lower_key)``: may a policy name this key?"""
    if not isinstance(raw, dict):
        raise ConditionError("Invalid policy syntax.")
    out: list[Condition] = []
    for name, block in raw.items():
        op = parse_operator(name)
        if not isinstance(block, dict):
            raise ConditionError("Invalid policy syntax.")
        seen: set[str] = set()
        for key, values in block.items():
            low = key.lower()
            if low in seen:
                # IAM: a key more than once with different capitalization in one block
                raise ConditionError("Invalid policy syntax.")
            seen.add(low)
            if not key_ok(low):
                raise ConditionError("Policy has an invalid condition key")
            items = values if isinstance(values, list) else [values]
            texts = tuple(condition_value(v) for v in items)
            compiled = tuple(_compile_value(op, t, variables) for t in texts)
            memo: dict[tuple[str, ...], bool] | None = None if _has_variables(compiled) else {}
            out.append(Condition(op, low, texts, compiled, memo))
    return tuple(out)
