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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

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


ANONYMOUS = Caller(None)


@dataclass(frozen=True, slots=True)
class Ask:
    caller: Caller
    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key"
    context: Context = _no_keys


class Policy:
    """A parsed policy document."""

    public: bool

    def decide(self, ask: Ask) -> Effect | None:
        raise NotImplementedError


def parse_bucket_policy(text: str, bucket: str) -> Policy:
    """A bucket policy (Principal required; every Resource within ``bucket``)."""
    raise NotImplementedError


def parse_identity_policy(text: str) -> Policy:
    """An identity policy attached to a user (no Principal)."""
    raise NotImplementedError
