"""Static website hosting: Put/Get/DeleteBucketWebsite with boto3, x-amz-website-redirect-
location on objects, and the website endpoint (BUCKET.s3-website.localhost on the S3 port,
and the --website-port where the Host name is the bucket) with plain HTTP clients."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from clients_util import check, isolated_env, run
from harness import Server, free_port, new_server, running

SITE_FILES = {
    "index.html": b"<html><body><h1>Home</h1><a href='/docs/'>docs</a></body></html>",
    "docs/index.html": b"<html><body><h1>Docs</h1></body></html>",
    "docs/a.txt": b"0123456789",
    "404.html": b"<html><body><h1>Custom not found</h1></body></html>",
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a website port; its S3 domains include "localhost", so that the
    website domain (s3-website.localhost) must win over virtual-hosted-style parsing."""
    base: Path = tmp_path_factory.mktemp("website")
    port = free_port()
    srv = new_server(base / "data", extra_args=["--website-port", str(port), "--domain",
                                                 "localhost", "--domain", "s3.localhost",
                                                 "--allow-sse-c-over-http"])
    srv.website_port = port  # type: ignore[attr-defined]
    with running(srv):
        yield srv
    assert srv.log_path is not None
    assert "Traceback" not in srv.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def s3(web: Server) -> Any:
    return web.client()


def new_site(s3: Any, acl: str = "public-read", **config: Any) -> str:
    """A bucket holding SITE_FILES (public-read objects) with a website configuration."""
    name = "site-" + secrets.token_hex(5)
    s3.create_bucket(Bucket=name, ACL=acl)
    for key, data in SITE_FILES.items():
        s3.put_object(Bucket=name, Key=key, Body=data, ContentType="text/html",
                      ACL="public-read")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config or {
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}})
    return name


def fetch(web: Server, bucket: str, path: str, method: str = "GET",
          headers: dict[str, str] | None = None, cname: bool = False,
          body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request to the website endpoint (the Host header names the site)."""
    port = web.website_port if cname else web.port  # type: ignore[attr-defined]
    host = f"{bucket}:{port}" if cname else f"{bucket}.s3-website.localhost:{port}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def code_of(call: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kw)
    return str(info.value.response["Error"]["Code"])


# ---------------------------------------------------------------- the S3 API operations
def test_put_get_delete_bucket_website(s3: Any) -> None:
    name = "cfg-" + secrets.token_hex(5)
    s3.create_bucket(Bucket=name)
    assert code_of(s3.get_bucket_website, Bucket=name) == "NoSuchWebsiteConfiguration"
    config = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"},
             "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "example.com", "Protocol": "https",
                          "HttpRedirectCode": "302", "ReplaceKeyWith": "missing.html"}},
        ],
    }
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config)
    got = s3.get_bucket_website(Bucket=name)
    assert got["IndexDocument"] == config["IndexDocument"]
    assert got["ErrorDocument"] == config["ErrorDocument"]
    assert got["RoutingRules"] == config["RoutingRules"]
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    got = s3.get_bucket_website(Bucket=name)
    assert got["RedirectAllRequestsTo"] == {"HostName": "example.com", "Protocol": "https"}
    assert "IndexDocument" not in got
    for _ in range(2):  # deleting twice is fine
        assert s3.delete_bucket_website(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] \
            == 204
    assert code_of(s3.get_bucket_website, Bucket=name) == "NoSuchWebsiteConfiguration"
    assert code_of(s3.get_bucket_website, Bucket="no-such-" + name) == "NoSuchBucket"


@pytest.mark.parametrize(("config", "code", "message"), [
    ({}, "InvalidArgument",
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument",
     "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": "index.html"},
      "RoutingRules": [{"Redirect": {"HttpRedirectCode": "300"}}]}, "InvalidRequest",
     "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300."),
    ({"IndexDocument": {"Suffix": "index.html"},
      "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]},
     "InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
])
def test_put_bucket_website_refused(s3: Any, config: dict[str, Any], code: str,
                                    message: str) -> None:
    name = "bad-" + secrets.token_hex(5)
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as info:
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config)
    err = info.value.response["Error"]
    assert (err["Code"], err["Message"]) == (code, message)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert code_of(s3.get_bucket_website, Bucket=name) == "NoSuchWebsiteConfiguration"


def test_website_configuration_is_the_owners(web: Server, s3: Any) -> None:
    name = new_site(s3, acl="public-read-write")
    other = web.client(web.new_user())
    assert code_of(other.get_bucket_website, Bucket=name) == "AccessDenied"
    assert code_of(other.put_bucket_website, Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "x.html"}}) == "AccessDenied"
    assert code_of(other.delete_bucket_website, Bucket=name) == "AccessDenied"
    assert s3.get_bucket_website(Bucket=name)["IndexDocument"]["Suffix"] == "index.html"


def test_redirect_location_on_objects(s3: Any) -> None:
    name = "redir-" + secrets.token_hex(5)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a", Body=b"x", WebsiteRedirectLocation="/b")
    assert s3.head_object(Bucket=name, Key="a")["WebsiteRedirectLocation"] == "/b"
    assert s3.get_object(Bucket=name, Key="a")["WebsiteRedirectLocation"] == "/b"
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=name, Key="bad", Body=b"x", WebsiteRedirectLocation="b")
    assert info.value.response["Error"] == {
        "Code": "InvalidRedirectLocation", "Message": "The website redirect location must "
        "have a prefix of 'http://' or 'https://' or '/'."}
    # CopyObject: not copied with the COPY directive; given on the request, kept
    s3.copy_object(Bucket=name, Key="c", CopySource={"Bucket": name, "Key": "a"})
    assert "WebsiteRedirectLocation" not in s3.head_object(Bucket=name, Key="c")
    s3.copy_object(Bucket=name, Key="d", CopySource={"Bucket": name, "Key": "a"},
                   WebsiteRedirectLocation="https://example.com/")
    assert s3.head_object(Bucket=name, Key="d")["WebsiteRedirectLocation"] == \
        "https://example.com/"
    s3.copy_object(Bucket=name, Key="e", CopySource={"Bucket": name, "Key": "a"},
                   MetadataDirective="REPLACE", WebsiteRedirectLocation="/e")
    assert s3.head_object(Bucket=name, Key="e")["WebsiteRedirectLocation"] == "/e"
    assert code_of(s3.copy_object, Bucket=name, Key="f",
                   CopySource={"Bucket": name, "Key": "a"},
                   WebsiteRedirectLocation="ftp://x") == "InvalidRedirectLocation"
    # CreateMultipartUpload
    up = s3.create_multipart_upload(Bucket=name, Key="m", WebsiteRedirectLocation="/m2")
    part = s3.upload_part(Bucket=name, Key="m", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"data")
    s3.complete_multipart_upload(Bucket=name, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=name, Key="m")["WebsiteRedirectLocation"] == "/m2"
    assert code_of(s3.create_multipart_upload, Bucket=name, Key="n",
                   WebsiteRedirectLocation="nope") == "InvalidRedirectLocation"


# --------------------------------------------------------------------- the website endpoint
def test_index_documents_and_folders(web: Server, s3: Any) -> None:
    name = new_site(s3)
    status, headers, body = fetch(web, name, "/")
    assert (status, body) == (200, SITE_FILES["index.html"])
    assert headers["content-type"] == "text/html"
    assert fetch(web, name, "/docs/")[::2] == (200, SITE_FILES["docs/index.html"])
    status, headers, body = fetch(web, name, "/docs")
    assert (status, headers["location"], body) == (302, "/docs/", b"")
    assert fetch(web, name, "/docs/a.txt")[::2] == (200, b"0123456789")
    assert fetch(web, name, "/index.html")[::2] == (200, SITE_FILES["index.html"])


def test_error_document_keeps_the_status(web: Server, s3: Any) -> None:
    name = new_site(s3)  # bucket public-read: a missing key is a 404
    status, headers, body = fetch(web, name, "/nothing.html")
    assert (status, body) == (404, SITE_FILES["404.html"])
    assert headers["content-type"] == "text/html"
    assert fetch(web, name, "/empty/")[::2] == (404, SITE_FILES["404.html"])
    private = new_site(s3, acl="private")  # not listable: a missing key is a 403
    assert fetch(web, private, "/nothing.html")[::2] == (403, SITE_FILES["404.html"])
    s3.put_object(Bucket=private, Key="secret.html", Body=b"s")  # private object
    assert fetch(web, private, "/secret.html")[::2] == (403, SITE_FILES["404.html"])


def test_html_error_pages(web: Server, s3: Any) -> None:
    name = new_site(s3, IndexDocument={"Suffix": "index.html"})
    status, headers, body = fetch(web, name, "/missing.html")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert headers["x-amz-error-code"] == "NoSuchKey"
    page = body.decode()
    assert "<title>404 Not Found</title>" in page and "<h1>404 Not Found</h1>" in page
    for line in ("Code: NoSuchKey", "Message: The specified key does not exist.",
                 "Key: missing.html", f"RequestId: {headers['x-amz-request-id']}", "HostId: "):
        assert f"<li>{line}" in page, line
    # the error document missing too
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "gone.html"}})
    status, _, body = fetch(web, name, "/missing.html")
    assert status == 404
    assert b"An Error Occurred While Attempting to Retrieve a Custom Error Document" in body
    assert b"<li>Key: gone.html</li>" in body
    # a 403 page
    private = new_site(s3, acl="private", IndexDocument={"Suffix": "index.html"})
    status, headers, body = fetch(web, private, "/missing.html")
    assert status == 403 and b"<title>403 Forbidden</title>" in body
    assert b"<li>Code: AccessDenied</li>" in body
    # no website configuration; no bucket
    s3.delete_bucket_website(Bucket=name)
    status, headers, body = fetch(web, name, "/")
    assert status == 404 and b"<li>Code: NoSuchWebsiteConfiguration</li>" in body
    assert f"<li>BucketName: {name}</li>".encode() in body
    status, headers, body = fetch(web, "no-such-bucket-" + name, "/")
    assert status == 404 and b"<li>Code: NoSuchBucket</li>" in body


def test_only_get_and_head(web: Server, s3: Any) -> None:
    name = new_site(s3)
    for method in ("PUT", "POST", "DELETE", "PATCH", "OPTIONS"):
        status, headers, body = fetch(web, name, "/index.html", method,
                                      body=b"x" if method in ("PUT", "POST") else None)
        assert status == 405, method
        assert b"<title>405 Method Not Allowed</title>" in body
        assert f"<li>Method: {method}</li>".encode() in body
    assert s3.get_object(Bucket=name, Key="index.html")["Body"].read() == \
        SITE_FILES["index.html"]  # the PUT changed nothing
    status, headers, body = fetch(web, name, "/docs/a.txt", "HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", "10")
    status, headers, body = fetch(web, name, "/nothing", "HEAD")
    assert (status, body) == (404, b"")


def test_signed_requests_are_anonymous(web: Server, s3: Any) -> None:
    """The website endpoint ignores credentials: a private object stays private even to a
    request carrying the owner's (here: any) Authorization header."""
    name = new_site(s3)
    s3.put_object(Bucket=name, Key="private.txt", Body=b"p")
    auth = {"Authorization": f"AWS {web.root.access_key}:bogus"}
    assert fetch(web, name, "/private.txt", headers=auth)[0] == 403
    assert fetch(web, name, "/docs/a.txt", headers=auth)[0] == 200


def test_object_redirects(web: Server, s3: Any) -> None:
    name = new_site(s3)
    s3.put_object(Bucket=name, Key="old.html", Body=b"", ACL="public-read",
                  WebsiteRedirectLocation="/docs/")
    s3.put_object(Bucket=name, Key="away", Body=b"", ACL="public-read",
                  WebsiteRedirectLocation="https://example.com/there")
    status, headers, body = fetch(web, name, "/old.html")
    assert (status, headers["location"]) == (301, "/docs/")
    assert fetch(web, name, "/away")[1]["location"] == "https://example.com/there"
    # the S3 API serves the object itself, with the header
    got = s3.get_object(Bucket=name, Key="old.html")
    assert got["WebsiteRedirectLocation"] == "/docs/"
    # an error document with a redirect location: 301 there, with the document (S3's answer)
    s3.put_object(Bucket=name, Key="404.html", Body=b"moved", ACL="public-read",
                  WebsiteRedirectLocation="/")
    status, headers, body = fetch(web, name, "/nothing")
    assert (status, headers["location"], body) == (301, "/", b"moved")


def test_redirect_all_requests(web: Server, s3: Any) -> None:
    name = new_site(s3, RedirectAllRequestsTo={"HostName": "www.example.com",
                                               "Protocol": "https"})
    status, headers, _ = fetch(web, name, "/docs/a.txt?x=1")
    assert (status, headers["location"]) == (301, "https://www.example.com/docs/a.txt?x=1")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.org"}})
    assert fetch(web, name, "/")[1]["location"] == "http://example.org/"


def test_routing_rules(web: Server, s3: Any) -> None:
    name = new_site(s3, IndexDocument={"Suffix": "index.html"},
                    ErrorDocument={"Key": "404.html"}, RoutingRules=[
                        {"Condition": {"KeyPrefixEquals": "blog/"},
                         "Redirect": {"ReplaceKeyPrefixWith": "docs/"}},
                        {"Condition": {"KeyPrefixEquals": "moved.html"},
                         "Redirect": {"HostName": "example.com", "Protocol": "https",
                                      "ReplaceKeyWith": "new.html", "HttpRedirectCode": "307"}},
                        {"Condition": {"HttpErrorCodeReturnedEquals": "404",
                                       "KeyPrefixEquals": "img/"},
                         "Redirect": {"HostName": "images.example.com",
                                      "ReplaceKeyPrefixWith": ""}},
                    ])
    host = f"{name}.s3-website.localhost:{web.port}"
    status, headers, _ = fetch(web, name, "/blog/a.txt")
    assert (status, headers["location"]) == (301, f"http://{host}/docs/a.txt")
    status, headers, _ = fetch(web, name, "/moved.html")
    assert (status, headers["location"]) == (307, "https://example.com/new.html")
    status, headers, _ = fetch(web, name, "/img/cat.png")
    assert (status, headers["location"]) == (301, "http://images.example.com/cat.png")
    s3.put_object(Bucket=name, Key="img/dog.png", Body=b"dog", ACL="public-read")
    assert fetch(web, name, "/img/dog.png")[::2] == (200, b"dog")  # found: no redirect
    assert fetch(web, name, "/other.png")[::2] == (404, SITE_FILES["404.html"])


def test_ranges_and_conditional_requests(web: Server, s3: Any) -> None:
    name = new_site(s3)
    status, headers, body = fetch(web, name, "/docs/a.txt", headers={"Range": "bytes=2-4"})
    assert (status, body, headers["content-range"]) == (206, b"234", "bytes 2-4/10")
    etag = headers["etag"]
    assert fetch(web, name, "/docs/a.txt", headers={"If-None-Match": etag})[0] == 304
    status, _, body = fetch(web, name, "/docs/a.txt", headers={"If-Match": '"nope"'})
    assert status == 412 and b"<li>Code: PreconditionFailed</li>" in body
    status, _, body = fetch(web, name, "/docs/a.txt", headers={"Range": "bytes=50-60"})
    assert status == 416 and b"<title>416" in body


def test_sse_c_objects_are_not_served(web: Server, s3: Any) -> None:
    name = new_site(s3)
    key = secrets.token_bytes(32)
    s3.put_object(Bucket=name, Key="enc.txt", Body=b"secret", ACL="public-read",
                  SSECustomerAlgorithm="AES256", SSECustomerKey=base64.b64encode(key).decode(),
                  SSECustomerKeyMD5=base64.b64encode(hashlib.md5(key).digest()).decode())
    sse_headers = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-md5":
            base64.b64encode(hashlib.md5(key).digest()).decode()}
    status, headers, body = fetch(web, name, "/enc.txt", headers=sse_headers)
    assert status == 400 and b"<li>Code: InvalidRequest</li>" in body
    assert b"secret" not in body


def test_website_port_cname_style(web: Server, s3: Any) -> None:
    name = new_site(s3)
    assert fetch(web, name, "/", cname=True)[::2] == (200, SITE_FILES["index.html"])
    status, headers, _ = fetch(web, name, "/docs", cname=True)
    assert (status, headers["location"]) == (302, "/docs/")
    assert fetch(web, name, "/x", cname=True)[::2] == (404, SITE_FILES["404.html"])
    status, _, body = fetch(web, "no-such-" + name, "/", cname=True)
    assert status == 404 and b"NoSuchBucket" in body


def test_s3_api_unchanged_beside_the_website(web: Server, s3: Any) -> None:
    """Virtual-hosted-style S3 requests still work with "localhost" as an S3 domain; the
    website domain (a subdomain of it) takes precedence only for its own names."""
    name = new_site(s3, acl="private")
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    conn.request("GET", "/docs/a.txt", headers={"Host": f"{name}.localhost:{web.port}"})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"0123456789")  # public-read via the S3 API
    conn.request("GET", "/", headers={"Host": f"{name}.localhost:{web.port}"})
    resp = conn.getresponse()
    assert resp.status == 403  # an anonymous ListObjects: XML, not the website
    assert resp.getheader("Content-Type") == "application/xml"
    resp.read()
    conn.close()


def test_cors_headers_on_website_answers(web: Server, s3: Any) -> None:
    name = new_site(s3)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET"]}]})
    status, headers, _ = fetch(web, name, "/docs/a.txt",
                               headers={"Origin": "https://app.example"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example"
    _, headers, _ = fetch(web, name, "/docs/a.txt", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_aws_cli_website_cookbook(web: Server, s3: Any, tmp_path: Path) -> None:
    """docs/running.md's cookbook with the AWS CLI: sync a site, `aws s3 website`, read the
    configuration back, a redirecting object, and the pages it serves."""
    home = tmp_path / "aws-home"
    env = isolated_env(home, AWS_ACCESS_KEY_ID=web.root.access_key,
                       AWS_SECRET_ACCESS_KEY=web.root.secret_key,
                       AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(home / "config"),
                       AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    (home / "config").write_text("")
    exe = shutil.which("aws")
    base = [exe] if exe else [sys.executable, "-m", "awscli"]

    def aws(*args: str) -> str:
        return check(run([*base, "--endpoint-url", web.endpoint, "--output", "json", *args],
                         env)).stdout

    site_dir = tmp_path / "public"
    for key, data in SITE_FILES.items():
        (site_dir / key).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / key).write_bytes(data)
    name = "cli-site-" + secrets.token_hex(4)
    aws("s3", "mb", f"s3://{name}")
    aws("s3api", "put-bucket-acl", "--bucket", name, "--acl", "public-read")
    aws("s3", "sync", str(site_dir), f"s3://{name}", "--acl", "public-read")
    aws("s3", "website", f"s3://{name}", "--index-document", "index.html",
        "--error-document", "404.html")
    got = json.loads(aws("s3api", "get-bucket-website", "--bucket", name))
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "404.html"}
    aws("s3api", "put-object", "--bucket", name, "--key", "old.html", "--acl", "public-read",
        "--website-redirect-location", "/docs/")
    head = json.loads(aws("s3api", "head-object", "--bucket", name, "--key", "old.html"))
    assert head["WebsiteRedirectLocation"] == "/docs/"
    assert fetch(web, name, "/")[::2] == (200, SITE_FILES["index.html"])
    assert fetch(web, name, "/docs/")[::2] == (200, SITE_FILES["docs/index.html"])
    assert fetch(web, name, "/old.html")[1]["location"] == "/docs/"
    assert fetch(web, name, "/nothing")[::2] == (404, SITE_FILES["404.html"])
    aws("s3api", "delete-bucket-website", "--bucket", name)
    assert fetch(web, name, "/")[0] == 404
