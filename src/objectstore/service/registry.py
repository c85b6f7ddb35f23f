"""The machine-image registry: bundles in a bucket become registered images.

Registration is asynchronous: `register` checks what can be checked at once, records the
image as `pending` and hands the work to a worker thread, which streams the parts from
storage through the pure unbundling pipeline into a blob and marks the image
`available`, or `failed` with the reason. A restart resumes pending registrations.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import posixpath
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Iterator

from objectstore.service import access
from objectstore.service.cloudkeys import CloudKey
from objectstore.service.stores import Stores
from objectstore.service.unbundle import UnbundleFailed, read_manifest_info, unbundle
from objectstore.storage import faults
from objectstore.storage.faults import BlobFault
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import Image, ObjectRecord, Principal

log = logging.getLogger("objectstore.registry")

ID_RE = re.compile(r"^(ami|aki|ari)-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
MAX_MANIFEST = 1 << 20
READ_CHUNK = 1 << 20
ARCHITECTURES = ("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac")


class RegistryError(Exception):
    """code is one of: NotFound, Malformed, Duplicate, InvalidManifest, AccessDenied,
    InvalidParameter."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    location: str
    name: str = ""
    description: str = ""
    architecture: str | None = None
    kernel_id: str | None = None
    ramdisk_id: str | None = None
    image_id: str | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def split_location(location: str) -> tuple[str, str]:
    bucket, sep, key = location.lstrip("/").partition("/")
    if not sep or not bucket or not key:
        raise RegistryError("InvalidManifest", "image location must be bucket/key of the "
                            f"manifest, got {location!r}")
    return bucket, key


class Registry:
    def __init__(self, stores: Stores, cloud_keys: list[CloudKey]) -> None:
        self.stores = stores
        self.cloud_keys = cloud_keys
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="register")
        self._lock_fd: int | None = None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ reading
    def may_see(self, p: Principal | None, im: Image) -> bool:
        return im.is_public and p is not None or (
            p is not None and (p.is_admin or p.account_id == im.owner))

    def visible(self, p: Principal | None) -> list[Image]:
        return [im for im in self.stores.images.all() if self.may_see(p, im)]

    def get(self, p: Principal | None, image_id: str) -> Image:
        if not ID_RE.match(image_id):
            raise RegistryError("Malformed", f"Invalid id: \"{image_id}\"")
        im = self.stores.images.get(image_id)
        if im is None or not self.may_see(p, im):
            raise RegistryError("NotFound", f"The image id '[{image_id}]' does not exist")
        return im

    def owned(self, p: Principal | None, image_id: str) -> Image:
        im = self.get(p, image_id)
        if p is None or not (p.is_admin or p.account_id == im.owner):
            raise RegistryError("AccessDenied", "You are not authorized to modify this image")
        return im

    # ------------------------------------------------------------------ changes
    async def register(self, p: Principal, req: RegisterRequest) -> Image:
        bucket_name, key = split_location(req.location)
        bucket = self.stores.meta.get_bucket(bucket_name)
        if bucket is None:
            raise RegistryError("InvalidManifest", f"bucket {bucket_name!r} does not exist")
        manifest_obj = self.stores.meta.get_object(bucket_name, key)
        if manifest_obj is None:
            if not access.may(p, bucket.account_id, bucket.acl, "READ"):
                raise RegistryError("AccessDenied", "not allowed to read the manifest")
            raise RegistryError("InvalidManifest", f"no manifest at {req.location}")
        if not access.may(p, manifest_obj.owner, manifest_obj.acl, "READ"):
            raise RegistryError("AccessDenied", "not allowed to read the manifest")
        if req.architecture is not None and req.architecture not in ARCHITECTURES:
            raise RegistryError("InvalidParameter",
                                f"invalid architecture {req.architecture!r}")
        for ref in (req.kernel_id, req.ramdisk_id):
            if ref is not None and ref != "true" and not ID_RE.match(ref):
                raise RegistryError("Malformed", f"Invalid id: \"{ref}\"")
        info, problem = None, ""
        try:
            info = read_manifest_info(self._read_whole(manifest_obj))
        except UnbundleFailed as exc:
            problem = f"the manifest could not be read: {exc.reason}"
        kernel = req.kernel_id if req.kernel_id is not None else (info.kernel_id if info else None)
        ramdisk = req.ramdisk_id if req.ramdisk_id is not None else (
            info.ramdisk_id if info else None)
        image_type = "kernel" if kernel == "true" else "ramdisk" if ramdisk == "true" else (
            info.image_type if info and info.image_type in ("kernel", "ramdisk") else "machine")
        prefix = {"machine": "ami", "kernel": "aki", "ramdisk": "ari"}[image_type]
        image_id = req.image_id
        if image_id is not None:
            if not ID_RE.match(image_id) or not image_id.startswith(prefix + "-"):
                raise RegistryError("Malformed", f"Invalid id: \"{image_id}\"")
        image = Image(
            image_id=image_id or new_id(prefix), owner=p.account_id, location=req.location,
            state="failed" if problem else "pending", reason=problem, image_type=image_type,
            architecture=req.architecture or (info.architecture if info else "") or "x86_64",
            kernel_id=None if kernel in (None, "true") else kernel,
            ramdisk_id=None if ramdisk in (None, "true") else ramdisk,
            is_public=False, name=req.name or (info.name if info else "") or key,
            description=req.description,
            block_devices=info.block_devices if info else (),
            size=0, blob="", registered_by=p.user, created=time.time(),
        )
        for _ in range(5):
            try:
                await self.stores.write(self.stores.images.add_txn(image))
                break
            except Conflict:
                if req.image_id is not None:
                    raise RegistryError("Duplicate", f"image id {image_id} is in use") from None
                image = replace(image, image_id=new_id(prefix))
        if not problem:
            self._pool.submit(self._work, image.image_id)
        return image

    async def set_public(self, p: Principal | None, image_id: str, public: bool) -> Image:
        self.owned(p, image_id)
        return await self.stores.write(
            self.stores.images.update_txn(image_id, is_public=public))

    async def update(self, p: Principal | None, image_id: str, *, name: str | None = None,
                     description: str | None = None) -> Image:
        self.owned(p, image_id)
        changes = {k: v for k, v in (("name", name), ("description", description))
                   if v is not None}
        return await self.stores.write(self.stores.images.update_txn(image_id, **changes))

    async def deregister(self, p: Principal | None, image_id: str) -> None:
        self.owned(p, image_id)
        try:
            await self.stores.write(self.stores.images.delete_txn(image_id))
        except NotFound:
            raise RegistryError("NotFound", f"The image id '[{image_id}]' does not exist") \
                from None

    def resume(self) -> int:
        """Restart registrations left pending by a previous process. With several server
        processes on one data directory only the one holding the registry lock resumes."""
        lock_path = self.stores.blobs.root / "registry.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return 0
        self._lock_fd = fd  # held for the life of the process
        pending = self.stores.images.pending()
        for im in pending:
            self._pool.submit(self._work, im.image_id)
        return len(pending)

    async def wait_idle(self) -> None:
        """For tests and shutdown: wait until queued registrations have run."""
        await asyncio.to_thread(lambda: self._pool.submit(lambda: None).result())

    # ------------------------------------------------------------------ the worker
    def _work(self, image_id: str) -> None:
        im = self.stores.images.get(image_id)
        if im is None or im.state != "pending":
            return
        try:
            blob_id, size = self._unbundle(im)
        except UnbundleFailed as exc:
            self._finish(image_id, state="failed", reason=exc.reason)
            return
        except Exception:  # noqa: BLE001 - recorded, never left pending
            log.exception("registering %s failed", image_id)
            self._finish(image_id, state="failed", reason="internal error while registering")
            return
        if not self._finish(image_id, state="available", blob=blob_id, size=size):
            self.stores.blobs.delete(blob_id)

    def _finish(self, image_id: str, **changes: object) -> bool:
        try:
            self.stores.meta.run(self.stores.images.update_txn(image_id, **changes))
            return True
        except NotFound:  # deregistered meanwhile
            return False

    def _principal(self, im: Image) -> Principal:
        user = self.stores.meta.get_user(im.registered_by)
        if user is None:
            raise UnbundleFailed("failed_download", f"user {im.registered_by} no longer exists")
        account = self.stores.meta.get_account(user.account_id)
        name = account.name if account else user.account_id
        return Principal(user.name, user.account_id, name, user.is_admin, "")

    def _unbundle(self, im: Image) -> tuple[str, int]:
        p = self._principal(im)
        bucket_name, key = split_location(im.location)
        manifest_obj = self._readable(p, bucket_name, key, "the manifest")
        folder = posixpath.dirname(key)

        def part(filename: str) -> Iterator[bytes]:
            part_key = posixpath.join(folder, filename) if folder else filename
            obj = self._readable(p, bucket_name, part_key, f"part {filename}")
            return self._read(obj)

        user_certs = self.stores.meta.user_certs(im.registered_by)
        writer = self.stores.blobs.writer()
        try:
            size = unbundle(self._read_whole(manifest_obj), self.cloud_keys, part,
                            writer.write, user_certs)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return writer.id, size

    def _readable(self, p: Principal, bucket: str, key: str, what: str) -> ObjectRecord:
        obj = self.stores.meta.get_object(bucket, key)
        if obj is None:
            raise UnbundleFailed("failed_download", f"{what} is missing ({bucket}/{key})")
        if not access.may(p, obj.owner, obj.acl, "READ"):
            raise UnbundleFailed("failed_download", f"not allowed to read {what}")
        return obj

    def _read(self, obj: ObjectRecord) -> Iterator[bytes]:
        if obj.inline is not None:
            yield obj.inline
            return
        for seg in obj.segments:
            if not seg.size:
                continue
            fd = self.stores.blobs.open(seg.blob)
            try:
                sums = self.stores.blobs.sums(fd, seg.blob, seg.size)
                pos = 0
                while pos < seg.size:
                    data = sums.read(fd, pos, min(READ_CHUNK, seg.size - pos))
                    pos += len(data)
                    yield data
            except BlobFault as fault:
                fault.where = f"{obj.bucket}/{obj.key}"
                faults.report(fault)
                raise UnbundleFailed("failed_download", "a stored part is damaged") from None
            finally:
                os.close(fd)

    def _read_whole(self, obj: ObjectRecord) -> bytes:
        if obj.size > MAX_MANIFEST:
            raise UnbundleFailed("failed_download", "the manifest is larger than 1 MiB")
        return b"".join(self._read(obj))

