"""Checks of a policy's Action and Resource elements against what S3 defines (pure).

Wildcard patterns are compared with the action catalog (s3/policy_actions.py) and with the
policy's bucket without expanding anything: a pattern "can name" a string when some
substitution of its wildcards (and policy variables, which stand for any text) gives it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from objectstore.s3.policy_actions import KEY_ACTIONS, Kind, action_kinds

S3_ARN = "arn:aws:s3:::"
_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _tokens(pattern: str) -> list[str]:
    """A glob as tokens: one character each, ``*`` and ``?`` wildcards (variables: ``*``)."""
    text = _VARIABLE.sub("\0", pattern)
    return ["*" if ch == "\0" else ch for ch in text]


def _closure(tokens: list[str], states: set[int]) -> set[int]:
    out = set(states)
    stack = list(states)
    while stack:
        i = stack.pop()
        if i < len(tokens) and tokens[i] == "*" and i + 1 not in out:
            out.add(i + 1)
            stack.append(i + 1)
    return out


def _after(tokens: list[str], text: str) -> set[int]:
    """The pattern positions reachable after matching ``text`` (empty: no way)."""
    states = _closure(tokens, {0})
    for ch in text:
        nxt: set[int] = set()
        for i in states:
            if i >= len(tokens):
                continue
            tok = tokens[i]
            if tok == "*":
                nxt.add(i)
            elif tok == "?" or tok == ch:
                nxt.add(i + 1)
        states = _closure(tokens, nxt)
        if not states:
            break
    return states


def _first_wildcard(pattern: str) -> int:
    found = [i for i in (pattern.find("*"), pattern.find("?"), pattern.find("${")) if i >= 0]
    return min(found) if found else len(pattern)


def can_equal(pattern: str, text: str) -> bool:
    """Can ``pattern`` match exactly ``text``?"""
    first = _first_wildcard(pattern)
    if first == len(pattern):
        return pattern == text
    if pattern[:first] != text[:first]:
        return False
    tokens = _tokens(pattern)
    return len(tokens) in _after(tokens, text)


def can_start_with(pattern: str, prefix: str) -> bool:
    """Can ``pattern`` match some string that starts with ``prefix``?"""
    first = _first_wildcard(pattern)
    if first >= len(prefix):
        return pattern.startswith(prefix)
    if pattern[:first] != prefix[:first]:
        return False
    tokens = _tokens(pattern)
    return bool(_after(tokens, prefix))


@dataclass(frozen=True, slots=True)
class Catalog:
    """The actions a policy may name: lower-case name -> (name, kind)."""

    actions: dict[str, tuple[str, Kind]]

    def matching(self, pattern: str) -> list[tuple[str, Kind]]:
        """The known actions an action pattern names, as (name, kind) (empty: none)."""
        low = pattern.lower()
        if low == "*":
            return list(self.actions.values())
        if "*" not in low and "?" not in low:
            got = self.actions.get(low)
            return [got] if got is not None else []
        regex = re.compile(
            "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in low))
        return [known for name, known in self.actions.items() if regex.fullmatch(name)]

    def named(self, pattern: str) -> list[Kind]:
        """The kinds of the known actions an action pattern names (empty: none)."""
        return [kind for _, kind in self.matching(pattern)]


def key_applies(key: str, actions: Iterable[str]) -> bool:
    """Does an S3 condition key (lower case) come with one of these actions ("s3:Name")?

    S3 refuses a statement none of whose actions carries one of its condition keys."""
    if not key.startswith("s3:"):
        return True
    carriers = KEY_ACTIONS.get(key)
    if carriers is None and "/" in key:
        carriers = KEY_ACTIONS.get(key.split("/", 1)[0] + "/")
    if carriers is None:
        return True  # a key every action carries (s3:authType, s3:signatureversion, ...)
    return any(a.startswith("s3:") and a[3:] in carriers for a in actions)


def catalog(services: Iterable[str]) -> Catalog:
    """The catalog restricted to actions of these services (``"s3"``, ``"ec2"``)."""
    wanted = tuple(s + ":" for s in services)
    return Catalog({k: v for k, v in action_kinds().items() if k.startswith(wanted)})


def bucket_resource_ok(resource: str, bucket: str) -> bool:
    """May a bucket policy of ``bucket`` name this resource (the bucket or what is in it)?"""
    if not resource.startswith(S3_ARN):
        return False
    rest = resource[len(S3_ARN):]
    if not rest:
        return False
    return can_equal(rest, bucket) or can_start_with(rest, bucket + "/")


def resource_kinds(resource: str, bucket: str) -> set[Kind]:
    """Which of the bucket and its objects a resource pattern can name."""
    kinds: set[Kind] = set()
    if can_equal(resource, S3_ARN + bucket):
        kinds.add("bucket")
    if can_start_with(resource, S3_ARN + bucket + "/"):
        kinds.add("object")
    return kinds


def identity_resource_ok(resource: str) -> bool:
    """An identity policy's resource: ``*`` or an ARN (``arn:partition:service:...``)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and all(parts[:3])
