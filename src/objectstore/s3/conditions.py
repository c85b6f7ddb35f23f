"""The condition keys of a request, computed only when a policy asks for one (pure).

``Facts`` holds what a request carries; ``context(facts)`` is the ``policy.Context`` function
(lower-case key -> values or None). Global keys (``aws:``) and the S3 keys AWS documents for
S3 actions: ``s3:prefix`` ... ``s3:object-lock-legal-hold``. ``s3:ExistingObjectTag/<key>``
reads the tags of the object the request acts on, which the caller hands over lazily.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote

from objectstore.s3.policy import Context

Tags = tuple[tuple[str, str], ...]


def no_tags() -> Tags | None:
    return None


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 5x (every request)
class Facts:
    method: str
    headers: Mapping[str, str]
    query: Sequence[tuple[str, str]]
    source_ip: str = ""
    secure: bool = False
    now: float = field(default_factory=time.time)
    account: str | None = None  # the caller's 12-digit account id
    arn: str | None = None
    user: str | None = None
    userid: str | None = None
    existing_tags: Callable[[], Tags | None] = no_tags  # the object's tags (when asked)
    extra: Mapping[str, Sequence[str]] = field(default_factory=dict)  # keys a handler knows


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query(f: Facts, name: str) -> Sequence[str] | None:
    for k, v in f.query:
        if k == name:
            return [v]
    return None


def _header(name: str) -> Callable[[Facts], Sequence[str] | None]:
    def get(f: Facts) -> Sequence[str] | None:
        value = f.headers.get(name)
        return None if value is None else [value]
    return get


def signature_version(f: Facts) -> str | None:
    auth = f.headers.get("authorization", "")
    names = {k for k, _ in f.query}
    if auth.startswith("AWS4-HMAC-SHA256") or "X-Amz-Algorithm" in names:
        return "AWS4-HMAC-SHA256"
    if auth.startswith("AWS ") or "Signature" in names:
        return "AWS"
    return None


def auth_type(f: Facts) -> str | None:
    if f.method == "POST" and "multipart/form-data" in f.headers.get("content-type", ""):
        return "POST"
    if "authorization" in f.headers:
        return "REST-HEADER"
    names = {k for k, _ in f.query}
    if names & {"X-Amz-Algorithm", "Signature", "AWSAccessKeyId"}:
        return "REST-QUERY-STRING"
    return None


def _request_tags(f: Facts) -> list[tuple[str, str]] | None:
    raw = f.headers.get("x-amz-tagging")
    if raw is None:
        return None
    try:
        return parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return []


def _remaining_days(f: Facts) -> Sequence[str] | None:
    until = f.headers.get("x-amz-object-lock-retain-until-date")
    if until is None:
        return None
    try:
        when = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return None
    return [str(max(0, int((when.timestamp() - f.now) // 86400)))]


def _copy_source(f: Facts) -> Sequence[str] | None:
    value = f.headers.get("x-amz-copy-source")
    if value is None:
        return None
    return [unquote(value.split("?", 1)[0]).lstrip("/")]


def _one(value: str | None) -> Sequence[str] | None:
    return None if value is None else [value]


_KEYS: dict[str, Callable[[Facts], Sequence[str] | None]] = {
    "aws:sourceip": lambda f: _one(f.source_ip or None),
    "aws:securetransport": lambda f: ["true" if f.secure else "false"],
    "aws:currenttime": lambda f: [_iso(f.now)],
    "aws:epochtime": lambda f: [str(int(f.now))],
    "aws:useragent": _header("user-agent"),
    "aws:referer": _header("referer"),
    "aws:principalaccount": lambda f: _one(f.account),
    "aws:principalarn": lambda f: _one(f.arn or (
        f"arn:aws:iam::{f.account}:user/{f.user}" if f.account and f.user else None)),
    "aws:principaltype": lambda f: ["Anonymous" if f.account is None else "User"],
    "aws:username": lambda f: _one(f.user),
    "aws:userid": lambda f: _one(f.userid or ("anonymous" if f.account is None else None)),
    "aws:sourcearn": lambda f: f.extra.get("aws:sourcearn"),
    "aws:sourceaccount": lambda f: f.extra.get("aws:sourceaccount"),
    "s3:prefix": lambda f: _query(f, "prefix"),
    "s3:delimiter": lambda f: _query(f, "delimiter"),
    "s3:max-keys": lambda f: _query(f, "max-keys"),
    "s3:versionid": lambda f: _query(f, "versionId"),
    "s3:x-amz-acl": _header("x-amz-acl"),
    "s3:x-amz-server-side-encryption": _header("x-amz-server-side-encryption"),
    "s3:x-amz-server-side-encryption-aws-kms-key-id":
        _header("x-amz-server-side-encryption-aws-kms-key-id"),
    "s3:x-amz-server-side-encryption-customer-algorithm":
        _header("x-amz-server-side-encryption-customer-algorithm"),
    "s3:x-amz-copy-source": _copy_source,
    "s3:x-amz-metadata-directive": _header("x-amz-metadata-directive"),
    "s3:x-amz-storage-class": _header("x-amz-storage-class"),
    "s3:x-amz-content-sha256": _header("x-amz-content-sha256"),
    "s3:signatureversion": lambda f: _one(signature_version(f)),
    "s3:authtype": lambda f: _one(auth_type(f)),
    "s3:object-lock-mode": _header("x-amz-object-lock-mode"),
    "s3:object-lock-retain-until-date": _header("x-amz-object-lock-retain-until-date"),
    "s3:object-lock-remaining-retention-days": _remaining_days,
    "s3:object-lock-legal-hold": _header("x-amz-object-lock-legal-hold"),
    "s3:requestobjecttagkeys": lambda f: (
        None if (t := _request_tags(f)) is None else [k for k, _ in t]),
}


def value(f: Facts, key: str) -> Sequence[str] | None:
    """The values of condition key ``key`` (lower case) for this request, or None."""
    if key in f.extra:
        return f.extra[key]
    get = _KEYS.get(key)
    if get is not None:
        return get(f)
    if key.startswith("s3:x-amz-grant-"):
        return _one(f.headers.get(key[3:]))
    if key.startswith("s3:existingobjecttag/"):
        tags = f.existing_tags()
        return _tag(tags, key[len("s3:existingobjecttag/"):])
    if key.startswith("s3:requestobjecttag/"):
        return _tag(_request_tags(f), key[len("s3:requestobjecttag/"):])
    return None


def _tag(tags: Sequence[tuple[str, str]] | None, name: str) -> Sequence[str] | None:
    if tags is None:
        return None
    for k, v in tags:
        if k.lower() == name:  # keys arrive lower case; tag keys compare case-insensitively
            return [v]
    return None


def context(f: Facts) -> Context:
    def get(key: str) -> Sequence[str] | None:
        return value(f, key)
    return get


def lazy(build: Callable[[], Facts]) -> Context:
    """A context whose Facts are gathered on the first key asked (most policy statements
    ask none)."""
    made: list[Facts] = []

    def get(key: str) -> Sequence[str] | None:
        if not made:
            made.append(build())
        return value(made[0], key)
    return get
