"""The manifest signature: RSA PKCS#1 v1.5 with SHA-1 over machine_configuration + image text."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from objectstore.images.errors import SignatureError
from objectstore.images.keys import rsa_public_key
from objectstore.images.manifest import Manifest


def sign(data: bytes, user_key: rsa.RSAPrivateKey) -> str:
    """Hex signature of ``data`` (use as ``render_manifest``'s signer)."""
    return user_key.sign(data, padding.PKCS1v15(), hashes.SHA1()).hex()


def verify_signature(manifest: Manifest,
                     user_cert: x509.Certificate | rsa.RSAPublicKey) -> None:
    """Raise :class:`SignatureError` unless the manifest is signed by ``user_cert``'s key."""
    if manifest.signature is None:
        raise SignatureError("the manifest has no signature")
    try:
        public_key = rsa_public_key(user_cert)
    except ValueError as exc:
        raise SignatureError(str(exc)) from None
    try:
        public_key.verify(bytes.fromhex(manifest.signature), manifest.signed_bytes,
                          padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError):
        raise SignatureError("the manifest signature does not verify with the user's "
                             "certificate (tampered manifest or another signer)") from None
