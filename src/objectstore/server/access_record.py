"""The server access log record of one request (s3.logging's format), from what the server
shell saw of it: the ASGI scope, the response, and the handler's Trace."""

from __future__ import annotations

from dataclasses import dataclass

from objectstore.s3 import identity
from objectstore.s3 import logging as access_logging
from objectstore.server import redact
from objectstore.server.handlers.common import Trace
from objectstore.server.request import Response, Scope
from objectstore.storage.model import Bucket, Principal

SIZED_WRITES = ("PutObject", "UploadPart", "PostObject")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the request ended."""

    op: str
    key: str | None
    status: int
    error_code: str | None
    bytes_sent: int
    started: float  # epoch seconds the request came in
    first_byte: float  # ... its response began
    finished: float  # ... its response ended


def requester(p: Principal | None) -> str | None:
    """The Requester field: the user's IAM ARN (arn:aws:iam::<account>:user/<name>)."""
    if p is None:
        return None
    return identity.user_arn(identity.account_number(p.account_id), p.user)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _object_size(out: Outcome, req_headers: dict[bytes, bytes], resp: Response,
                 method: str) -> int | None:
    if out.op in SIZED_WRITES:
        raw = req_headers.get(b"x-amz-decoded-content-length") or \
            req_headers.get(b"content-length")
        return int(raw) if raw is not None and raw.isdigit() else None
    if out.op in ("GetObject", "HeadObject") and out.status < 300:
        rng = _header(resp.headers, "content-range")
        if rng is not None and "/" in rng and rng.rsplit("/", 1)[1].isdigit():
            return int(rng.rsplit("/", 1)[1])
        if resp.content_length is not None:
            return resp.content_length
        return len(resp.body)
    return None


def build(scope: Scope, bucket: Bucket, trace: Trace, out: Outcome, resp: Response,
          request_id: str, host_id: str, also: tuple[str, str, str | None] | None = None
          ) -> access_logging.Record:
    """The record of the request in ``bucket``'s log; ``also``: (Operation, key, version
    id) of one more record it makes there (Trace.also)."""
    headers = dict(scope["headers"])
    method = str(scope["method"])

    def h(name: bytes) -> str | None:
        v = headers.get(name)
        return v.decode("latin-1") if v is not None else None

    query = scope.get("query_string", b"")
    path = scope.get("raw_path") or str(scope.get("path", "/")).encode()
    # (a session token never reaches a log: S3 logs the URI, signature and all, but
    # objectstore's logs keep no credential; server/redact.py)
    uri = redact.redact((path + (b"?" + query if query else b"")).decode("latin-1"))
    names = {part.split(b"=", 1)[0].decode("latin-1") for part in query.split(b"&") if part}
    sig, auth_type = access_logging.auth_kind(h(b"authorization"), names)
    client = scope.get("client")
    p = trace.principal
    owner_ok = p is not None and (p.is_admin or p.account_id == bucket.account_id)
    return access_logging.Record(
        bucket_owner=bucket.account_id, bucket=bucket.name, time=out.started,
        remote_ip=client[0] if client else None, requester=requester(p),
        request_id=request_id,
        operation=also[0] if also else access_logging.operation(out.op, method),
        key=also[1] if also else out.key,
        request_uri=f"{method} {uri} HTTP/{scope.get('http_version', '1.1')}",
        status=out.status,
        error_code=None if out.status < 400 else  # the website's HTML errors: in a header
        out.error_code or _header(resp.headers, "x-amz-error-code"),
        bytes_sent=out.bytes_sent,
        object_size=None if also else _object_size(out, headers, resp, method),
        total_ms=max(0, round((out.finished - out.started) * 1000)),
        turnaround_ms=max(0, round((out.first_byte - out.started) * 1000)),
        referer=h(b"referer"), user_agent=h(b"user-agent"),
        version_id=also[2] if also else _version_id(trace),
        host_id=host_id,
        sig_version=sig if p is not None else None,
        cipher_suite=None, auth_type=auth_type if p is not None else None,
        host_header=h(b"host"), tls_version=None,
        # ACL required: a request allowed for someone who does not own the bucket (until
        # bucket policies are evaluated, only an ACL grant can have allowed it).
        # TODO(integration): ask service/access.py whether an ACL grant decided.
        acl_required=out.status < 400 and p is not None and not owner_ok
        and bucket.policy is None,
    )


def _version_id(trace: Trace) -> str | None:
    """The request's versionId argument (a request on an object only)."""
    if trace.key is None:
        return None
    return next((v for k, v in trace.query if k == "versionId"), None)
