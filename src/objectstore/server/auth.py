"""Authenticate a request: SigV4 (header, presigned), SigV2 (header, presigned), anonymous.

The signature maths is pure (s3.sigv4, s3.sigv2); this module looks up the secret, checks
clocks and expiry, and says how the body must be verified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from objectstore.s3 import identity, sigv2, sigv4
from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601, parse_http_date
from objectstore.server.request import Request
from objectstore.service import sessions
from objectstore.storage.model import Principal
from objectstore.storage.sqlite import SqliteMeta

MAX_SKEW = 15 * 60


@dataclass(frozen=True, slots=True)
class Auth:
    principal: Principal | None
    payload_sha256: str | None = None  # hex digest the body must have
    streaming: str | None = None  # STREAMING-* mode from x-amz-content-sha256
    signing_key: bytes | None = None
    seed_signature: str | None = None
    amz_date: str | None = None
    scope: str | None = None


ANONYMOUS = Auth(None)


def authenticate(req: Request, meta: SqliteMeta, bucket_from_host: str | None,
                 now: float | None = None, body_sha256: str | None = None) -> Auth:
    """Verify the request's signature. ``body_sha256`` is the hash of an already-read body,
    for services (EC2's Query API) whose clients send no x-amz-content-sha256."""
    now = time.time() if now is None else now
    header = req.headers.get("authorization")
    names = {k for k, _ in req.query}
    if header is not None:
        if "X-Amz-Credential" in names or "Signature" in names:
            raise S3Error("InvalidArgument", "Only one auth mechanism allowed; only the "
                          "X-Amz-Algorithm query parameter, Signature query string parameter "
                          "or the Authorization header should be specified",
                          ArgumentName="Authorization", ArgumentValue=header)
        if header.startswith(sigv4.ALGORITHM + " "):
            claim = sigv4.parse_authorization(header, req.headers, body_sha256)
            return _v4(req, meta, claim, now)
        if header.startswith("AWS "):
            return _v2(req, meta, sigv2.parse_authorization(header), bucket_from_host, now)
        raise S3Error("InvalidArgument", "Unsupported Authorization Type",
                      ArgumentName="Authorization", ArgumentValue=header)
    if "X-Amz-Algorithm" in names or "X-Amz-Credential" in names:
        return _v4(req, meta, sigv4.parse_presigned(dict(req.query), req.headers), now)
    if "AWSAccessKeyId" in names or "Signature" in names:
        return _v2(req, meta, sigv2.parse_presigned(dict(req.query)), bucket_from_host, now)
    return ANONYMOUS


def lookup_principal(meta: SqliteMeta, access_key: str, token: str | None = None,
                     now: float | None = None) -> tuple[str, Principal]:
    """The secret and principal of an access key: a long-term key, or session credentials
    (STS GetSessionToken: ``token`` is the request's x-amz-security-token)."""
    if not access_key.isascii() or not access_key.isprintable() or len(access_key) > 128:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key.encode(
            "ascii", "replace").decode())
    if sessions.is_session_key(access_key):
        return _session_principal(meta, access_key, token, now)
    found = meta.lookup_key(access_key)
    if found is None:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    secret, user, account = found
    return secret, Principal(user.name, account.id, account.name, user.is_admin, access_key,
                             _account_number(account.id), user.policy, user.first)


def _session_principal(meta: SqliteMeta, access_key: str, token: str | None,
                       now: float | None) -> tuple[str, Principal]:
    found = sessions.check(meta.lookup_session(access_key), access_key, token,
                           time.time() if now is None else now)
    user, account = found.user, found.account
    return found.secret, Principal(user.name, account.id, account.name, user.is_admin,
                                   access_key, _account_number(account.id), user.policy,
                                   user.first, found.expires)


def _token(req: Request, presigned: bool, name: str) -> str | None:
    """The request's session token: the x-amz-security-token header, or for a presigned
    URL its query parameter (``name``: X-Amz-Security-Token, or SigV2's spelling)."""
    if presigned:
        for k, v in req.query:
            if k == name:
                return v
    return req.headers.get("x-amz-security-token")


@lru_cache(maxsize=1024)  # a server sees few accounts; the hash is not worth redoing
def _account_number(canonical_id: str) -> str:
    return identity.account_number(canonical_id)


def _v4(req: Request, meta: SqliteMeta, claim: sigv4.SigV4Request, now: float) -> Auth:
    when = sigv4.parse_amz_date(claim.amz_date)
    if when is None:
        if claim.presigned:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Date must be in the ISO8601 Long Format "
                          "\"yyyyMMdd'T'HHmmss'Z'\"")
        raise S3Error("AccessDenied",
                      "AWS authentication requires a valid Date or x-amz-date header")
    secret, principal = lookup_principal(
        meta, claim.credential.access_key,
        _token(req, claim.presigned, "X-Amz-Security-Token"), now)
    ts = when.timestamp()
    if claim.presigned:
        assert claim.expires is not None
        if now > ts + claim.expires:
            raise S3Error("AccessDenied", "Request has expired",
                          extra={"X-Amz-Expires": str(claim.expires),
                                 "Expires": iso8601(ts + claim.expires),
                                 "ServerTime": iso8601(now)})
        if ts > now + MAX_SKEW:
            raise S3Error("AccessDenied", "Request is not valid yet")
    elif abs(now - ts) > MAX_SKEW:
        raise _skewed(ts, now)
    outcome = sigv4.verify(claim, secret, req.method, req.path, req.query, req.headers)
    if not outcome.ok:
        raise S3Error(
            "SignatureDoesNotMatch",
            AWSAccessKeyId=claim.credential.access_key,
            StringToSign=outcome.string_to_sign,
            SignatureProvided=claim.signature,
            StringToSignBytes=_hex_bytes(outcome.string_to_sign),
            CanonicalRequest=outcome.canonical_request,
            CanonicalRequestBytes=_hex_bytes(outcome.canonical_request),
        )
    payload = claim.payload_hash
    if payload in sigv4.STREAMING_PAYLOADS:
        return Auth(principal, None, payload, outcome.key, claim.signature, claim.amz_date,
                    claim.credential.scope)
    if payload == sigv4.UNSIGNED_PAYLOAD:
        return Auth(principal)
    return Auth(principal, payload_sha256=payload)


def _v2(req: Request, meta: SqliteMeta, claim: sigv2.SigV2Request,
        bucket_from_host: str | None, now: float) -> Auth:
    secret, principal = lookup_principal(
        meta, claim.access_key, _token(req, claim.presigned, "x-amz-security-token"), now)
    if claim.presigned:
        assert claim.expires is not None
        if now > claim.expires:
            raise S3Error("AccessDenied", "Request has expired",
                          Expires=iso8601(claim.expires), ServerTime=iso8601(now))
    else:
        raw = req.headers["x-amz-date"] if "x-amz-date" in req.headers else req.headers.get("date")
        date = parse_http_date(raw)
        if date is None or date.year < 1970:
            raise S3Error("AccessDenied",
                          "AWS authentication requires a valid Date or x-amz-date header")
        if abs(now - date.timestamp()) > MAX_SKEW:
            raise _skewed(date.timestamp(), now)
    first = sts = ""
    ok = False
    headers: Mapping[str, str] = req.headers
    if claim.presigned:  # a presigned URL carries its x-amz-* "headers" in the query
        signed = {k.lower(): v for k, v in req.query
                  if k.lower().startswith("x-amz-") or k.lower() in ("content-md5",
                                                                     "content-type")}
        if signed:
            headers = {**dict(req.headers.items()), **signed}
    for resource, date_value in _v2_candidates(req, claim, bucket_from_host):
        sts = sigv2.string_to_sign(req.method, headers, resource, date_value=date_value)
        first = first or sts
        ok = sigv2.verify(claim, secret, sts)
        if ok:
            break
    sts = first
    if not ok:
        raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=claim.access_key,
                      StringToSign=sts, SignatureProvided=claim.signature,
                      StringToSignBytes=_hex_bytes(sts))
    content_sha = req.headers.get("x-amz-content-sha256")
    if content_sha and len(content_sha) == 64:
        return Auth(principal, payload_sha256=content_sha.lower())
    return Auth(principal)


def _v2_candidates(req: Request, claim: sigv2.SigV2Request,
                   bucket_from_host: str | None) -> list[tuple[str, str]]:
    """The string-to-sign variants clients use: the primary one first.

    Clients differ on a bucket's resource ("/b" or "/b/", botocore signs "/b/") and on
    the Date line when both Date and x-amz-date are sent.
    """
    resource = sigv2.canonical_resource(req.raw_path, bucket_from_host, req.query)
    resources = [resource]
    path = req.raw_path
    if bucket_from_host is None and path.count("/") == 1 and len(path) > 1:
        resources.append(sigv2.canonical_resource(path + "/", None, req.query))
    elif bucket_from_host is None and path.count("/") == 2 and path.endswith("/"):
        resources.append(sigv2.canonical_resource(path[:-1], None, req.query))
    dates = [sigv2.date_line(req.headers, claim)]
    if not claim.presigned and "x-amz-date" in req.headers and "date" in req.headers:
        dates.append(req.headers["date"])
    return [(r, d) for d in dates for r in resources]


def _skewed(ts: float, now: float) -> S3Error:
    return S3Error("RequestTimeTooSkewed", RequestTime=iso8601(ts), ServerTime=iso8601(now),
                   MaxAllowedSkewMilliseconds="900000")


def _hex_bytes(text: str) -> str:
    return " ".join(f"{b:02x}" for b in text.encode("utf-8", "surrogateescape"))
