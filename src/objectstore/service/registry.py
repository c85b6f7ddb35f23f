"""The machine-image registry: bundles in a bucket become registered images.

Registration is asynchronous: `register` checks what can be checked at once (access,
the manifest, the image size and the account's quotas), records the image as `pending`
with a random registration token and queues the work; worker threads take it fairly
between accounts (round-robin; one account runs on all workers but one, so another
account always finds one free), stream the parts from storage through the pure
unbundling pipeline into a blob (holes of sparse files stay holes) and mark the image
`available`, or `failed` with the reason. Only the worker of that token may finish the
image: deregistering cancels queued and running work (checked per chunk), and an id
registered again is a new token.
`close()` stops running work at its next chunk; a restart resumes pending registrations
from scratch, after removing partial files that no live worker holds.

Across processes and gateways each pending registration is claimed by the process working
on it (``images.claim_holder``, ``claim_epoch``, ``claim_expires``): made with the image,
renewed every third of its life while the work is queued or running here. A claim that
expired (its process died or stalled) or whose process is known dead (same host, no such
pid) is taken over by the periodic job ``image-registrations`` (under its lease, on one
gateway) or at start-up, with the epoch raised by one; the work then starts again from
scratch there. The epoch fences the old worker: it stops at its next check of the claim,
and its result is published only in a transaction that finds its claim (holder and epoch)
still standing, so a registration becomes available once, from one worker.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

from objectstore.s3 import identity
from objectstore.service import access
from objectstore.service.bundle_read import MAX_MANIFEST, read_object, read_whole
from objectstore.service.cloudkeys import CloudKey
from objectstore.service.fairqueue import FairQueue
from objectstore.service.jobs import Job, JobContext, holder_gone, holder_id
from objectstore.service.stores import Stores
from objectstore.service.unbundle import (
    ManifestInfo,
    UnbundleFailed,
    read_manifest_info,
    unbundle,
)
from objectstore.storage.db import Txn
from objectstore.storage.images import QuotaExceeded
from objectstore.storage.localfs import clean_unlocked
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import Bucket, Image, ObjectRecord, Principal

log = logging.getLogger("objectstore.registry")

ID_RE = re.compile(r"^(ami|aki|ari)-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
ARCHITECTURES = ("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac")


CHECK_EVERY = 0.5  # seconds between a worker's checks that its registration still stands


class RegistryError(Exception):
    """code is one of: NotFound, Malformed, Duplicate, InvalidManifest, AccessDenied,
    InvalidParameter, InvalidState, TooLarge, QuotaExceeded."""

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


@dataclass(frozen=True, slots=True)
class RegistryLimits:
    max_image_size: int = 10 << 30  # bytes of one image
    quota_bytes: int = 100 << 30  # bytes of one account's pending and available images
    quota_pending: int = 4  # pending registrations of one account
    workers: int = 2  # registration threads
    claim_seconds: float = 30.0  # a registration's claim lasts this long unrenewed


class _Cancelled(Exception):
    """The registration was deregistered (or its id registered again) meanwhile, or its
    claim was taken over by another process."""


class _Stopped(Exception):
    """The registry is closing; the image stays pending and resumes at the next start."""


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def split_location(location: str) -> tuple[str, str]:
    bucket, sep, key = location.lstrip("/").partition("/")
    if not sep or not bucket or not key:
        raise RegistryError("InvalidManifest", "image location must be bucket/key of the "
                            f"manifest, got {location!r}")
    return bucket, key


class Registry:
    def __init__(self, stores: Stores, cloud_keys: list[CloudKey],
                 limits: RegistryLimits = RegistryLimits()) -> None:
        self.stores = stores
        self.cloud_keys = cloud_keys
        self.limits = limits
        self.partial_dir = stores.blobs.root / "tmp-images"
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        # one account may use all workers but one, so another account always finds one
        self._queue: FairQueue[tuple[str, str, int]] = FairQueue(max(1, limits.workers - 1))
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._alive: dict[str, str] = {}  # image id -> token of work queued or running here
        self._epochs: dict[str, int] = {}  # image id -> epoch of this process's claim on it
        self._cancelled: set[str] = set()  # tokens whose work must stop
        self.holder = holder_id()  # this process, in the claims it makes
        # manifests are parsed off the event loop, two at a time (parsing holds the GIL:
        # more threads would only take more of it from the loop)
        self._parsers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="manifest")

    def close(self, timeout: float = 10.0) -> None:
        """Stop: queued work is dropped and running work ends at its next chunk (its image
        stays pending, to resume at the next start). Waits up to ``timeout`` seconds."""
        self._stop.set()
        with self._mutex:
            claims = list(self._epochs.items())
        self._queue.close()
        self._parsers.shutdown(wait=False, cancel_futures=True)
        if not self._queue.wait_idle(timeout, running_only=True):
            log.warning("image registrations still running after %.0fs", timeout)
        if claims:  # let another gateway take them over now rather than at their expiry
            try:
                self.stores.meta.run(self.stores.images.renew_claims_txn(
                    self.holder, claims, 0.0))
            except Exception:  # noqa: BLE001 - they expire anyway
                log.debug("releasing image registration claims failed", exc_info=True)

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
            if not self._may(p, bucket, "s3:ListBucket"):
                raise RegistryError("AccessDenied", "not allowed to read the manifest")
            raise RegistryError("InvalidManifest", f"no manifest at {req.location}")
        if not self._may(p, bucket, "s3:GetObject", manifest_obj):
            raise RegistryError("AccessDenied", "not allowed to read the manifest")
        if manifest_obj.size > MAX_MANIFEST:
            raise RegistryError("InvalidManifest", f"the manifest is {manifest_obj.size} "
                                f"bytes, more than the {MAX_MANIFEST} bytes a manifest may have")
        if req.architecture is not None and req.architecture not in ARCHITECTURES:
            raise RegistryError("InvalidParameter",
                                f"invalid architecture {req.architecture!r}")
        for ref in (req.kernel_id, req.ramdisk_id):
            if ref is not None and ref != "true" and not ID_RE.match(ref):
                raise RegistryError("Malformed", f"Invalid id: \"{ref}\"")
        info, problem = await asyncio.get_running_loop().run_in_executor(
            self._parsers, self._manifest_info, manifest_obj)
        if info is not None and req.architecture is None and info.architecture \
                and info.architecture not in ARCHITECTURES:
            raise RegistryError("InvalidParameter", "the manifest's architecture "
                                f"{info.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
        if info is not None and info.size > self.limits.max_image_size:
            raise RegistryError("TooLarge", f"the manifest's image is {info.size} bytes, more "
                                f"than the maximum image size of {self.limits.max_image_size}")
        kernel = req.kernel_id if req.kernel_id is not None else (info.kernel_id if info else None)
        ramdisk = req.ramdisk_id if req.ramdisk_id is not None else (
            info.ramdisk_id if info else None)
        self._check_reference(p, kernel, "kernel")
        self._check_reference(p, ramdisk, "ramdisk")
        image_type = "kernel" if kernel == "true" else "ramdisk" if ramdisk == "true" else (
            info.image_type if info and info.image_type in ("kernel", "ramdisk") else "machine")
        prefix = {"machine": "ami", "kernel": "aki", "ramdisk": "ari"}[image_type]
        image_id = req.image_id
        if image_id is not None:
            if not ID_RE.match(image_id) or not image_id.startswith(prefix + "-"):
                raise RegistryError("Malformed", f"Invalid id: \"{image_id}\"")
            self._check_free(p, image_id)
            await self._wait_work_gone(image_id)
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
            token=secrets.token_hex(16), declared_size=info.size if info else 0,
        )
        for _ in range(5):
            try:
                await self.stores.write(self.stores.images.add_txn(
                    image, max_pending=self.limits.quota_pending,
                    max_bytes=self.limits.quota_bytes,
                    claim=(self.holder, time.time() + self.limits.claim_seconds)))
                break
            except QuotaExceeded as exc:
                raise RegistryError("QuotaExceeded", str(exc)) from None
            except Conflict:
                if req.image_id is not None:
                    self._check_free(p, req.image_id)
                    raise RegistryError("Duplicate", f"image id {image_id} is in use") from None
                image = replace(image, image_id=new_id(prefix))
        if not problem:
            self._submit(image, 1)
        return image

    def _manifest_info(self, manifest_obj: ObjectRecord) -> tuple[ManifestInfo | None, str]:
        """(facts, "") or (None, why not): read and parsed in a worker thread."""
        try:
            return read_manifest_info(read_whole(self.stores, manifest_obj)), ""
        except UnbundleFailed as exc:
            return None, f"the manifest could not be read: {exc.reason}"
        except Exception:  # noqa: BLE001 - a manifest never answers 500
            log.exception("reading the manifest %s/%s failed", manifest_obj.bucket,
                          manifest_obj.key)
            return None, "the manifest could not be read"

    def _check_reference(self, p: Principal, ref: str | None, kind: str) -> None:
        """A kernel / ramdisk id must name an image of that kind the caller can see.
        (A manifest value that is not an id at all, like euca2ools' 'aki-test'
        placeholder, names no image and is kept as a label.)"""
        if ref is None or ref == "true" or not ID_RE.match(ref):
            return
        im = self.stores.images.get(ref)
        if im is None or not self.may_see(p, im) or im.image_type != kind \
                or im.state == "failed":
            raise RegistryError("NotFound", f"The {kind} image id '[{ref}]' does not exist")

    def _check_free(self, p: Principal, image_id: str) -> None:
        """A client-chosen id in use: 'duplicate' only to whom may see that image; to
        anyone else the answer of a lookup (it does not exist for them)."""
        existing = self.stores.images.get(image_id)
        if existing is None:
            return
        if self.may_see(p, existing):
            raise RegistryError("Duplicate", f"image id {image_id} is in use")
        raise RegistryError("NotFound", f"The image id '[{image_id}]' does not exist")

    async def _wait_work_gone(self, image_id: str, timeout: float = 5.0) -> None:
        """An id is not reused while (cancelled) work for it is still alive here."""
        deadline = time.monotonic() + timeout
        while image_id in self._alive:
            if time.monotonic() > deadline:
                raise RegistryError("Duplicate", f"image id {image_id} is still in use "
                                    "(its registration is being stopped); try again")
            await asyncio.sleep(0.02)

    async def set_public(self, p: Principal | None, image_id: str, public: bool) -> Image:
        self.owned(p, image_id)
        return await self.stores.write(
            self.stores.images.update_txn(image_id, is_public=public))

    async def update(self, p: Principal | None, image_id: str, *, name: str | None = None,
                     description: str | None = None) -> Image:
        self.owned(p, image_id)
        changes: dict[str, Any] = {k: v for k, v in (("name", name),
                                                     ("description", description))
                                   if v is not None}
        return await self.stores.write(self.stores.images.update_txn(image_id, **changes))

    async def deregister(self, p: Principal | None, image_id: str) -> None:
        self.owned(p, image_id)
        try:
            old = await self.stores.write(self.stores.images.delete_txn(image_id))
        except NotFound:
            raise RegistryError("NotFound", f"The image id '[{image_id}]' does not exist") \
                from None
        self._cancel(old.image_id, old.token)

    def resume(self) -> int:
        """Restart registrations left pending by a previous process (at start-up): those
        whose claim expired or whose process is gone. Partial image files that no live
        worker holds (left by a crash) are removed first."""
        removed = clean_unlocked(self.partial_dir)
        if removed:
            log.info("removed %d partial image files left by an earlier process", removed)
        return self.take_over(self.stores.meta.run)

    def take_over(self, write: Callable[[Txn[int | None]], int | None]) -> int:
        """Claim and queue here the pending registrations no live process works on (their
        claim expired, or its process is gone); how many. ``write`` runs the claiming
        transactions (the periodic job's: under its lease)."""
        taken = 0
        for im, holder, epoch in self.stores.images.claimable(time.time(), holder_gone):
            with self._mutex:
                if im.image_id in self._alive:
                    continue  # this process still has work for it (it stops by itself)
            new = write(self.stores.images.claim_txn(
                im.image_id, im.token, self.holder, time.time() + self.limits.claim_seconds,
                (holder, epoch)))
            if new is None:
                continue  # claimed by another process first, or finished meanwhile
            log.info("image registration %s taken over (claim %d; it was %s's)",
                     im.image_id, new, holder or "nobody")
            self._submit(im, new)
            taken += 1
        return taken

    def job(self, interval: float) -> Job:
        """The periodic take-over, run on one gateway at a time under its lease."""
        def run(ctx: JobContext) -> None:
            if self._stop.is_set():
                return
            self.take_over(ctx.write)
            clean_unlocked(self.partial_dir)  # partial files of dead workers
        return Job("image-registrations", interval, run)

    async def wait_idle(self) -> None:
        """For tests: wait until queued registrations have run."""
        await asyncio.to_thread(self._queue.wait_idle)

    # ------------------------------------------------------------------ the queue
    def _submit(self, im: Image, epoch: int) -> None:
        with self._mutex:
            self._alive[im.image_id] = im.token
            self._epochs[im.image_id] = epoch
            if not self._threads:
                for i in range(max(1, self.limits.workers)):
                    t = threading.Thread(target=self._worker, name=f"register-{i}",
                                         daemon=True)
                    t.start()
                    self._threads.append(t)
                t = threading.Thread(target=self._renew_claims, name="image-claims",
                                     daemon=True)
                t.start()
                self._threads.append(t)
        self._queue.put(im.owner, (im.image_id, im.token, epoch))

    def _renew_claims(self) -> None:
        """Extend this process's claims on queued and running work, every third of their
        life (one transaction; none while there is no work here)."""
        ttl = self.limits.claim_seconds
        while not self._stop.wait(ttl / 3):
            with self._mutex:
                claims = list(self._epochs.items())
            if not claims:
                continue
            try:
                self.stores.meta.run(self.stores.images.renew_claims_txn(
                    self.holder, claims, time.time() + ttl))
            except Exception as exc:  # noqa: BLE001 - (store unavailable) next time
                log.warning("renewing image registration claims failed: %s", exc)

    def _cancel(self, image_id: str, token: str) -> None:
        with self._mutex:
            if self._alive.get(image_id) != token:
                return  # no work here (another process's worker notices by itself)
            self._cancelled.add(token)
        if self._queue.remove(lambda job: job[1] == token):
            self._forget(image_id, token)

    def _forget(self, image_id: str, token: str) -> None:
        with self._mutex:
            if self._alive.get(image_id) == token:
                del self._alive[image_id]
                self._epochs.pop(image_id, None)
            self._cancelled.discard(token)

    def _worker(self) -> None:
        while True:
            item = self._queue.take()
            if item is None:
                return
            account, (image_id, token, epoch) = item
            try:
                if not self._stop.is_set():
                    self._work(image_id, token, epoch)
            except Exception:  # noqa: BLE001 - a worker thread never dies
                log.exception("registering %s failed", image_id)
            finally:
                self._forget(image_id, token)
                self._queue.done(account)

    def _checker(self, image_id: str, token: str, epoch: int) -> Callable[[], None]:
        """Called per chunk: raises _Stopped when closing, _Cancelled when the registration
        was deregistered here or (checked in the database every CHECK_EVERY seconds)
        by another process, or its claim was taken over."""
        last = time.monotonic()

        def check() -> None:
            nonlocal last
            if self._stop.is_set():
                raise _Stopped()
            if token in self._cancelled:
                raise _Cancelled()
            now = time.monotonic()
            if now - last >= CHECK_EVERY:
                last = now
                if not self._claimed(image_id, token, epoch):
                    raise _Cancelled()
        return check

    def _claimed(self, image_id: str, token: str, epoch: int) -> bool:
        """Whether the registration ``token`` is pending under this process's claim."""
        row = self.stores.images.claim_of(image_id)
        return row is not None and row[:4] == ("pending", token, self.holder, epoch)

    # ------------------------------------------------------------------ the worker
    def _work(self, image_id: str, token: str, epoch: int) -> None:
        im = self.stores.images.get(image_id)
        if im is None or im.state != "pending" or im.token != token \
                or not self._claimed(image_id, token, epoch):
            return
        log.info("registering %s (claim %d)", image_id, epoch)
        try:
            blob_id, size = self._unbundle(im, self._checker(image_id, token, epoch))
        except (_Cancelled, _Stopped) as exc:
            log.info("registration of %s %s", image_id,
                     "cancelled" if isinstance(exc, _Cancelled) else "stopped")
            return
        except UnbundleFailed as exc:
            self._finish(image_id, token, epoch, state="failed", reason=exc.reason)
            return
        except Exception:  # noqa: BLE001 - recorded, never left pending
            log.exception("registering %s failed", image_id)
            self._finish(image_id, token, epoch, state="failed",
                         reason="internal error while registering")
            return
        if not self._finish(image_id, token, epoch, state="available", blob=blob_id,
                            size=size):
            self.stores.blobs.delete(blob_id)

    def _finish(self, image_id: str, token: str, epoch: int, **changes: object) -> bool:
        """Only the registration of ``token``, under this process's claim ``epoch``, is
        changed (checked in the same transaction); False when it is gone or taken over."""
        try:
            self.stores.meta.run(self.stores.images.update_txn(
                image_id, token=token, claim=(self.holder, epoch), **changes))
            return True
        except NotFound:  # deregistered (maybe registered again), or taken over, meanwhile
            log.info("registration of %s (claim %d) ended without effect: deregistered "
                     "or taken over meanwhile", image_id, epoch)
            return False

    def _principal(self, im: Image) -> Principal:
        user = self.stores.meta.get_user(im.registered_by)
        if user is None:
            raise UnbundleFailed("failed_download", f"user {im.registered_by} no longer exists")
        account = self.stores.meta.get_account(user.account_id)
        name = account.name if account else user.account_id
        return Principal(user.name, user.account_id, name, user.is_admin, "",
                         identity.account_number(user.account_id), user.policy)

    def _unbundle(self, im: Image, check: Callable[[], None]) -> tuple[str, int]:
        p = self._principal(im)
        bucket_name, key = split_location(im.location)
        manifest_obj = self._readable(p, bucket_name, key, "the manifest")
        folder = posixpath.dirname(key)

        def part(filename: str) -> Iterator[bytes]:
            part_key = posixpath.join(folder, filename) if folder else filename
            obj = self._readable(p, bucket_name, part_key, f"part {filename}")
            for chunk in read_object(self.stores, obj):
                check()
                yield chunk

        user_certs = self.stores.meta.user_certs(im.registered_by)
        writer = self.stores.blobs.writer(self.partial_dir, locked=True)

        def write(data: bytes) -> None:
            check()
            writer.write(data)

        def hole(n: int) -> None:
            check()
            writer.skip(n)

        try:
            size = unbundle(read_whole(self.stores, manifest_obj), self.cloud_keys, part,
                            write, user_certs, max_size=self.limits.max_image_size, hole=hole)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return writer.id, size

    def _readable(self, p: Principal, bucket: str, key: str, what: str) -> ObjectRecord:
        """The object, if ``p`` may read it. In a bucket ``p`` cannot list, a missing
        object and one ``p`` may not read get the same reason (no existence oracle)."""
        obj = self.stores.meta.get_object(bucket, key)
        b = self.stores.meta.get_bucket(bucket)
        if obj is not None and b is not None and self._may(p, b, "s3:GetObject", obj):
            return obj
        if obj is None and b is not None and self._may(p, b, "s3:ListBucket"):
            raise UnbundleFailed("failed_download", f"{what} is missing ({bucket}/{key})")
        raise UnbundleFailed("failed_download",
                             f"{what} is missing or not readable ({bucket}/{key})")

    def _may(self, p: Principal, bucket: Bucket, action: str,
             obj: ObjectRecord | None = None) -> bool:
        """What the registering user may read, decided by the one evaluator."""
        return access.decide(p, bucket, action, key=obj.key if obj is not None else None,
                             obj=obj, account_block=self.stores.meta.account_public_block)

