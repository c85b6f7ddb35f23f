"""routing.route / split_host / parse_query: a table of requests -> the AWS operation.

Requests are modelled on the examples in the Amazon S3 API reference (each operation's
"Request Syntax" / "Examples" section). ``path`` is passed percent-decoded, as the
server does.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Endpoint, parse_query, route, split_host

PATH_HOST = "localhost:3333"
VHOST = "examplebucket.s3.localhost:3333"
COPY = {"x-amz-copy-source": "/srcbucket/srckey"}

# (method, host, path, raw query, headers) -> (op, bucket, key)
TABLE: list[tuple[str, str, str, str, dict[str, str], tuple[str, str | None, str | None]]] = [
    # service
    ("GET", PATH_HOST, "/", "", {}, ("ListBuckets", None, None)),
    ("GET", "s3.localhost:3333", "/", "", {}, ("ListBuckets", None, None)),
    ("GET", PATH_HOST, "", "", {}, ("ListBuckets", None, None)),
    ("PUT", PATH_HOST, "/", "", {}, ("MethodNotAllowed", None, None)),
    # bucket, path style
    ("PUT", PATH_HOST, "/examplebucket", "", {}, ("CreateBucket", "examplebucket", None)),
    ("PUT", PATH_HOST, "/examplebucket/", "", {}, ("CreateBucket", "examplebucket", None)),
    ("HEAD", PATH_HOST, "/examplebucket", "", {}, ("HeadBucket", "examplebucket", None)),
    ("DELETE", PATH_HOST, "/examplebucket", "", {}, ("DeleteBucket", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "", {}, ("ListObjects", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "prefix=N&marker=Ned&max-keys=40", {},
     ("ListObjects", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "list-type=2", {},
     ("ListObjectsV2", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket",
     "list-type=2&max-keys=3&prefix=E&start-after=ExampleGuide.pdf", {},
     ("ListObjectsV2", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "list-type=1", {}, ("ListObjects", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "acl", {}, ("GetBucketAcl", "examplebucket", None)),
    ("PUT", PATH_HOST, "/examplebucket", "acl", {}, ("PutBucketAcl", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "location", {},
     ("GetBucketLocation", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "versioning", {},
     ("GetBucketVersioning", "examplebucket", None)),
    ("PUT", PATH_HOST, "/examplebucket", "versioning", {},
     ("PutBucketVersioning", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "uploads", {},
     ("ListMultipartUploads", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "uploads&max-uploads=3", {},
     ("ListMultipartUploads", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "versions", {},
     ("ListObjectVersions", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "tagging", {},
     ("GetBucketTagging", "examplebucket", None)),
    ("PUT", PATH_HOST, "/examplebucket", "tagging", {},
     ("PutBucketTagging", "examplebucket", None)),
    ("DELETE", PATH_HOST, "/examplebucket", "tagging", {},
     ("DeleteBucketTagging", "examplebucket", None)),
    ("GET", PATH_HOST, "/examplebucket", "policy", {}, ("GetBucketPolicy", "examplebucket", None)),
    ("DELETE", PATH_HOST, "/examplebucket", "cors", {},
     ("DeleteBucketCors", "examplebucket", None)),
    ("POST", PATH_HOST, "/examplebucket", "delete", {}, ("DeleteObjects", "examplebucket", None)),
    ("POST", PATH_HOST, "/examplebucket", "delete=", {}, ("DeleteObjects", "examplebucket", None)),
    ("POST", PATH_HOST, "/examplebucket", "", {}, ("PostObject", "examplebucket", None)),
    # objects, path style
    ("GET", PATH_HOST, "/examplebucket/my-image.jpg", "", {},
     ("GetObject", "examplebucket", "my-image.jpg")),
    ("GET", PATH_HOST, "/examplebucket/my-image.jpg", "versionId=3HL4kqtJlcpXroDTDmJ%2Brmsr", {},
     ("GetObject", "examplebucket", "my-image.jpg")),
    ("GET", PATH_HOST, "/examplebucket/photos/2006/February/sample.jpg", "", {},
     ("GetObject", "examplebucket", "photos/2006/February/sample.jpg")),
    ("HEAD", PATH_HOST, "/examplebucket/my-image.jpg", "", {},
     ("HeadObject", "examplebucket", "my-image.jpg")),
    ("PUT", PATH_HOST, "/examplebucket/my-image.jpg", "", {},
     ("PutObject", "examplebucket", "my-image.jpg")),
    ("DELETE", PATH_HOST, "/examplebucket/my-image.jpg", "", {},
     ("DeleteObject", "examplebucket", "my-image.jpg")),
    ("DELETE", PATH_HOST, "/examplebucket/my-image.jpg",
     "versionId=UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ", {},
     ("DeleteObject", "examplebucket", "my-image.jpg")),
    ("GET", PATH_HOST, "/examplebucket/my-image.jpg", "acl", {},
     ("GetObjectAcl", "examplebucket", "my-image.jpg")),
    ("PUT", PATH_HOST, "/examplebucket/my-image.jpg", "acl", {},
     ("PutObjectAcl", "examplebucket", "my-image.jpg")),
    ("GET", PATH_HOST, "/examplebucket/my-image.jpg", "tagging", {},
     ("GetObjectTagging", "examplebucket", "my-image.jpg")),
    ("PUT", PATH_HOST, "/examplebucket/my-image.jpg", "tagging", {},
     ("PutObjectTagging", "examplebucket", "my-image.jpg")),
    ("DELETE", PATH_HOST, "/examplebucket/my-image.jpg", "tagging", {},
     ("DeleteObjectTagging", "examplebucket", "my-image.jpg")),
    ("GET", PATH_HOST, "/examplebucket/my-image.jpg", "attributes", {},
     ("GetObjectAttributes", "examplebucket", "my-image.jpg")),
    # multipart
    ("POST", PATH_HOST, "/examplebucket/example-object", "uploads", {},
     ("CreateMultipartUpload", "examplebucket", "example-object")),
    ("POST", PATH_HOST, "/examplebucket/example-object", "uploads=", {},
     ("CreateMultipartUpload", "examplebucket", "example-object")),
    ("PUT", PATH_HOST, "/examplebucket/example-object",
     "partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR", {},
     ("UploadPart", "examplebucket", "example-object")),
    ("PUT", PATH_HOST, "/examplebucket/example-object",
     "uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR&partNumber=2", {},
     ("UploadPart", "examplebucket", "example-object")),
    ("PUT", PATH_HOST, "/examplebucket/example-object", "partNumber=1&uploadId=abc", COPY,
     ("UploadPartCopy", "examplebucket", "example-object")),
    ("GET", PATH_HOST, "/examplebucket/example-object", "uploadId=abc", {},
     ("ListParts", "examplebucket", "example-object")),
    ("GET", PATH_HOST, "/examplebucket/example-object",
     "uploadId=abc&max-parts=2&part-number-marker=1", {},
     ("ListParts", "examplebucket", "example-object")),
    ("POST", PATH_HOST, "/examplebucket/example-object", "uploadId=abc", {},
     ("CompleteMultipartUpload", "examplebucket", "example-object")),
    ("DELETE", PATH_HOST, "/examplebucket/example-object", "uploadId=abc", {},
     ("AbortMultipartUpload", "examplebucket", "example-object")),
    # copy
    ("PUT", PATH_HOST, "/examplebucket/my-second-image.jpg", "", COPY,
     ("CopyObject", "examplebucket", "my-second-image.jpg")),
    ("PUT", PATH_HOST, "/examplebucket/my-second-image.jpg", "", {"x-amz-copy-source": ""},
     ("CopyObject", "examplebucket", "my-second-image.jpg")),
    # a partNumber without uploadId is not a part upload
    ("PUT", PATH_HOST, "/examplebucket/k", "partNumber=1", {}, ("PutObject", "examplebucket", "k")),
    ("PUT", PATH_HOST, "/examplebucket/k", "partNumber=1", COPY,
     ("CopyObject", "examplebucket", "k")),
    # CopyObject is not confused with PutObjectAcl/Tagging
    ("PUT", PATH_HOST, "/examplebucket/k", "tagging", COPY,
     ("PutObjectTagging", "examplebucket", "k")),
    # virtual-hosted style
    ("GET", VHOST, "/", "", {}, ("ListObjects", "examplebucket", None)),
    ("GET", VHOST, "", "", {}, ("ListObjects", "examplebucket", None)),
    ("GET", VHOST, "/", "list-type=2&prefix=photos%2F", {},
     ("ListObjectsV2", "examplebucket", None)),
    ("GET", VHOST, "/", "acl", {}, ("GetBucketAcl", "examplebucket", None)),
    ("PUT", VHOST, "/", "", {}, ("CreateBucket", "examplebucket", None)),
    ("POST", VHOST, "/", "delete", {}, ("DeleteObjects", "examplebucket", None)),
    ("GET", VHOST, "/photos/puppy.jpg", "", {}, ("GetObject", "examplebucket", "photos/puppy.jpg")),
    ("PUT", VHOST, "/puppy.jpg", "", COPY, ("CopyObject", "examplebucket", "puppy.jpg")),
    ("PUT", VHOST, "/puppy.jpg", "partNumber=3&uploadId=u", COPY,
     ("UploadPartCopy", "examplebucket", "puppy.jpg")),
    ("GET", "ExampleBucket.S3.LOCALHOST:3333", "/k", "", {}, ("GetObject", "examplebucket", "k")),
    ("GET", "examplebucket.s3.localhost", "/k", "", {}, ("GetObject", "examplebucket", "k")),
    ("GET", "examplebucket.s3.localhost.", "/k", "", {}, ("GetObject", "examplebucket", "k")),
    ("GET", "my.dotted.bucket.s3.localhost:3333", "/k", "", {},
     ("GetObject", "my.dotted.bucket", "k")),
    # in virtual-host style the whole path is the key: the first segment is not a bucket
    ("GET", VHOST, "/examplebucket/k", "", {}, ("GetObject", "examplebucket", "examplebucket/k")),
    # hosts that are not under a configured domain are path style
    ("GET", "examplebucket.s3.amazonaws.com", "/b/k", "", {}, ("GetObject", "b", "k")),
    ("GET", "s3.localhost", "/b/k", "", {}, ("GetObject", "b", "k")),
    ("GET", "evils3.localhost", "/b/k", "", {}, ("GetObject", "b", "k")),
    ("GET", "127.0.0.1:3333", "/b/k", "", {}, ("GetObject", "b", "k")),
    ("GET", "[::1]:3333", "/b/k", "", {}, ("GetObject", "b", "k")),
    ("GET", "", "/b/k", "", {}, ("GetObject", "b", "k")),
    # keys: leading '/', '//', '..', '.', trailing '/', encoded characters
    ("GET", PATH_HOST, "/examplebucket//leading", "", {},
     ("GetObject", "examplebucket", "/leading")),
    ("GET", PATH_HOST, "/examplebucket///", "", {}, ("GetObject", "examplebucket", "//")),
    ("GET", PATH_HOST, "/examplebucket/a//b", "", {}, ("GetObject", "examplebucket", "a//b")),
    ("GET", PATH_HOST, "/examplebucket/..", "", {}, ("GetObject", "examplebucket", "..")),
    ("GET", PATH_HOST, "/examplebucket/../other/k", "", {},
     ("GetObject", "examplebucket", "../other/k")),
    ("GET", PATH_HOST, "/examplebucket/a/../b", "", {},
     ("GetObject", "examplebucket", "a/../b")),
    ("GET", PATH_HOST, "/examplebucket/./x", "", {}, ("GetObject", "examplebucket", "./x")),
    ("PUT", PATH_HOST, "/examplebucket/dir/", "", {}, ("PutObject", "examplebucket", "dir/")),
    ("GET", PATH_HOST, "/examplebucket/sp ace+plus?q#h", "", {},
     ("GetObject", "examplebucket", "sp ace+plus?q#h")),
    ("GET", PATH_HOST, "/examplebucket/ünïcødé/日本", "", {},
     ("GetObject", "examplebucket", "ünïcødé/日本")),
    ("GET", VHOST, "//leading", "", {}, ("GetObject", "examplebucket", "/leading")),
    ("GET", VHOST, "/..", "", {}, ("GetObject", "examplebucket", "..")),
    # the EC2 image registry lives at /_images (path style only)
    ("GET", PATH_HOST, "/_images", "", {}, ("Images", None, None)),
    ("GET", PATH_HOST, "/_images/", "", {}, ("Images", None, None)),
    ("GET", PATH_HOST, "/_images/ami-123/manifest.xml", "", {},
     ("Images", None, "ami-123/manifest.xml")),
    ("POST", PATH_HOST, "/_images/register", "", {}, ("Images", None, "register")),
    ("GET", "_images.s3.localhost", "/x", "", {}, ("GetObject", "_images", "x")),
    # the signed JSON admin API lives at /_admin (path style only)
    ("GET", PATH_HOST, "/_admin/whoami", "", {}, ("Admin", None, "whoami")),
    ("POST", PATH_HOST, "/_admin/keys/AK1/rotate", "", {}, ("Admin", None, "keys/AK1/rotate")),
    ("PATCH", PATH_HOST, "/_admin/users", "", {}, ("Admin", None, "users")),
    ("GET", PATH_HOST, "/_admin", "", {}, ("Admin", None, "")),
    ("GET", "_admin.s3.localhost", "/x", "", {}, ("GetObject", "_admin", "x")),
    # methods S3 does not know
    ("PATCH", PATH_HOST, "/examplebucket", "", {}, ("MethodNotAllowed", "examplebucket", None)),
    ("PATCH", PATH_HOST, "/examplebucket/k", "", {}, ("MethodNotAllowed", "examplebucket", "k")),
    ("OPTIONS", PATH_HOST, "/examplebucket/k", "", {}, ("Preflight", "examplebucket", "k")),
    # method is case-insensitive
    ("get", PATH_HOST, "/examplebucket/k", "", {}, ("GetObject", "examplebucket", "k")),
]


@pytest.mark.parametrize(
    "method,host,path,raw_query,headers,expected",
    TABLE,
    ids=[f"{m} {h}{p}?{q}{' +copy' if hd else ''}" for m, h, p, q, hd, _ in TABLE],
)
def test_route_table(method: str, host: str, path: str, raw_query: str,
                     headers: dict[str, str], expected: tuple[str, str | None, str | None]) -> None:
    ep = route(method, host, path, parse_query(raw_query), headers, domains=("s3.localhost",))
    assert (ep.op, ep.bucket, ep.key) == expected


@pytest.mark.parametrize("host,virtual", [
    (VHOST, True), (PATH_HOST, False), ("s3.localhost:3333", False),
])
def test_virtual_host_flag(host: str, virtual: bool) -> None:
    path = "/k" if virtual else "/examplebucket/k"
    ep = route("GET", host, path, (), {})
    assert ep.virtual_host is virtual
    assert ep.bucket == "examplebucket"


def test_multiple_domains() -> None:
    domains = ("s3.localhost", "s3.example.com")
    assert route("GET", "b1.s3.example.com", "/k", (), {}, domains).bucket == "b1"
    assert route("GET", "b2.s3.localhost", "/k", (), {}, domains).bucket == "b2"
    assert route("GET", "b3.other.com", "/b4/k", (), {}, domains).bucket == "b4"


def test_no_domains_means_path_style_only() -> None:
    ep = route("GET", "examplebucket.s3.localhost", "/b/k", (), {}, domains=())
    assert (ep.bucket, ep.key, ep.virtual_host) == ("b", "k", False)


@pytest.mark.parametrize("host,expected", [
    ("examplebucket.s3.localhost", "examplebucket"),
    ("examplebucket.s3.localhost:3333", "examplebucket"),
    ("a.b.c.s3.localhost", "a.b.c"),
    ("s3.localhost", None),
    (".s3.localhost", None),  # empty label is not a bucket
    ("xs3.localhost", None),
    ("examplebucket.s3.localhost.evil.com", None),
    ("localhost", None),
    ("[::1]", None),
    ("[::1]:3333", None),
])
def test_split_host(host: str, expected: str | None) -> None:
    assert split_host(host, ("s3.localhost",)) == expected


def test_endpoint_args() -> None:
    ep = route("GET", PATH_HOST, "/b/k", parse_query("uploadId=u%2B1&max-parts=2&uploadId=second"),
               {})
    assert isinstance(ep, Endpoint)
    assert ep.arg("uploadId") == "u+1"  # first occurrence wins
    assert ep.arg("max-parts") == "2"
    assert ep.arg("missing") is None
    assert ep.arg("missing", "d") == "d"
    assert ep.has("uploadId") and not ep.has("uploadid")


@pytest.mark.parametrize("raw,expected", [
    ("", ()),
    ("acl", (("acl", ""),)),
    ("acl=", (("acl", ""),)),
    ("a=1&b=2&a=3", (("a", "1"), ("b", "2"), ("a", "3"))),
    ("prefix=photos%2F2006%2F&delimiter=%2F", (("prefix", "photos/2006/"), ("delimiter", "/"))),
    ("q=a+b", (("q", "a b"),)),
    ("q=a%2Bb", (("q", "a+b"),)),
    ("q=%E6%97%A5", (("q", "日"),)),
    ("x=a=b", (("x", "a=b"),)),
    ("a&&b", (("a", ""), ("b", ""))),
    ("a;b=1", (("a;b", "1"),)),  # ';' is not a separator
])
def test_parse_query(raw: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert parse_query(raw) == expected


@pytest.mark.parametrize("raw", ["q=%FF", "q=%C3", "%ff=1"])
def test_parse_query_invalid_utf8_is_invalid_uri(raw: str) -> None:
    with pytest.raises(S3Error) as ei:
        parse_query(raw)
    assert ei.value.code == "InvalidURI"
    assert ei.value.status == 400


_QUERY_TEXT = st.text(alphabet=st.sampled_from(list("ab=&+%2F0é;~ \x80")), max_size=24)


@given(_QUERY_TEXT)
def test_parse_query_agrees_with_parse_qsl(raw: str) -> None:
    """The fast parser decodes exactly as urllib's parse_qsl (blank values kept)."""
    try:
        expected: object = tuple(parse_qsl(raw, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        expected = "InvalidURI"
    try:
        got: object = parse_query(raw)
    except S3Error as err:
        got = err.code
    assert got == expected
