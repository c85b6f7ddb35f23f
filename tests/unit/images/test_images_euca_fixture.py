"""The real bundle made by euca-bundle-image 1.2 (Nova's test data) decodes exactly."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from images_util import EUCA

from objectstore.images import (
    DecryptError,
    Failure,
    SignatureError,
    Unbundler,
    parse_manifest,
    render_manifest,
    unwrap_key,
    verify_signature,
)
from objectstore.images.keys import load_certificate, load_private_key

MANIFESTS = ["1mb.manifest.xml", "1mb.no_kernel_or_ramdisk.manifest.xml"]
IMAGE_SHA1 = "3b71f43ff30f4b15b5cd85dd9e95ebc7e84eb5a3"


@pytest.fixture(scope="module")
def cakey() -> rsa.RSAPrivateKey:
    return load_private_key((EUCA / "cakey.pem").read_bytes())


def test_manifest_fields() -> None:
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    assert (m.name, m.user, m.image_type, m.architecture) == ("1mb", "42", "machine", "x86_64")
    assert (m.kernel_id, m.ramdisk_id) == ("aki-test", "ari-test")
    assert m.digest is None  # SHA1 of "": euca2ools 1.x never hashed the tar stream
    assert (m.size, m.bundled_size) == (1048576, 1136)
    assert [(p.index, p.filename, p.digest) for p in m.parts] == [
        (0, "1mb.part.0", "c4413423cf7a57e71187e19bfd5cd4b514a64283"),
        (1, "1mb.part.1", "9d4262e6589393d09a11a0332af169887bc2e57d")]
    assert m.bundler == ("euca-tools", "1.2", "31337")
    assert m.raw_machine_configuration.startswith(b"<machine_configuration><architecture>")
    assert m.raw_image.startswith(b"<image><name>1mb</name>") and m.raw_image.endswith(b"</image>")
    m2 = parse_manifest((EUCA / MANIFESTS[1]).read_bytes())
    assert (m2.kernel_id, m2.ramdisk_id, m2.architecture) == (None, None, "x86_64")


def test_key_unwrap(cakey: rsa.RSAPrivateKey) -> None:
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    k = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [cakey])
    assert k.key.hex() == "e9c67b58dbf2d02f7bad9227052791ac"
    assert k.iv.hex() == "81cb07f7e4b83d82628c14f20d9550df"


@pytest.mark.parametrize("manifest", MANIFESTS)
@pytest.mark.parametrize("chunk", [1, 100, 1 << 20])
def test_decodes_to_the_1mb_image(manifest: str, chunk: int, cakey: rsa.RSAPrivateKey) -> None:
    m = parse_manifest((EUCA / manifest).read_bytes())
    k = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [cakey])
    sha1, size = hashlib.sha1(), 0

    def sink(data: bytes) -> None:
        nonlocal size
        sha1.update(data)
        size += len(data)

    u = Unbundler.for_manifest(m, k.key, k.iv, sink)
    for part in m.parts:  # part names are relative to the manifest's folder
        blob = (EUCA / part.filename).read_bytes()
        for i in range(0, len(blob), chunk):
            u.feed_part(part.index, blob[i:i + chunk])
        u.end_part(part.index)
    result = u.finish()
    assert (size, sha1.hexdigest()) == (1048576, IMAGE_SHA1)
    assert (result.size, result.member_name, result.bundled_size) == (1048576, "1mb", 1136)


def test_key_rotation_finds_the_right_cloud_key(cakey: rsa.RSAPrivateKey,
                                                other_key: rsa.RSAPrivateKey) -> None:
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    k = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [other_key, cakey])
    assert k.cloud_key_index == 1 and k.key.hex() == "e9c67b58dbf2d02f7bad9227052791ac"


def test_wrong_cloud_key(other_key: rsa.RSAPrivateKey) -> None:
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    with pytest.raises(DecryptError) as err:
        unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [other_key])
    assert err.value.code == Failure.DECRYPT == "failed_decrypt"
    assert "does not decrypt with the cloud key" in err.value.reason
    with pytest.raises(DecryptError, match="any of the 2 cloud keys"):
        unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [other_key, other_key])
    with pytest.raises(DecryptError, match="no cloud key"):
        unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [])


def test_signature_is_not_by_the_cloud_cert() -> None:
    # The signer's certificate is not part of the fixture; any other cert must fail.
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    with pytest.raises(SignatureError) as err:
        verify_signature(m, load_certificate((EUCA / "cacert.pem").read_bytes()))
    assert err.value.code == "failed_signature"


def test_rendered_again_parses_to_the_same_values() -> None:
    m = parse_manifest((EUCA / MANIFESTS[0]).read_bytes())
    again = parse_manifest(render_manifest(m))
    assert again.raw_image == m.raw_image  # euca 1.2 wrote the standard element order
    assert again.raw_machine_configuration == m.raw_machine_configuration
    fields = [f for f in m.__dataclass_fields__ if f not in ("signature",)]
    assert all(getattr(again, f) == getattr(m, f) for f in fields)
