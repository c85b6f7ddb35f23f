"""The console's pure-JS SHA-256, HMAC and SigV4 (js/sigv4.js), run in headless Chromium on a
page that is NOT a secure context (no crypto.subtle), checked against hashlib/hmac, RFC 4231
and botocore's signatures for the same requests (header auth and presigned URLs)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

STATIC = Path(__file__).resolve().parents[2] / "src/objectstore/console/static"
NOW = datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page()
    # a data: page is an opaque, non-secure origin: crypto.subtle is absent there
    pg.goto("data:text/html,<title>sigv4</title>")
    source = (STATIC / "js/sigv4.js").read_text()
    pg.add_script_tag(type="module", content=source + "\nwindow.sigv4 = {sha256Hex, hex,"
                      " hmac, signRequest, presignUrl, uriEncode};\n")
    pg.wait_for_function("() => window.sigv4 !== undefined")
    yield pg
    pg.close()


def test_no_subtle_crypto_on_the_test_page(page: Any) -> None:
    assert page.evaluate("() => !(window.crypto && window.crypto.subtle)")


@pytest.mark.parametrize("data", [b"", b"abc",
                                  b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                                  bytes(range(256)) * 5, b"a" * 1_000_000])
def test_sha256_bytes(page: Any, data: bytes) -> None:
    got = page.evaluate("(a) => window.sigv4.sha256Hex(new Uint8Array(a))", list(data))
    assert got == hashlib.sha256(data).hexdigest()


def test_sha256_every_padding_length(page: Any) -> None:
    got = page.evaluate("() => Array.from({length: 200}, (_, n) => "
                        "window.sigv4.sha256Hex(new Uint8Array(n).map((_, i) => (i * 7) & 255)))")
    want = [hashlib.sha256(bytes((i * 7) & 255 for i in range(n))).hexdigest()
            for n in range(200)]
    assert got == want


def test_sha256_utf8_string(page: Any) -> None:
    text = "ключ/ファイル 😀 <&>"
    assert page.evaluate("(t) => window.sigv4.sha256Hex(t)", text) == \
        hashlib.sha256(text.encode()).hexdigest()


RFC4231 = [
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
]


@pytest.mark.parametrize("key,msg,want", RFC4231)
def test_hmac_rfc4231(page: Any, key: bytes, msg: bytes, want: str) -> None:
    got = page.evaluate("([k, m]) => window.sigv4.hex(window.sigv4.hmac(new Uint8Array(k), "
                        "new Uint8Array(m)))", [list(key), list(msg)])
    assert got == want == hmac.new(key, msg, hashlib.sha256).hexdigest()


CREDS = {"accessKeyId": "ASIAEXAMPLEKEY", "secretAccessKey": "wJalr/XUtnFEMI+K7MDENG=bPxRfi",
         "sessionToken": "FQoGZXIvYXdzE+token/with=specials"}


def _js_sign(page: Any, method: str, url: str, headers: dict[str, str], body: str | None,
             service: str = "s3") -> dict[str, str]:
    return page.evaluate(
        "([m, u, h, b, c, s, now]) => window.sigv4.signRequest({method: m, url: u, headers: h,"
        " body: b === null ? undefined : b, creds: c, region: 'us-east-1', service: s,"
        " now: new Date(now)})",
        [method, url, headers, body, CREDS, service, NOW.isoformat()])


def _boto_sign(method: str, url: str, headers: dict[str, str], body: str | None,
               service: str = "s3") -> dict[str, str]:
    creds = Credentials(CREDS["accessKeyId"], CREDS["secretAccessKey"], CREDS["sessionToken"])
    req = AWSRequest(method=method, url=url, headers=dict(headers),
                     data=body.encode() if body is not None else b"")
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(creds, service, "us-east-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}


@pytest.mark.parametrize("method,url,headers,body", [
    ("GET", "http://127.0.0.1:3333/", {}, None),
    ("GET", "http://127.0.0.1:3333/bkt", {}, None),
    ("GET", "http://localhost:9000/bkt?list-type=2&prefix=a%20b%2Fc&delimiter=%2F"
            "&continuation-token=x%2By%3D", {}, None),
    ("PUT", "http://127.0.0.1:3333/bkt/dir/%E2%82%AC%20file%2B1.txt", {
        "content-type": "text/plain"}, "hello €"),
    ("POST", "http://127.0.0.1:3333/bkt?delete", {"content-type": "application/xml",
                                                   "x-amz-checksum-sha256": "abc="},
     "<Delete><Object><Key>a&amp;b</Key></Object></Delete>"),
    ("GET", "http://127.0.0.1:3333/bkt/key%28x%29%21%2A%27", {"range": "bytes=0-99"}, None),
])
def test_header_signature_matches_botocore(page: Any, method: str, url: str,
                                           headers: dict[str, str], body: str | None) -> None:
    js = _js_sign(page, method, url, headers, body)
    boto = _boto_sign(method, url, headers, body)
    assert js["x-amz-date"] == boto["x-amz-date"] == "20261130T123456Z"
    assert js["x-amz-security-token"] == CREDS["sessionToken"]
    assert js["x-amz-content-sha256"] == boto["x-amz-content-sha256"]
    assert js["authorization"] == boto["authorization"]


def test_sts_form_signature_matches_botocore(page: Any) -> None:
    body = "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=3600"
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    js = _js_sign(page, "POST", "http://127.0.0.1:3333/", headers, body, "sts")
    boto = _boto_sign("POST", "http://127.0.0.1:3333/",
                      {**headers, "x-amz-content-sha256": js["x-amz-content-sha256"]}, body,
                      "sts")
    assert js["authorization"] == boto["authorization"]
    assert "/us-east-1/sts/aws4_request" in js["authorization"]


def test_presigned_url_matches_botocore(page: Any) -> None:
    url = ("http://127.0.0.1:3333/bkt/a%20dir/file%2B%E2%82%AC.txt"
           "?response-content-disposition=attachment%3B%20filename%3D%22f.txt%22")
    js = page.evaluate(
        "([u, c, now]) => window.sigv4.presignUrl({method: 'GET', url: u, creds: c,"
        " region: 'us-east-1', expiresSeconds: 900, now: new Date(now)})",
        [url, CREDS, NOW.isoformat()])
    creds = Credentials(CREDS["accessKeyId"], CREDS["secretAccessKey"], CREDS["sessionToken"])
    req = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=900).add_auth(req)
    boto_sig = req.url.split("X-Amz-Signature=")[1]
    assert js.split("X-Amz-Signature=")[1] == boto_sig
    assert "X-Amz-Security-Token=" in js and "X-Amz-Expires=900" in js
