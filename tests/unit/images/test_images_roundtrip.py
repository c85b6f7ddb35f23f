"""Bundle with our bundler, parse, verify, unwrap, decode: the same bytes come back."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from objectstore.images import (
    Manifest,
    SignatureError,
    Unbundler,
    parse_manifest,
    unwrap_key,
    verify_signature,
)
from objectstore.images.bundle import make_bundle, part_names, tar_header

MiB = 1 << 20


def decode_dir(manifest: Manifest, folder: Path, key: rsa.RSAPrivateKey) -> bytes:
    k = unwrap_key(manifest.ec2_encrypted_key, manifest.ec2_encrypted_iv, [key])
    out = bytearray()
    u = Unbundler.for_manifest(manifest, k.key, k.iv, out.extend)
    for part in manifest.parts:
        with (folder / part.filename).open("rb") as f:
            while chunk := f.read(256 * 1024):
                u.feed_part(part.index, chunk)
        u.end_part(part.index)
    u.finish()
    return bytes(out)


@pytest.fixture(scope="module")
def image() -> bytes:
    return os.urandom(5 * MiB)


@pytest.fixture(scope="module")
def bundled(image: bytes, tmp_path_factory: pytest.TempPathFactory,
            cloud_cert: x509.Certificate, user_key: rsa.RSAPrivateKey,
            user_cert: x509.Certificate) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("bundle")
    result = make_bundle(io.BytesIO(image), "disk.img", out, cloud_cert=cloud_cert,
                         user_key=user_key, user_cert=user_cert, user="123456789012",
                         part_size=MiB, mtime=1700000000, kernel="aki-12345678")
    return result.manifest_path, result.manifest


def test_round_trip(image: bytes, bundled: tuple[Path, Manifest],
                    cloud_key: rsa.RSAPrivateKey) -> None:
    path, m = bundled
    assert parse_manifest(path.read_bytes()) == m
    assert len(m.parts) == 6 and m.size == len(image)
    assert [p.filename for p in m.parts] == [f"disk.img.part.{i}" for i in range(6)]
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [p.filename for p in m.parts] + ["disk.img.manifest.xml"])
    assert m.bundled_size == sum((path.parent / p.filename).stat().st_size for p in m.parts)
    assert (m.image_type, m.kernel_id, m.ramdisk_id, m.architecture, m.user) == (
        "machine", "aki-12345678", None, "x86_64", "123456789012")
    assert m.digest is not None  # our bundler hashes the tar stream
    assert decode_dir(m, path.parent, cloud_key) == image


def test_signature_verifies_and_tampering_breaks_it(
        bundled: tuple[Path, Manifest], user_cert: x509.Certificate,
        cloud_cert: x509.Certificate) -> None:
    path, m = bundled
    verify_signature(m, user_cert)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(m, cloud_cert)
    xml = path.read_bytes()
    for old, new in [(b"<architecture>x86_64", b"<architecture>i386"),
                     (b"<kernel_id>aki-12345678", b"<kernel_id>aki-87654321"),
                     (f"<size>{m.size}".encode(), f"<size>{m.size - 1}".encode())]:
        tampered = parse_manifest(xml.replace(old, new))
        with pytest.raises(SignatureError) as err:
            verify_signature(tampered, user_cert)
        assert err.value.code == "failed_signature"
    unsigned = parse_manifest(xml[:xml.index(b"<signature>")] + b"</manifest>")
    with pytest.raises(SignatureError, match="no signature"):
        verify_signature(unsigned, user_cert)


def test_user_can_unwrap_with_own_key(bundled: tuple[Path, Manifest],
                                      user_key: rsa.RSAPrivateKey,
                                      cloud_key: rsa.RSAPrivateKey) -> None:
    _, m = bundled
    assert m.user_encrypted_key and m.user_encrypted_iv
    mine = unwrap_key(m.user_encrypted_key, m.user_encrypted_iv, [user_key])
    cloud = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [cloud_key])
    assert (mine.key, mine.iv) == (cloud.key, cloud.iv)


def test_the_tar_is_standard(bundled: tuple[Path, Manifest], cloud_key: rsa.RSAPrivateKey,
                             image: bytes) -> None:
    """What other clouds' tools do: openssl enc -d | gunzip | tar x (here: by hand)."""
    path, m = bundled
    k = unwrap_key(m.ec2_encrypted_key, m.ec2_encrypted_iv, [cloud_key])
    ct = b"".join((path.parent / p.filename).read_bytes() for p in m.parts)
    dec = Cipher(algorithms.AES(k.key), modes.CBC(k.iv)).decryptor()
    unpad = padding.PKCS7(128).unpadder()
    gz = unpad.update(dec.update(ct) + dec.finalize()) + unpad.finalize()
    with tarfile.open(fileobj=io.BytesIO(gz), mode="r:gz") as tar:
        (info,) = tar.getmembers()
        assert (info.name, info.uid, info.gid, info.size, info.mtime) == (
            "disk.img", 0, 0, len(image), 1700000000)
        assert info.isreg()
        data = tar.extractfile(info)
        assert data is not None and data.read() == image
    import gzip
    tar_bytes = gzip.decompress(gz)
    assert hashlib.sha1(tar_bytes).hexdigest() == m.digest
    assert len(tar_bytes) % 10240 == 0  # GNU tar's record size


def test_many_parts_are_zero_padded(tmp_path: Path, cloud_cert: x509.Certificate,
                                    cloud_key: rsa.RSAPrivateKey) -> None:
    image = os.urandom(300_000)
    result = make_bundle(io.BytesIO(image), "small", tmp_path, cloud_cert=cloud_cert,
                         part_size=16384, prefix="pre", kernel="true")
    m = result.manifest
    assert len(m.parts) == 19
    assert [p.filename for p in m.parts] == [f"pre.part.{i:02d}" for i in range(19)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"pre.part.{i:02d}" for i in range(19)] + ["pre.manifest.xml"])
    assert (m.image_type, m.kernel_id, m.signature, m.user_encrypted_key) == (
        "kernel", "true", None, None)
    assert decode_dir(m, tmp_path, cloud_key) == image


def test_part_names_follow_ec2_ami_tools() -> None:
    assert part_names("x", 1) == ["x.part.0"]
    assert part_names("x", 10)[0] == "x.part.00" and part_names("x", 10)[-1] == "x.part.09"
    assert part_names("x", 100)[5] == "x.part.005"


def test_long_names_use_a_pax_header(tmp_path: Path, cloud_cert: x509.Certificate,
                                     cloud_key: rsa.RSAPrivateKey) -> None:
    name = "n" * 150 + ".img"
    result = make_bundle(io.BytesIO(b"hello"), name, tmp_path, cloud_cert=cloud_cert,
                         prefix="long", ramdisk="true")
    assert result.manifest.image_type == "ramdisk" and result.manifest.name == name
    assert decode_dir(result.manifest, tmp_path, cloud_key) == b"hello"
    header = tar_header(name, 5, mtime=0)
    with tarfile.open(fileobj=io.BytesIO(header + b"hello".ljust(512, b"\0") + bytes(1024))) as t:
        assert t.getnames() == [name]


def test_empty_image(tmp_path: Path, cloud_cert: x509.Certificate,
                     cloud_key: rsa.RSAPrivateKey) -> None:
    result = make_bundle(io.BytesIO(b""), "empty", tmp_path, cloud_cert=cloud_cert)
    assert result.manifest.size == 0
    assert decode_dir(result.manifest, tmp_path, cloud_key) == b""


def test_bundler_argument_checks(tmp_path: Path, cloud_cert: x509.Certificate,
                                 user_key: rsa.RSAPrivateKey,
                                 other_key: rsa.RSAPrivateKey) -> None:
    from images_util import make_cert

    with pytest.raises(ValueError, match="both a kernel and a ramdisk"):
        make_bundle(io.BytesIO(b"x"), "x", tmp_path, cloud_cert=cloud_cert, kernel="true",
                    ramdisk="true")
    with pytest.raises(ValueError, match="does not match"):
        make_bundle(io.BytesIO(b"x"), "x", tmp_path, cloud_cert=cloud_cert, user_key=user_key,
                    user_cert=make_cert(other_key, "other"))
    with pytest.raises(ValueError, match="plain file name"):
        make_bundle(io.BytesIO(b"x"), "../x", tmp_path, cloud_cert=cloud_cert)
    with pytest.raises(ValueError, match="shrank"):
        make_bundle(io.BytesIO(b"x"), "x", tmp_path, cloud_cert=cloud_cert, size=5)
    assert list(tmp_path.iterdir()) == []  # a failed bundle leaves nothing behind
