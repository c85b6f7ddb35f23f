"""The machine-image registry end to end, against real `objectstore serve` processes:
the euca fixture through both APIs, a CLI / AWS CLI round trip, every registration
failure, authorization between accounts, client-chosen ids, key rotation and a restart
in the middle of a registration."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import secrets
import signal
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.hashes import SHA256
from harness import Creds, Server, free_port
from images_helpers import (
    EUCA,
    FIXTURE_SHA1,
    FIXTURE_SIZE,
    Bundle,
    MiB,
    Nova,
    U,
    aws,
    bundle_of_gz,
    bundle_of_tar,
    cli_env,
    cloud_server,
    ec2_client,
    ec2_error,
    ec2_wait,
    fixture_files,
    good_tar,
    load_cert,
    new_key_and_cert,
    objects,
    objectstore,
    random_file,
    sha1_file,
    stored_files,
    upload,
)

ID_RE = re.compile(r"^(ami|aki|ari)-[0-9a-f]{17}$")
FIXTURE_CERT = load_cert(EUCA / "cacert.pem")


# ---------------------------------------------------------------- the world


@dataclass
class World:
    srv: Server
    tmp: Path
    alice: Creds  # owner of the images and of `bucket` (private)
    bob: Creds  # another account
    bucket: str
    s3a: Any
    s3b: Any
    nova_a: Nova
    nova_b: Nova
    nova_root: Nova  # admin: sees every image
    ec2a: Any
    ec2b: Any
    signer: tuple[Creds, Any] | None = None  # see signer_user

    def folder(self) -> str:
        return "f-" + uuid.uuid4().hex[:12]

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every image (admin's view), by id."""
        return {im["imageId"]: im for im in self.nova_root.list()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("images")
    srv = cloud_server(base)
    srv.start()
    try:
        alice, bob = srv.new_user(), srv.new_user()
        s3a, s3b = srv.client(alice), srv.client(bob)
        bucket = "imgs-" + uuid.uuid4().hex[:12]
        s3a.create_bucket(Bucket=bucket)
        yield World(srv, base, alice, bob, bucket, s3a, s3b, Nova(srv, alice), Nova(srv, bob),
                    Nova(srv, srv.root), ec2_client(srv, alice), ec2_client(srv, bob))
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def baseline(world: World) -> str:
    """An available private image of alice's (the euca fixture), registered once."""
    loc = upload(world.s3a, world.bucket, "baseline", fixture_files())
    image_id = world.nova_a.register_ok(loc, display_name="baseline")
    assert world.nova_a.wait(image_id)["imageState"] == "available"
    return image_id


def assert_fixture_bytes(nova: Nova, image_id: str) -> None:
    r = nova.download(image_id)
    assert r.status == 200, (r.status, r.body[:300])
    assert int(r.headers["content-length"]) == FIXTURE_SIZE
    assert (len(r.body), hashlib.sha1(r.body).hexdigest()) == (FIXTURE_SIZE, FIXTURE_SHA1)


# ---------------------------------------------------------------- 1. the euca fixture


@pytest.mark.parametrize("api", ["nova", "ec2"])
@pytest.mark.parametrize("manifest", ["1mb.manifest.xml", "1mb.no_kernel_or_ramdisk.manifest.xml"])
def test_fixture_registers(world: World, api: str, manifest: str) -> None:
    with_kernel = manifest == "1mb.manifest.xml"
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files(manifest))
    if api == "nova":
        r = world.nova_a.register(loc, display_name="euca fixture")
        assert r.status == 200, r.body
        assert r.headers["content-type"].startswith("application/json")
        image_id = r.json()["imageId"]
        assert r.json()["imageState"] in ("pending", "available")
    else:
        image_id = world.ec2a.register_image(ImageLocation=loc, Name="euca fixture")["ImageId"]
    assert ID_RE.match(image_id) and image_id.startswith("ami-")

    im = world.nova_a.wait(image_id)
    assert im["imageState"] == "available", im
    assert "stateReason" not in im
    assert im["size"] == FIXTURE_SIZE
    assert (im["imageLocation"], im["isPublic"], im["architecture"]) == (loc, False, "x86_64")
    assert im["imageType"] == im["type"] == "machine"
    assert im["displayName"] == "euca fixture"
    # The manifest's kernel_id/ramdisk_id ('aki-test', not a well-formed id) are kept as
    # they are (the issue: "other values become the image's kernelId/ramdiskId").
    assert (im["kernelId"], im["ramdiskId"]) == (
        ("aki-test", "ari-test") if with_kernel else (None, None))

    ec2 = ec2_wait(world.ec2a, image_id)
    assert ec2["State"] == "available" and ec2["ImageLocation"] == loc
    assert ec2["Public"] is False and ec2["ImageType"] == "machine"
    assert ec2["Name"] == "euca fixture" and ec2["Architecture"] == "x86_64"
    assert ec2["OwnerId"] == im["imageOwnerId"]
    assert (ec2.get("KernelId"), ec2.get("RamdiskId")) == (
        ("aki-test", "ari-test") if with_kernel else (None, None))
    if with_kernel:
        attr = world.ec2a.describe_image_attribute(ImageId=image_id, Attribute="kernel")
        assert attr["KernelId"]["Value"] == "aki-test"

    assert_fixture_bytes(world.nova_a, image_id)


def test_fixture_range_downloads(world: World, baseline: str) -> None:
    r = world.nova_a.download(baseline, {"Range": "bytes=100-199"})
    assert r.status == 206
    assert r.headers["content-range"] == f"bytes 100-199/{FIXTURE_SIZE}"
    assert r.body == bytes(100) and r.headers["content-length"] == "100"
    r = world.nova_a.download(baseline, {"Range": "bytes=-10"})
    assert r.status == 206 and r.body == bytes(10)
    last = FIXTURE_SIZE - 1
    assert r.headers["content-range"] == f"bytes {last - 9}-{last}/{FIXTURE_SIZE}"
    r = world.nova_a.download(baseline, {"Range": f"bytes={FIXTURE_SIZE}-"})
    assert r.status == 416


@pytest.mark.parametrize("folder", ["", "a b+c/ü&=%/deep"])
def test_fixture_registers_from_any_folder(world: World, folder: str) -> None:
    """Parts are found beside the manifest, at the bucket's top level or in a folder whose
    name needs escaping in both APIs."""
    prefix = f"{folder}/" if folder else ""
    b = fixture_files()
    for name, body in b.parts.items():
        world.s3a.put_object(Bucket=world.bucket, Key=prefix + name, Body=body)
    world.s3a.put_object(Bucket=world.bucket, Key=prefix + b.manifest_name, Body=b.manifest)
    loc = f"{world.bucket}/{prefix}{b.manifest_name}"
    nova_id = world.nova_a.register_ok(loc)
    ec2_id = world.ec2a.register_image(ImageLocation=loc, Name="odd folder")["ImageId"]
    for image_id in (nova_id, ec2_id):
        im = world.nova_a.wait(image_id)
        assert (im["imageState"], im["imageLocation"]) == ("available", loc), im
        assert_fixture_bytes(world.nova_a, image_id)


def test_sigv2_and_presigned_requests(world: World, baseline: str) -> None:
    """`/_images` takes the same auth as S3: SigV2 headers, and presigned URLs."""
    v2 = Nova(world.srv, world.alice, sigv2=True)
    assert baseline in v2.list_ids()
    assert_fixture_bytes(v2, baseline)
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files())
    r = v2.register(loc, display_name="sigv2")
    assert r.status == 200, r.body
    assert v2.wait(r.json()["imageId"])["imageState"] == "available"
    bad = Nova(world.srv, Creds(world.alice.access_key, "y" * 40, "", ""), sigv2=True)
    assert bad.request("GET").status == 403
    # a presigned GET (SigV4 query auth) downloads the image
    url = world.s3a.generate_presigned_url(
        "get_object", Params={"Bucket": "_images", "Key": baseline}, ExpiresIn=300)
    assert url.startswith(f"{world.srv.endpoint}/_images/{baseline}?"), url
    conn = http.client.HTTPConnection("127.0.0.1", world.srv.port, timeout=30)
    try:
        conn.request("GET", url[len(world.srv.endpoint):])
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 200, body[:300]
    assert hashlib.sha1(body).hexdigest() == FIXTURE_SHA1


def kernel_and_ramdisk(world: World) -> tuple[str, str]:
    """An available kernel and ramdisk of alice's (kernel_id / ramdisk_id must name them)."""
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files())
    kernel = world.nova_a.register_ok(loc, kernel_id="true")
    ramdisk = world.nova_a.register_ok(loc, ramdisk_id="true")
    for image_id in (kernel, ramdisk):
        assert world.nova_a.wait(image_id)["imageState"] == "available"
    return kernel, ramdisk


def test_register_overrides_kernel_and_ramdisk(world: World) -> None:
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files())
    kernel, ramdisk = kernel_and_ramdisk(world)
    image_id = world.nova_a.register_ok(loc, kernel_id=kernel, ramdisk_id=ramdisk,
                                        architecture="i386", description="d1")
    im = world.nova_a.wait(image_id)
    assert im["imageState"] == "available"
    assert (im["kernelId"], im["ramdiskId"], im["architecture"], im["description"]) == (
        kernel, ramdisk, "i386", "d1")
    ec2 = world.ec2a.describe_images(ImageIds=[image_id])["Images"][0]
    assert (ec2["KernelId"], ec2["RamdiskId"], ec2["Architecture"]) == (kernel, ramdisk, "i386")
    # a client-supplied kernel id must be well-formed (unlike the manifest's own value)
    before = world.snapshot()
    r = world.nova_a.register(loc, kernel_id="aki-test")
    assert (r.status, r.error_code) == (400, "Malformed")
    r = world.nova_a.register(loc, architecture="sparc")
    assert r.status == 400
    assert world.snapshot() == before


def test_ec2_register_with_kernel_description_and_filters(world: World) -> None:
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files(
        "1mb.no_kernel_or_ramdisk.manifest.xml"))
    kernel, _ = kernel_and_ramdisk(world)
    name = "filtered-" + uuid.uuid4().hex[:8]
    image_id = world.ec2a.register_image(ImageLocation=loc, Name=name, Description="desc one",
                                         Architecture="i386", KernelId=kernel)["ImageId"]
    im = ec2_wait(world.ec2a, image_id)
    assert (im["State"], im["KernelId"], im["Architecture"], im["Description"]) == (
        "available", kernel, "i386", "desc one")
    found = world.ec2a.describe_images(Owners=["self"],
                                       Filters=[{"Name": "name", "Values": [name]}])["Images"]
    assert [i["ImageId"] for i in found] == [image_id]
    found = world.ec2a.describe_images(Filters=[{"Name": "name", "Values": [name]},
                                                {"Name": "architecture", "Values": ["x86_64"]}])
    assert found["Images"] == []
    world.ec2a.modify_image_attribute(ImageId=image_id, Description={"Value": "desc two"})
    attr = world.ec2a.describe_image_attribute(ImageId=image_id, Attribute="description")
    assert attr["Description"]["Value"] == "desc two"
    # Nova rename / describe
    r = world.nova_a.request("POST", query={"image_id": image_id, "display_name": "renamed",
                                            "description": "desc three"})
    assert r.status == 200 and r.json()["displayName"] == "renamed"
    im2 = world.ec2a.describe_images(ImageIds=[image_id])["Images"][0]
    assert (im2["Name"], im2["Description"]) == ("renamed", "desc three")


# ---------------------------------------------------------------- 2. CLI round trip


def test_round_trip_50mib_cli_and_aws_cli(world: World) -> None:
    srv, tmp = world.srv, world.tmp / ("rt-" + uuid.uuid4().hex[:6])
    tmp.mkdir()
    env = cli_env(srv, world.alice)
    # the data dir's own cloud key: its cert, as users get it
    cert = tmp / "cloud-cert.pem"
    cert.write_text(objectstore("image", "cloud-cert", "--data-dir", str(srv.data_dir)).stdout)
    assert load_cert(cert).fingerprint(SHA256()) != FIXTURE_CERT.fingerprint(SHA256())
    image = tmp / "disk.img"
    size = 50 * MiB
    digest = random_file(image, size)
    out = objectstore("image", "bundle", str(image), "--cert", str(cert),
                      "--part-size", "10485760", "-d", str(tmp / "bundle"), env=env)
    manifest = Path(out.stdout.strip().splitlines()[-1])
    assert manifest.name == "disk.img.manifest.xml" and manifest.exists()
    parts = sorted(p.name for p in (tmp / "bundle").iterdir() if ".part." in p.name)
    assert len(parts) == 6, parts  # 50 MiB of random data grows a little under gzip
    assert all(re.fullmatch(r"disk\.img\.part\.\d", p) for p in parts)
    for name in [*parts, manifest.name]:
        world.s3a.upload_file(str(tmp / "bundle" / name), world.bucket, f"rt/{name}")
    loc = f"{world.bucket}/rt/{manifest.name}"

    # aws ec2 register-image, boto3's ec2 client, objectstore image register (Nova)
    out = aws(srv, world.alice, "ec2", "register-image", "--image-location", loc,
              "--name", "round trip (aws cli)")
    id_aws = json.loads(out.stdout)["ImageId"]
    id_boto = world.ec2a.register_image(ImageLocation=loc, Name="round trip boto3")["ImageId"]
    out = objectstore("image", "register", loc, "--name", "round trip cli", "--wait", env=env)
    lines = out.stdout.strip().splitlines()
    id_cli = lines[0]
    assert lines[-1] == f"{id_cli} available"
    ids = [id_aws, id_boto, id_cli]
    assert len(set(ids)) == 3 and all(ID_RE.match(i) for i in ids)

    deadline = time.monotonic() + 90
    while True:
        out = aws(srv, world.alice, "ec2", "describe-images", "--image-ids", id_aws)
        images = json.loads(out.stdout)["Images"]
        assert [i["ImageId"] for i in images] == [id_aws]
        if images[0]["State"] != "pending":
            break
        assert time.monotonic() < deadline, "aws image still pending"
        time.sleep(0.5)
    assert images[0]["State"] == "available", images[0]
    assert images[0]["Name"] == "round trip (aws cli)"
    assert ec2_wait(world.ec2a, id_boto, 90)["State"] == "available"
    for image_id in ids:
        assert world.nova_a.find(image_id)["size"] == size  # type: ignore[index]

    for image_id in ids:
        dest = tmp / f"{image_id}.img"
        objectstore("image", "download", image_id, "-o", str(dest), env=env)
        assert dest.stat().st_size == size
        assert sha1_file(dest) == digest
        dest.unlink()

    # a range in the middle, across the first part boundary of the bundle
    start = 10 * MiB - 100
    r = world.nova_a.download(id_boto, {"Range": f"bytes={start}-{start + 299}"})
    with image.open("rb") as f:
        f.seek(start)
        expected = f.read(300)
    assert (r.status, r.body) == (206, expected)
    assert r.headers["content-range"] == f"bytes {start}-{start + 299}/{size}"

    # list / describe / publish / unpublish / deregister with the CLI
    listing = objectstore("image", "list", env=env).stdout
    for image_id in ids:
        line = next(li for li in listing.splitlines() if li.startswith(image_id))
        assert line.split("\t")[1:4] == ["available", "private", loc]
    desc = json.loads(objectstore("image", "describe", id_cli, env=env).stdout)
    assert (desc["imageId"], desc["displayName"], desc["size"]) == (
        id_cli, "round trip cli", size)
    assert world.nova_b.find(id_cli) is None
    objectstore("image", "publish", id_cli, env=env)
    seen = world.nova_b.find(id_cli)
    assert seen is not None and seen["isPublic"] is True
    r = world.nova_b.download(id_cli, {"Range": "bytes=0-99"})
    assert r.status == 206 and r.body == expected_head(image, 100)
    objectstore("image", "unpublish", id_cli, env=env)
    assert world.nova_b.find(id_cli) is None
    assert world.nova_b.download(id_cli).status == 404
    # the AWS CLI commands from docs/images.md
    aws(srv, world.alice, "ec2", "modify-image-attribute", "--image-id", id_aws,
        "--launch-permission", "Add=[{Group=all}]")
    assert world.nova_b.find(id_aws) is not None
    mine = json.loads(aws(srv, world.alice, "ec2", "describe-images", "--owners", "self").stdout)
    assert {id_aws, id_boto, id_cli} <= {i["ImageId"] for i in mine["Images"]}
    aws(srv, world.alice, "ec2", "deregister-image", "--image-id", id_aws)
    assert world.nova_b.find(id_aws) is None
    out = aws(srv, world.alice, "ec2", "describe-images", "--image-ids", id_aws, check=False)
    assert out.returncode != 0 and "InvalidAMIID.NotFound" in out.stderr
    for image_id in (id_boto, id_cli):
        objectstore("image", "deregister", image_id, env=env)
    for image_id in ids:
        assert world.nova_a.find(image_id) is None
        assert world.nova_a.download(image_id).status == 404
    out = objectstore("image", "describe", id_cli, env=env, check=False)
    assert out.returncode != 0
    # the bundle itself stays in the bucket
    assert {f"rt/{n}" for n in [*parts, manifest.name]} <= set(objects(world.s3a, world.bucket))


def expected_head(path: Path, n: int) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def test_cli_upload_kernel_then_machine_image(world: World) -> None:
    tmp = world.tmp / ("cli-" + uuid.uuid4().hex[:6])
    tmp.mkdir()
    env = cli_env(world.srv, world.alice)
    kernel_file = tmp / "vmlinuz"
    kernel_sha1 = random_file(kernel_file, 3 * MiB + 17)
    out = objectstore("image", "bundle", str(kernel_file), "--cert", str(EUCA / "cacert.pem"),
                      "--kernel", "true", "--part-size", str(MiB), "-d", str(tmp / "k"), env=env)
    manifest = Path(out.stdout.strip().splitlines()[-1])
    out = objectstore("image", "upload", str(manifest), world.bucket, "--prefix", "cli/k",
                      env=env)
    loc = out.stdout.strip().splitlines()[-1]
    assert loc == f"{world.bucket}/cli/k/vmlinuz.manifest.xml"
    keys = set(objects(world.s3a, world.bucket))
    assert {"cli/k/vmlinuz.manifest.xml", "cli/k/vmlinuz.part.0", "cli/k/vmlinuz.part.3"} <= keys
    out = objectstore("image", "register", loc, "--wait", env=env)
    kernel_id, status = out.stdout.strip().splitlines()
    assert kernel_id.startswith("aki-") and ID_RE.match(kernel_id)
    assert status == f"{kernel_id} available"
    im = world.nova_a.find(kernel_id)
    assert im is not None and im["imageType"] == "kernel" and im["kernelId"] is None
    objectstore("image", "download", kernel_id, "-o", str(tmp / "k.out"), env=env)
    assert sha1_file(tmp / "k.out") == kernel_sha1

    # a machine image that boots with that kernel
    disk = tmp / "disk.img"
    random_file(disk, 100_000)
    out = objectstore("image", "bundle", str(disk), "--cert", str(EUCA / "cacert.pem"),
                      "--kernel", kernel_id, "--arch", "i386", "-d", str(tmp / "m"), env=env)
    manifest = Path(out.stdout.strip().splitlines()[-1])
    loc = objectstore("image", "upload", str(manifest), world.bucket, "--prefix", "cli/m",
                      env=env).stdout.strip().splitlines()[-1]
    image_id = world.ec2a.register_image(ImageLocation=loc, Name="boots a kernel")["ImageId"]
    im2 = ec2_wait(world.ec2a, image_id)
    assert (im2["State"], im2["ImageType"], im2["KernelId"], im2["Architecture"]) == (
        "available", "machine", kernel_id, "i386")
    out = objectstore("image", "wait", image_id, env=env)
    assert out.stdout.strip() == f"{image_id} available"


# ---------------------------------------------------------------- 3. failures

PAYLOAD = hashlib.shake_256(b"payload").digest(10000)


@dataclass
class Case:
    location: str
    reasons: tuple[str, ...]  # the reason must match each of these (re.search)
    creds: Creds | None = None  # who registers (default: alice)


def _fixture_case(w: World, folder: str, edit: Callable[[Bundle], None],
                  *reasons: str) -> Case:
    b = fixture_files()
    edit(b)
    return Case(upload(w.s3a, w.bucket, folder, b), reasons)


def case_tampered_part(w: World, folder: str) -> Case:
    def flip(b: Bundle) -> None:
        blob = bytearray(b.parts["1mb.part.0"])
        blob[500] ^= 0x01
        b.parts["1mb.part.0"] = bytes(blob)
    return _fixture_case(w, folder, flip, r"part 0 \(1mb\.part\.0\) digest differs")


def case_wrong_cloud_key(w: World, folder: str) -> Case:
    _, stranger = new_key_and_cert("another-cloud")
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), stranger)
    # the server has two keys: the fixture's (--cloud-key) and the data dir's own
    return Case(upload(w.s3a, w.bucket, folder, b),
                ("does not decrypt with any of the 2 cloud keys",))


def case_missing_part(w: World, folder: str) -> Case:
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), FIXTURE_CERT, part_size=1024)
    assert len(b.parts) >= 3
    loc = upload(w.s3a, w.bucket, folder, b)
    w.s3a.delete_object(Bucket=w.bucket, Key=f"{folder}/img.part.1")
    return Case(loc, (r"part img\.part\.1 is missing",))


def case_part_escapes_folder(w: World, folder: str) -> Case:
    # the part really exists at the escaped location: only the name check can stop it
    w.s3a.put_object(Bucket=w.bucket, Key="x.part.0", Body=(EUCA / "1mb.part.0").read_bytes())

    def escape(b: Bundle) -> None:
        b.manifest = b.manifest.replace(b"<filename>1mb.part.0</filename>",
                                        b"<filename>../x.part.0</filename>")
        assert b"../x.part.0" in b.manifest
    return _fixture_case(w, folder, escape, r"'\.\./x\.part\.0' contains a path separator")


def _tar_case(w: World, folder: str, tar: bytes, size: int, *reasons: str) -> Case:
    b = bundle_of_tar(tar, size, FIXTURE_CERT)
    return Case(upload(w.s3a, w.bucket, folder, b), reasons)


def case_symlink(w: World, folder: str) -> Case:
    tar = U.tar_of(U.member("disk.img", kind=tarfile.SYMTYPE, linkname="/etc/shadow"))
    return _tar_case(w, folder, tar, 1024, "is a symbolic link, not a regular file")


def case_hardlink(w: World, folder: str) -> Case:
    tar = U.tar_of(U.member("disk.img", kind=tarfile.LNKTYPE, linkname="/etc/shadow"))
    return _tar_case(w, folder, tar, 1024, "is a hard link, not a regular file")


def case_two_members(w: World, folder: str) -> Case:
    tar = U.tar_of(U.member("disk.img", PAYLOAD), U.member("extra", b"x" * 100))
    return _tar_case(w, folder, tar, len(PAYLOAD),
                     r"more than one member \(the second is 'extra'\)")


def case_dotdot_member(w: World, folder: str) -> Case:
    tar = U.tar_of(U.member("../../etc/cron.d/evil", PAYLOAD))
    return _tar_case(w, folder, tar, len(PAYLOAD), "'\\.\\.' component")


def case_gzip_bomb(w: World, folder: str) -> Case:
    # an honest member, then 1 GiB of zeros (about 1 MiB compressed)
    tar = U.tar_of(U.member("disk.img", PAYLOAD))[:512 + len(PAYLOAD)]
    b = bundle_of_gz(U.zeros_gzip(tar, 1024), len(PAYLOAD), FIXTURE_CERT)
    return Case(upload(w.s3a, w.bucket, folder, b),
                (r"decompression bomb|zeros after its end",))


def case_wrong_size(w: World, folder: str) -> Case:
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD) + 1, FIXTURE_CERT)
    return Case(upload(w.s3a, w.bucket, folder, b),
                (f"file is {len(PAYLOAD)} bytes but the manifest size is {len(PAYLOAD) + 1}",))


def case_wrong_tar_digest(w: World, folder: str) -> Case:
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), FIXTURE_CERT)
    tar_digest = hashlib.sha1(good_tar(PAYLOAD)).hexdigest().encode()
    assert tar_digest in b.manifest
    b.manifest = b.manifest.replace(tar_digest, b"0" * 40)
    return Case(upload(w.s3a, w.bucket, folder, b),
                (r"image digest \(SHA1 of the tar stream\) differs",))


def signer_user(w: World) -> tuple[Creds, Any]:
    """A user of alice's account with a certificate on record, and its key."""
    if w.signer is None:
        carol = w.srv.new_user(account=w.alice.account)
        key, _ = new_key_and_cert("carol", w.tmp / "carol")
        w.srv.admin("user", "cert", "add", carol.user, str(w.tmp / "carol" / "carol-cert.pem"))
        w.signer = (carol, key)
    return w.signer


def case_bad_signature(w: World, folder: str) -> Case:
    carol, _ = signer_user(w)
    other, _ = new_key_and_cert("mallory")
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), FIXTURE_CERT, signer=other)
    return Case(upload(w.s3a, w.bucket, folder, b),
                ("signature does not verify with the user's certificate",), carol)


def case_unsigned_from_user_with_cert(w: World, folder: str) -> Case:
    carol, _ = signer_user(w)
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), FIXTURE_CERT)
    return Case(upload(w.s3a, w.bucket, folder, b), ("the manifest has no signature",),
                carol)


CASES = {f.__name__[5:]: f for f in (
    case_tampered_part, case_wrong_cloud_key, case_missing_part, case_part_escapes_folder,
    case_symlink, case_hardlink, case_two_members, case_dotdot_member, case_gzip_bomb,
    case_wrong_size, case_wrong_tar_digest, case_bad_signature,
    case_unsigned_from_user_with_cert)}


@pytest.mark.parametrize("case", list(CASES))
def test_failure_ends_failed_and_changes_nothing_else(world: World, baseline: str,
                                                      case: str) -> None:
    folder = world.folder()
    c = CASES[case](world, folder)
    creds = c.creds or world.alice
    nova, ec2 = Nova(world.srv, creds), ec2_client(world.srv, creds)
    images_before = world.snapshot()
    objects_before = objects(world.s3a, world.bucket)
    files_before = stored_files(world.srv.data_dir)

    r = nova.register(c.location, display_name=f"bad {case}")
    assert r.status == 200, r.body
    image_id = r.json()["imageId"]
    im = nova.wait(image_id, timeout=30)
    assert im["imageState"] == "failed", im
    reason = im["stateReason"]
    for pattern in c.reasons:
        assert re.search(pattern, reason), (pattern, reason)
    assert im["size"] == 0
    described = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert described["State"] == "failed"
    assert described["StateReason"]["Message"] == reason
    r = nova.download(image_id)
    assert r.status == 409 and r.error_code == "InvalidState"

    # nothing else changed: other images, the bucket's objects, the baseline's bytes
    after = world.snapshot()
    assert set(after) == set(images_before) | {image_id}
    assert {k: v for k, v in after.items() if k != image_id} == images_before
    assert objects(world.s3a, world.bucket) == objects_before
    assert stored_files(world.srv.data_dir) == files_before  # no blob or temp file left
    assert_fixture_bytes(world.nova_a, baseline)

    # the failed image can be deregistered by its owner
    assert nova.request("DELETE", query={"image_id": image_id}).status == 204
    assert world.snapshot() == images_before


def test_failure_reason_via_ec2_register(world: World) -> None:
    """The same through RegisterImage: the EC2 stateReason carries the reason."""
    b = fixture_files()
    b.parts.pop("1mb.part.1")
    loc = upload(world.s3a, world.bucket, world.folder(), b)
    image_id = world.ec2a.register_image(ImageLocation=loc, Name="missing part")["ImageId"]
    im = ec2_wait(world.ec2a, image_id)
    assert im["State"] == "failed"
    assert "1mb.part.1" in im["StateReason"]["Message"]
    assert "missing" in im["StateReason"]["Message"]
    assert im["StateReason"]["Code"]


def test_signed_manifest_from_user_with_cert(world: World) -> None:
    """Control for the signature failures: the right signer's manifest registers, also when
    bundled by the CLI with --user-key/--user-cert."""
    carol, key = signer_user(world)
    nova = Nova(world.srv, carol)
    b = bundle_of_tar(good_tar(PAYLOAD), len(PAYLOAD), FIXTURE_CERT, signer=key)
    image_id = nova.register_ok(upload(world.s3a, world.bucket, world.folder(), b))
    im = nova.wait(image_id)
    assert im["imageState"] == "available", im
    r = nova.download(image_id)
    assert r.body == PAYLOAD

    tmp = world.tmp / "carol"
    disk = tmp / "signed.img"
    random_file(disk, 50_000)
    env = cli_env(world.srv, carol)
    out = objectstore("image", "bundle", str(disk), "--cert", str(EUCA / "cacert.pem"),
                      "--user-key", str(tmp / "carol-key.pem"),
                      "--user-cert", str(tmp / "carol-cert.pem"), "-d", str(tmp / "b"), env=env)
    manifest = Path(out.stdout.strip().splitlines()[-1])
    loc = objectstore("image", "upload", str(manifest), world.bucket, "--prefix",
                      world.folder(), env=env).stdout.strip().splitlines()[-1]
    out = objectstore("image", "register", loc, "--wait", env=env)
    assert out.stdout.strip().endswith("available"), out.stdout


# ---------------------------------------------------------------- 4. authorization


def test_other_account_cannot_use_a_private_image(world: World, baseline: str) -> None:
    w = world
    loc = upload(w.s3a, w.bucket, w.folder(), fixture_files())
    before = w.snapshot()

    # register from alice's private manifest
    r = w.nova_b.register(loc)
    assert (r.status, r.error_code) == (403, "AccessDenied")
    with pytest.raises(ClientError) as err:
        w.ec2b.register_image(ImageLocation=loc, Name="stolen image")
    assert ec2_error(err.value) == ("UnauthorizedOperation", 403)
    assert w.snapshot() == before

    # see
    assert baseline not in {im["imageId"] for im in w.nova_b.list()}
    assert baseline not in {im["ImageId"] for im in w.ec2b.describe_images()["Images"]}
    with pytest.raises(ClientError) as err:
        w.ec2b.describe_images(ImageIds=[baseline])
    assert ec2_error(err.value)[0] == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as err:
        w.ec2b.describe_image_attribute(ImageId=baseline, Attribute="launchPermission")
    assert ec2_error(err.value)[0] == "InvalidAMIID.NotFound"

    # modify / deregister
    for query in ({"image_id": baseline, "operation": "add"},
                  {"image_id": baseline, "display_name": "mine now"}):
        r = w.nova_b.request("POST", query=query)
        assert r.status in (403, 404), (r.status, r.body)
    assert w.nova_b.request("DELETE", query={"image_id": baseline}).status in (403, 404)
    calls: list[Callable[[], Any]] = [
        lambda: w.ec2b.modify_image_attribute(
            ImageId=baseline, LaunchPermission={"Add": [{"Group": "all"}]}),
        lambda: w.ec2b.deregister_image(ImageId=baseline)]
    for call in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert ec2_error(err.value)[0] in ("InvalidAMIID.NotFound", "UnauthorizedOperation")

    # download
    r = w.nova_b.download(baseline)
    assert r.status == 404 and FIXTURE_SIZE > len(r.body)
    # ... answered exactly as for an id that does not exist (no existence oracle)
    unknown = "ami-" + secrets.token_hex(9)[:17]
    r2 = w.nova_b.download(unknown)
    assert (r.status, r.error_code) == (r2.status, r2.error_code) == (404, "NotFound")
    assert w.snapshot() == before

    # the admin sees it; alice still has it, private and unchanged
    assert before[baseline]["isPublic"] is False
    assert before[baseline]["displayName"] == "baseline"
    assert_fixture_bytes(w.nova_root, baseline)


def test_register_gives_no_existence_oracle(world: World, baseline: str) -> None:
    """Another account gets the same refusal for a private manifest that exists and for
    one that does not; the owner is told the manifest is missing."""
    existing = f"{world.bucket}/baseline/1mb.manifest.xml"
    missing = f"{world.bucket}/baseline/nothing.manifest.xml"
    r1, r2 = world.nova_b.register(existing), world.nova_b.register(missing)
    assert (r1.status, r1.error_code) == (r2.status, r2.error_code) == (403, "AccessDenied")
    r = world.nova_a.register(missing)
    assert (r.status, r.error_code) == (400, "InvalidManifest")
    r = world.nova_a.register("no-such-bucket-" + uuid.uuid4().hex[:8] + "/x.manifest.xml")
    assert (r.status, r.error_code) == (400, "InvalidManifest")
    with pytest.raises(ClientError) as err:
        world.ec2a.register_image(ImageLocation=missing, Name="missing manifest")
    assert ec2_error(err.value) == ("InvalidManifest", 400)
    r = world.nova_a.register("just-a-bucket")
    assert r.status == 400
    r = world.nova_a.request("PUT")
    assert r.status == 400


def test_admin_sees_and_manages_every_image(world: World) -> None:
    admin = world.srv.new_user(admin=True)
    nova_admin = Nova(world.srv, admin)
    loc = upload(world.s3a, world.bucket, world.folder(), fixture_files())
    files_before = stored_files(world.srv.data_dir)
    image_id = world.nova_a.register_ok(loc, display_name="for the admin")
    assert world.nova_a.wait(image_id)["imageState"] == "available"
    assert len(stored_files(world.srv.data_dir) - files_before) == 1  # the image's blob
    seen = nova_admin.find(image_id)
    assert seen is not None and seen["isPublic"] is False
    assert seen["imageOwnerId"] != admin.account
    assert_fixture_bytes(nova_admin, image_id)
    r = nova_admin.request("POST", query={"image_id": image_id, "description": "by admin"})
    assert r.status == 200 and r.json()["description"] == "by admin"
    assert nova_admin.request("DELETE", query={"image_id": image_id}).status == 204
    assert world.nova_a.find(image_id) is None
    assert stored_files(world.srv.data_dir) == files_before  # deregistering frees the blob


def test_other_account_cannot_register_from_readable_manifest_with_private_parts(
        world: World) -> None:
    """Each part is checked: a public-read manifest does not open private parts."""
    w = world
    folder = w.folder()
    loc = upload(w.s3a, w.bucket, folder, fixture_files(), acl="public-read")
    assert w.s3b.get_object(Bucket=w.bucket, Key=f"{folder}/1mb.manifest.xml")["Body"].read()
    with pytest.raises(ClientError):
        w.s3b.get_object(Bucket=w.bucket, Key=f"{folder}/1mb.part.0")
    image_id = w.nova_b.register_ok(loc)
    im = w.nova_b.wait(image_id)
    assert im["imageState"] == "failed"
    # the same reason as for a part that does not exist (no existence oracle)
    assert "part 1mb.part.0 is missing or not readable" in im["stateReason"]
    assert w.nova_b.download(image_id).status == 409


def test_part_names_cannot_reach_another_bucket(world: World) -> None:
    """Nova's old traversal bug: bob's manifest naming alice's parts by a relative path."""
    w = world
    bob_bucket = "bob-" + uuid.uuid4().hex[:12]
    w.s3b.create_bucket(Bucket=bob_bucket)
    alice_folder = w.folder()
    upload(w.s3a, w.bucket, alice_folder, fixture_files())
    b = fixture_files()
    b.parts = {}
    for n in ("1mb.part.0", "1mb.part.1"):
        b.manifest = b.manifest.replace(f"<filename>{n}</filename>".encode(),
                                        f"<filename>../../{w.bucket}/{alice_folder}/{n}"
                                        "</filename>".encode())
    w.s3b.put_object(Bucket=bob_bucket, Key="evil/1mb.manifest.xml", Body=b.manifest)
    before = objects(w.s3a, w.bucket)
    image_id = w.nova_b.register_ok(f"{bob_bucket}/evil/1mb.manifest.xml")
    im = w.nova_b.wait(image_id)
    assert im["imageState"] == "failed"
    assert "path separator" in im["stateReason"]
    assert objects(w.s3a, w.bucket) == before


def test_publish_lets_others_see_and_download_but_not_modify(world: World) -> None:
    w = world
    loc = upload(w.s3a, w.bucket, w.folder(), fixture_files())
    image_id = w.nova_a.register_ok(loc, display_name="shared")
    assert w.nova_a.wait(image_id)["imageState"] == "available"

    r = w.nova_a.request("POST", query={"image_id": image_id, "operation": "add"})
    assert r.status == 200 and r.json()["isPublic"] is True
    seen = w.nova_b.find(image_id)
    assert seen is not None and seen["isPublic"] is True and seen["imageState"] == "available"
    assert_fixture_bytes(w.nova_b, image_id)
    found = w.ec2b.describe_images(ImageIds=[image_id])["Images"]
    assert [(i["ImageId"], i["Public"]) for i in found] == [(image_id, True)]
    public = w.ec2b.describe_images(ExecutableUsers=["all"])["Images"]
    assert image_id in {i["ImageId"] for i in public}
    mine = w.ec2b.describe_images(Owners=["self"])["Images"]
    assert image_id not in {i["ImageId"] for i in mine}

    before = w.snapshot()
    for query in ({"image_id": image_id, "operation": "remove"},
                  {"image_id": image_id, "display_name": "hijacked"}):
        r = w.nova_b.request("POST", query=query)
        assert (r.status, r.error_code) == (403, "AccessDenied"), r.body
    r = w.nova_b.request("DELETE", query={"image_id": image_id})
    assert (r.status, r.error_code) == (403, "AccessDenied")
    calls: list[Callable[[], Any]] = [
        lambda: w.ec2b.modify_image_attribute(
            ImageId=image_id, LaunchPermission={"Remove": [{"Group": "all"}]}),
        lambda: w.ec2b.modify_image_attribute(ImageId=image_id, Description={"Value": "x"}),
        lambda: w.ec2b.deregister_image(ImageId=image_id)]
    for call in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert ec2_error(err.value) == ("UnauthorizedOperation", 403)
    assert w.snapshot() == before

    # unpublish with EC2, publish again with EC2
    w.ec2a.modify_image_attribute(ImageId=image_id,
                                  LaunchPermission={"Remove": [{"Group": "all"}]})
    assert w.nova_b.find(image_id) is None and w.nova_b.download(image_id).status == 404
    attr = w.ec2a.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attr["LaunchPermissions"] == []
    w.ec2a.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    attr = w.ec2a.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attr["LaunchPermissions"] == [{"Group": "all"}]
    assert w.nova_b.find(image_id) is not None

    # the owner deregisters: gone for everyone
    w.ec2a.deregister_image(ImageId=image_id)
    assert w.nova_b.find(image_id) is None and w.nova_a.find(image_id) is None
    with pytest.raises(ClientError) as err:
        w.ec2a.describe_images(ImageIds=[image_id])
    assert ec2_error(err.value)[0] == "InvalidAMIID.NotFound"


def test_bogus_operation_is_400_and_changes_nothing(world: World, baseline: str) -> None:
    before = world.snapshot()
    for query in ({"image_id": baseline, "operation": "bogus"},
                  {"image_id": baseline, "operation": "bogus", "display_name": "changed"},
                  {"image_id": baseline, "operation": ""},
                  {"image_id": baseline}):
        r = world.nova_a.request("POST", query=query)
        assert r.status == 400, (query, r.status, r.body)
        assert r.headers["content-type"].startswith("application/json")
        assert r.error_code is not None
    assert world.snapshot() == before
    assert before[baseline]["isPublic"] is False


def test_anonymous_requests_are_refused(world: World, baseline: str) -> None:
    anon = Nova(world.srv, None)
    r = anon.request("GET")
    assert (r.status, r.error_code) == (403, "AccessDenied")
    assert baseline.encode() not in r.body
    assert anon.download(baseline).status == 403
    assert anon.register(f"{world.bucket}/baseline/1mb.manifest.xml").status == 403
    client = boto3.client("ec2", endpoint_url=world.srv.endpoint, region_name="us-east-1",
                          config=Config(signature_version=UNSIGNED,
                                        retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        client.describe_images()
    assert ec2_error(err.value)[0] == "AuthFailure"
    # a wrong secret is no better
    bad = ec2_client(world.srv, Creds(world.alice.access_key, "x" * 40, "", ""))
    with pytest.raises(ClientError) as err:
        bad.describe_images()
    assert ec2_error(err.value)[0] == "AuthFailure"


@pytest.mark.parametrize("bad_id", ["ami-xyz", "ami-0123456789abcdefg", "img-0123456789abcdef0",
                                    "ami-0123456789ABCDEF0", "ami-0123456789abcdef01"])
def test_malformed_ids(world: World, bad_id: str) -> None:
    r = world.nova_a.download(bad_id)
    assert (r.status, r.error_code) == (400, "Malformed"), r.body
    r = world.nova_a.request("DELETE", query={"image_id": bad_id})
    assert (r.status, r.error_code) == (400, "Malformed")
    with pytest.raises(ClientError) as err:
        world.ec2a.describe_images(ImageIds=[bad_id])
    assert ec2_error(err.value) == ("InvalidAMIID.Malformed", 400)
    with pytest.raises(ClientError) as err:
        world.ec2a.deregister_image(ImageId=bad_id)
    assert ec2_error(err.value) == ("InvalidAMIID.Malformed", 400)


def test_unknown_id_is_not_found(world: World) -> None:
    unknown = "ami-" + secrets.token_hex(9)[:17]
    r = world.nova_a.download(unknown)
    assert (r.status, r.error_code) == (404, "NotFound")
    with pytest.raises(ClientError) as err:
        world.ec2a.describe_images(ImageIds=[unknown])
    assert ec2_error(err.value) == ("InvalidAMIID.NotFound", 400)


def test_client_supplied_image_id(world: World) -> None:
    w = world
    loc = upload(w.s3a, w.bucket, w.folder(), fixture_files())
    chosen = "ami-" + secrets.token_hex(9)[:17]
    r = w.nova_a.register(loc, image_id=chosen)
    assert r.status == 200 and r.json()["imageId"] == chosen
    assert w.nova_a.wait(chosen)["imageState"] == "available"
    before = w.snapshot()

    # in use: by the same account, by another account
    r = w.nova_a.register(loc, image_id=chosen, display_name="dup")
    assert (r.status, r.error_code) == (409, "Duplicate"), r.body
    bob_bucket = "bobids-" + uuid.uuid4().hex[:10]
    w.s3b.create_bucket(Bucket=bob_bucket)
    bob_loc = upload(w.s3b, bob_bucket, "f", fixture_files())
    r = w.nova_b.register(bob_loc, image_id=chosen)
    # to bob, alice's private image does not exist: answered like a lookup
    assert (r.status, r.error_code) == (404, "NotFound"), r.body
    # malformed, or of the wrong kind for a machine image
    for bad in ("ami-xyz", "ami-" + "0" * 16, "ami-" + "G" * 17, "aki-" + secrets.token_hex(9)[:17],
                "ami-" + secrets.token_hex(9)[:17] + "/x"):
        r = w.nova_a.register(loc, image_id=bad)
        assert (r.status, r.error_code) == (400, "Malformed"), (bad, r.body)
    assert w.snapshot() == before
    # kernel / ramdisk registrations take aki- / ari- ids
    for kind, prefix in (("kernel_id", "aki"), ("ramdisk_id", "ari")):
        wanted = f"{prefix}-" + secrets.token_hex(9)[:17]
        r = w.nova_a.register(loc, **{kind: "true", "image_id": "ami-" + wanted[4:]})
        assert (r.status, r.error_code) == (400, "Malformed"), r.body
        r = w.nova_a.register(loc, **{kind: "true", "image_id": wanted})
        assert r.status == 200 and r.json()["imageId"] == wanted, r.body
        im = w.nova_a.wait(wanted)
        assert (im["imageState"], im["imageType"]) == (
            "available", "kernel" if prefix == "aki" else "ramdisk")
        auto = w.nova_a.register_ok(loc, **{kind: "true"})
        assert auto.startswith(prefix + "-") and ID_RE.match(auto)
        assert w.nova_a.wait(auto)["imageState"] == "available"
        for image_id in (wanted, auto):
            assert w.nova_a.request("DELETE", query={"image_id": image_id}).status == 204
    assert w.snapshot() == before
    assert before[chosen]["imageLocation"] == loc
    assert before[chosen]["displayName"] != "dup"
    assert_fixture_bytes(w.nova_a, chosen)


# ---------------------------------------------------------------- 5. restart, rotation


def test_restart_during_registration_and_key_rotation(tmp_path: Path) -> None:
    # first life: the fixture key (as an operator's --cloud-key) and the data dir's own
    srv = cloud_server(tmp_path)
    srv.start()
    try:
        alice = srv.new_user()
        s3 = srv.client(alice)
        s3.create_bucket(Bucket="restart")
        nova = Nova(srv, alice)
        own_cert = tmp_path / "own-cert.pem"
        own_cert.write_text(objectstore("image", "cloud-cert", "--data-dir",
                                        str(srv.data_dir)).stdout)
        big = tmp_path / "big.img"
        big_sha1 = random_file(big, 30 * MiB)
        out = objectstore("image", "bundle", str(big), "--cert", str(own_cert), "--part-size",
                          str(MiB), "-d", str(tmp_path / "big"))
        manifest = Path(out.stdout.strip().splitlines()[-1])
        for p in sorted((tmp_path / "big").iterdir()):
            s3.upload_file(str(p), "restart", f"big/{p.name}")
        # small bundles for the keys in use before the rotation
        old_fixture = upload(s3, "restart", "old-fixture", fixture_files())
        r = nova.register(f"restart/big/{manifest.name}")
        assert r.status == 200 and r.json()["imageState"] == "pending"
        big_id = r.json()["imageId"]
    finally:
        srv.stop(signal.SIGKILL)

    # second life, after a rotation: a new key first, the old operator key still configured
    _, new_cert = new_key_and_cert("rotated", tmp_path / "keys")
    srv.extra_args = ["--cloud-key", str(tmp_path / "keys" / "rotated-key.pem"),
                      "--cloud-cert", str(tmp_path / "keys" / "rotated-cert.pem"),
                      "--cloud-key", str(EUCA / "cakey.pem"),
                      "--cloud-cert", str(EUCA / "cacert.pem")]
    srv.port = free_port()
    srv.start()
    s3 = srv.client(alice)
    try:
        im = nova.wait(big_id, timeout=90)
        assert im["imageState"] in ("available", "failed"), im
        if im["imageState"] == "available":
            assert im["size"] == 30 * MiB
            dest = tmp_path / "big.out"
            objectstore("image", "download", big_id, "-o", str(dest),
                        env=cli_env(srv, alice))
            assert sha1_file(dest) == big_sha1
        else:
            assert im["stateReason"]

        payload = hashlib.shake_256(b"rotation").digest(20000)
        locations = {
            "new key": upload(s3, "restart", "new", bundle_of_tar(
                good_tar(payload), len(payload), new_cert)),
            "data dir key": upload(s3, "restart", "own", bundle_of_tar(
                good_tar(payload), len(payload), load_cert(own_cert))),
            "old operator key (fixture)": old_fixture,
        }
        for what, loc in locations.items():
            image_id = nova.register_ok(loc)
            assert nova.wait(image_id)["imageState"] == "available", what
        # deregistered while pending: stays gone once its worker is done
        big_loc = f"restart/big/{manifest.name}"
        files_before = stored_files(srv.data_dir)
        gone = nova.register_ok(big_loc)
        assert nova.request("DELETE", query={"image_id": gone}).status == 204
        again = nova.register_ok(big_loc)
        assert nova.wait(again, timeout=90)["imageState"] == "available"
        deadline = time.monotonic() + 20  # until gone's worker is done: only again's blob
        while len(stored_files(srv.data_dir) - files_before) != 1:
            assert time.monotonic() < deadline, stored_files(srv.data_dir) - files_before
            time.sleep(0.2)
        assert gone not in Nova(srv, srv.root).list_ids()
        assert nova.download(gone).status == 404
        _, unknown_cert = new_key_and_cert("unknown")
        image_id = nova.register_ok(upload(s3, "restart", "unknown", bundle_of_tar(
            good_tar(payload), len(payload), unknown_cert)))
        im = nova.wait(image_id)
        assert im["imageState"] == "failed"
        assert "any of the 3 cloud keys" in im["stateReason"]

        # gc (no grace) leaves registered images' bytes alone
        srv.admin("gc", "--grace", "0")
        dest = tmp_path / "again.out"
        objectstore("image", "download", again, "-o", str(dest), env=cli_env(srv, alice))
        assert sha1_file(dest) == big_sha1
    finally:
        srv.stop()
