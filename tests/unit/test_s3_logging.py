"""s3/logging.py: the BucketLoggingStatus document, the record line of "Amazon S3 server
access log format", operation names and log object key names."""

from __future__ import annotations

import calendar
import re
import shlex

import pytest

from objectstore.s3 import logging as L
from objectstore.s3.acl import LOG_DELIVERY, Grant
from objectstore.s3.errors import S3Error

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def doc(inner: str) -> bytes:
    return f"<BucketLoggingStatus {NS}>{inner}</BucketLoggingStatus>".encode()


def enabled(inner: str) -> bytes:
    return doc(f"<LoggingEnabled>{inner}</LoggingEnabled>")


def parse(body: bytes) -> L.LoggingConfig | None:
    return L.parse(body, {"who@example.com": OWNER})


def code(body: bytes) -> str:
    with pytest.raises(S3Error) as exc:
        parse(body)
    return exc.value.code


# ---------------------------------------------------------------- the document

def test_empty_status_disables() -> None:
    assert parse(doc("")) is None
    assert parse(b"<BucketLoggingStatus/>") is None


def test_minimal_and_defaults() -> None:
    c = parse(enabled("<TargetBucket>logs</TargetBucket><TargetPrefix>p/</TargetPrefix>"))
    assert c == L.LoggingConfig("logs", "p/")
    assert not c.partitioned and c.grants == ()


def test_key_formats() -> None:
    c = parse(enabled("<TargetBucket>l</TargetBucket><TargetPrefix/>"
                      "<TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>"))
    assert c is not None and not c.partitioned and c.target_prefix == ""
    c = parse(enabled("<TargetBucket>l</TargetBucket><TargetPrefix>x</TargetPrefix>"
                      "<TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>"
                      "DeliveryTime</PartitionDateSource></PartitionedPrefix>"
                      "</TargetObjectKeyFormat>"))
    assert c is not None and c.partitioned and c.date_source == "DeliveryTime"


@pytest.mark.parametrize("body", [
    b"not xml",
    b"<LoggingStatus/>",  # wrong root
    enabled("<TargetPrefix>p</TargetPrefix>"),  # no TargetBucket
    enabled("<TargetBucket>l</TargetBucket>"),  # no TargetPrefix
    enabled("<TargetBucket>l</TargetBucket><TargetPrefix/><TargetObjectKeyFormat>"
            "<PartitionedPrefix><PartitionDateSource>kaboom</PartitionDateSource>"
            "</PartitionedPrefix></TargetObjectKeyFormat>"),
    enabled("<TargetBucket>l</TargetBucket><TargetPrefix/><TargetObjectKeyFormat>"
            "<SimplePrefix/><PartitionedPrefix/></TargetObjectKeyFormat>"),  # both
    enabled("<TargetBucket>l</TargetBucket><TargetPrefix/><TargetObjectKeyFormat/>"),
    enabled("<TargetBucket>l</TargetBucket><TargetPrefix/><TargetGrants><Grant>"
            f'<Grantee {XSI} xsi:type="CanonicalUser"><ID>{OWNER}</ID></Grantee>'
            "<Permission>READ_ACP</Permission></Grant></TargetGrants>"),  # not a log perm
])
def test_malformed(body: bytes) -> None:
    assert code(body) == "MalformedXML"


def test_target_grants() -> None:
    c = parse(enabled(
        "<TargetBucket>l</TargetBucket><TargetGrants>"
        f'<Grant><Grantee {XSI} xsi:type="CanonicalUser"><ID>{OWNER}</ID></Grantee>'
        "<Permission>FULL_CONTROL</Permission></Grant>"
        f'<Grant><Grantee {XSI} xsi:type="Group"><URI>{LOG_DELIVERY}</URI></Grantee>'
        "<Permission>READ</Permission></Grant>"
        f'<Grant><Grantee {XSI} xsi:type="AmazonCustomerByEmail"><EmailAddress>'
        "Who@Example.com</EmailAddress></Grantee><Permission>WRITE</Permission></Grant>"
        "</TargetGrants><TargetPrefix>p</TargetPrefix>"))
    assert c is not None
    assert c.grants == (Grant("CanonicalUser", OWNER, "FULL_CONTROL"),
                        Grant("Group", LOG_DELIVERY, "READ"),
                        Grant("CanonicalUser", OWNER, "WRITE"))
    bad_email = enabled(
        "<TargetBucket>l</TargetBucket><TargetPrefix/><TargetGrants><Grant>"
        f'<Grantee {XSI} xsi:type="AmazonCustomerByEmail"><EmailAddress>nobody@x</EmailAddress>'
        "</Grantee><Permission>READ</Permission></Grant></TargetGrants>")
    assert code(bad_email) == "UnresolvableGrantByEmailAddress"


def test_json_and_render_round_trip() -> None:
    c = L.LoggingConfig("logs", "p/", (Grant("CanonicalUser", OWNER, "READ"),), True,
                        "DeliveryTime")
    assert L.LoggingConfig.from_json(c.to_json()) == c
    out = L.render(c, {OWNER: "main"}).decode()
    assert re.search(r"<LoggingEnabled><TargetBucket>logs</TargetBucket><TargetGrants><Grant>"
                     r".*<ID>" + OWNER + r"</ID><DisplayName>main</DisplayName></Grantee>"
                     r"<Permission>READ</Permission></Grant></TargetGrants>"
                     r"<TargetPrefix>p/</TargetPrefix><TargetObjectKeyFormat>"
                     r"<PartitionedPrefix><PartitionDateSource>DeliveryTime"
                     r"</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>"
                     r"</LoggingEnabled>", out)
    assert parse(L.render(c, {})) == c  # what GET answers, PUT takes back
    assert "<LoggingEnabled>" not in L.render(None, {}).decode()


# ---------------------------------------------------------------- records

def record(**kw: object) -> L.Record:
    base: dict[str, object] = dict(
        bucket_owner=OWNER, bucket="amzn-s3-demo-bucket1",
        time=calendar.timegm((2019, 2, 6, 0, 0, 38)), remote_ip="192.0.2.3",
        requester=OWNER, request_id="3E57427F3EXAMPLE", operation="REST.GET.VERSIONING",
        key=None, request_uri="GET /amzn-s3-demo-bucket1?versioning HTTP/1.1", status=200,
        error_code=None, bytes_sent=113, object_size=None, total_ms=7, turnaround_ms=None,
        referer=None, user_agent="S3Console/0.4", version_id=None,
        host_id="s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
        sig_version="SigV4", cipher_suite="ECDHE-RSA-AES128-GCM-SHA256",
        auth_type="AuthHeader", host_header="amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com",
        tls_version="TLSV1.2",
        access_point_arn="arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP",
        acl_required=True)
    base.update(kw)
    return L.Record(**base)  # type: ignore[arg-type]


def test_record_matches_aws_example() -> None:
    """The first record of the example in AWS's "Amazon S3 server access log format"."""
    assert L.format_record(record()) == (
        f"{OWNER} amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {OWNER} "
        '3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning '
        'HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - '
        "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
        "ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com "
        "TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes")


def fields(line: str) -> list[str]:
    out = shlex.split(line.replace("[", '"').replace("]", '"'))
    assert len(out) == L.FIELDS
    return out


def test_record_fields_cannot_be_forged() -> None:
    """A client's User-Agent, Referer, key or URI cannot add fields or lines."""
    line = L.format_record(record(
        user_agent='evil" 200 "x\nforged record', referer="a\\b\"c", key="dir/a b\n[x]",
        request_uri='GET /b/"x" HTTP/1.1', requester=None, acl_required=False,
        remote_ip=None, object_size=0, bytes_sent=0, error_code="NoSuchKey", status=404))
    assert "\n" not in line
    f = fields(line)
    assert f[16] == 'evil" 200 "x\\x0aforged record'
    assert f[15] == 'a\\b"c'
    assert f[7] == "dir/a%20b%0A%5Bx%5D"
    assert f[8] == 'GET /b/"x" HTTP/1.1'
    assert (f[3], f[4], f[9], f[10], f[11], f[12], f[25]) == ("-", "-", "404", "NoSuchKey",
                                                            "-", "0", "-")


def test_auth_kind() -> None:
    assert L.auth_kind("AWS4-HMAC-SHA256 Credential=...", set()) == ("SigV4", "AuthHeader")
    assert L.auth_kind("AWS AKID:sig", set()) == ("SigV2", "AuthHeader")
    assert L.auth_kind(None, {"X-Amz-Credential", "X-Amz-Signature"}) == ("SigV4",
                                                                          "QueryString")
    assert L.auth_kind(None, {"AWSAccessKeyId", "Signature"}) == ("SigV2", "QueryString")
    assert L.auth_kind(None, set()) == (None, None)


@pytest.mark.parametrize("op,method,name", [
    ("GetObject", "GET", "REST.GET.OBJECT"),
    ("ListObjectsV2", "GET", "REST.GET.BUCKET"),
    ("CompleteMultipartUpload", "POST", "REST.POST.UPLOAD"),
    ("CreateMultipartUpload", "POST", "REST.POST.UPLOADS"),
    ("UploadPart", "PUT", "REST.PUT.PART"),
    ("DeleteObjects", "POST", "REST.POST.MULTI_OBJECT_DELETE"),
    ("GetBucketLogging", "GET", "REST.GET.LOGGING_STATUS"),
    ("PutObjectTagging", "PUT", "REST.PUT.OBJECT_TAGGING"),
    ("DeleteObjectTagging", "DELETE", "REST.DELETE.OBJECT_TAGGING"),
    ("PutObjectRetention", "PUT", "REST.PUT.RETENTION"),
    ("PutObjectLegalHold", "PUT", "REST.PUT.LEGAL_HOLD"),
    ("PutObjectAcl", "PUT", "REST.PUT.ACL"),
    ("PutBucketCors", "PUT", "REST.PUT.CORS"),
    ("GetBucketWebsite", "GET", "REST.GET.WEBSITE"),
    ("PutBucketLifecycleConfiguration", "PUT", "REST.PUT.LIFECYCLE"),
    ("GetBucketVersioning", "GET", "REST.GET.VERSIONING"),
])
def test_operation_names(op: str, method: str, name: str) -> None:
    assert L.operation(op, method) == name


# ---------------------------------------------------------------- key names

DELIVERED = calendar.timegm((2024, 3, 9, 23, 59, 58))
EVENT = calendar.timegm((2024, 3, 8, 22, 1, 2))


def key(config: L.LoggingConfig) -> str:
    return L.object_key(config, source_account="123456789012", source_region="us-east-1",
                        source_bucket="src", delivered=DELIVERED, first_event=EVENT,
                        unique="0123456789ABCDEF")


def test_simple_prefix_key() -> None:
    assert key(L.LoggingConfig("t", "logs/")) == "logs/2024-03-09-23-59-58-0123456789ABCDEF"
    assert key(L.LoggingConfig("t", "")) == "2024-03-09-23-59-58-0123456789ABCDEF"


def test_partitioned_prefix_key() -> None:
    assert key(L.LoggingConfig("t", "logs/", partitioned=True,
                               date_source="DeliveryTime")) == \
        "logs/123456789012/us-east-1/src/2024/03/09/2024-03-09-23-59-58-0123456789ABCDEF"
    assert key(L.LoggingConfig("t", "", partitioned=True, date_source="EventTime")) == \
        "123456789012/us-east-1/src/2024/03/08/2024-03-09-23-59-58-0123456789ABCDEF"
