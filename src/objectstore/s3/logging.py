"""Server access logging (pure): the BucketLoggingStatus document of Put/GetBucketLogging,
the log record line of "Amazon S3 server access log format", the operation names of that
format, and the key names of delivered log objects.

A bucket's configuration is stored as JSON (``Bucket.logging``)::

    {"bucket": target bucket, "prefix": target prefix,
     "grants": [[kind, value, permission], ...],   # TargetGrants (kind as in s3.acl)
     "format": "simple" | "partitioned", "date_source": "EventTime" | "DeliveryTime"}
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final, Mapping
from urllib.parse import quote

from objectstore.s3 import xml
from objectstore.s3.acl import GROUPS, Grant
from objectstore.s3.errors import S3Error

LOG_PERMISSIONS: Final = ("FULL_CONTROL", "READ", "WRITE")  # BucketLogsPermission
DATE_SOURCES: Final = ("EventTime", "DeliveryTime")
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
FIELDS: Final = 26  # the record fields, bucket owner .. aclRequired


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    target_bucket: str
    target_prefix: str
    grants: tuple[Grant, ...] = ()
    partitioned: bool = False  # PartitionedPrefix (else SimplePrefix)
    date_source: str = "EventTime"  # of PartitionedPrefix

    def to_json(self) -> str:
        return json.dumps({"bucket": self.target_bucket, "prefix": self.target_prefix,
                           "grants": [[g.kind, g.value, g.permission] for g in self.grants],
                           "format": "partitioned" if self.partitioned else "simple",
                           "date_source": self.date_source}, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> LoggingConfig:
        d = json.loads(text)
        return LoggingConfig(d["bucket"], d["prefix"],
                             tuple(Grant(k, v, p) for k, v, p in d.get("grants", ())),
                             d.get("format") == "partitioned",
                             d.get("date_source", "EventTime"))


def from_json(text: str | None) -> LoggingConfig | None:
    return LoggingConfig.from_json(text) if text else None


# ---------------------------------------------------------------- the XML document

def parse(body: bytes, resolve_email: Mapping[str, str]) -> LoggingConfig | None:
    """A PutBucketLogging body; None for an empty BucketLoggingStatus (logging off).
    ``resolve_email``: lower-case email -> canonical id (AmazonCustomerByEmail grantees)."""
    root = xml.parse(body)
    if xml.local(root.tag) != "BucketLoggingStatus":
        raise S3Error("MalformedXML")
    enabled = xml.child(root, "LoggingEnabled")
    if enabled is None:
        return None
    bucket = (xml.text(enabled, "TargetBucket") or "").strip()
    prefix = xml.text(enabled, "TargetPrefix")
    if not bucket or prefix is None:
        raise S3Error("MalformedXML")
    grants: list[Grant] = []
    node = xml.child(enabled, "TargetGrants")
    if node is not None:
        grants = [_grant(g, resolve_email) for g in xml.children(node, "Grant")]
    partitioned, source = _key_format(xml.child(enabled, "TargetObjectKeyFormat"))
    return LoggingConfig(bucket, prefix, tuple(grants), partitioned, source)


def _grant(node: ET.Element, resolve_email: Mapping[str, str]) -> Grant:
    grantee = xml.child(node, "Grantee")
    perm = (xml.text(node, "Permission") or "").strip()
    if grantee is None or perm not in LOG_PERMISSIONS:
        raise S3Error("MalformedXML")
    kind = grantee.get(f"{{{XSI}}}type") or ""
    if kind == "CanonicalUser":
        gid = (xml.text(grantee, "ID") or "").strip()
        if not gid:
            raise S3Error("InvalidArgument", ArgumentName="CanonicalUser/ID", ArgumentValue="")
        return Grant("CanonicalUser", gid, perm)
    if kind == "Group":
        uri = (xml.text(grantee, "URI") or "").strip()
        if uri not in GROUPS:
            raise S3Error("InvalidArgument", "Invalid group uri", ArgumentName="Group/URI",
                          ArgumentValue=uri)
        return Grant("Group", uri, perm)
    if kind == "AmazonCustomerByEmail":
        email = (xml.text(grantee, "EmailAddress") or "").strip()
        account = resolve_email.get(email.lower())
        if account is None:
            raise S3Error("UnresolvableGrantByEmailAddress", Email=email)
        return Grant("CanonicalUser", account, perm)
    raise S3Error("MalformedXML")


def _key_format(node: ET.Element | None) -> tuple[bool, str]:
    """(partitioned, PartitionDateSource) of a TargetObjectKeyFormat (exactly one of
    SimplePrefix / PartitionedPrefix)."""
    if node is None:
        return False, "EventTime"
    simple = xml.child(node, "SimplePrefix")
    part = xml.child(node, "PartitionedPrefix")
    if (simple is None) == (part is None):
        raise S3Error("MalformedXML")
    if part is None:
        return False, "EventTime"
    source = xml.text(part, "PartitionDateSource")
    if source is None:
        return True, "EventTime"
    if source.strip() not in DATE_SOURCES:
        raise S3Error("MalformedXML")
    return True, source.strip()


def render(config: LoggingConfig | None, names: Mapping[str, str]) -> bytes:
    """GetBucketLogging's document (``names``: canonical id -> display name)."""
    if config is None:
        return xml.doc("BucketLoggingStatus", "")
    inner = xml.el("TargetBucket", config.target_bucket)
    if config.grants:
        grants = [xml.grant(g.kind, g.value, g.permission, names) for g in config.grants]
        inner += f"<TargetGrants>{''.join(grants)}</TargetGrants>"
    inner += xml.el("TargetPrefix", config.target_prefix)
    if config.partitioned:
        fmt = ("<PartitionedPrefix>" + xml.el("PartitionDateSource", config.date_source)
               + "</PartitionedPrefix>")
    else:
        fmt = "<SimplePrefix></SimplePrefix>"
    inner += f"<TargetObjectKeyFormat>{fmt}</TargetObjectKeyFormat>"
    return xml.doc("BucketLoggingStatus", f"<LoggingEnabled>{inner}</LoggingEnabled>")


# ---------------------------------------------------------------- operation names

# S3 operation -> the Operation field (REST.<method>.<resource>) where it is not
# the generic one (see operation()).
OPERATIONS: Final[Mapping[str, str]] = {
    "GetObject": "REST.GET.OBJECT",
    "HeadObject": "REST.HEAD.OBJECT",
    "PutObject": "REST.PUT.OBJECT",
    "DeleteObject": "REST.DELETE.OBJECT",
    "CopyObject": "REST.COPY.OBJECT",
    "PostObject": "REST.POST.OBJECT",
    "ListObjects": "REST.GET.BUCKET",
    "ListObjectsV2": "REST.GET.BUCKET",
    "ListObjectVersions": "REST.GET.BUCKETVERSIONS",
    "ListBuckets": "REST.GET.SERVICE",
    "CreateBucket": "REST.PUT.BUCKET",
    "DeleteBucket": "REST.DELETE.BUCKET",
    "HeadBucket": "REST.HEAD.BUCKET",
    "GetBucketAcl": "REST.GET.ACL",
    "PutBucketAcl": "REST.PUT.ACL",
    "GetObjectAcl": "REST.GET.ACL",
    "PutObjectAcl": "REST.PUT.ACL",
    "DeleteObjects": "REST.POST.MULTI_OBJECT_DELETE",
    "CreateMultipartUpload": "REST.POST.UPLOADS",
    "UploadPart": "REST.PUT.PART",
    "UploadPartCopy": "REST.COPY.PART",
    "CompleteMultipartUpload": "REST.POST.UPLOAD",
    "AbortMultipartUpload": "REST.DELETE.UPLOAD",
    "ListParts": "REST.GET.UPLOAD",
    "ListMultipartUploads": "REST.GET.UPLOADS",
    "GetBucketLogging": "REST.GET.LOGGING_STATUS",
    "PutBucketLogging": "REST.PUT.LOGGING_STATUS",
    "GetBucketPolicy": "REST.GET.BUCKETPOLICY",
    "PutBucketPolicy": "REST.PUT.BUCKETPOLICY",
    "DeleteBucketPolicy": "REST.DELETE.BUCKETPOLICY",
    "GetBucketPolicyStatus": "REST.GET.POLICY_STATUS",
    "GetBucketLifecycleConfiguration": "REST.GET.LIFECYCLE",
    "PutBucketLifecycleConfiguration": "REST.PUT.LIFECYCLE",
    "DeleteBucketLifecycle": "REST.DELETE.LIFECYCLE",
    "GetBucketNotificationConfiguration": "REST.GET.NOTIFICATION",
    "PutBucketNotificationConfiguration": "REST.PUT.NOTIFICATION",
    "GetObjectLockConfiguration": "REST.GET.OBJECT_LOCK_CONFIGURATION",
    "PutObjectLockConfiguration": "REST.PUT.OBJECT_LOCK_CONFIGURATION",
    "GetBucketAccelerateConfiguration": "REST.GET.ACCELERATE",
    "PutBucketAccelerateConfiguration": "REST.PUT.ACCELERATE",
    "GetBucketRequestPayment": "REST.GET.REQUEST_PAYMENT",
    "PutBucketRequestPayment": "REST.PUT.REQUEST_PAYMENT",
    "GetPublicAccessBlock": "REST.GET.PUBLIC_ACCESS_BLOCK",
    "PutPublicAccessBlock": "REST.PUT.PUBLIC_ACCESS_BLOCK",
    "DeletePublicAccessBlock": "REST.DELETE.PUBLIC_ACCESS_BLOCK",
    "GetObjectRetention": "REST.GET.RETENTION",
    "PutObjectRetention": "REST.PUT.RETENTION",
    "GetObjectLegalHold": "REST.GET.LEGAL_HOLD",
    "PutObjectLegalHold": "REST.PUT.LEGAL_HOLD",
    "Preflight": "REST.OPTIONS.PREFLIGHT",
}
_VERBS: Final = ("Get", "Put", "Delete", "Head", "List", "Post")


def operation(op: str, method: str) -> str:
    """The Operation field of a request S3 names ``op``: REST.GET.OBJECT_TAGGING for
    GetObjectTagging, REST.PUT.CORS for PutBucketCors, and so on."""
    known = OPERATIONS.get(op)
    if known is not None:
        return known
    if op == "Website":  # a request to the website endpoint
        return f"WEBSITE.{method.upper()}.OBJECT"
    rest = op
    for verb in _VERBS:
        if rest.startswith(verb):
            rest = rest[len(verb):]
            break
    if rest.startswith("Bucket") and len(rest) > 6:
        rest = rest[6:]
    if rest.endswith("Configuration") and len(rest) > 13:
        rest = rest[:-13]
    snake = "".join(("_" + c if c.isupper() and i else c) for i, c in enumerate(rest))
    return f"REST.{method.upper()}.{snake.upper().replace('-', '_') or 'UNKNOWN'}"


# ---------------------------------------------------------------- records

@dataclass(frozen=True, slots=True)
class Record:
    """One request, as its log line tells it (None / "" fields are written as "-")."""

    bucket_owner: str
    bucket: str
    time: float  # when the request was received (epoch seconds)
    remote_ip: str | None
    requester: str | None
    request_id: str
    operation: str
    key: str | None
    request_uri: str  # "GET /bucket/key?acl HTTP/1.1"
    status: int
    error_code: str | None
    bytes_sent: int
    object_size: int | None
    total_ms: int
    turnaround_ms: int | None
    referer: str | None
    user_agent: str | None
    version_id: str | None
    host_id: str
    sig_version: str | None  # SigV2 | SigV4
    cipher_suite: str | None
    auth_type: str | None  # AuthHeader | QueryString | Upload
    host_header: str | None
    tls_version: str | None
    access_point_arn: str | None = None
    acl_required: bool = False


MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")


def log_time(t: float) -> str:
    """[06/Feb/2019:00:00:38 +0000]"""
    g = time.gmtime(t)
    return (f"[{g.tm_mday:02d}/{MONTHS[g.tm_mon - 1]}/{g.tm_year:04d}:"
            f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} +0000]")


def _plain(value: object) -> str:
    """An unquoted field: "-" when empty; nothing that would split it (space, quote,
    bracket) or the line."""
    if value is None or value == "":
        return "-"
    text = str(value)
    if text.isascii() and text.isprintable() and not any(c in text for c in ' "[]\\'):
        return text
    return quote(text, safe="/:+=-_.~!$&'()*,;@%")


def _quoted(value: str | None) -> str:
    """A quoted field ("-" when empty): quotes and backslashes escaped, control characters
    written as \\xNN, so a client cannot forge a record or break the line."""
    if not value:
        return '"-"'
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif not c.isprintable():
            out.append(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _num(n: int | None) -> str:
    return "-" if n is None or n == 0 else str(n)


def format_record(r: Record) -> str:
    """The record's line (no newline), fields as "Amazon S3 server access log format"."""
    key = "-" if not r.key else quote(r.key, safe="/")
    return " ".join((
        _plain(r.bucket_owner), _plain(r.bucket), log_time(r.time), _plain(r.remote_ip),
        _plain(r.requester), _plain(r.request_id), _plain(r.operation), key,
        _quoted(r.request_uri), str(r.status), _plain(r.error_code), _num(r.bytes_sent),
        "-" if r.object_size is None else str(r.object_size), str(r.total_ms),
        "-" if r.turnaround_ms is None else str(r.turnaround_ms), _quoted(r.referer),
        _quoted(r.user_agent), _plain(r.version_id), _plain(r.host_id),
        _plain(r.sig_version), _plain(r.cipher_suite), _plain(r.auth_type),
        _plain(r.host_header), _plain(r.tls_version), _plain(r.access_point_arn),
        "Yes" if r.acl_required else "-",
    ))


def auth_kind(authorization: str | None, query_names: set[str]) -> tuple[str | None,
                                                                          str | None]:
    """(SigVersion, AuthType) of a request: its Authorization header or presigned query."""
    if authorization is not None:
        if authorization.startswith("AWS4-"):
            return "SigV4", "AuthHeader"
        if authorization.startswith("AWS "):
            return "SigV2", "AuthHeader"
        return None, "AuthHeader"
    if "X-Amz-Credential" in query_names or "X-Amz-Signature" in query_names:
        return "SigV4", "QueryString"
    if "Signature" in query_names:
        return "SigV2", "QueryString"
    return None, None


# ---------------------------------------------------------------- log object names

def object_key(config: LoggingConfig, *, source_account: str, source_region: str,
               source_bucket: str, delivered: float, first_event: float,
               unique: str) -> str:
    """The key of a delivered log object.
    SimplePrefix: [TargetPrefix]YYYY-mm-DD-HH-MM-SS-UniqueString; PartitionedPrefix:
    [TargetPrefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/YYYY/MM/DD/
    YYYY-mm-DD-HH-MM-SS-UniqueString (the date from the delivery time or, EventTime, the
    first record's)."""
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(delivered))
    name = f"{stamp}-{unique}"
    if not config.partitioned:
        return config.target_prefix + name
    day = time.strftime("%Y/%m/%d", time.gmtime(
        delivered if config.date_source == "DeliveryTime" else first_event))
    return (f"{config.target_prefix}{source_account}/{source_region}/{source_bucket}/"
            f"{day}/{name}")
