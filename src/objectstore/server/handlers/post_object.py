"""POST Object: browser-based uploads with an HTML form (multipart/form-data), authorized by
a signed policy document (SigV4 or SigV2) or, without one, by the bucket's ACL."""

from __future__ import annotations

import asyncio
import hmac
import re
from datetime import datetime, timezone
from urllib.parse import quote

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError

from objectstore.s3 import actions, lock, post_policy, sigv2, sigv4, tagging, xml
from objectstore.s3.actions import Need
from objectstore.s3.errors import S3Error
from objectstore.s3.headers import check_value
from objectstore.s3.names import check_key
from objectstore.server.auth import lookup_principal
from objectstore.server.handlers.common import (
    Ctx,
    allowed,
    bucket_or_404,
    empty,
    unrestricted,
)
from objectstore.server.handlers.encryption import write_key
from objectstore.server.handlers.objects import object_headers
from objectstore.server.handlers.ownership import new_object_acl
from objectstore.server.request import Response, xml_response
from objectstore.service.ingest import INLINE_LIMIT, Ingest, commit
from objectstore.service.objects import publish
from objectstore.service.sse import DataKey
from objectstore.storage.model import Bucket, ObjectRecord, Principal, Segment

MAX_FIELDS = 64 * 1024
MAX_PUT = 5 * 1024**3
BATCH = 1 << 20
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]", re.ASCII)


class _Form:
    """Collects parser callbacks as events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes]] = []
        self._field = bytearray()
        self._value = bytearray()

    def callbacks(self) -> dict[str, object]:
        def data(kind: str):  # type: ignore[no-untyped-def]
            def cb(buf: bytes, start: int, end: int) -> None:
                self.events.append((kind, bytes(buf[start:end])))
            return cb

        def mark(kind: str):  # type: ignore[no-untyped-def]
            def cb() -> None:
                self.events.append((kind, b""))
            return cb

        return {"on_part_begin": mark("begin"), "on_part_data": data("data"),
                "on_part_end": mark("end"), "on_header_field": data("hfield"),
                "on_header_value": data("hvalue"), "on_header_end": mark("hend"),
                "on_headers_finished": mark("hdone")}


def _boundary(content_type: str) -> bytes:
    m = re.match(r"^\s*multipart/form-data\s*;(.*)$", content_type, re.I | re.S)
    b = re.search(r'boundary\s*=\s*"?([^";]+)"?', m.group(1), re.I) if m else None
    if b is None:
        raise S3Error("PreconditionFailed", "Bucket POST must be of the enclosure-type "
                      "multipart/form-data", Condition="Bucket POST must be of the "
                      "enclosure-type multipart/form-data")
    boundary = b.group(1).strip()
    # RFC 2046: 1 to 70 characters from a small ASCII set
    if not _BOUNDARY.fullmatch(boundary):
        raise S3Error("MalformedPOSTRequest")
    return boundary.encode()


async def post_object(ctx: Ctx) -> Response:
    bucket = bucket_or_404(ctx)
    form = _Form()
    parser = MultipartParser(_boundary(ctx.header("content-type") or ""),
                             form.callbacks())  # type: ignore[arg-type]
    fields: dict[str, str] = {}
    headers: dict[str, str] = {}
    hname = bytearray()
    value = bytearray()
    total = 0
    ing: Ingest | None = None
    rec_args: dict[str, object] = {}
    pending = bytearray()
    state = "fields"  # fields | file | done
    body = ctx.req.chunks()
    try:
        async for chunk in body:
            if state == "done":
                continue  # parts after the file are ignored, but the body is read
            try:
                parser.write(chunk)
            except MultipartParseError:
                raise S3Error("MalformedPOSTRequest") from None
            events, form.events = form.events, []
            for kind, data in events:
                if state == "done":
                    break
                if kind == "begin":
                    headers, value = {}, bytearray()
                elif kind == "hfield":
                    hname += data
                elif kind == "hvalue":
                    headers.setdefault(hname.decode("latin-1").lower(), "")
                    headers[hname.decode("latin-1").lower()] += data.decode("utf-8", "replace")
                elif kind == "hend":
                    hname = bytearray()
                elif kind == "hdone":
                    name, filename = post_policy.disposition(
                        headers.get("content-disposition", ""))
                    if name is not None and name.lower() == "file":
                        state = "file"
                        ing, rec_args = _start(ctx, bucket, fields, filename or "", headers)
                elif kind == "data":
                    if state == "file":
                        assert ing is not None
                        pending += data
                    else:
                        total += len(data)
                        if total > MAX_FIELDS:
                            raise S3Error("MaxPostPreDataLengthExceededError")
                        value += data
                elif kind == "end":
                    if state == "file":
                        state = "done"
                    else:
                        name, _ = post_policy.disposition(headers.get("content-disposition", ""))
                        if name:
                            fields[name.lower()] = value.decode("utf-8", "replace")
            if ing is not None and (len(pending) >= BATCH or (state == "done" and pending)):
                data, pending = bytes(pending), bytearray()
                await asyncio.to_thread(ing.feed, data)
        if ing is None:
            raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.",
                          ArgumentName="file", ArgumentValue="0")
        if state != "done":
            raise S3Error("IncompleteBody")
        return await _finish(ctx, ing, rec_args, fields)
    except BaseException:
        if ing is not None:
            ing.abort()
        raise


def _start(ctx: Ctx, target: Bucket, fields: dict[str, str],
           filename: str, part_headers: dict[str, str]) -> tuple[Ingest, dict[str, object]]:
    """All fields are in: check the policy and signature, then open the object body."""
    bucket, bucket_owner = target.name, target.account_id
    if "key" in fields:  # conditions apply to the key with ${filename} substituted
        fields = {**fields, "key": fields["key"].replace("${filename}", filename)}
    principal, policy = _authorize(ctx, bucket, fields)
    if "key" not in fields:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.  If it "
                      "is specified, please check the order of the fields.",
                      ArgumentName="key", ArgumentValue="")
    key = fields["key"]
    if not key:
        raise S3Error("InvalidArgument", "User key must have a length greater than 0.")
    check_key(key)
    if not unrestricted(principal, target, bucket_owner):
        as_asked = {"x-amz-acl": fields["acl"]} if "acl" in fields else {}
        if "tagging" in fields:
            as_asked["x-amz-tagging"] = ""
        asked = [Need("s3:PutObject"),
                 *actions.write_extras(as_asked, bucket_owner=bucket_owner)]
        if not all(allowed(ctx, target, need, key=key, principal=principal,
                           acl_as="s3:PutObject") for need in asked):
            raise S3Error("AccessDenied")
    as_headers = {k: v for k, v in fields.items()
                  if k.startswith(("x-amz-meta-", "content-", "cache-control", "expires"))}
    if "content-type" not in as_headers and "content-type" in part_headers:
        as_headers["content-type"] = part_headers["content-type"]
    dk = write_key(ctx, target, fields)  # the x-amz-server-side-encryption* fields
    for name in ("success_action_redirect", "redirect"):
        if name in fields:  # sent back as the Location header
            check_value(name, fields[name])
    stored = object_headers(as_headers)
    owner, acl = new_object_acl(ctx, target, {"x-amz-acl": fields["acl"]} if "acl" in fields
                                else {}, check_ids=False,
                                writer=principal.account_id if principal else bucket_owner)
    tags = tagging.parse_document(fields["tagging"].encode()) if "tagging" in fields else ()
    ing = Ingest(ctx.stores.blobs, (), False, MAX_PUT, inline_limit=INLINE_LIMIT,
                 data_key=dk.key if dk is not None else None)
    return ing, {"key": key, "owner": owner, "acl": acl.to_json(), "headers": stored,
                 "policy": policy, "tags": tags, "dk": dk}


def _authorize(ctx: Ctx, bucket: str,
               fields: dict[str, str]) -> tuple[Principal | None, post_policy.Policy | None]:
    if "policy" not in fields:
        if any(k in fields for k in ("x-amz-signature", "signature", "x-amz-credential")):
            raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'policy'.",
                          ArgumentName="policy", ArgumentValue="")
        return None, None
    policy_b64 = fields["policy"]
    if "x-amz-algorithm" in fields or "x-amz-credential" in fields:
        if fields.get("x-amz-algorithm") != sigv4.ALGORITHM or "x-amz-signature" not in fields:
            raise S3Error("InvalidArgument", "Bucket POST must contain a field named "
                          "'x-amz-signature'.", ArgumentName="x-amz-signature", ArgumentValue="")
        cred = sigv4.parse_credential(fields.get("x-amz-credential", ""), presigned=True)
        secret, principal = lookup_principal(ctx.stores.meta, cred.access_key,
                                             fields.get("x-amz-security-token"))
        key = sigv4.signing_key(secret, cred.date, cred.region, cred.service)
        expected = sigv4.sign(key, policy_b64)
        provided = fields["x-amz-signature"]
    else:
        for name in ("awsaccesskeyid", "signature"):
            if name not in fields:
                raise S3Error("InvalidArgument", f"Bucket POST must contain a field named "
                              f"'{'AWSAccessKeyId' if name == 'awsaccesskeyid' else name}'.",
                              ArgumentName=name, ArgumentValue="")
        secret, principal = lookup_principal(ctx.stores.meta, fields["awsaccesskeyid"],
                                             fields.get("x-amz-security-token"))
        expected = sigv2.sign(secret, policy_b64)
        provided = fields["signature"]
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise S3Error("SignatureDoesNotMatch", StringToSign=policy_b64)
    policy = post_policy.parse(policy_b64)
    post_policy.check(policy, fields, bucket, datetime.now(timezone.utc))
    return principal, policy


async def _finish(ctx: Ctx, ing: Ingest, args: dict[str, object],
                  fields: dict[str, str]) -> Response:
    digests = ing.digests()
    policy = args["policy"]
    post_policy.check_length(policy if isinstance(policy, post_policy.Policy) else None,
                             digests.size)
    await commit(ing)
    key = str(args["key"])
    dk = args["dk"]
    assert dk is None or isinstance(dk, DataKey)
    etag = digests.md5.hex() if dk is None else dk.etag(digests.md5)
    bucket = ctx.stores.meta.get_bucket(ctx.bucket_name)  # the bucket's default retention
    mode, until, hold = lock.for_new_version(bucket.object_lock if bucket else None,
                                             lock.LockRequest(), ctx.now())
    rec = ObjectRecord(
        bucket=ctx.bucket_name, key=key, size=digests.size, etag=f'"{etag}"',
        last_modified=ctx.now(), owner=str(args["owner"]), acl=str(args["acl"]),
        headers=args["headers"],  # type: ignore[arg-type]
        segments=(Segment(ing.blob_id, digests.size),) if ing.blob_id else (),
        inline=ing.inline, tags=args["tags"],  # type: ignore[arg-type]
        lock_mode=mode, lock_until=until, legal_hold=hold,
        sse=dk.stored.to_json() if dk is not None else None)
    written = await publish(ctx.stores, rec)
    version = [] if written.version_id is None else [("x-amz-version-id", written.version_id)]
    location = f"{ctx.req.scheme}://{ctx.req.host}/{ctx.bucket_name}/{quote(key)}"
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        target = (f"{redirect}{sep}bucket={quote(ctx.bucket_name)}&key={quote(key)}"
                  f"&etag={quote(rec.etag)}")
        return empty(303, [("Location", target), ("ETag", rec.etag), *version])
    status = fields.get("success_action_status", "204")
    headers = [("ETag", rec.etag), ("Location", location), *version]
    if dk is not None:
        headers += dk.stored.headers()
    if status == "201":
        inner = (xml.el("Location", location) + xml.el("Bucket", ctx.bucket_name)
                 + xml.el("Key", key) + xml.el("ETag", rec.etag))
        # S3's PostResponse carries no XML namespace
        body = f'{xml.HEAD}<PostResponse>{inner}</PostResponse>'.encode()
        return xml_response(body, 201, headers)
    return empty(200 if status == "200" else 204, headers)
