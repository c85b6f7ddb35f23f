"""PURE core of the EC2 image bundle format (manifest 2007-10-10): parse and write
manifests, unwrap the AES key, verify signatures, decode parts into the image, and bundle.

Only ``bundle.make_bundle`` touches files (the user's output directory).
"""

from objectstore.images.errors import (
    BundleError,
    DecryptError,
    Failure,
    ImageError,
    ManifestError,
    SignatureError,
)
from objectstore.images.keys import BundleKey, unwrap_key, wrap_key
from objectstore.images.manifest import Manifest, Part, parse_manifest, render_manifest
from objectstore.images.pipeline import Limits, Unbundler, UnbundleResult
from objectstore.images.signature import sign, verify_signature

__all__ = [
    "BundleError", "BundleKey", "DecryptError", "Failure", "ImageError", "Limits", "Manifest",
    "ManifestError", "Part", "SignatureError", "UnbundleResult", "Unbundler", "parse_manifest",
    "render_manifest", "sign", "unwrap_key", "verify_signature", "wrap_key",
]
