"""Adapter between the registry and the pure bundle format code in objectstore.images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from objectstore.service.cloudkeys import CloudKey


class UnbundleFailed(Exception):
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


def read_manifest_info(xml: bytes) -> ManifestInfo:
    raise UnbundleFailed("failed_download", "not implemented yet")


def unbundle(manifest: bytes, cloud_keys: list[CloudKey],
             part: Callable[[str], Iterator[bytes]], write: Callable[[bytes], None],
             user_certs: list[bytes]) -> int:
    raise UnbundleFailed("failed_download", "not implemented yet")
