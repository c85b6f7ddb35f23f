"""The names IAM policies use for objectstore's accounts and users.

An account is known by its canonical id (64 hex characters, what ACLs and ListBuckets'
Owner show) and by a 12-digit account id (what ARNs, ``aws:PrincipalAccount`` and
``x-amz-expected-bucket-owner`` use). The 12-digit id is derived from the canonical id, so
every account has one from the moment it exists, databases of earlier versions included,
and every gateway computes the same one without a lookup."""

from __future__ import annotations

import hashlib


def account_number(canonical_id: str) -> str:
    """The 12-digit account id of the account with this canonical id."""
    digest = hashlib.sha256(b"objectstore-account:" + canonical_id.encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"


def root_arn(number: str) -> str:
    return f"arn:aws:iam::{number}:root"


def user_arn(number: str, user: str) -> str:
    return f"arn:aws:iam::{number}:user/{user}"
