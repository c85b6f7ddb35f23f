"""Data keys of encrypted objects: made, wrapped and unwrapped.

Every encrypted object (and multipart upload) has its own random 256-bit data key. It is
stored only wrapped:
- SSE-S3: sealed by the keyring's active ``sse`` master key;
- SSE-KMS: sealed by the active key of ``kms:<name>``, bound to the encryption context;
- SSE-C: encrypted (AES-256-GCM) with the customer's key, which is never stored. The
  wrapped key is also what recognises the customer key: only the right key opens it
  (a keyed check, like the salted HMAC S3 keeps), so the record is useless without it.
A rotated master key stays in the keyring (retired) and keeps unwrapping the data keys it
sealed; new objects use the new one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from objectstore.s3 import sse
from objectstore.s3.errors import S3Error
from objectstore.storage.crypto import DATA_KEY_BYTES
from objectstore.storage.keyring import KMS_PREFIX, SSE, Keyring, KeyringError

SSE_AAD = b"objectstore sse-s3 data key"
CUSTOMER_AAD = b"objectstore sse-c data key"
CUSTOMER_PREFIX = "c1:"


@dataclass(frozen=True, slots=True)
class DataKey:
    """An object's data key, in the clear (never stored), with its stored description."""

    key: bytes
    stored: sse.Stored

    @property
    def mode(self) -> str:
        return self.stored.mode

    def etag(self, md5: bytes) -> str:
        """The object's (or part's) ETag: the plaintext's MD5 for SSE-S3, something that is
        not an MD5 of the data for SSE-C and SSE-KMS (as S3 does)."""
        if self.stored.mode == sse.AES256:
            return md5.hex()
        return hmac.new(self.key, b"etag:" + md5, hashlib.sha256).hexdigest()[:32]


def _kms_aad(context: str | None) -> bytes:
    return b"objectstore sse-kms data key:" + (context or "").encode()


def kms_purpose(keyring: Keyring, key_id: str | None) -> tuple[str, str]:
    """(keyring purpose, name to answer with) of a KMS key id; the default key is made on
    first use, any other must exist (KMS.NotFoundException)."""
    name = sse.kms_key_name(key_id) if key_id else sse.DEFAULT_KMS_KEY
    purpose = KMS_PREFIX + name
    if name == sse.DEFAULT_KMS_KEY:
        keyring.ensure(purpose)
    elif not keyring.has(purpose):
        raise S3Error("KMS.NotFoundException", f"Invalid keyId {key_id}")
    return purpose, key_id or sse.DEFAULT_KMS_KEY


def new_key(keyring: Keyring, req: sse.Requested) -> DataKey | None:
    """A fresh data key for a write asking for ``req`` (None: not encrypted)."""
    if req.mode is None:
        return None
    key = secrets.token_bytes(DATA_KEY_BYTES)
    try:
        if req.mode == sse.SSE_C:
            assert req.customer_key is not None
            nonce = secrets.token_bytes(12)
            wrapped = AESGCM(req.customer_key).encrypt(nonce, key, CUSTOMER_AAD)
            sealed = CUSTOMER_PREFIX + base64.b64encode(nonce + wrapped).decode()
            return DataKey(key, sse.Stored(sse.SSE_C, sealed, customer_md5=req.customer_md5))
        if req.mode == sse.KMS:
            purpose, name = kms_purpose(keyring, req.kms_key)
            sealed = keyring.seal(purpose, key, _kms_aad(req.context))
            return DataKey(key, sse.Stored(sse.KMS, sealed, kms_key=name, context=req.context,
                                           bucket_key=req.bucket_key))
        keyring.ensure(SSE)
        sealed = keyring.seal(SSE, key, SSE_AAD)
        return DataKey(key, sse.Stored(sse.AES256, sealed, bucket_key=req.bucket_key))
    except KeyringError as exc:
        raise S3Error("InternalError", f"the keyring cannot seal a data key: {exc}") from None


def open_key(keyring: Keyring, stored_json: str | None,
             customer: sse.Requested | None) -> DataKey | None:
    """The data key of a stored object or upload, with the customer key a request carries
    (None: none). SSE-C objects need the right key; others must not be sent one."""
    if stored_json is None:
        if customer is not None:
            raise S3Error("InvalidRequest", "The encryption parameters are not applicable to "
                          "this object.")
        return None
    stored = sse.Stored.from_json(stored_json)
    if stored.mode == sse.SSE_C:
        if customer is None:
            raise S3Error("InvalidRequest", "The object was stored using a form of Server Side "
                          "Encryption. The correct parameters must be provided to retrieve the "
                          "object.")
        assert customer.customer_key is not None
        try:
            blob = base64.b64decode(stored.sealed_key.removeprefix(CUSTOMER_PREFIX))
            key = AESGCM(customer.customer_key).decrypt(blob[:12], blob[12:], CUSTOMER_AAD)
        except (InvalidTag, binascii.Error, ValueError):
            raise S3Error("InvalidRequest", "The provided encryption parameters did not match "
                          "the ones used originally.") from None
        return DataKey(key, replace(stored, customer_md5=customer.customer_md5))
    if customer is not None:
        raise S3Error("InvalidRequest", "The encryption parameters are not applicable to this "
                      "object.")
    aad = _kms_aad(stored.context) if stored.mode == sse.KMS else SSE_AAD
    try:
        return DataKey(keyring.open_sealed(stored.sealed_key, aad), stored)
    except KeyringError as exc:
        raise S3Error("InternalError", f"the data key of this object does not open: {exc}") \
            from None


def key_id_of(stored_json: str | None) -> str | None:
    """The keyring key id a stored data key is sealed with (None: SSE-C or plain)."""
    if not stored_json:
        return None
    stored = sse.Stored.from_json(stored_json)
    if stored.mode == sse.SSE_C:
        return None
    return stored.sealed_key.split(":")[1]
