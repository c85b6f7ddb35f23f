"""Failures of the image-bundle core: one machine code and one precise human reason each.

Codes (what a registry stores as the image's failed state):

=================  ============================================================
failed_manifest    the manifest is not a valid 2007-10-10 manifest
failed_signature   the manifest signature does not verify with the user's certificate
failed_download    a part is missing, out of order, or the parts' total size is wrong
failed_decrypt     the AES key/IV cannot be unwrapped, or the ciphertext does not decrypt
failed_untar       not a gzip stream, not exactly one regular file, or limits exceeded
failed_checksum    a part's SHA1, the tar-stream SHA1 or the image size differs
=================  ============================================================

(A server adds ``failed_upload`` for its own storage failures.)
"""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    MANIFEST = "failed_manifest"
    SIGNATURE = "failed_signature"
    DOWNLOAD = "failed_download"
    DECRYPT = "failed_decrypt"
    UNTAR = "failed_untar"
    CHECKSUM = "failed_checksum"


class ImageError(Exception):
    """Base of every failure here: ``code`` (a :class:`Failure`) and ``reason`` (for humans)."""

    def __init__(self, code: Failure, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class ManifestError(ImageError):
    def __init__(self, reason: str) -> None:
        super().__init__(Failure.MANIFEST, reason)


class SignatureError(ManifestError):
    def __init__(self, reason: str) -> None:
        ImageError.__init__(self, Failure.SIGNATURE, reason)


class DecryptError(ImageError):
    def __init__(self, reason: str) -> None:
        super().__init__(Failure.DECRYPT, reason)


class BundleError(ImageError):
    """A failure while decoding the parts (download, decrypt, untar or checksum)."""
