"""AWS Signature Version 4: canonical request, signing key, header and presigned checks.

Pure: callers pass the secret; nothing here looks anything up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Mapping, Sequence
from urllib.parse import quote

from objectstore.s3.errors import S3Error
from objectstore.s3.memo import MAX_LEN, short_memo
from objectstore.s3.numbers import signed as signed_int

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING_PAYLOADS = frozenset(
    {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Credential:
    access_key: str
    date: str  # YYYYMMDD
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True, slots=True)
class SigV4Request:
    """What a SigV4-signed request claims, before checking."""

    credential: Credential
    amz_date: str  # YYYYMMDDTHHMMSSZ
    signed_headers: tuple[str, ...]
    signature: str
    payload_hash: str
    presigned: bool
    expires: int | None = None


_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")
_UNRESERVED_OR_SLASH = re.compile(r"[A-Za-z0-9\-._~/]*")


def uri_encode(value: str, *, slash: bool = True) -> str:
    if (_UNRESERVED_OR_SLASH if slash else _UNRESERVED).fullmatch(value):
        return value  # the common case, without quote()'s encode/decode round trip
    return quote(value, safe="/~" if slash else "~")


@short_memo(4096)
def _query_encode(value: str) -> str:
    """uri_encode for query names and values; most repeat from request to request
    (credential scope, algorithm, expiry, signed headers), so they are remembered."""
    return uri_encode(value, slash=False)


def canonical_query(query: Sequence[tuple[str, str]], *, exclude_signature: bool) -> str:
    pairs = sorted(
        (_query_encode(k), _query_encode(v))
        for k, v in query
        if not (exclude_signature and k == "X-Amz-Signature")
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers: Mapping[str, str], signed: Sequence[str]) -> str:
    lines = []
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise S3Error("SignatureDoesNotMatch")
        lines.append(f"{name}:{_SPACES.sub(' ', value.strip())}\n")
    return "".join(lines)


def canonical_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
    *,
    presigned: bool = False,
) -> str:
    return "\n".join(
        (
            method,
            uri_encode(path),
            canonical_query(query, exclude_signature=presigned),
            canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            payload_hash,
        )
    )


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    digest = hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key; remembered when the scope's parts are short (they are the
    client's, before the signature is checked)."""
    if len(date) + len(region) + len(service) > MAX_LEN:
        return _signing_key.__wrapped__(secret, date, region, service)
    return _signing_key(secret, date, region, service)


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def sign(key: bytes, sts: str) -> str:
    return hmac.new(key, sts.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def parse_credential(value: str, *, presigned: bool) -> Credential:
    parts = value.split("/")
    code = "AuthorizationQueryParametersError" if presigned else "AuthorizationHeaderMalformed"
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise S3Error(
            code,
            "The authorization header is malformed; the Credential is mal-formed; "
            "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        )
    if parts[3] not in ("s3", "ec2", "sts"):
        raise S3Error(code, f"The authorization header is malformed; incorrect service "
                      f"\"{parts[3]}\". This endpoint belongs to \"s3\".")
    return Credential(parts[0], parts[1], parts[2], parts[3])


def parse_authorization(header: str, headers: Mapping[str, str],
                        body_sha256: str | None = None) -> SigV4Request:
    """Parse ``Authorization: AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..``."""
    rest = header[len(ALGORITHM):].strip()
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise S3Error("AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the authorization header "
                          "requires three components: Credential, SignedHeaders, and Signature.")
        fields[name] = value
    missing = {"Credential", "SignedHeaders", "Signature"} - fields.keys()
    if missing:
        raise S3Error("AuthorizationHeaderMalformed",
                      "The authorization header is malformed; the authorization header "
                      "requires three components: Credential, SignedHeaders, and Signature.")
    cred = parse_credential(fields["Credential"], presigned=False)
    amz_date = headers.get("x-amz-date") or ""
    if not amz_date:
        amz_date = _http_date_to_amz(headers.get("date", ""))
    payload = headers.get("x-amz-content-sha256") or body_sha256
    if payload is None:
        raise S3Error("InvalidRequest",
                      "Missing required header for this request: x-amz-content-sha256")
    if payload not in STREAMING_PAYLOADS and payload != UNSIGNED_PAYLOAD and not _HEX64.match(
        payload
    ):
        raise S3Error("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD or a valid sha256 value.",
                      ArgumentName="x-amz-content-sha256", ArgumentValue=payload)
    _check_scope_date(cred, amz_date, presigned=False)
    signed = tuple(fields["SignedHeaders"].split(";"))
    _check_signed_headers(signed, presigned=False)
    return SigV4Request(cred, amz_date, signed, fields["Signature"], payload, False)


def parse_presigned(query: Mapping[str, str], headers: Mapping[str, str]) -> SigV4Request:
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise S3Error("AuthorizationQueryParametersError",
                      "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    for name in ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
                 "X-Amz-Expires"):
        if name not in query:
            raise S3Error("AuthorizationQueryParametersError",
                          "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                          "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                          "and X-Amz-Expires parameters.")
    cred = parse_credential(query["X-Amz-Credential"], presigned=True)
    expires = signed_int(query["X-Amz-Expires"].strip())
    if expires is None:
        raise S3Error("AuthorizationQueryParametersError",
                      "X-Amz-Expires should be a number")
    if expires < 0:
        raise S3Error("AuthorizationQueryParametersError",
                      "X-Amz-Expires must be non-negative")
    if expires > 604800:
        raise S3Error("AuthorizationQueryParametersError",
                      "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    _check_scope_date(cred, query["X-Amz-Date"], presigned=True)
    signed = tuple(query["X-Amz-SignedHeaders"].split(";"))
    _check_signed_headers(signed, presigned=True)
    payload = headers.get("x-amz-content-sha256") or UNSIGNED_PAYLOAD
    return SigV4Request(cred, query["X-Amz-Date"], signed, query["X-Amz-Signature"], payload,
                        True, expires)


def _check_scope_date(cred: Credential, amz_date: str, *, presigned: bool) -> None:
    if amz_date and cred.date != amz_date[:8]:
        code = "AuthorizationQueryParametersError" if presigned else "AuthorizationHeaderMalformed"
        raise S3Error(code, "The authorization header is malformed; Invalid credential date. "
                      "Date is not the same as X-Amz-Date.")


def _check_signed_headers(signed: Sequence[str], *, presigned: bool) -> None:
    if "host" not in signed:
        raise S3Error("AccessDenied",
                      "There were headers present in the request which were not signed",
                      HeadersNotSigned="host")


_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z", re.ASCII)


@short_memo(256, max_len=16)
def parse_amz_date(value: str) -> datetime | None:
    """``YYYYMMDDTHHMMSSZ`` as an aware datetime (no strptime, and remembered: this runs on
    every request, and requests signed in the same second share it)."""
    m = _AMZ_DATE.fullmatch(value)
    if m is None:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        return datetime(y, mo, d, h, mi, sec, tzinfo=timezone.utc)
    except ValueError:
        return None


def _http_date_to_amz(value: str) -> str:
    from email.utils import parsedate_to_datetime

    if len(value) > 200:
        return ""
    try:
        dt = parsedate_to_datetime(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    canonical_request: str
    string_to_sign: str
    key: bytes
    expected: str


def verify(
    req: SigV4Request,
    secret: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
) -> Outcome:
    creq = canonical_request(method, path, query, headers, req.signed_headers, req.payload_hash,
                             presigned=req.presigned)
    sts = string_to_sign(req.amz_date, req.credential.scope, creq)
    c = req.credential
    key = signing_key(secret, c.date, c.region, c.service)
    expected = sign(key, sts)
    ok = hmac.compare_digest(expected.encode(), req.signature.encode("utf-8", "replace"))
    return Outcome(ok, creq, sts, key, expected)
