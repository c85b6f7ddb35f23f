"""The image registry tried as a hostile user would (issue 9, items 10-13), against the
real server: sparse-tar and gzip bombs against the maximum image size and the account
quotas, a deregistered registration that must not write into the image registered next
under its id, fairness between accounts, hostile manifests, kernel/ramdisk references,
existence oracles, partial files after a crash, and SIGTERM with a registration running.

Images here are small, or zeros that gzip 1000:1 (a 200 MiB image is a 200 KiB bundle);
the server runs with a 256 MiB maximum image size and a 1 GiB per-account quota.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import secrets
import signal
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Creds, Server, free_port
from images_helpers import (
    EUCA,
    Bundle,
    MiB,
    Nova,
    U,
    bundle_of_gz,
    bundle_of_tar,
    cloud_server,
    ec2_client,
    ec2_error,
    ec2_wait,
    fixture_files,
    good_tar,
    load_cert,
    upload,
)

from objectstore.images.manifest import Manifest, Part, render_manifest

CERT = load_cert(EUCA / "cacert.pem")
MAX_IMAGE = 256 * MiB
QUOTA_BYTES = 1024 * MiB
QUOTA_PENDING = 4
SLOW_MIB = 200  # a 200 MiB image of zeros: ~0.2 MiB of bundle, about a second of work
LIMIT_ARGS = ["--max-image-size", str(MAX_IMAGE), "--image-quota-bytes", str(QUOTA_BYTES),
              "--image-quota-pending", str(QUOTA_PENDING)]


# ---------------------------------------------------------------- crafted bundles

def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def sparse_tar(real_size: int, tail: bytes = b"", name: str = "disk.img") -> bytes:
    """A GNU sparse member (type 'S', as `tar -S` writes) of ``real_size`` bytes that stores
    only ``tail`` (at the end); everything before it is one hole. A few hundred bytes that
    expand to ``real_size`` bytes."""
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = _octal(0o644, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = _octal(len(tail), 12)  # stored bytes
    h[136:148] = _octal(0, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    entry = _octal(real_size - len(tail), 12) + _octal(len(tail), 12)
    h[386:386 + 24] = entry
    h[483:495] = _octal(real_size, 12)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    data = tail + bytes(-len(tail) % 512)
    return bytes(h) + data + bytes(1024)


def slow_bundle(mib: int = SLOW_MIB) -> Bundle:
    """An honest image of ``mib`` MiB of zeros (not sparse: every byte is written)."""
    info, _ = U.member("disk.img", b"")
    info.size = mib * MiB
    header = info.tobuf(tarfile.GNU_FORMAT)
    # the member's zeros, then 1 MiB of zeros as the end of the archive
    return bundle_of_gz(U.zeros_gzip(header, mib + 1), mib * MiB, CERT)


def slow_upload(srv: Server, bucket: str) -> tuple[Nova, str]:
    """A new user's Nova client and the manifest location of a slow bundle it uploaded."""
    creds = srv.new_user()
    s3 = srv.client(creds)
    s3.create_bucket(Bucket=bucket)
    return Nova(srv, creds), upload(s3, bucket, "slow", slow_bundle())


def tiny_bundle(payload: bytes) -> Bundle:
    return bundle_of_tar(good_tar(payload), len(payload), CERT)


def disk_usage(folder: Path) -> int:
    """Bytes the files under ``folder`` occupy on disk (allocated blocks, holes excluded)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def partials(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "tmp-images").iterdir() if p.is_file())


# ---------------------------------------------------------------- the world

@dataclass
class Who:
    creds: Creds
    s3: Any
    nova: Nova
    ec2: Any
    bucket: str


@dataclass
class World:
    srv: Server
    tmp: Path
    _pair: tuple[Who, Who] | None = None

    def pair(self) -> tuple[Who, Who]:
        """Two accounts shared by the tests that need no fresh quota."""
        if self._pair is None:
            self._pair = (self.who(), self.who())
        return self._pair

    def who(self) -> Who:
        """A user in a new account, with a bucket."""
        creds = self.srv.new_user()
        s3 = self.srv.client(creds)
        bucket = "hostile-" + uuid.uuid4().hex[:12]
        s3.create_bucket(Bucket=bucket)
        return Who(creds, s3, Nova(self.srv, creds), ec2_client(self.srv, creds), bucket)


def start_server(base: Path) -> Server:
    srv = cloud_server(base, *LIMIT_ARGS)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("hostile")
    srv = start_server(base)
    try:
        yield World(srv, base)
    finally:
        srv.stop()


def own(who: Who) -> list[dict[str, Any]]:
    """The images of ``who``'s account (others may have published some)."""
    owner = who.s3.list_buckets()["Owner"]["ID"]
    return [im for im in who.nova.list() if im["imageOwnerId"] == owner]


def folder() -> str:
    return "f-" + uuid.uuid4().hex[:10]


def wait_until(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


# ---------------------------------------------------------------- 10. disk fill

def test_sparse_bomb_beyond_the_maximum_is_refused_at_registration(world: World) -> None:
    a = world.pair()[0]
    claim = 40 << 30
    b = bundle_of_tar(sparse_tar(claim), claim, CERT)
    assert sum(map(len, b.parts.values())) < 200  # a bundle of ~100 bytes claims 40 GiB
    loc = upload(a.s3, a.bucket, folder(), b)
    used, before = disk_usage(world.srv.data_dir), own(a)
    r = a.nova.register(loc)
    assert (r.status, r.error_code) == (400, "TooLarge"), r.body
    assert f"{claim} bytes, more than the maximum image size of {MAX_IMAGE}" in \
        r.json()["error"]["message"]
    with pytest.raises(ClientError) as err:
        a.ec2.register_image(ImageLocation=loc, Name="sparse bomb")
    assert ec2_error(err.value) == ("InvalidManifest", 400)
    assert own(a) == before
    assert disk_usage(world.srv.data_dir) - used < MiB


def test_sparse_image_is_written_with_holes(world: World) -> None:
    """Under the maximum, a sparse member is a legitimate image: written as holes (the disk
    grows by its data only), counted in full against the quota, read back as zeros."""
    a = world.who()
    size, tail = 250 * MiB, hashlib.shake_256(b"tail").digest(3000)
    b = bundle_of_tar(sparse_tar(size, tail), size, CERT)
    loc = upload(a.s3, a.bucket, folder(), b)
    used = disk_usage(world.srv.data_dir)
    started = time.monotonic()
    image_id = a.nova.register_ok(loc)
    im = a.nova.wait(image_id, timeout=20)
    seconds = time.monotonic() - started
    grew = disk_usage(world.srv.data_dir) - used
    print(f"sparse {size} byte image: available in {seconds:.2f}s, disk grew by {grew} bytes")
    assert im["imageState"] == "available" and im["size"] == size, im
    assert grew < 2 * MiB
    r = a.nova.download(image_id, {"Range": f"bytes={size - len(tail) - 10}-"})
    assert r.status == 206 and r.body == bytes(10) + tail
    r = a.nova.download(image_id, {"Range": "bytes=0-65535"})
    assert r.status == 206 and r.body == bytes(65536)
    # the quota counts the image's full size: four of 250 MiB fit in 1 GiB, five do not
    for _ in range(3):
        second = a.nova.register_ok(loc)
        assert a.nova.wait(second, timeout=20)["imageState"] == "available"
    r = a.nova.register(loc)
    assert (r.status, r.error_code) == (413, "QuotaExceeded"), r.body
    assert "more than its quota of" in r.json()["error"]["message"]
    with pytest.raises(ClientError) as err:
        a.ec2.register_image(ImageLocation=loc, Name="over quota")
    assert ec2_error(err.value) == ("ResourceLimitExceeded", 400)
    # deregistering frees the quota
    assert a.nova.request("DELETE", query={"image_id": second}).status == 204
    third = a.nova.register_ok(loc)
    assert a.nova.wait(third, timeout=20)["imageState"] == "available"


def test_gzip_bombs_are_bounded(world: World) -> None:
    a = world.pair()[0]
    # declared beyond the maximum: refused before any work
    bomb = slow_bundle(1024)  # 1 GiB of zeros in about 1 MiB
    r = a.nova.register(upload(a.s3, a.bucket, folder(), bomb))
    assert (r.status, r.error_code) == (400, "TooLarge"), r.body
    # declared 16 MiB, but the member's header says 1 GiB: fails before writing a byte
    info, _ = U.member("disk.img", b"")
    info.size = 1 << 30
    liar = bundle_of_gz(U.zeros_gzip(info.tobuf(tarfile.GNU_FORMAT), 1024), 16 * MiB, CERT)
    # declared 16 MiB and honest, then 1 GiB more zeros: output stops at the declared size
    honest = U.tar_of(U.member("disk.img", bytes(16 * MiB)))[:512 + 16 * MiB]
    trailing = bundle_of_gz(U.zeros_gzip(honest, 1024), 16 * MiB, CERT)
    used = disk_usage(world.srv.data_dir)
    for b, reasons in ((liar, ("the archive's file is 1073741824 bytes but the manifest "
                               f"size is {16 * MiB}",)),
                       (trailing, ("zeros after its end", "decompression bomb"))):
        started = time.monotonic()
        image_id = a.nova.register_ok(upload(a.s3, a.bucket, folder(), b))
        im = a.nova.wait(image_id, timeout=30)
        print(f"bomb: {im['imageState']} after {time.monotonic() - started:.2f}s: "
              f"{im.get('stateReason')}")
        assert im["imageState"] == "failed", im
        assert any(reason in im["stateReason"] for reason in reasons), im
    assert disk_usage(world.srv.data_dir) - used < 8 * MiB  # the bundles themselves: ~2 MiB
    assert partials(world.srv.data_dir) == []


def test_pending_registrations_per_account_are_bounded(world: World) -> None:
    a, b = world.pair()
    loc = upload(a.s3, a.bucket, folder(), slow_bundle())
    ids = [a.nova.register_ok(loc) for _ in range(QUOTA_PENDING)]
    try:
        r = a.nova.register(loc)
        assert (r.status, r.error_code) == (413, "QuotaExceeded"), r.body
        assert f"at most {QUOTA_PENDING}" in r.json()["error"]["message"]
        with pytest.raises(ClientError) as err:
            a.ec2.register_image(ImageLocation=loc, Name="one too many")
        assert ec2_error(err.value) == ("ResourceLimitExceeded", 400)
        # another account is not affected
        small = b.nova.register_ok(upload(b.s3, b.bucket, folder(), tiny_bundle(b"b" * 999)))
        assert b.nova.wait(small)["imageState"] == "available"
    finally:
        for image_id in ids:
            a.nova.request("DELETE", query={"image_id": image_id})
    wait_until(lambda: partials(world.srv.data_dir) == [], 10, "cancelled work stopped")


# ---------------------------------------------------------------- 11. stale workers

def test_deregistered_registration_never_touches_the_next_image(world: World) -> None:
    """Alice's slow registration is deregistered while it writes; her id is registered
    again at once by Bob (another account) with a tiny image. The old worker stops within a
    chunk, and Bob's image keeps his bytes, owner and location."""
    alice, bob = world.pair()
    data_dir = world.srv.data_dir
    slow_loc = upload(alice.s3, alice.bucket, folder(), slow_bundle())
    chosen = "ami-" + secrets.token_hex(9)[:17]
    r = alice.nova.register(slow_loc, image_id=chosen)
    assert r.status == 200, r.body
    wait_until(lambda: any(p.stat().st_size > 4 * MiB for p in partials(data_dir)), 10,
               "the slow registration is writing")
    assert alice.nova.request("DELETE", query={"image_id": chosen}).status == 204
    stopped = time.monotonic()
    payload = hashlib.shake_256(b"bob's").digest(5000)
    bob_loc = upload(bob.s3, bob.bucket, folder(), tiny_bundle(payload))
    r = bob.nova.register(bob_loc, image_id=chosen)
    assert r.status == 200 and r.json()["imageId"] == chosen, r.body
    wait_until(lambda: partials(data_dir) == [], 5, "the old worker stopped")
    print(f"cancelled worker gone {time.monotonic() - stopped:.2f}s after the deregistration")
    im = bob.nova.wait(chosen)
    time.sleep(0.3)  # whatever the old worker might still do, it would have done by now
    im = bob.nova.find(chosen)
    assert im is not None and im["imageState"] == "available"
    assert (im["imageLocation"], im["size"]) == (bob_loc, len(payload))
    assert im["imageOwnerId"] == bob.s3.list_buckets()["Owner"]["ID"]
    r = bob.nova.download(chosen)
    assert r.status == 200 and r.body == payload
    assert alice.nova.find(chosen) is None and alice.nova.download(chosen).status == 404
    # and the same account, registering again the id of its own cancelled registration
    again = "ami-" + secrets.token_hex(9)[:17]
    assert alice.nova.register(slow_loc, image_id=again).status == 200
    wait_until(lambda: any(p.stat().st_size > 4 * MiB for p in partials(data_dir)), 10,
               "the slow registration is writing")
    assert alice.nova.request("DELETE", query={"image_id": again}).status == 204
    small_loc = upload(alice.s3, alice.bucket, folder(), tiny_bundle(b"a" * 777))
    assert alice.nova.register(small_loc, image_id=again).status == 200
    wait_until(lambda: partials(data_dir) == [], 5, "the old worker stopped")
    im = alice.nova.wait(again)
    assert (im["imageState"], im["size"], im["imageLocation"]) == ("available", 777, small_loc)
    assert alice.nova.download(again).body == b"a" * 777


# ---------------------------------------------------------------- 12. fairness

def test_one_account_cannot_delay_another(world: World) -> None:
    """Alice queues four slow registrations, then Bob a tiny one: Bob's is available while
    at least three of Alice's are still pending (relative order, not wall-clock time)."""
    alice, bob = world.pair()
    slow_loc = upload(alice.s3, alice.bucket, folder(), slow_bundle())
    bob_loc = upload(bob.s3, bob.bucket, folder(), tiny_bundle(b"x" * 500))
    slow = [alice.nova.register_ok(slow_loc) for _ in range(QUOTA_PENDING)]
    try:
        small = bob.nova.register_ok(bob_loc)
        assert bob.nova.wait(small, timeout=30)["imageState"] == "available"
        states = [alice.nova.find(i)["imageState"] for i in slow]  # type: ignore[index]
        print(f"when bob's image was available, alice's were {states}")
        assert states.count("pending") >= QUOTA_PENDING - 1, states
    finally:
        for image_id in slow:
            alice.nova.request("DELETE", query={"image_id": image_id})
    wait_until(lambda: partials(world.srv.data_dir) == [], 10, "cancelled work stopped")


def test_large_manifest_is_refused_on_the_request_path(world: World) -> None:
    a = world.pair()[0]
    key = f"{folder()}/big.manifest.xml"
    a.s3.put_object(Bucket=a.bucket, Key=key, Body=b"<manifest>" + b" " * MiB + b"</manifest>")
    before = own(a)
    r = a.nova.register(f"{a.bucket}/{key}")
    assert (r.status, r.error_code) == (400, "InvalidManifest"), r.body
    assert "more than the 1048576 bytes a manifest may have" in r.json()["error"]["message"]
    assert own(a) == before


def test_concurrent_manifest_parsing_does_not_stall_others(world: World) -> None:
    """8 registrations of a 0.9 MiB manifest (7000 parts: about 0.2 s of parsing
    each) at once; meanwhile another user's requests are answered (the manifests are
    parsed off the event loop, two at a time)."""
    a, b = world.pair()
    big = render_manifest(Manifest(
        name="big", user="u", image_type="machine", architecture="x86_64", kernel_id=None,
        ramdisk_id=None, digest=None, size=1, bundled_size=1, ec2_encrypted_key="00",
        ec2_encrypted_iv="00", parts=tuple(Part(i, f"p.{i}", "0" * 40) for i in range(7000))))
    assert 800 * 1024 < len(big) < MiB
    key = f"{folder()}/big.manifest.xml"
    a.s3.put_object(Bucket=a.bucket, Key=key, Body=big)
    b.s3.put_object(Bucket=b.bucket, Key="ping", Body=b"pong")
    latencies: list[float] = []
    stop = threading.Event()

    def ping() -> None:
        while not stop.is_set():
            t = time.monotonic()
            assert b.s3.get_object(Bucket=b.bucket, Key="ping")["Body"].read() == b"pong"
            latencies.append(time.monotonic() - t)

    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        pinger = pool.submit(ping)
        replies = list(pool.map(lambda _: a.nova.register(f"{a.bucket}/{key}"), range(8)))
        stop.set()
        pinger.result()
    assert all(r.status in (200, 413) for r in replies), [(r.status, r.body) for r in replies]
    assert len(latencies) >= 3
    print(f"other user's GET during 8 manifest registrations: max {max(latencies):.3f}s "
          f"over {len(latencies)} requests")
    for r in replies:
        if r.status == 200:
            a.nova.request("DELETE", query={"image_id": r.json()["imageId"]})


# ---------------------------------------------------------------- 13. smaller

@pytest.mark.parametrize("edit, reason", [
    (lambda m: m.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>'),
     "declares the encoding 'UTF-16'; only UTF-8 is supported"),
    (lambda m: m.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="bogus"?>'),
     "declares the encoding 'bogus'"),
    (lambda m: m.decode().encode("utf-16"), "is not UTF-8"),
    (lambda m: m.replace(b"<image>", b"<image>" + b"<a>" * 600 + b"</a>" * 600),
     "nests elements more than 8 deep"),
    (lambda m: m.replace(b"<image>", b"<image>" + b"<a/>" * 600), None),  # wide: harmless
], ids=["utf16-declared", "bogus-encoding", "utf16-text", "deep", "wide"])
def test_hostile_manifests_fail_with_a_reason(world: World, edit: Any,
                                              reason: str | None) -> None:
    a = world.pair()[0]
    b = tiny_bundle(b"m" * 100)
    assert b.manifest.startswith(b'<?xml version="1.0"?>')
    b.manifest = edit(b.manifest)
    loc = upload(a.s3, a.bucket, folder(), b)
    r = a.nova.register(loc)
    assert r.status == 200 and r.headers["content-type"] == "application/json", r.body
    im = a.nova.wait(r.json()["imageId"])
    if reason is None:  # many unknown elements, but shallow: ignored, the image is fine
        assert im["imageState"] == "available", im
        return
    assert im["imageState"] == "failed" and reason in im["stateReason"], im
    image_id = a.ec2.register_image(ImageLocation=loc, Name="hostile manifest")["ImageId"]
    assert ec2_wait(a.ec2, image_id)["State"] == "failed"


def test_download_racing_deregistration_is_404(world: World) -> None:
    a = world.pair()[0]
    loc = upload(a.s3, a.bucket, folder(), tiny_bundle(b"r" * 70000))
    statuses: list[int] = []
    for _ in range(15):
        image_id = a.nova.register_ok(loc)
        assert a.nova.wait(image_id)["imageState"] == "available"
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            downloads = [pool.submit(a.nova.download, image_id) for _ in range(6)]
            deleted = pool.submit(a.nova.request, "DELETE", "/_images", {"image_id": image_id})
            statuses += [d.result().status for d in downloads]
            assert deleted.result().status == 204
    assert set(statuses) <= {200, 404}, statuses
    log = world.srv.log_path.read_text() if world.srv.log_path else ""
    assert "FileNotFoundError" not in log


def test_part_errors_are_alike_for_missing_and_unreadable(world: World) -> None:
    alice, bob = world.pair()
    reasons = []
    for private_part in (True, False):
        f = folder()
        b = fixture_files()
        for name, body in b.parts.items():
            if name == "1mb.part.0" and not private_part:
                continue  # missing
            alice.s3.put_object(Bucket=alice.bucket, Key=f"{f}/{name}", Body=body)
        alice.s3.put_object(Bucket=alice.bucket, Key=f"{f}/{b.manifest_name}", Body=b.manifest,
                            ACL="public-read")
        image_id = bob.nova.register_ok(f"{alice.bucket}/{f}/{b.manifest_name}")
        im = bob.nova.wait(image_id)
        assert im["imageState"] == "failed"
        reasons.append(im["stateReason"].replace(f, "FOLDER"))
    assert reasons[0] == reasons[1], reasons
    assert "is missing or not readable" in reasons[0]


def test_another_accounts_private_image_id_answers_like_a_lookup(world: World) -> None:
    alice, bob = world.pair()
    chosen = "ami-" + secrets.token_hex(9)[:17]
    loc = upload(alice.s3, alice.bucket, folder(), fixture_files())
    assert alice.nova.register(loc, image_id=chosen).status == 200
    bob_loc = upload(bob.s3, bob.bucket, folder(), fixture_files())
    taken, lookup = bob.nova.register(bob_loc, image_id=chosen), bob.nova.download(chosen)
    assert (taken.status, taken.error_code) == (lookup.status, lookup.error_code) == (
        404, "NotFound")
    assert alice.nova.register(loc, image_id=chosen).status == 409  # the owner is told


def test_kernel_and_ramdisk_must_name_visible_images_of_their_kind(world: World) -> None:
    alice, bob = world.pair()
    loc = upload(alice.s3, alice.bucket, folder(), fixture_files())
    kernel = alice.nova.register_ok(loc, kernel_id="true")
    ramdisk = alice.nova.register_ok(loc, ramdisk_id="true")
    machine = alice.nova.register_ok(loc)
    for image_id in (kernel, ramdisk, machine):
        assert alice.nova.wait(image_id)["imageState"] == "available"
    bob_loc = upload(bob.s3, bob.bucket, folder(), fixture_files(
        "1mb.no_kernel_or_ramdisk.manifest.xml"))
    nothing = "aki-" + secrets.token_hex(9)[:17]
    before = own(bob)
    for params in ({"kernel_id": kernel}, {"ramdisk_id": ramdisk}, {"kernel_id": nothing},
                   {"kernel_id": "aki-" + machine[4:]}, {"ramdisk_id": "ari-" + kernel[4:]}):
        r = bob.nova.register(bob_loc, **params)
        assert (r.status, r.error_code) == (404, "NotFound"), (params, r.body)
    for params2 in ({"KernelId": kernel}, {"RamdiskId": ramdisk}, {"KernelId": nothing}):
        with pytest.raises(ClientError) as err:
            bob.ec2.register_image(ImageLocation=bob_loc, Name="refs", **params2)
        assert ec2_error(err.value) == ("InvalidAMIID.NotFound", 400), params2
    assert own(bob) == before
    # alice: her own kernel is fine, her machine image is not a kernel
    r = alice.nova.register(loc, kernel_id=machine)
    assert (r.status, r.error_code) == (404, "NotFound")
    ok = alice.nova.register_ok(loc, kernel_id=kernel, ramdisk_id=ramdisk)
    assert alice.nova.wait(ok)["kernelId"] == kernel
    # published, bob may use them
    for image_id in (kernel, ramdisk):
        r = alice.nova.request("POST", query={"image_id": image_id, "operation": "add"})
        assert r.status == 200
    used = bob.nova.register_ok(bob_loc, kernel_id=kernel, ramdisk_id=ramdisk)
    assert bob.nova.wait(used)["imageState"] == "available"


def test_manifest_values_are_validated_like_parameters(world: World) -> None:
    alice, bob = world.pair()
    loc = upload(alice.s3, alice.bucket, folder(), fixture_files())
    kernel = alice.nova.register_ok(loc, kernel_id="true")
    assert alice.nova.wait(kernel)["imageState"] == "available"
    fixture = fixture_files().manifest
    cases = {
        # a well-formed id of another account's private kernel, of nothing, of a machine image
        "alice's private kernel": (fixture.replace(b"aki-test", kernel.encode()), 404),
        "no such kernel": (fixture.replace(b"aki-test", b"aki-" + b"0" * 17), 404),
        "no such ramdisk": (fixture.replace(b"ari-test", b"ari-" + b"0" * 17), 404),
        "unknown architecture": (fixture.replace(b"<architecture>x86_64<",
                                                 b"<architecture>sparc<"), 400),
    }
    before = own(bob)
    for what, (manifest, status) in cases.items():
        b = fixture_files()
        b.manifest = manifest.replace(b"<kernel_id>aki-test</kernel_id>", b"") \
            if what == "no such ramdisk" else manifest
        r = bob.nova.register(upload(bob.s3, bob.bucket, folder(), b))
        assert r.status == status, (what, r.body)
    assert own(bob) == before
    # the euca2ools placeholder 'aki-test' is not an id: it names no image, kept as a label
    r = bob.nova.register(upload(bob.s3, bob.bucket, folder(), fixture_files()))
    assert r.status == 200


# ---------------------------------------------------------------- crash and shutdown

def test_partials_cleaned_at_start_and_sigterm_stops_a_running_registration(
        tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    data_dir = srv.data_dir
    try:
        nova, loc = slow_upload(srv, "crash")
        first = nova.register_ok(loc)
        wait_until(lambda: any(p.stat().st_size > 4 * MiB for p in partials(data_dir)), 10,
                   "the registration is writing")
        dead = {p.name for p in partials(data_dir)}
    finally:
        srv.stop(signal.SIGKILL)
    # a partial file of another gateway's live registration (it holds the flock)
    import fcntl

    live = data_dir / "tmp-images" / secrets.token_hex(16)
    fd = os.open(live, os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        srv.port = free_port()
        srv.start()
        # the dead partial is gone at once (not after an hour); the live one is kept
        wait_until(lambda: not dead & {p.name for p in partials(data_dir)}, 5,
                   "dead partial removed")
        assert live.exists()
        # the registration resumed; SIGTERM while it runs: the process exits promptly,
        # the image stays pending and completes at the next start
        wait_until(lambda: any(p.stat().st_size > MiB for p in partials(data_dir)
                               if p != live), 10, "the resumed registration is writing")
        started = time.monotonic()
        code = srv.stop(signal.SIGTERM)
        took = time.monotonic() - started
        print(f"SIGTERM with a registration running: exit {code} after {took:.2f}s")
        assert code == 0 and took < 5
        assert partials(data_dir) == [live]  # the stopped registration left no file
        srv.port = free_port()
        srv.start()
        im = nova.wait(first, timeout=60)
        assert (im["imageState"], im["size"]) == ("available", SLOW_MIB * MiB), im
        assert partials(data_dir) == [live]
    finally:
        os.close(fd)
        srv.stop()


def test_deregistration_in_another_process_stops_the_worker(tmp_path: Path) -> None:
    """`serve --workers 2`: the worker runs in the process that took the registration; a
    deregistration answered by the other process stops it too (seen in the database within
    half a second), and nothing of it is left."""
    srv = cloud_server(tmp_path, *LIMIT_ARGS, "--workers", "2")
    srv.start()
    try:
        nova, loc = slow_upload(srv, "two")
        crossed = 0
        for _ in range(12):
            r = nova.register(loc)
            assert r.status == 200, r.body
            image_id = r.json()["imageId"]
            wait_until(lambda: any(p.stat().st_size > 4 * MiB for p in partials(srv.data_dir)),
                       10, "the registration is writing")
            d = nova.request("DELETE", query={"image_id": image_id})
            assert d.status == 204
            wait_until(lambda: partials(srv.data_dir) == [], 5, "the worker stopped")
            assert nova.download(image_id).status == 404
            if r.headers["x-amz-request-id"][:8] != d.headers["x-amz-request-id"][:8]:
                crossed += 1
                break
        assert crossed, "every deregistration landed in the registering process"
    finally:
        srv.stop()
