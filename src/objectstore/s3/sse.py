"""Server-side encryption, the protocol side (no I/O): the request headers of SSE-S3,
SSE-KMS and SSE-C, the bucket default encryption document, the response headers.

What an object's record keeps (ObjectRecord.sse / Upload.sse, JSON):
  {"m": "AES256" | "aws:kms" | "SSE-C",   the mode
   "k": "<sealed data key>",              keyring-sealed (AES256, aws:kms) or
                                          wrapped with the customer key (SSE-C)
   "id": "<kms key name>", "ctx": "<base64 context>", "bk": true}  (aws:kms)
Nothing derived from an SSE-C key but its wrapped data key is stored: not even its MD5
(the MD5 a response shows is the request's, which had to carry the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from objectstore.s3.errors import S3Error
from objectstore.s3.xml import child, doc, el, single_rule, text

AES256 = "AES256"
KMS = "aws:kms"
SSE_C = "SSE-C"
DEFAULT_KMS_KEY = "aws/s3"  # the key of aws:kms requests that name none

H_SSE = "x-amz-server-side-encryption"
H_KMS_ID = "x-amz-server-side-encryption-aws-kms-key-id"
H_CONTEXT = "x-amz-server-side-encryption-context"
H_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
H_C_ALG = "x-amz-server-side-encryption-customer-algorithm"
H_C_KEY = "x-amz-server-side-encryption-customer-key"
H_C_MD5 = "x-amz-server-side-encryption-customer-key-md5"
PREFIX = "x-amz-"  # the customer-key headers of the request's own object
COPY_PREFIX = "x-amz-copy-source-"  # ... and of a copy's source
INSECURE = ("Requests specifying Server Side Encryption with Customer provided keys must be "
            "made over a secure connection.")


@dataclass(frozen=True, slots=True)
class Requested:
    """The encryption a write asks for (mode None: none asked)."""

    mode: str | None = None
    kms_key: str | None = None  # the key name as the client gave it (aws:kms)
    context: str | None = None  # base64 JSON (aws:kms)
    bucket_key: bool = False
    customer_key: bytes | None = None  # SSE-C
    customer_md5: str | None = None  # base64

    @property
    def customer(self) -> bool:
        return self.mode == SSE_C


NONE = Requested()


def _names(prefix: str) -> tuple[str, str, str]:
    return tuple(prefix + h.removeprefix(PREFIX)  # type: ignore[return-value]
                 for h in (H_C_ALG, H_C_KEY, H_C_MD5))


COPY_NAMES = _names(COPY_PREFIX)


def has_customer_headers(headers: dict[str, str], prefix: str = PREFIX) -> bool:
    names = (H_C_ALG, H_C_KEY, H_C_MD5) if prefix == PREFIX else COPY_NAMES
    return names[0] in headers or names[1] in headers or names[2] in headers


def customer_key(headers: dict[str, str], prefix: str = PREFIX) -> Requested | None:
    """The SSE-C key a request carries (``prefix``: COPY_PREFIX for the copy source's),
    checked as S3 checks it; None when it carries none."""
    if not has_customer_headers(headers, prefix):
        return None
    n_alg, n_key, n_md5 = _names(prefix)
    alg = headers.get(n_alg)
    key_b64 = headers.get(n_key)
    md5_b64 = headers.get(n_md5)
    if alg is None:
        raise S3Error("InvalidArgument", "Requests specifying Server Side Encryption with "
                      "Customer provided keys must provide a valid encryption algorithm.",
                      ArgumentName=n_alg, ArgumentValue="null")
    if alg != AES256:
        raise S3Error("InvalidEncryptionAlgorithmError" if prefix == PREFIX
                      else "InvalidArgument",
                      "The encryption request you specified is not valid. Supported value: "
                      "AES256.", ArgumentName=n_alg, ArgumentValue=alg[:64])
    if key_b64 is None:
        raise S3Error("InvalidArgument", "Requests specifying Server Side Encryption with "
                      "Customer provided keys must provide an appropriate secret key.",
                      ArgumentName=n_key, ArgumentValue="null")
    try:
        key = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise S3Error("InvalidArgument", "The secret key was invalid for the specified "
                      "algorithm.", ArgumentName=n_key, ArgumentValue="null")
    if md5_b64 is None:
        raise S3Error("InvalidArgument", "Requests specifying Server Side Encryption with "
                      "Customer provided keys must provide the client calculated MD5 of the "
                      "secret key.", ArgumentName=n_md5, ArgumentValue="null")
    digest = base64.b64encode(hashlib.md5(key).digest()).decode()
    if md5_b64.strip() != digest:
        raise S3Error("InvalidArgument", "The calculated MD5 hash of the key did not match the "
                      "hash that was provided.", ArgumentName=n_md5,
                      ArgumentValue=md5_b64[:64])
    return Requested(SSE_C, customer_key=key, customer_md5=digest)


def requested(headers: dict[str, str]) -> Requested:
    """The encryption a write (PUT, POST, Create multipart, Copy's destination) asks for."""
    c = customer_key(headers)
    mode = headers.get(H_SSE)
    if c is not None:
        if mode is not None:
            raise S3Error("InvalidArgument", "Server Side Encryption with Customer provided "
                          "key is incompatible with the encryption method specified",
                          ArgumentName=H_SSE, ArgumentValue=mode[:64])
        return c
    if mode is None:
        for name in (H_KMS_ID, H_CONTEXT):
            if name in headers:
                raise S3Error("InvalidArgument", "Server Side Encryption with AWS KMS managed "
                              "key requires HTTP header x-amz-server-side-encryption : aws:kms",
                              ArgumentName=H_SSE, ArgumentValue="null")
        return NONE
    if mode not in (AES256, KMS):
        raise S3Error("InvalidArgument", "The encryption method specified is not supported",
                      ArgumentName=H_SSE, ArgumentValue=mode[:64])
    bucket_key = (headers.get(H_BUCKET_KEY) or "").lower() == "true"
    if mode == AES256:
        for name in (H_KMS_ID, H_CONTEXT):
            if name in headers:
                raise S3Error("InvalidArgument", "Server Side Encryption with AWS KMS managed "
                              "key requires HTTP header x-amz-server-side-encryption : aws:kms",
                              ArgumentName=H_SSE, ArgumentValue=mode)
        return Requested(AES256, bucket_key=bucket_key)
    key = headers.get(H_KMS_ID) or None
    context = headers.get(H_CONTEXT)
    if context is not None:
        check_context(context)
    return Requested(KMS, kms_key=key, context=context, bucket_key=bucket_key)


def check_read(headers: dict[str, str]) -> None:
    """GET and HEAD take no x-amz-server-side-encryption headers (S3: 400 for SSE-S3 and
    SSE-KMS objects alike; the stored object says how it is encrypted)."""
    for name in (H_SSE, H_KMS_ID, H_CONTEXT):
        if name in headers:
            raise S3Error("InvalidArgument", "x-amz-server-side-encryption header is not "
                          "supported for this operation.", ArgumentName=name,
                          ArgumentValue=headers[name][:64])


def check_context(value: str) -> None:
    try:
        parsed = json.loads(base64.b64decode(value, validate=True))
        ok = isinstance(parsed, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        raise S3Error("InvalidArgument", "The header 'x-amz-server-side-encryption-context' "
                      "shall be Base64-encoded UTF-8 string holding JSON which represents a "
                      "string-string map", ArgumentName=H_CONTEXT, ArgumentValue=value[:64])


def kms_key_name(key_id: str) -> str:
    """The keyring name of a KMS key id, an alias or an ARN of either."""
    name = key_id
    if name.startswith("arn:"):
        name = name.split(":", 5)[-1]  # key/<id> or alias/<name>
        name = name.removeprefix("key/")
    return name.removeprefix("alias/")


# ---------------------------------------------------------------- the stored description
@dataclass(frozen=True, slots=True)
class Stored:
    mode: str
    sealed_key: str
    kms_key: str | None = None
    context: str | None = None
    bucket_key: bool = False
    customer_md5: str | None = None  # the request's (SSE-C); never stored

    def to_json(self) -> str:
        d: dict[str, object] = {"m": self.mode, "k": self.sealed_key}
        if self.kms_key is not None:
            d["id"] = self.kms_key
        if self.context is not None:
            d["ctx"] = self.context
        if self.bucket_key:
            d["bk"] = True
        return json.dumps(d, separators=(",", ":"))

    @staticmethod
    def from_json(value: str) -> Stored:
        d = json.loads(value)
        return Stored(d["m"], d["k"], d.get("id"), d.get("ctx"), bool(d.get("bk")))

    def headers(self) -> list[tuple[str, str]]:
        """What GET, HEAD, PUT and friends answer about it."""
        if self.mode == SSE_C:
            return [(H_C_ALG, AES256), ("x-amz-server-side-encryption-customer-key-MD5",
                                        self.customer_md5 or "")]
        out = [(H_SSE, self.mode)]
        if self.mode == KMS:
            out.append((H_KMS_ID, self.kms_key or DEFAULT_KMS_KEY))
            if self.context is not None:
                out.append((H_CONTEXT, self.context))
        if self.bucket_key:
            out.append((H_BUCKET_KEY, "true"))
        return out


def response_headers(sse: str | None) -> list[tuple[str, str]]:
    return Stored.from_json(sse).headers() if sse else []


def mode_of(sse: str | None) -> str | None:
    return Stored.from_json(sse).mode if sse else None


# ---------------------------------------------------------------- bucket default encryption
@dataclass(frozen=True, slots=True)
class BucketDefault:
    algorithm: str  # AES256 | aws:kms
    kms_key: str | None = None
    bucket_key: bool = False

    def to_json(self) -> str:
        return json.dumps({"alg": self.algorithm, "id": self.kms_key, "bk": self.bucket_key})

    @staticmethod
    def from_json(value: str) -> BucketDefault:
        d = json.loads(value)
        return BucketDefault(d["alg"], d.get("id"), bool(d.get("bk")))

    def as_requested(self) -> Requested:
        return Requested(self.algorithm, kms_key=self.kms_key, bucket_key=self.bucket_key)


def parse_bucket_config(body: bytes) -> BucketDefault:
    rule = single_rule(body, "ServerSideEncryptionConfiguration")
    by_default = child(rule, "ApplyServerSideEncryptionByDefault")
    if by_default is None:
        raise S3Error("MalformedXML")
    alg = (text(by_default, "SSEAlgorithm") or "").strip()
    if alg not in (AES256, KMS):
        raise S3Error("MalformedXML")
    key = (text(by_default, "KMSMasterKeyID") or "").strip() or None
    if key is not None and alg != KMS:
        raise S3Error("InvalidArgument", "a KMSMasterKeyID is not applicable if the default "
                      "sse algorithm is not aws:kms", ArgumentName="ApplyServerSideEncryption"
                      "ByDefault")
    bk_text = (text(rule, "BucketKeyEnabled") or "false").strip().lower()
    if bk_text not in ("true", "false"):
        raise S3Error("MalformedXML")
    return BucketDefault(alg, key, bk_text == "true")


def render_bucket_config(config: BucketDefault) -> bytes:
    inner = el("SSEAlgorithm", config.algorithm)
    if config.kms_key:
        inner += el("KMSMasterKeyID", config.kms_key)
    rule = f"<ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault>"
    rule += el("BucketKeyEnabled", "true" if config.bucket_key else "false")
    return doc("ServerSideEncryptionConfiguration", f"<Rule>{rule}</Rule>")
