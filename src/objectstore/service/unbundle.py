"""Adapter between the registry (storage, accounts) and the pure bundle-format code in
objectstore.images: manifest facts, the streaming unbundle, and the user-side bundler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from objectstore.images import bundle as bundler
from objectstore.images.errors import ImageError
from objectstore.images.keys import load_certificate, load_private_key, unwrap_key
from objectstore.images.manifest import Manifest, parse_manifest
from objectstore.images.pipeline import Unbundler
from objectstore.images.signature import verify_signature
from objectstore.service.cloudkeys import CloudKey


class UnbundleFailed(Exception):
    """A registration failure: ``code`` (failed_manifest, failed_download, …) and reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    image_type: str
    architecture: str
    kernel_id: str | None
    ramdisk_id: str | None
    name: str
    block_devices: tuple[tuple[str, str], ...]
    size: int  # the image's bytes, as the manifest declares them


def _manifest(xml: bytes) -> Manifest:
    try:
        return parse_manifest(xml)
    except ImageError as exc:
        raise UnbundleFailed(str(exc.code), exc.reason) from None


def read_manifest_info(xml: bytes) -> ManifestInfo:
    m = _manifest(xml)
    return ManifestInfo(m.image_type, m.architecture or "", m.kernel_id, m.ramdisk_id, m.name,
                        m.block_device_mapping, m.size)


def part_names(xml: bytes) -> list[str]:
    return [p.filename for p in _manifest(xml).parts]


def unbundle(manifest: bytes, cloud_keys: list[CloudKey],
             part: Callable[[str], Iterator[bytes]], write: Callable[[bytes], None],
             user_certs: list[bytes], *, max_size: int | None = None,
             hole: Callable[[int], None] | None = None) -> int:
    """Decode the bundle described by ``manifest`` into ``write``; returns the image size.

    ``part(filename)`` yields a part's stored bytes (raising UnbundleFailed when it is
    missing or unreadable); parts are read one at a time, in index order. A manifest
    declaring more than ``max_size`` bytes fails before any part is read; the output is
    bounded by the declared size. ``hole(n)``: n zero bytes of a sparse file (seek).
    """
    m = _manifest(manifest)
    if max_size is not None and m.size > max_size:
        raise UnbundleFailed("failed_manifest", f"the manifest's image is {m.size} bytes, "
                             f"more than the maximum image size of {max_size}")
    try:
        if user_certs:
            _verify_any(m, user_certs)
        bk = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [k.key for k in cloud_keys])
        decoder = Unbundler.for_manifest(m, bk.key, bk.iv, sink=write, hole=hole)
        for p in m.parts:
            for chunk in part(p.filename):
                decoder.feed_part(p.index, chunk)
            decoder.end_part(p.index)
        return decoder.finish().size
    except ImageError as exc:
        raise UnbundleFailed(str(exc.code), exc.reason) from None


def _verify_any(m: Manifest, certs: list[bytes]) -> None:
    last: ImageError | None = None
    for pem in certs:
        try:
            verify_signature(m, load_certificate(pem))
            return
        except ImageError as exc:
            last = exc
    assert last is not None
    raise last


def make_bundle(image: Path, cloud_cert: Path, destination: Path, *,
                user_key: Path | None = None, user_cert: Path | None = None,
                kernel: str | None = None, ramdisk: str | None = None, arch: str = "x86_64",
                part_size: int = bundler.DEFAULT_PART_SIZE, prefix: str | None = None,
                progress: Callable[[int], None] | None = None) -> Path:
    """Bundle an image file into ``destination``; returns the manifest's path."""
    destination.mkdir(parents=True, exist_ok=True)
    with image.open("rb") as f:
        result = bundler.make_bundle(
            f, image.name, destination, cloud_cert=load_certificate(cloud_cert.read_bytes()),
            user_key=load_private_key(user_key.read_bytes()) if user_key else None,
            user_cert=load_certificate(user_cert.read_bytes()) if user_cert else None,
            prefix=prefix, kernel=kernel, ramdisk=ramdisk, arch=arch, part_size=part_size,
            progress=progress)
    return result.manifest_path
