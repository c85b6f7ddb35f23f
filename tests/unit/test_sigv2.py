"""SigV2 (HmacV1): botocore's HmacV1Auth / HmacV1QueryAuth as oracles, plus AWS doc examples."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import switch_to_virtual_host_style
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3 import sigv2
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import parse_query, split_host

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_CREDS = Credentials(AK, SK)
DOMAIN = "s3.localhost:3333"


def _server_sts(req: AWSRequest, presigned: bool = False,
                use_date_header: bool = False) -> tuple[sigv2.SigV2Request, str]:
    """Verify as the server would: raw path, decoded query, bucket from the Host header.

    ``use_date_header``: the server's second try (server/auth.py) when both x-amz-date and
    Date are sent, for clients (botocore) that fill the Date line anyway.
    """
    split = urlsplit(req.url)
    headers = {k.lower(): v for k, v in req.headers.items()}
    query = parse_query(split.query)
    if presigned:
        headers.pop("date", None)  # a presigned URL carries no Date header
        claim = sigv2.parse_presigned(dict(query))
    else:
        claim = sigv2.parse_authorization(headers["authorization"])
    bucket = split_host(split.netloc, ("s3.localhost",))
    resource = sigv2.canonical_resource(split.path, bucket, query)
    date = headers["date"] if use_date_header else sigv2.date_line(headers, claim)
    sts = sigv2.string_to_sign(req.method, headers, resource, date_value=date)
    return claim, sts


def _request(method: str, bucket: str, key: str, raw_query: str = "",
             headers: dict[str, str] | None = None, vhost: bool = False,
             data: bytes = b"") -> AWSRequest:
    url = f"http://{DOMAIN}/{bucket}"
    if key:
        url += "/" + quote(key, safe="/~")
    if raw_query:
        url += "?" + raw_query
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=data)
    if vhost:
        # (botocore keeps GetBucketLocation path-style)
        switch_to_virtual_host_style(req, "s3")
    return req


# ------------------------------------------------------------------ AWS documented examples
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html

def test_aws_example_object_get() -> None:
    headers = {"host": "awsexamplebucket1.us-west-1.s3.amazonaws.com",
               "date": "Tue, 27 Mar 2007 19:36:42 +0000"}
    resource = sigv2.canonical_resource("/photos/puppy.jpg", "awsexamplebucket1", ())
    assert resource == "/awsexamplebucket1/photos/puppy.jpg"
    sts = sigv2.string_to_sign("GET", headers, resource,
                               date_value=headers["date"])
    assert sts == ("GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                   "/awsexamplebucket1/photos/puppy.jpg")
    assert sigv2.sign(SK, sts) == "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
    claim = sigv2.parse_authorization(f"AWS {AK}:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
    assert claim == sigv2.SigV2Request(AK, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=", False)
    assert sigv2.verify(claim, SK, sts)
    assert not sigv2.verify(claim, SK, sts.replace("puppy", "kitty"))


def test_aws_example_object_put() -> None:
    # "Object PUT" example from the same page: content-type and content-md5 lines.
    headers = {"content-type": "image/jpeg", "content-length": "94328",
               "date": "Tue, 27 Mar 2007 21:15:45 +0000"}
    resource = sigv2.canonical_resource("/photos/puppy.jpg", "awsexamplebucket1", ())
    sts = sigv2.string_to_sign("PUT", headers, resource, date_value=headers["date"])
    assert sts == ("PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n"
                   "/awsexamplebucket1/photos/puppy.jpg")


def test_aws_example_fetch_acl_path_style_subresource() -> None:
    resource = sigv2.canonical_resource("/awsexamplebucket1/", None, parse_query("acl"))
    assert resource == "/awsexamplebucket1/?acl"
    sts = sigv2.string_to_sign("GET", {}, resource,
                               date_value="Tue, 27 Mar 2007 19:44:46 +0000")
    assert sts == "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl"


def test_aws_example_delete_with_x_amz_date() -> None:
    headers = {"x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000",
               "date": "Tue, 27 Mar 2007 21:20:27 +0000"}
    claim = sigv2.SigV2Request(AK, "x", False)
    assert sigv2.date_line(headers, claim) == ""  # x-amz-date wins; the Date line is empty
    resource = sigv2.canonical_resource("/awsexamplebucket1/photos/puppy.jpg", None, ())
    sts = sigv2.string_to_sign("DELETE", headers, resource, date_value="")
    assert sts == ("DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n"
                   "/awsexamplebucket1/photos/puppy.jpg")


def test_aws_example_upload_with_metadata() -> None:
    headers = {
        "content-type": "application/x-download",
        "content-md5": "4gJE4saaMU4BqNR0kLY+lw==",
        "date": "Tue, 27 Mar 2007 21:06:08 +0000",
        "x-amz-acl": "public-read",
        "x-amz-meta-reviewedby": "joe@example.com,jane@example.com",
        "x-amz-meta-filechecksum": "0x02661779",
        "x-amz-meta-checksumalgorithm": "crc32",
    }
    resource = sigv2.canonical_resource("/db-backup.dat.gz", "static.example.com", ())
    sts = sigv2.string_to_sign("PUT", headers, resource, date_value=headers["date"])
    assert sts == (
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n"
        "Tue, 27 Mar 2007 21:06:08 +0000\n"
        "x-amz-acl:public-read\n"
        "x-amz-meta-checksumalgorithm:crc32\n"
        "x-amz-meta-filechecksum:0x02661779\n"
        "x-amz-meta-reviewedby:joe@example.com,jane@example.com\n"
        "/static.example.com/db-backup.dat.gz"
    )


def test_aws_example_query_string_auth() -> None:
    # "Query string request authentication" example: Expires replaces Date.
    query = parse_query(f"AWSAccessKeyId={AK}&Expires=1141889120"
                        "&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D")
    claim = sigv2.parse_presigned(dict(query))
    assert claim == sigv2.SigV2Request(AK, "vjbyPxybdZaNmGa+yT272YEAiv4=", True, 1141889120)
    resource = sigv2.canonical_resource("/photos/puppy.jpg", "awsexamplebucket1", query)
    sts = sigv2.string_to_sign("GET", {}, resource, date_value=sigv2.date_line({}, claim))
    assert sts == "GET\n\n\n1141889120\n/awsexamplebucket1/photos/puppy.jpg"


# ------------------------------------------------------------------ canonical_resource

@pytest.mark.parametrize("raw_path,bucket,raw_query,expected", [
    ("/", None, "", "/"),
    ("", None, "", "/"),
    ("/b", None, "", "/b"),
    ("/b/", None, "acl", "/b/?acl"),
    ("/", "b", "", "/b/"),
    ("/k", "b", "", "/b/k"),
    ("/k%20x", "b", "", "/b/k%20x"),  # the un-decoded path
    ("/b/k", None, "uploadId=abc&partNumber=2", "/b/k?partNumber=2&uploadId=abc"),
    ("/b/k", None, "uploads", "/b/k?uploads"),
    ("/b/k", None, "versionId=v%2B1&x-id=GetObject&prefix=p", "/b/k?versionId=v+1"),
    ("/b/k", None, "response-content-type=text%2Fplain&acl",
     "/b/k?acl&response-content-type=text/plain"),
    ("/b", None, "delete", "/b?delete"),
    ("/b", None, "max-keys=2&prefix=J", "/b"),
    ("/b/", None, "tagging&versioning", "/b/?tagging&versioning"),
])
def test_canonical_resource(raw_path: str, bucket: str | None, raw_query: str,
                            expected: str) -> None:
    assert sigv2.canonical_resource(raw_path, bucket, parse_query(raw_query)) == expected


# ------------------------------------------------------------------ botocore oracle

_QUERIES = [
    "", "acl", "uploads", "uploadId=2~abc.def_g-h", "partNumber=3&uploadId=abc%2Bdef",
    "tagging", "versioning", "location", "delete", "versions&prefix=a",
    "versionId=3HL4kqtJlcpXroDTDmJ%2Brmsr", "response-content-disposition=attachment%3B%20x",
    "list-type=2&prefix=a%2Fb", "policy", "cors", "lifecycle",
]
keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
meta = st.text(st.sampled_from(list("abcXYZ0-9!#$%&'()*+,./:;<=>?@[]_~")), max_size=20)


@settings(max_examples=60)
@given(key=keys, raw_query=st.sampled_from(_QUERIES), meta_value=meta,
       vhost=st.booleans(), method=st.sampled_from(["GET", "PUT", "DELETE", "HEAD", "POST"]),
       with_key=st.booleans(), x_amz_date=st.booleans())
def test_botocore_hmacv1_accepted(key: str, raw_query: str, meta_value: str, vhost: bool,
                                  method: str, with_key: bool, x_amz_date: bool) -> None:
    headers = {"Content-Type": "text/plain", "Content-MD5": "1B2M2Y8AsgTpgAmYR6hYbg==",
               "X-Amz-Meta-Tag": meta_value, "x-amz-acl": "private"}
    if x_amz_date:
        headers["X-Amz-Date"] = "Tue, 27 Mar 2007 21:20:26 +0000"
    req = _request(method, "examplebucket", key if with_key else "", raw_query, headers,
                   vhost=vhost)
    HmacV1Auth(_CREDS).add_auth(req)
    # botocore fills the Date line even when x-amz-date is present
    claim, sts = _server_sts(req, use_date_header=x_amz_date)
    assert claim.access_key == AK
    assert sigv2.verify(claim, SK, sts), sts
    assert not sigv2.verify(claim, SK + "x", sts)
    assert not sigv2.verify(claim, SK, sts + "x")


@settings(max_examples=40)
@given(key=keys, raw_query=st.sampled_from(_QUERIES), vhost=st.booleans(),
       expires=st.integers(1, 10**6))
def test_botocore_hmacv1_query_accepted(key: str, raw_query: str, vhost: bool,
                                        expires: int) -> None:
    req = _request("GET", "examplebucket", key, raw_query, vhost=vhost)
    HmacV1QueryAuth(_CREDS, expires=expires).add_auth(req)
    claim, sts = _server_sts(req, presigned=True)
    assert claim.presigned and claim.access_key == AK
    assert claim.expires is not None and claim.expires > expires
    assert sigv2.verify(claim, SK, sts), sts
    forged = sigv2.SigV2Request(AK, claim.signature, True, claim.expires + 1)
    sts2 = sts.replace(f"\n{claim.expires}\n", f"\n{claim.expires + 1}\n")
    assert not sigv2.verify(forged, SK, sts2)


def test_botocore_hmacv1_internal_whitespace_in_amz_header() -> None:
    req = _request("PUT", "examplebucket", "k", "", {"X-Amz-Meta-A": "two  spaces"})
    HmacV1Auth(_CREDS).add_auth(req)
    claim, sts = _server_sts(req)
    assert sigv2.verify(claim, SK, sts), sts


@pytest.mark.parametrize("sub", ["encryption", "retention", "legal-hold", "publicAccessBlock",
                                 "ownershipControls", "intelligent-tiering", "attributes",
                                 "policyStatus"])
def test_botocore_hmacv1_newer_subresources(sub: str) -> None:
    req = _request("GET", "examplebucket", "k", sub)
    HmacV1Auth(_CREDS).add_auth(req)
    claim, sts = _server_sts(req)
    assert sigv2.verify(claim, SK, sts), sts


def test_amz_headers_sorted_lowercased_and_trimmed() -> None:
    sts = sigv2.string_to_sign(
        "PUT", {"x-amz-meta-b": " 2 ", "x-amz-meta-a": "1", "x-amz-acl": "private",
                "content-length": "3", "user-agent": "x"},
        "/b/k", date_value="D")
    assert sts == "PUT\n\n\nD\nx-amz-acl:private\nx-amz-meta-a:1\nx-amz-meta-b:2\n/b/k"


# ------------------------------------------------------------------ parse errors

@pytest.mark.parametrize("header", ["AWS ", f"AWS {AK}", f"AWS {AK}:", "AWS :sig"])
def test_parse_authorization_malformed(header: str) -> None:
    with pytest.raises(S3Error) as ei:
        sigv2.parse_authorization(header)
    assert ei.value.code == "InvalidArgument"


def test_parse_authorization_signature_may_contain_colon_free_key() -> None:
    claim = sigv2.parse_authorization(f"AWS {AK}:ab/+c=")
    assert (claim.access_key, claim.signature, claim.presigned) == (AK, "ab/+c=", False)


@pytest.mark.parametrize("query", [
    {"AWSAccessKeyId": AK, "Signature": "s"},
    {"AWSAccessKeyId": AK, "Expires": "abc", "Signature": "s"},
    {"AWSAccessKeyId": AK, "Expires": "100"},
])
def test_parse_presigned_errors(query: dict[str, str]) -> None:
    with pytest.raises(S3Error) as ei:
        sigv2.parse_presigned(query)
    assert ei.value.code == "AccessDenied"


def test_parse_presigned_missing_access_key_id() -> None:
    with pytest.raises(S3Error) as ei:
        sigv2.parse_presigned({"Expires": "100", "Signature": "s"})
    assert ei.value.code == "AccessDenied"
