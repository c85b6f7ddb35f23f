"""Browser-based uploads (POST Object): the policy document and its conditions (pure)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import HUGE, signed

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
# Form fields that no policy condition needs to mention.
UNCHECKED = frozenset({"policy", "signature", "x-amz-signature", "awsaccesskeyid", "file",
                       "x-amz-security-token"})


def _denied(message: str) -> S3Error:
    return S3Error("AccessDenied", f"Invalid according to Policy: {message}")


@dataclass(frozen=True, slots=True)
class Policy:
    expiration: datetime
    conditions: tuple[Any, ...]

    def length_range(self) -> tuple[int, int] | None:
        for c in self.conditions:
            if isinstance(c, list) and len(c) == 3 and str(c[0]).lower() == \
                    "content-length-range":
                low, high = _length(c[1]), _length(c[2])
                if low is None or high is None:
                    raise _denied("Policy Condition failed: content-length-range")
                return low, high
        return None


def _length(value: object) -> int | None:
    """A content-length-range bound: a JSON integer or a string of ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < HUGE else None
    if isinstance(value, str):
        return signed(value.strip())
    return None


def parse(policy_b64: str) -> Policy:
    try:
        doc = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        # RecursionError: thousands of nested arrays
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(doc, dict) or "expiration" not in doc:
        raise S3Error("InvalidPolicyDocument",
                      "Invalid Policy: Policy missing expiration.")
    conditions = doc.get("conditions")
    if not isinstance(conditions, list):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    text = str(doc["expiration"])
    if not _ISO.fullmatch(text):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: "
                      f"'{text}'")
    try:
        expiration = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise S3Error("InvalidPolicyDocument",
                      "Invalid Policy: Invalid 'expiration' value.") from None
    if expiration.tzinfo is None:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.")
    return Policy(expiration, tuple(conditions))


def check(policy: Policy, fields: Mapping[str, str], bucket: str, now: datetime) -> None:
    """Raise AccessDenied unless every condition holds and every field is covered.

    ``fields`` has lower-case names; ``key`` is the key as sent (before ${filename}).
    """
    if now > policy.expiration:
        raise _denied("Policy expired.")
    values = {**fields, "bucket": bucket}
    covered = set()
    for c in policy.conditions:
        if isinstance(c, dict):
            if len(c) != 1:
                raise S3Error("InvalidPolicyDocument",
                              "Invalid Policy: Invalid Simple-Condition: Simple-Conditions "
                              "must have exactly one property specified.")
            name, want = next(iter(c.items()))
            name = name.lower()
            covered.add(name)
            if values.get(name) != str(want):
                raise _denied(f'Policy Condition failed: ["eq", "${name}", "{want}"]')
        elif isinstance(c, list) and len(c) == 3:
            op = str(c[0]).lower()
            if op == "content-length-range":
                continue
            if not isinstance(c[1], str) or not c[1].startswith("$"):
                raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.")
            name, want = c[1][1:].lower(), str(c[2])
            covered.add(name)
            got = values.get(name)
            if op == "eq":
                ok = got == want
            elif op == "starts-with":
                ok = got is not None and got.startswith(want) or (got is None and want == "")
            else:
                raise S3Error("InvalidPolicyDocument",
                              f"Invalid Policy: Invalid condition operator {c[0]}.")
            if not ok:
                raise _denied(f'Policy Condition failed: ["{op}", "${name}", "{want}"]')
        else:
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.")
    extra = [n for n in fields if n not in covered and n not in UNCHECKED
             and not n.startswith("x-ignore-")]
    if extra:
        raise _denied(f"Extra input fields: {extra[0]}")


def check_length(policy: Policy | None, size: int) -> None:
    bounds = policy.length_range() if policy is not None else None
    if bounds is None:
        return
    low, high = bounds
    if size < low:
        raise S3Error("EntityTooSmall", ProposedSize=str(size), MinSizeAllowed=str(low))
    if size > high:
        raise S3Error("EntityTooLarge", ProposedSize=str(size), MaxSizeAllowed=str(high))


def disposition(value: str) -> tuple[str | None, str | None]:
    """(name, filename) of a form part's Content-Disposition header."""
    name = filename = None
    for item in value.split(";")[1:]:
        k, sep, v = item.strip().partition("=")
        if not sep:
            continue
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1]
        if k.strip().lower() == "name":
            name = v
        elif k.strip().lower() == "filename":
            filename = v
    return name, filename
