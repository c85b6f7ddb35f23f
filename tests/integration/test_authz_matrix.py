"""The generated authorization matrix: every implemented operation x principal x canned ACL,
expected answers from the rule table in authz_rules.py, checked against the live server.

Plus every bucket and object operation on a bucket that does not exist (404 NoSuchBucket
to everyone).

Principals: the bucket owner, a second user of the owner's account, a user of another
account, an admin (of a third account), anonymous, and presigned URLs signed by the owner
and by the other account. Resources: a bucket per canned ACL holding an object with the same
ACL; objects with each canned ACL in a private bucket; and objects written by the other
account, with each canned ACL, into the owner's public-read-write bucket (where
bucket-owner-read / bucket-owner-full-control mean something).

Requests are signed with botocore's signers and sent raw over one keep-alive session.
Cases where objectstore differs from AWS's documented semantics are listed in DIVERGENCES
and expected to fail (strict xfail), so fixing one turns the suite red until it is removed.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import quote

import botocore.session
import pytest
import requests
from authz_rules import (
    CANNED_ACLS,
    Context,
    Principal,
    Requirement,
    Resource,
    decide,
    decide_with,
)
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import Creds, Server

from objectstore.server.app import HANDLERS
from objectstore.server.handlers import bucket_config

PRINCIPALS = ("owner", "same-account", "other-account", "admin", "anonymous",
              "presigned-by-owner", "presigned-by-other")
SIGNER = {"presigned-by-owner": "owner", "presigned-by-other": "other-account"}

VERSIONING = (b"<VersioningConfiguration><Status>Suspended</Status>"
              b"</VersioningConfiguration>")
LIFECYCLE = (b"<LifecycleConfiguration><Rule><ID>authz</ID><Filter><Prefix>none/</Prefix>"
             b"</Filter><Status>Enabled</Status><Expiration><Days>3650</Days></Expiration>"
             b"</Rule></LifecycleConfiguration>")
TAGGING = (b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>")
CORS = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
ENCRYPTION = (b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
              b"<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
              b"</Rule></ServerSideEncryptionConfiguration>")
# settings that change nothing for the matrix's buckets (ObjectWriter; no block)
OWNERSHIP = (b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
             b"</Rule></OwnershipControls>")
PUBLIC_BLOCK = (b"<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls>"
                b"</PublicAccessBlockConfiguration>")
LOCK_CONFIG = b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>" \
    b"</ObjectLockConfiguration>"
RETENTION = (b"<Retention><Mode>GOVERNANCE</Mode>"
             b"<RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate></Retention>")
LEGAL_HOLD = b"<LegalHold><Status>ON</Status></LegalHold>"
WEBSITE = (b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
           b"</WebsiteConfiguration>")
BAD_COMPLETE = (b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
                b'<ETag>"00000000000000000000000000000000"</ETag></Part>'
                b'</CompleteMultipartUpload>')


@dataclass(frozen=True)
class Target:
    """What a case addresses: a bucket (with its ACL and an open upload), and for object
    operations an object in it (its ACL and who wrote it)."""
    bucket: str
    bucket_acl: str
    upload_id: str
    key: str = ""
    object_acl: str = ""
    writer: str = ""  # principal name of the object's writer

    @property
    def label(self) -> str:
        if not self.key:
            return f"bucket={self.bucket_acl}"
        return f"bucket={self.bucket_acl},object={self.object_acl},by={self.writer}"


@dataclass(frozen=True)
class Raw:
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


FRESH_UPLOAD = "<a new upload of mp-abort, started by the owner for this case>"

# allowed answers: status -> accepted error codes (None: success, no code checked)
Ok = dict[int, str | None]
_n = itertools.count()


def _b(t: Target, sub: str = "", **q: str) -> Raw:
    return Raw("GET", f"/{t.bucket}", ((sub, ""),) if sub else tuple(q.items()))


def _body(method: str, path: str, query: tuple[tuple[str, str], ...], body: bytes,
          *headers: tuple[str, str]) -> Raw:
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return Raw(method, path, query, (("Content-MD5", md5), *headers), body)


def _inert_policy(bucket: str) -> bytes:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/never-used/*"}]}).encode()


# op -> (kind, builder, allowed answers). kind: global | bucket | object
OPS: dict[str, tuple[str, Callable[[Target], Raw], Ok]] = {
    "ListBuckets": ("global", lambda t: Raw("GET", "/"), {200: None}),
    "CreateBucket": ("global", lambda t: Raw("PUT", f"/authz-new-{uuid.uuid4().hex[:16]}"),
                     {200: None}),
    "HeadBucket": ("bucket", lambda t: Raw("HEAD", f"/{t.bucket}"), {200: None}),
    "ListObjects": ("bucket", lambda t: _b(t), {200: None}),
    "ListObjectsV2": ("bucket", lambda t: _b(t, **{"list-type": "2"}), {200: None}),
    "ListObjectVersions": ("bucket", lambda t: _b(t, "versions"), {200: None}),
    "ListMultipartUploads": ("bucket", lambda t: _b(t, "uploads"), {200: None}),
    "GetObject:missing": ("bucket", lambda t: Raw("GET", f"/{t.bucket}/absent"),
                          {404: "NoSuchKey"}),
    "HeadObject:missing": ("bucket", lambda t: Raw("HEAD", f"/{t.bucket}/absent"),
                           {404: None}),
    "GetBucketAcl": ("bucket", lambda t: _b(t, "acl"), {200: None}),
    "PutBucketAcl": ("bucket", lambda t: Raw("PUT", f"/{t.bucket}", (("acl", ""),),
                                             (("x-amz-acl", t.bucket_acl),)), {200: None}),
    "GetBucketLocation": ("bucket", lambda t: _b(t, "location"), {200: None}),
    "GetBucketVersioning": ("bucket", lambda t: _b(t, "versioning"), {200: None}),
    "PutBucketVersioning": ("bucket", lambda t: _body("PUT", f"/{t.bucket}",
                                                      (("versioning", ""),), VERSIONING),
                            {200: None}),
    "DeleteBucket": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}"),
                     {409: "BucketNotEmpty"}),
    "GetBucketTagging": ("bucket", lambda t: _b(t, "tagging"),
                         {200: None, 404: "NoSuchTagSet"}),
    "PutBucketTagging": ("bucket", lambda t: _body("PUT", f"/{t.bucket}", (("tagging", ""),),
                                                   TAGGING), {204: None}),
    "DeleteBucketTagging": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}",
                                                    (("tagging", ""),)), {204: None}),
    "GetBucketCors": ("bucket", lambda t: _b(t, "cors"),
                      {200: None, 404: "NoSuchCORSConfiguration"}),
    "PutBucketCors": ("bucket", lambda t: _body("PUT", f"/{t.bucket}", (("cors", ""),), CORS),
                      {200: None}),
    "DeleteBucketCors": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}", (("cors", ""),)),
                         {204: None}),
    # Lifecycle (the deprecated Get/PutBucketLifecycle are the same requests)
    **{op: ("bucket", lambda t: _b(t, "lifecycle"),
            {200: None, 404: "NoSuchLifecycleConfiguration"})
       for op in ("GetBucketLifecycleConfiguration", "GetBucketLifecycle")},
    **{op: ("bucket", lambda t: _body("PUT", f"/{t.bucket}", (("lifecycle", ""),), LIFECYCLE),
            {200: None})
       for op in ("PutBucketLifecycleConfiguration", "PutBucketLifecycle")},
    "DeleteBucketLifecycle": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}",
                                                      (("lifecycle", ""),)), {204: None}),
    "GetBucketEncryption": ("bucket", lambda t: _b(t, "encryption"),
                            {200: None, 404: "ServerSideEncryptionConfigurationNotFoundError"}),
    "PutBucketEncryption": ("bucket", lambda t: _body("PUT", f"/{t.bucket}",
                                                      (("encryption", ""),), ENCRYPTION),
                            {200: None}),
    "DeleteBucketEncryption": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}",
                                                       (("encryption", ""),)), {204: None}),
    "GetBucketOwnershipControls": ("bucket", lambda t: _b(t, "ownershipControls"),
                                   {200: None, 404: "OwnershipControlsNotFoundError"}),
    "PutBucketOwnershipControls": ("bucket", lambda t: _body(
        "PUT", f"/{t.bucket}", (("ownershipControls", ""),), OWNERSHIP), {200: None}),
    "DeleteBucketOwnershipControls": ("bucket", lambda t: Raw(
        "DELETE", f"/{t.bucket}", (("ownershipControls", ""),)), {204: None}),
    "GetPublicAccessBlock": ("bucket", lambda t: _b(t, "publicAccessBlock"),
                             {200: None, 404: "NoSuchPublicAccessBlockConfiguration"}),
    "PutPublicAccessBlock": ("bucket", lambda t: _body(
        "PUT", f"/{t.bucket}", (("publicAccessBlock", ""),), PUBLIC_BLOCK), {200: None}),
    "DeletePublicAccessBlock": ("bucket", lambda t: Raw(
        "DELETE", f"/{t.bucket}", (("publicAccessBlock", ""),)), {204: None}),
    "GetBucketWebsite": ("bucket", lambda t: _b(t, "website"),
                         {200: None, 404: "NoSuchWebsiteConfiguration"}),
    "PutBucketWebsite": ("bucket", lambda t: _body("PUT", f"/{t.bucket}", (("website", ""),),
                                                   WEBSITE), {200: None}),
    "DeleteBucketWebsite": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}",
                                                    (("website", ""),)), {204: None}),
    "GetBucketLogging": ("bucket", lambda t: _b(t, "logging"), {200: None}),
    "PutBucketLogging": ("bucket", lambda t: _body("PUT", f"/{t.bucket}", (("logging", ""),),
                                                   b"<BucketLoggingStatus/>"), {200: None}),
    "PutObject": ("bucket", lambda t: Raw("PUT", f"/{t.bucket}/w-{next(_n)}", (), (),
                                          b"written"), {200: None}),
    "PostObject": ("bucket", lambda t: Raw("POST", f"/{t.bucket}"), {204: None}),
    "DeleteObject": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}/absent-{next(_n)}"),
                     {204: None}),
    "DeleteObjects": ("bucket", lambda t: _body(
        "POST", f"/{t.bucket}", (("delete", ""),),
        b"<Delete><Object><Key>absent</Key></Object></Delete>"), {200: None}),
    "CreateMultipartUpload": ("bucket", lambda t: Raw("POST", f"/{t.bucket}/mp2",
                                                      (("uploads", ""),)), {200: None}),
    "UploadPart": ("bucket", lambda t: Raw(
        "PUT", f"/{t.bucket}/mp", (("partNumber", "1"), ("uploadId", t.upload_id)), (),
        b"part"), {200: None}),
    "CompleteMultipartUpload": ("bucket", lambda t: Raw(
        "POST", f"/{t.bucket}/mp", (("uploadId", t.upload_id),), (), BAD_COMPLETE),
        {400: "InvalidPart"}),
    "AbortMultipartUpload": ("bucket", lambda t: Raw(
        "DELETE", f"/{t.bucket}/mp-abort", (("uploadId", FRESH_UPLOAD),)), {204: None}),
    "ListParts": ("bucket", lambda t: Raw("GET", f"/{t.bucket}/mp",
                                          (("uploadId", t.upload_id),)), {200: None}),
    "GetObject": ("object", lambda t: Raw("GET", f"/{t.bucket}/{t.key}"), {200: None}),
    "HeadObject": ("object", lambda t: Raw("HEAD", f"/{t.bucket}/{t.key}"), {200: None}),
    "GetObjectAttributes": ("object", lambda t: Raw(
        "GET", f"/{t.bucket}/{t.key}", (("attributes", ""),),
        (("x-amz-object-attributes", "ETag,ObjectSize"),)), {200: None}),
    "GetObjectAcl": ("object", lambda t: Raw("GET", f"/{t.bucket}/{t.key}", (("acl", ""),)),
                     {200: None}),
    "PutObjectAcl": ("object", lambda t: Raw("PUT", f"/{t.bucket}/{t.key}", (("acl", ""),),
                                             (("x-amz-acl", t.object_acl),)), {200: None}),
    "GetObjectTagging": ("object", lambda t: Raw("GET", f"/{t.bucket}/{t.key}",
                                                 (("tagging", ""),)), {200: None}),
    "PutObjectTagging": ("object", lambda t: _body("PUT", f"/{t.bucket}/{t.key}",
                                                   (("tagging", ""),), TAGGING), {200: None}),
    "DeleteObjectTagging": ("object", lambda t: Raw("DELETE", f"/{t.bucket}/{t.key}",
                                                    (("tagging", ""),)), {204: None}),
    "CopyObject": ("object", lambda t: Raw(
        "PUT", f"/{t.bucket}/copy-{next(_n)}", (),
        (("x-amz-copy-source", f"/{t.bucket}/{t.key}"),)), {200: None}),
    "UploadPartCopy": ("object", lambda t: Raw(
        "PUT", f"/{t.bucket}/mp", (("partNumber", "2"), ("uploadId", t.upload_id)),
        (("x-amz-copy-source", f"/{t.bucket}/{t.key}"),)), {200: None}),
    # Bucket policies: a policy that changes no case's answer (it denies a key no case uses)
    "GetBucketPolicy": ("bucket", lambda t: _b(t, "policy"),
                        {200: None, 404: "NoSuchBucketPolicy"}),
    "PutBucketPolicy": ("bucket", lambda t: Raw("PUT", f"/{t.bucket}", (("policy", ""),), (),
                                                _inert_policy(t.bucket)), {204: None}),
    "DeleteBucketPolicy": ("bucket", lambda t: Raw("DELETE", f"/{t.bucket}",
                                                   (("policy", ""),)), {204: None}),
    "GetBucketPolicyStatus": ("bucket", lambda t: _b(t, "policyStatus"), {200: None}),
    # Object Lock (the matrix's buckets have none: the owner's answer says so)
    "GetObjectLockConfiguration": ("bucket", lambda t: _b(t, "object-lock"),
                                   {404: "ObjectLockConfigurationNotFoundError"}),
    "PutObjectLockConfiguration": ("bucket", lambda t: _body(
        "PUT", f"/{t.bucket}", (("object-lock", ""),), LOCK_CONFIG),
        {409: "InvalidBucketState"}),
    "GetObjectRetention": ("object", lambda t: Raw("GET", f"/{t.bucket}/{t.key}",
                                                   (("retention", ""),)),
                           {400: "InvalidRequest"}),
    "PutObjectRetention": ("object", lambda t: _body("PUT", f"/{t.bucket}/{t.key}",
                                                     (("retention", ""),), RETENTION),
                           {400: "InvalidRequest"}),
    "GetObjectLegalHold": ("object", lambda t: Raw("GET", f"/{t.bucket}/{t.key}",
                                                   (("legal-hold", ""),)),
                           {400: "InvalidRequest"}),
    "PutObjectLegalHold": ("object", lambda t: _body("PUT", f"/{t.bucket}/{t.key}",
                                                     (("legal-hold", ""),), LEGAL_HOLD),
                           {400: "InvalidRequest"}),
}


def _config_op(op: str) -> tuple[str, Callable[[Target], Raw], Ok]:
    """The bucket sub-resources answered as unconfigured: method and sub-resource from
    botocore's model, the allowed answer from what 'unconfigured' means."""
    http = botocore.session.get_session().get_service_model("s3").operation_model(op).http
    sub = http["requestUri"].split("?", 1)[1]
    ok: Ok = ({404: bucket_config.MISSING[op]} if op in bucket_config.MISSING
              else {204: None} if http["method"] == "DELETE" else {200: None})
    return ("bucket", lambda t: Raw(http["method"], f"/{t.bucket}", ((sub, ""),)), ok)


OPS.update({op: _config_op(op) for op in bucket_config.HANDLERS})

# Where objectstore differs from AWS's documented semantics: op -> (the requirements
# objectstore applies instead, why that is wrong). A case whose answer differs between the
# two is a strict xfail: it fails today, and fixing the server makes it pass (then remove
# the entry). Found by this matrix, 2026-11-30.
DIVERGENCES: dict[str, tuple[tuple[Requirement, ...], str]] = {}

# Symbolic accounts: the rule table needs only who is the same as whom.
ACCOUNT = {"owner": "A", "same-account": "A", "other-account": "B", "admin": "C",
           "presigned-by-owner": "A", "presigned-by-other": "B", "anonymous": None}
OBJECT_TARGETS = ([(a, a, "owner") for a in CANNED_ACLS] +
                  [("private", a, "owner") for a in CANNED_ACLS if a != "private"] +
                  [("public-read-write", a, "other-account") for a in CANNED_ACLS])


def context(who: str, bucket_acl: str | None, object_acl: str | None = None,
            writer: str | None = None) -> Context:
    p = Principal(who, ACCOUNT[who], admin=who == "admin", presigned=who in SIGNER)
    if bucket_acl is None:
        return Context(p)
    if bucket_acl == "missing":
        return Context(p, Resource("A", "private"), Resource("A", "private"),
                       bucket_exists=False)
    obj = Resource(ACCOUNT[writer], object_acl) if writer and object_acl else None
    return Context(p, Resource("A", bucket_acl), obj, upload_initiator="A")


def expected(op: str, ctx: Context) -> tuple[str, str | None]:
    """(what AWS answers, why objectstore answers otherwise, or None)."""
    want = decide(op, ctx)
    if op in DIVERGENCES:
        reqs, reason = DIVERGENCES[op]
        if decide_with(op, ctx, reqs) != want:
            return want, reason
    return want, None


def test_every_implemented_operation_is_in_the_matrix() -> None:
    implemented = set(HANDLERS)
    in_matrix = {op.split(":")[0] for op in OPS}
    assert implemented <= in_matrix, sorted(implemented - in_matrix)


class World:
    def __init__(self, server: Server) -> None:
        self.server = server
        owner = server.new_user()
        self.creds: dict[str, Creds] = {
            "owner": owner,
            "same-account": server.new_user(account=owner.account),
            "other-account": server.new_user(),
            "admin": server.new_user(admin=True),
        }
        self.http = requests.Session()
        self.clients = {p: server.client(c) for p, c in self.creds.items()}
        self.buckets: dict[str, Target] = {}
        self.objects: list[Target] = []
        self._post_fields: dict[tuple[str, str], dict[str, str]] = {}
        self.created: list[tuple[str, str]] = []
        self.missing = Target(f"authz-missing-{uuid.uuid4().hex[:8]}", "missing",
                              "no-such-upload", "obj", "private", "owner")
        s3, other = self.clients["owner"], self.clients["other-account"]
        for acl in CANNED_ACLS:
            name = f"authz-{acl[:12]}-{uuid.uuid4().hex[:8]}"
            s3.create_bucket(Bucket=name, ACL=acl)
            upload = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
            s3.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")
            self.buckets[acl] = Target(name, acl, upload)
            s3.put_object(Bucket=name, Key="obj", Body=b"data", ACL=acl)
            self.objects.append(Target(name, acl, upload, "obj", acl, "owner"))
        private, prw = self.buckets["private"], self.buckets["public-read-write"]
        for acl in CANNED_ACLS:
            if acl != "private":
                s3.put_object(Bucket=private.bucket, Key=f"obj-{acl}", Body=b"data", ACL=acl)
                self.objects.append(Target(private.bucket, "private", private.upload_id,
                                           f"obj-{acl}", acl, "owner"))
            other.put_object(Bucket=prw.bucket, Key=f"by-other-{acl}", Body=b"data", ACL=acl)
            self.objects.append(Target(prw.bucket, "public-read-write", prw.upload_id,
                                       f"by-other-{acl}", acl, "other-account"))

    def send(self, who: str, raw: Raw) -> requests.Response:
        if raw.method == "POST" and raw.query == () and "/" not in raw.path[1:]:
            return self._post_object(who, raw.path[1:])
        qs = "&".join(f"{quote(k, safe='-_.~')}" + (f"={quote(v, safe='-_.~')}" if v else "")
                      for k, v in raw.query)
        url = self.server.endpoint + quote(raw.path) + (f"?{qs}" if qs else "")
        headers = dict(raw.headers)
        if who != "anonymous":
            c = self.creds[SIGNER.get(who, who)]
            creds = Credentials(c.access_key, c.secret_key)
            # presigned: UNSIGNED-PAYLOAD, so the body is not part of what is signed
            req = AWSRequest(method=raw.method, url=url, headers=headers,
                             data=b"" if who in SIGNER else raw.body)
            if who in SIGNER:
                S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=900).add_auth(req)
            else:
                S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
            url, headers = req.url, dict(req.headers.items())
        return self.http.request(raw.method, url, headers=headers, data=raw.body,
                                 allow_redirects=False, timeout=30)

    def _post_object(self, who: str, bucket: str) -> requests.Response:
        """POST Object: a form signed by the principal's key (a browser form is itself a
        presigned request); anonymous forms carry no policy."""
        if who == "anonymous":
            fields = {"key": "posted"}
        else:
            signer = SIGNER.get(who, who)
            if (signer, bucket) not in self._post_fields:
                post = self.clients[signer].generate_presigned_post(bucket, "posted",
                                                                     ExpiresIn=900)
                self._post_fields[(signer, bucket)] = post["fields"]
            fields = self._post_fields[(signer, bucket)]
        return self.http.post(f"{self.server.endpoint}/{bucket}", data=fields,
                              files={"file": ("f.txt", b"posted")}, timeout=30)

    def cleanup(self) -> None:
        for who, name in self.created:
            self.send(who, Raw("DELETE", f"/{name}"))


@pytest.fixture(scope="module")
def world(server: Server) -> Iterator[World]:
    w = World(server)
    yield w
    w.cleanup()


def _cases() -> Iterator[Any]:
    for op, (kind, _, _) in OPS.items():
        targets: list[tuple[str | None, str | None, str | None]] = (
            [(None, None, None)] if kind == "global" else
            [(a, None, None) for a in CANNED_ACLS] if kind == "bucket" else
            list(OBJECT_TARGETS))  # type: ignore[arg-type]
        if kind != "global":
            targets.append(("missing", None, None))
        for bucket_acl, object_acl, writer in targets:
            for who in PRINCIPALS:
                if op == "PostObject" and who in SIGNER:
                    continue  # a POST form is signed by its policy: presigning is moot
                want, divergence = expected(op, context(who, bucket_acl, object_acl, writer))
                label = ("" if bucket_acl is None else f"bucket={bucket_acl}" if not writer
                         else f"bucket={bucket_acl},object={object_acl},by={writer}")
                case_id = f"{op}-{who}-{label or 'service'}"
                marks = [pytest.mark.xfail(strict=True, reason=divergence)] if divergence \
                    else []
                yield pytest.param(op, who, label, want, id=case_id, marks=marks)


CASES = list(_cases())


def test_matrix_size() -> None:
    """Reported in docs/reliability.md."""
    assert len(CASES) > 3000


def test_every_operation_is_both_allowed_and_denied_somewhere() -> None:
    """The table is not vacuous: each operation has cases expected to succeed and cases
    expected to be refused."""
    answers: dict[str, set[str]] = {}
    for case in CASES:
        op, _, _, want = case.values
        answers.setdefault(op, set()).add(want)
    for op, seen in answers.items():
        assert {"allow", "deny"} <= seen, (op, seen)


def _target(world: World, label: str) -> Target | None:
    if not label:
        return None
    if label == "bucket=missing":
        return world.missing
    for t in [*world.buckets.values(), *world.objects]:
        if t.label == label:
            return t
    raise LookupError(label)


def _code(resp: requests.Response) -> str | None:
    m = re.search(rb"<Code>([^<]*)</Code>", resp.content)
    return m.group(1).decode() if m else None


def outcome(op: str, resp: requests.Response, ok: Ok) -> str:
    """allow | deny | what else came back."""
    code = _code(resp)
    if resp.status_code == 403 and (code in ("AccessDenied", None)):
        return "deny"
    if op == "DeleteObjects" and resp.status_code == 200 and code == "AccessDenied":
        return "deny"  # per-key AccessDenied errors in a 200 answer, as S3 does
    if resp.status_code in ok and (ok[resp.status_code] in (None, code)) and \
            not (op == "DeleteObjects" and b"<Error>" in resp.content):
        return "allow"
    return f"{resp.status_code} {code}"


@pytest.mark.parametrize(("op", "who", "label", "want"), CASES)
def test_matrix(world: World, op: str, who: str, label: str, want: str) -> None:
    _, build, ok = OPS[op]
    t = _target(world, label)
    raw = build(t)  # type: ignore[arg-type]
    if t is not None and ("uploadId", FRESH_UPLOAD) in raw.query:
        upload_id = t.upload_id if t is world.missing else world.clients[
            "owner"].create_multipart_upload(Bucket=t.bucket, Key="mp-abort")["UploadId"]
        raw = Raw(raw.method, raw.path, (("uploadId", upload_id),), raw.headers, raw.body)
    resp = world.send(who, raw)
    got = outcome(op, resp, ok)
    if resp.status_code == 404 and (_code(resp) == "NoSuchBucket" or (
            raw.method == "HEAD" and t is world.missing)):
        got = "NoSuchBucket"  # (a HEAD answer has no body to name the code)
    if op == "CreateBucket" and got == "allow":
        world.created.append((who, raw.path[1:]))
    assert got == want, (f"{op} by {who} on {label or 'the service'}: expected "
                         f"{want}, got {got}: {resp.content[:300]!r}")
