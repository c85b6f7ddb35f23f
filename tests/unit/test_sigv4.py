"""SigV4: AWS's documented examples, then botocore as an oracle on random requests."""

from __future__ import annotations

import hashlib
from urllib.parse import quote, unquote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3 import sigv4
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import parse_query

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SCOPE = "20130524/us-east-1/s3/aws4_request"
DATE = "20130524T000000Z"


def _claim_and_verify(method: str, path: str, raw_query: str, headers: dict[str, str]
                      ) -> tuple[sigv4.SigV4Request, sigv4.Outcome]:
    claim = sigv4.parse_authorization(headers["authorization"], headers)
    out = sigv4.verify(claim, SK, method, path, parse_query(raw_query), headers)
    return claim, out


# ------------------------------------------------------------------ AWS documented examples
# https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html

def test_aws_example_get_object() -> None:
    """Example: GET Object (the first 10 bytes of test.txt)."""
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": DATE,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ),
    }
    claim, out = _claim_and_verify("GET", "/test.txt", "", headers)
    assert claim.credential == sigv4.Credential(AK, "20130524", "us-east-1", "s3")
    assert claim.credential.scope == SCOPE
    assert claim.amz_date == DATE
    assert claim.signed_headers == ("host", "range", "x-amz-content-sha256", "x-amz-date")
    assert claim.payload_hash == EMPTY and not claim.presigned
    assert out.canonical_request == (
        "GET\n"
        "/test.txt\n"
        "\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        f"x-amz-content-sha256:{EMPTY}\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        f"{EMPTY}"
    )
    assert out.string_to_sign == (
        "AWS4-HMAC-SHA256\n"
        "20130524T000000Z\n"
        "20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    )
    assert out.expected == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    assert out.ok
    assert out.key == sigv4.signing_key(SK, "20130524", "us-east-1", "s3")


def test_aws_example_get_object_tampered_is_rejected() -> None:
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "range": "bytes=0-10",  # the signature was made for bytes=0-9
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": DATE,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ),
    }
    assert not _claim_and_verify("GET", "/test.txt", "", headers)[1].ok
    headers["range"] = "bytes=0-9"
    assert not _claim_and_verify("GET", "/test.TXT", "", headers)[1].ok
    assert not _claim_and_verify("GET", "/test.txt", "x=1", headers)[1].ok
    assert not _claim_and_verify("HEAD", "/test.txt", "", headers)[1].ok
    claim = sigv4.parse_authorization(headers["authorization"], headers)
    assert not sigv4.verify(claim, SK + "x", "GET", "/test.txt", (), headers).ok


def test_aws_example_put_object() -> None:
    """Example: PUT Object (test$file.text, signed Date header, storage class)."""
    body = b"Welcome to Amazon S3."
    payload = hashlib.sha256(body).hexdigest()
    assert payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "date": "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-date": DATE,
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": payload,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ),
    }
    # the server hands verify() the percent-decoded path
    claim, out = _claim_and_verify("PUT", unquote("/test%24file.text"), "", headers)
    assert out.canonical_request.split("\n")[1] == "/test%24file.text"
    assert out.string_to_sign.endswith(
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
    assert out.ok


def test_aws_example_get_bucket_lifecycle() -> None:
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "x-amz-date": DATE,
        "x-amz-content-sha256": EMPTY,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        ),
    }
    claim, out = _claim_and_verify("GET", "/", "lifecycle", headers)
    assert out.canonical_request.split("\n")[:3] == ["GET", "/", "lifecycle="]
    assert out.ok


def test_aws_example_list_objects() -> None:
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "x-amz-date": DATE,
        "x-amz-content-sha256": EMPTY,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ),
    }
    claim, out = _claim_and_verify("GET", "/", "max-keys=2&prefix=J", headers)
    assert out.canonical_request.split("\n")[2] == "max-keys=2&prefix=J"
    assert out.ok
    # query order on the wire does not matter
    assert _claim_and_verify("GET", "/", "prefix=J&max-keys=2", headers)[1].ok


def test_aws_example_presigned_url() -> None:
    """https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html"""
    raw = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    query = parse_query(raw)
    headers = {"host": "examplebucket.s3.amazonaws.com"}
    claim = sigv4.parse_presigned(dict(query), headers)
    assert claim.presigned and claim.expires == 86400
    assert claim.payload_hash == "UNSIGNED-PAYLOAD"
    out = sigv4.verify(claim, SK, "GET", "/test.txt", query, headers)
    assert out.canonical_request == (
        "GET\n/test.txt\n"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
        "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    )
    assert out.string_to_sign == (
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
    )
    assert out.ok
    tampered = parse_query(raw.replace("X-Amz-Expires=86400", "X-Amz-Expires=86401"))
    claim2 = sigv4.parse_presigned(dict(tampered), headers)
    assert not sigv4.verify(claim2, SK, "GET", "/test.txt", tampered, headers).ok


def test_aws_example_streaming_seed_signature() -> None:
    """The seed signature of the chunked-upload example (sigv4-streaming.html)."""
    headers = {
        "content-encoding": "aws-chunked",
        "content-length": "66824",
        "host": "s3.amazonaws.com",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-date": DATE,
        "x-amz-decoded-content-length": "66560",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=content-encoding;"
            "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            "x-amz-storage-class,"
            "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        ),
    }
    claim, out = _claim_and_verify("PUT", "/examplebucket/chunkObject.txt", "", headers)
    assert claim.payload_hash in sigv4.STREAMING_PAYLOADS
    assert out.ok


def test_signing_key_doc_vector() -> None:
    # kSigning for the documentation credentials (hex), as shown by the AWS examples.
    key = sigv4.signing_key(SK, "20130524", "us-east-1", "s3")
    assert len(key) == 32
    assert key.hex() == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378"


# ------------------------------------------------------------------ botocore as an oracle

_KEY_CHARS = st.characters(blacklist_categories=("Cs",))
_SPECIAL = st.sampled_from(list(" +~!*'()$&=,;:@/?#[]%^`{}|\\\"<>é日本😀\t"))
keys = st.lists(st.one_of(_KEY_CHARS, _SPECIAL), min_size=1, max_size=20).map("".join)
qnames = st.lists(st.one_of(st.sampled_from(list("abcXYZ-_.~")), _SPECIAL, _KEY_CHARS),
                  min_size=1, max_size=8).map("".join)
qvalues = st.lists(st.one_of(st.sampled_from(list("abc019")), _SPECIAL, _KEY_CHARS),
                   max_size=12).map("".join)
queries = st.lists(st.tuples(qnames, qvalues), max_size=4)
meta_values = st.text(alphabet=st.sampled_from(list("abc XYZ 0-9\t!\"#$%&'()*+,./:;<=>?@[]")),
                      max_size=20)

_CREDS = Credentials(AK, SK)
_HOST = "127.0.0.1:9000"


def _server_view(request: AWSRequest) -> tuple[str, str, str, dict[str, str]]:
    """What the server sees: method, decoded path, raw query, lower-cased headers."""
    split = urlsplit(request.url)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.setdefault("host", split.netloc)
    return request.method, unquote(split.path, errors="strict"), split.query, headers


def _url(bucket: str, key: str, query: list[tuple[str, str]]) -> str:
    # Like botocore's serializer: the key with safe='/~', query pairs fully encoded.
    url = f"http://{_HOST}/{bucket}/{quote(key, safe='/~')}"
    if query:
        url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                              for k, v in query)
    return url


@settings(max_examples=60)
@given(key=keys, query=queries, meta=meta_values,
       method=st.sampled_from(["GET", "PUT", "HEAD", "DELETE", "POST"]),
       body=st.binary(max_size=64))
def test_botocore_header_auth_accepted(key: str, query: list[tuple[str, str]], meta: str,
                                       method: str, body: bytes) -> None:
    req = AWSRequest(method=method, url=_url("bucket", key, query), data=body,
                     headers={"X-Amz-Meta-Note": meta, "Content-Type": "text/plain"})
    S3SigV4Auth(_CREDS, "s3", "us-east-1").add_auth(req)
    m, path, raw_query, headers = _server_view(req)
    claim, out = _claim_and_verify(m, path, raw_query, headers)
    assert out.ok, out.canonical_request
    assert claim.payload_hash == hashlib.sha256(body).hexdigest()
    # tampering with the key, a signed header or the query is detected
    assert not sigv4.verify(claim, SK, m, path + "x", parse_query(raw_query), headers).ok
    bad = dict(headers, **{"x-amz-meta-note": meta + "!"})
    assert not sigv4.verify(claim, SK, m, path, parse_query(raw_query), bad).ok
    more = parse_query(raw_query) + (("extra", "1"),)
    assert not sigv4.verify(claim, SK, m, path, more, headers).ok


@settings(max_examples=60)
@given(key=keys, query=st.dictionaries(qnames.filter(lambda n: not n.startswith("X-Amz-")),
                                       qvalues, max_size=4),
       expires=st.integers(1, 604800))
def test_botocore_presigned_accepted(key: str, query: dict[str, str], expires: int) -> None:
    req = AWSRequest(method="GET", url=_url("bucket", key, list(query.items())))
    S3SigV4QueryAuth(_CREDS, "s3", "eu-west-3", expires=expires).add_auth(req)
    m, path, raw_query, headers = _server_view(req)
    q = parse_query(raw_query)
    claim = sigv4.parse_presigned(dict(q), headers)
    assert claim.presigned and claim.expires == expires
    assert claim.credential.region == "eu-west-3"
    out = sigv4.verify(claim, SK, m, path, q, headers)
    assert out.ok, out.canonical_request
    assert not sigv4.verify(claim, SK, "PUT", path, q, headers).ok
    assert not sigv4.verify(claim, SK, m, path + "/", q, headers).ok


def test_botocore_header_folding_whitespace() -> None:
    req = AWSRequest(method="PUT", url=_url("b", "k", []), data=b"x",
                     headers={"X-Amz-Meta-A": "  lots   of \t spaces  ",
                              "X-Amz-Meta-B": "v1,v2"})
    S3SigV4Auth(_CREDS, "s3", "us-east-1").add_auth(req)
    m, path, raw_query, headers = _server_view(req)
    _, out = _claim_and_verify(m, path, raw_query, headers)
    assert "x-amz-meta-a:lots of spaces\n" in out.canonical_request
    assert out.ok


def test_botocore_unsigned_payload() -> None:
    req = AWSRequest(method="PUT", url=_url("b", "k", []), data=b"abc")
    req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    S3SigV4Auth(_CREDS, "s3", "us-east-1").add_auth(req)
    m, path, raw_query, headers = _server_view(req)
    claim, out = _claim_and_verify(m, path, raw_query, headers)
    assert claim.payload_hash == "UNSIGNED-PAYLOAD"
    assert out.ok


def test_date_header_instead_of_x_amz_date() -> None:
    req = AWSRequest(method="GET", url=_url("b", "k", []), headers={"Date": "x"})
    S3SigV4Auth(_CREDS, "s3", "us-east-1").add_auth(req)
    m, path, raw_query, headers = _server_view(req)
    assert "x-amz-date" not in headers and "date" in headers
    claim, out = _claim_and_verify(m, path, raw_query, headers)
    assert sigv4.parse_amz_date(claim.amz_date) is not None
    assert out.ok


# ------------------------------------------------------------------ canonical pieces

@pytest.mark.parametrize("raw,expected", [
    ("", ""),
    ("acl", "acl="),
    ("b=2&a=1", "a=1&b=2"),
    ("a=2&a=1", "a=1&a=2"),
    ("prefix=a%2Fb&delimiter=%2F", "delimiter=%2F&prefix=a%2Fb"),
    ("q=a+b", "q=a%20b"),
    ("q=a%2Bb", "q=a%2Bb"),
    ("q=~-_.", "q=~-_."),
    ("q=%E6%97%A5", "q=%E6%97%A5"),
    ("q=%2a", "q=%2A"),
    ("X-Amz-Signature=abc&x=1", "X-Amz-Signature=abc&x=1"),
])
def test_canonical_query(raw: str, expected: str) -> None:
    assert sigv4.canonical_query(parse_query(raw), exclude_signature=False) == expected


def test_canonical_query_excludes_signature_only_when_presigned() -> None:
    q = parse_query("X-Amz-Signature=abc&x=1")
    assert sigv4.canonical_query(q, exclude_signature=True) == "x=1"


@pytest.mark.parametrize("path,expected", [
    ("/test.txt", "/test.txt"),
    ("/test$file.text", "/test%24file.text"),
    ("/a b+c", "/a%20b%2Bc"),
    ("//double//slash", "//double//slash"),
    ("/../x/./y", "/../x/./y"),  # S3 does not normalise paths
    ("/日本", "/%E6%97%A5%E6%9C%AC"),
    ("/~tilde-_.", "/~tilde-_."),
])
def test_canonical_uri(path: str, expected: str) -> None:
    assert sigv4.uri_encode(path) == expected


def test_canonical_headers_missing_signed_header() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.canonical_headers({"host": "h"}, ["host", "x-amz-date"])
    assert ei.value.code == "SignatureDoesNotMatch"


# ------------------------------------------------------------------ parse errors

_GOOD_HEADERS = {"x-amz-date": DATE, "x-amz-content-sha256": EMPTY, "host": "h"}
_CRED = f"Credential={AK}/{SCOPE}"


def _auth(s: str) -> str:
    return "AWS4-HMAC-SHA256 " + s


def test_parse_authorization_ok_without_spaces() -> None:
    claim = sigv4.parse_authorization(
        _auth(f"{_CRED},SignedHeaders=host;x-amz-date,Signature=abcd"), _GOOD_HEADERS)
    assert claim.signature == "abcd"
    assert claim.signed_headers == ("host", "x-amz-date")
    assert claim.credential.access_key == AK


@pytest.mark.parametrize("value", [
    "",
    _CRED,
    f"{_CRED}, SignedHeaders=host",
    f"{_CRED}, Signature=abc",
    "SignedHeaders=host, Signature=abc",
    f"{_CRED} SignedHeaders=host Signature=abc",
    f"{_CRED}, SignedHeaders=host, Signature",
    f"Credential={AK}/20130524/us-east-1/s3, SignedHeaders=host, Signature=abc",
    f"Credential={AK}/20130524/us-east-1/s3/aws4_request/x, SignedHeaders=host, Signature=abc",
    f"Credential={AK}/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc",
    f"Credential={AK}/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=abc",
    f"Credential={AK}/20130524/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc",
    f"Credential={AK}, SignedHeaders=host, Signature=abc",
])
def test_parse_authorization_malformed(value: str) -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_authorization(_auth(value), _GOOD_HEADERS)
    assert ei.value.code == "AuthorizationHeaderMalformed"
    assert ei.value.status == 400


def test_parse_authorization_missing_content_sha256() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_authorization(_auth(f"{_CRED}, SignedHeaders=host, Signature=a"),
                                  {"x-amz-date": DATE})
    assert ei.value.code == "InvalidRequest"


@pytest.mark.parametrize("payload", ["abc", "STREAMING-FOO", EMPTY[:-1], EMPTY + "0"])
def test_parse_authorization_bad_content_sha256(payload: str) -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_authorization(_auth(f"{_CRED}, SignedHeaders=host, Signature=a"),
                                  {"x-amz-date": DATE, "x-amz-content-sha256": payload})
    assert ei.value.code == "InvalidArgument"


@pytest.mark.parametrize("payload", sorted(sigv4.STREAMING_PAYLOADS) + ["UNSIGNED-PAYLOAD", EMPTY])
def test_parse_authorization_accepted_payloads(payload: str) -> None:
    claim = sigv4.parse_authorization(_auth(f"{_CRED}, SignedHeaders=host, Signature=a"),
                                      {"x-amz-date": DATE, "x-amz-content-sha256": payload})
    assert claim.payload_hash == payload


def test_parse_authorization_host_must_be_signed() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_authorization(_auth(f"{_CRED}, SignedHeaders=x-amz-date, Signature=a"),
                                  _GOOD_HEADERS)
    assert ei.value.code == "AccessDenied"


def test_parse_authorization_date_fallback() -> None:
    claim = sigv4.parse_authorization(
        _auth(f"{_CRED}, SignedHeaders=host, Signature=a"),
        {"date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-content-sha256": EMPTY})
    assert claim.amz_date == DATE
    claim = sigv4.parse_authorization(
        _auth(f"{_CRED}, SignedHeaders=host, Signature=a"),
        {"date": "not a date", "x-amz-content-sha256": EMPTY})
    assert sigv4.parse_amz_date(claim.amz_date) is None


def _presigned(**overrides: str | None) -> dict[str, str]:
    q: dict[str, str | None] = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{AK}/{SCOPE}",
        "X-Amz-Date": DATE,
        "X-Amz-Expires": "86400",
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": "abc",
    }
    q.update(overrides)
    return {k: v for k, v in q.items() if v is not None}


def test_parse_presigned_ok() -> None:
    claim = sigv4.parse_presigned(_presigned(), {})
    assert (claim.expires, claim.signature, claim.amz_date) == (86400, "abc", DATE)
    assert sigv4.parse_presigned(_presigned(**{"X-Amz-Expires": "604800"}), {}).expires == 604800
    assert sigv4.parse_presigned(_presigned(**{"X-Amz-Expires": "0"}), {}).expires == 0
    claim = sigv4.parse_presigned(_presigned(), {"x-amz-content-sha256": EMPTY})
    assert claim.payload_hash == EMPTY


@pytest.mark.parametrize("overrides", [
    {"X-Amz-Algorithm": None},
    {"X-Amz-Algorithm": "AWS4-HMAC-SHA1"},
    {"X-Amz-Algorithm": "AWS4-ECDSA-P256-SHA256"},
    {"X-Amz-Credential": None},
    {"X-Amz-Signature": None},
    {"X-Amz-Date": None},
    {"X-Amz-SignedHeaders": None},
    {"X-Amz-Expires": None},
    {"X-Amz-Expires": "abc"},
    {"X-Amz-Expires": ""},
    {"X-Amz-Expires": "-1"},
    {"X-Amz-Expires": "604801"},
    {"X-Amz-Credential": f"{AK}/20130524/us-east-1/s3"},
    {"X-Amz-Credential": f"{AK}/20130524/us-east-1/sqs/aws4_request"},
], ids=repr)
def test_parse_presigned_errors(overrides: dict[str, str | None]) -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_presigned(_presigned(**overrides), {})
    assert ei.value.code == "AuthorizationQueryParametersError"
    assert ei.value.status == 400


def test_parse_presigned_host_must_be_signed() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_presigned(_presigned(**{"X-Amz-SignedHeaders": "x-amz-date"}), {})
    assert ei.value.code == "AccessDenied"


@pytest.mark.parametrize("value,ok", [
    ("20130524T000000Z", True), ("20130524T235959Z", True), ("20130524", False),
    ("2013-05-24T00:00:00Z", False), ("", False), ("20131324T000000Z", False),
])
def test_parse_amz_date(value: str, ok: bool) -> None:
    parsed = sigv4.parse_amz_date(value)
    assert (parsed is not None) is ok
    if parsed is not None:
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


_DATE_MISMATCH = (
    "BUG: the credential-scope date is never compared with X-Amz-Date (not in "
    "sigv4.parse_authorization/parse_presigned, nor in server/auth.py). AWS rejects "
    "'Credential=AK/20130525/...' with 'X-Amz-Date: 20130524T000000Z' ('Invalid credential "
    "date. Date is not the same as X-Amz-Date.'); without the check a day-scoped signing key "
    "stays valid forever because only X-Amz-Date is checked for clock skew")


def test_credential_date_must_match_x_amz_date() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_authorization(
            _auth(f"Credential={AK}/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, "
                  "Signature=a"), _GOOD_HEADERS)
    assert ei.value.code == "AuthorizationHeaderMalformed"


def test_presigned_credential_date_must_match_x_amz_date() -> None:
    with pytest.raises(S3Error) as ei:
        sigv4.parse_presigned(
            _presigned(**{"X-Amz-Credential": f"{AK}/20130525/us-east-1/s3/aws4_request"}), {})
    assert ei.value.code == "AuthorizationQueryParametersError"
