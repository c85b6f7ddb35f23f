"""The bundle's AES key and IV: wrapped as RSA PKCS#1 v1.5 ciphertexts of 32 hex characters.

A bundle's key and IV are each written as lowercase hex text (32 ASCII characters), that
text RSA-encrypted to a certificate, and the ciphertext hex-encoded in the manifest.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from objectstore.images.errors import DecryptError

_KEY_TEXT = re.compile(rb"[0-9a-fA-F]{32}")


@dataclass(frozen=True, slots=True)
class BundleKey:
    key: bytes  # 16 bytes, AES-128
    iv: bytes  # 16 bytes
    cloud_key_index: int  # which of the given cloud keys unwrapped it


def unwrap_key(ec2_encrypted_key: str, ec2_encrypted_iv: str,
               cloud_keys: Sequence[rsa.RSAPrivateKey]) -> BundleKey:
    """Decrypt the manifest's ec2 key and IV with the first cloud key that works.

    Several keys support rotation: a bundle made for an older certificate still opens.
    """
    if not cloud_keys:
        raise DecryptError("no cloud key is configured to decrypt the bundle key")
    enc_key = _unhex(ec2_encrypted_key, "ec2_encrypted_key")
    enc_iv = _unhex(ec2_encrypted_iv, "ec2_encrypted_iv")
    for i, private_key in enumerate(cloud_keys):
        key = _decrypt(private_key, enc_key)
        iv = _decrypt(private_key, enc_iv) if key is not None else None
        if key is not None and iv is not None:
            return BundleKey(key, iv, i)
    n = len(cloud_keys)
    which = "the cloud key" if n == 1 else f"any of the {n} cloud keys"
    raise DecryptError(f"the bundle key does not decrypt with {which} "
                       "(was the image bundled for another cloud's certificate?)")


def _unhex(text: str, what: str) -> bytes:
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise DecryptError(f"{what} is not hexadecimal") from None


def _decrypt(private_key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes | None:
    """The 16-byte secret, or None. OpenSSL may answer a wrong key with random bytes
    (implicit rejection) instead of an error: only 32 hex characters count as success."""
    if len(ciphertext) != (private_key.key_size + 7) // 8:
        return None
    try:
        text = private_key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        return None
    if not _KEY_TEXT.fullmatch(text):
        return None
    return binascii.unhexlify(text)


def wrap_key(secret: bytes, recipient: x509.Certificate | rsa.RSAPublicKey) -> str:
    """Encrypt ``secret`` (a 16-byte key or IV) as the hex ciphertext a manifest carries."""
    if len(secret) != 16:
        raise ValueError("the AES key and IV are 16 bytes")
    public_key = rsa_public_key(recipient)
    text = secret.hex().encode("ascii")
    return public_key.encrypt(text, padding.PKCS1v15()).hex()


def rsa_public_key(source: x509.Certificate | rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    key = source.public_key() if isinstance(source, x509.Certificate) else source
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate does not hold an RSA public key")
    return key


def load_private_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Parse a PEM (PKCS#1 or PKCS#8) RSA private key; ValueError otherwise."""
    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a usable PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return key


def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse a PEM X.509 certificate holding an RSA key; ValueError otherwise."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ValueError(f"not a PEM certificate: {exc}") from None
    rsa_public_key(cert)
    return cert
