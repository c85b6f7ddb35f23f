"""Every way a bundle can be wrong ends in one precise BundleError (code + reason)."""

from __future__ import annotations

import gzip
import hashlib
import random
import tarfile
import time
import tracemalloc
from collections.abc import Sequence

import pytest
from images_util import (
    DATA,
    IV,
    KEY,
    decode,
    encrypt_gz,
    encrypt_tar,
    gz,
    member,
    tar_of,
    zeros_gzip,
)

from objectstore.images import BundleError, Failure, Limits, Part, Unbundler

MiB = 1 << 20
PAYLOAD = random.Random(4).randbytes(10000)


def fails(parts: Sequence[Part], data: Sequence[bytes], *, size: int = len(PAYLOAD),
          **kw: object) -> BundleError:
    with pytest.raises(BundleError) as err:
        decode(parts, data, size=size, **kw)  # type: ignore[arg-type]
    return err.value


def good() -> tuple[list[Part], list[bytes]]:
    return encrypt_tar(tar_of(member("disk.img", PAYLOAD)), part_size=2048)


def test_good_bundle_decodes() -> None:
    parts, data = good()
    assert len(parts) > 2
    out, result = decode(parts, data, size=len(PAYLOAD))
    assert out == PAYLOAD and result.member_name == "disk.img"


# ------------------------------------------------------------------ parts

@pytest.mark.parametrize("which", [0, 1, -1])
def test_tampered_part(which: int) -> None:
    parts, data = good()
    blob = bytearray(data[which])
    blob[len(blob) // 2] ^= 1
    data[which] = bytes(blob)
    err = fails(parts, data)
    index = parts[which].index
    assert err.code == Failure.CHECKSUM == "failed_checksum"
    assert err.reason == f"part {index} (img.part.{index}) digest differs from the manifest"


def test_missing_last_part() -> None:
    parts, data = good()
    total = sum(map(len, data))
    out = bytearray()
    u = Unbundler(KEY, IV, parts, size=len(PAYLOAD), bundled_size=total, digest=None,
                  sink=out.extend)
    for part, blob in zip(parts[:-1], data[:-1], strict=True):
        u.feed_part(part.index, blob)
        u.end_part(part.index)
    with pytest.raises(BundleError) as info:
        u.finish()
    err = info.value
    last = parts[-1].index
    assert (err.code, err.reason) == ("failed_download",
                                      f"part {last} (img.part.{last}) is missing")


def test_parts_out_of_order_twice_or_unknown() -> None:
    parts, data = good()
    u = Unbundler(b"k" * 16, b"i" * 16, parts, size=1, bundled_size=10**6, digest=None,
                  sink=lambda b: None)
    with pytest.raises(BundleError, match="part 1 arrived before part 0"):
        u.feed_part(1, data[1])
    u = Unbundler(b"k" * 16, b"i" * 16, parts, size=1, bundled_size=10**6, digest=None,
                  sink=lambda b: None)
    with pytest.raises(BundleError, match="part 9 is not in the manifest, which lists 5"):
        u.end_part(9)
    parts, data = good()
    u = Unbundler(KEY, IV, parts, size=len(PAYLOAD), digest=None,
                  bundled_size=sum(map(len, data)), sink=lambda b: None)
    u.feed_part(0, data[0])
    u.end_part(0)
    with pytest.raises(BundleError) as err:
        u.feed_part(0, data[0])
    assert (err.value.code, err.value.reason) == ("failed_download", "part 0 arrived twice")


def test_bundled_size_mismatch() -> None:
    parts, data = good()
    total = sum(map(len, data))
    err = fails(parts, data, bundled_size=total + 1)
    assert (err.code, err.reason) == (
        "failed_download", f"the parts hold {total} bytes but the manifest's bundled_size is "
        f"{total + 1}")
    err = fails(parts, data, bundled_size=total - 1)
    assert err.code == "failed_download" and "more than the manifest's bundled_size" in err.reason


def test_calls_after_a_failure_repeat_it() -> None:
    parts, data = good()
    u = Unbundler(b"k" * 16, b"i" * 16, parts, size=1, bundled_size=1, digest=None,
                  sink=lambda b: None)
    with pytest.raises(BundleError) as first:
        u.feed_part(0, data[0])
    with pytest.raises(BundleError) as second:
        u.finish()
    assert second.value is first.value


# ------------------------------------------------------------------ decryption

def test_wrong_aes_key() -> None:
    parts, data = good()
    err = fails(parts, data, key=bytes(16))
    assert (err.code, err.reason) == (
        "failed_decrypt", "the decrypted data does not start with a gzip header (wrong key or IV)")


def test_bad_padding() -> None:
    parts, data = encrypt_gz(gz(tar_of(member("disk.img", PAYLOAD))))
    cut = data[0][:-16]  # drop the block that carried the padding
    parts = [Part(0, "img.part.0", hashlib.sha1(cut).hexdigest())]
    err = fails(parts, [cut])
    assert (err.code, err.reason) == (
        "failed_decrypt", "the decrypted data has invalid PKCS#7 padding (wrong key?)")
    odd = data[0][:-5]
    parts = [Part(0, "img.part.0", hashlib.sha1(odd).hexdigest())]
    assert "whole number of AES blocks" in fails(parts, [odd]).reason


# ------------------------------------------------------------------ gzip

def test_truncated_gzip() -> None:
    parts, data = encrypt_gz(gz(tar_of(member("disk.img", PAYLOAD)))[:-30])
    err = fails(parts, data)
    assert (err.code, err.reason) == ("failed_untar", "the gzip stream is truncated")


def test_garbage_after_gzip() -> None:
    parts, data = encrypt_gz(gz(tar_of(member("disk.img", PAYLOAD))) + b"garbage")
    err = fails(parts, data)
    assert err.code == "failed_untar" and "after the end of its gzip stream" in err.reason


def test_concatenated_gzip_members_are_one_stream() -> None:
    tar = tar_of(member("disk.img", PAYLOAD))
    parts, data = encrypt_gz(gz(tar[:3000]) + gz(tar[3000:]))
    assert decode(parts, data, size=len(PAYLOAD))[0] == PAYLOAD


def test_not_gzip() -> None:
    parts, data = encrypt_gz(b"\x1f\x8bnot really gzip" * 10)
    err = fails(parts, data)
    assert err.code == "failed_untar" and "not a valid gzip stream" in err.reason


# ------------------------------------------------------------------ tar

NOT_ONE_FILE = [
    ((member("evil", kind=tarfile.SYMTYPE, linkname="/etc/shadow"),),
     "the archive's member 'evil' is a symbolic link, not a regular file"),
    ((member("evil", kind=tarfile.LNKTYPE, linkname="/etc/shadow"),), "is a hard link"),
    ((member("dir", kind=tarfile.DIRTYPE),), "is a directory"),
    ((member("fifo", kind=tarfile.FIFOTYPE),), "is a FIFO"),
    ((member("tty", kind=tarfile.CHRTYPE),), "is a character device"),
    ((member("sda", kind=tarfile.BLKTYPE),), "is a block device"),
    ((member("/etc/passwd", PAYLOAD),), "absolute name '/etc/passwd'"),
    ((member("../../x", PAYLOAD),), "'../../x' has a '..' component"),
    ((member("a/../../x", PAYLOAD),), "has a '..' component"),
    ((member("disk.img", PAYLOAD), member("second", b"x")),
     "the archive holds more than one member (the second is 'second')"),
    ((member("disk.img", PAYLOAD), member("link", kind=tarfile.SYMTYPE, linkname="x")),
     "more than one member"),
    ((member("x" * 120 + "/../y", PAYLOAD),), "has a '..' component"),  # GNU long name
    ((), "the archive holds no file"),
]


@pytest.mark.parametrize(("members", "reason"), NOT_ONE_FILE, ids=[r for _, r in NOT_ONE_FILE])
@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_archive_must_be_one_regular_file(members: tuple[tuple[tarfile.TarInfo, bytes | None], ...],
                                          reason: str, fmt: int) -> None:
    parts, data = encrypt_tar(tar_of(*members, fmt=fmt))
    err = fails(parts, data)
    assert err.code == "failed_untar"
    assert reason in err.reason


def test_pax_path_overrides_and_is_checked() -> None:
    info, payload = member("../" + "é" * 60, PAYLOAD)  # non-ASCII forces a pax header
    parts, data = encrypt_tar(tar_of((info, payload), fmt=tarfile.PAX_FORMAT))
    assert "has a '..' component" in fails(parts, data).reason
    info, payload = member("é" * 60, PAYLOAD)
    parts, data = encrypt_tar(tar_of((info, payload), fmt=tarfile.PAX_FORMAT))
    assert decode(parts, data, size=len(PAYLOAD))[1].member_name == "é" * 60


def test_data_after_the_end_of_the_archive() -> None:
    tar = tar_of(member("disk.img", PAYLOAD)) + b"\1" * 512
    err = fails(*encrypt_tar(tar))
    assert (err.code, err.reason) == (
        "failed_untar", "the archive has data after its end (a second member?)")


def test_not_a_tar() -> None:
    err = fails(*encrypt_tar(bytes(range(256)) * 8))
    assert (err.code, err.reason) == (
        "failed_untar", "the data is not a tar archive (header checksum mismatch)")


def test_truncated_tar() -> None:
    err = fails(*encrypt_tar(tar_of(member("disk.img", PAYLOAD))[:4096]))
    assert (err.code, err.reason) == ("failed_untar", "the archive is truncated")


# ------------------------------------------------------------------ size and digest

def test_wrong_size() -> None:
    parts, data = good()
    err = fails(parts, data, size=len(PAYLOAD) + 1)
    assert (err.code, err.reason) == (
        "failed_checksum",
        f"the archive's file is {len(PAYLOAD)} bytes but the manifest size is {len(PAYLOAD) + 1}")


def test_wrong_and_right_tar_digest() -> None:
    tar = tar_of(member("disk.img", PAYLOAD))
    parts, data = encrypt_tar(tar)
    sha1 = hashlib.sha1(tar).hexdigest()
    assert decode(parts, data, size=len(PAYLOAD), digest=sha1)[1].tar_digest == sha1
    err = fails(parts, data, digest="0" * 40)
    assert (err.code, err.reason) == (
        "failed_checksum", "the image digest (SHA1 of the tar stream) differs from the manifest")


# ------------------------------------------------------------------ GNU sparse (tar -c -S)

SPARSE_SIZE = 4 * MiB + 100
SPARSE_SHA1 = "c882c8c2f12e804e2546852147e93fab36f0a626"


def test_gnu_sparse_member_from_real_gnu_tar() -> None:
    """data/gnu-sparse.tar.gz: `tar -c -S --owner 0 --group 0` (GNU tar 1.34) of a 4 MiB file
    with 30 data regions (so the sparse map needs extension headers)."""
    tar = gzip.decompress((DATA / "gnu-sparse.tar.gz").read_bytes())
    assert tar[156:157] == b"S"
    out, result = decode(*encrypt_tar(tar), size=SPARSE_SIZE, chunk=999)
    assert (len(out), hashlib.sha1(out).hexdigest()) == (SPARSE_SIZE, SPARSE_SHA1)
    err = fails(*encrypt_tar(tar), size=SPARSE_SIZE - 1)
    assert err.code == "failed_checksum" and f"file is {SPARSE_SIZE} bytes" in err.reason


# ------------------------------------------------------------------ decompression bombs

def _bomb(prefix: bytes, size: int, limits: Limits = Limits()) -> tuple[BundleError, float, int]:
    parts, data = encrypt_gz(zeros_gzip(prefix, 1024))  # 1 GiB of zeros, ~1 MiB compressed
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(BundleError) as err:
            u = Unbundler(KEY, IV, parts, size=size,
                          bundled_size=sum(map(len, data)), digest=None,
                          sink=lambda b: None, limits=limits)
            for part, blob in zip(parts, data, strict=True):
                u.feed_part(part.index, blob)
                u.end_part(part.index)
            u.finish()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return err.value, time.monotonic() - start, peak


def test_bomb_of_bare_zeros() -> None:
    err, seconds, peak = _bomb(b"", 1000)
    assert (err.code, err.reason) == ("failed_untar", "the archive holds no file")
    assert seconds < 2 and peak < 16 * MiB


def test_bomb_in_a_member_bigger_than_the_manifest_says() -> None:
    info, _ = member("disk.img", b"")
    info.size = 1 << 30
    header = info.tobuf(tarfile.GNU_FORMAT)
    err, seconds, peak = _bomb(header, 1000)
    assert (err.code, err.reason) == (
        "failed_checksum", f"the archive's file is {1 << 30} bytes but the manifest size is 1000")
    assert seconds < 2 and peak < 16 * MiB


def test_bomb_after_an_honest_member() -> None:
    tar = tar_of(member("disk.img", PAYLOAD))[:512 + len(PAYLOAD)]
    err, seconds, peak = _bomb(tar, len(PAYLOAD))
    assert err.code == "failed_untar"
    assert err.reason in (
        f"the archive has more than {1 << 20} bytes of zeros after its end",
        f"the archive expands beyond {10240 + 4 * 512 + 64 * 1024 + (1 << 20)} bytes, "
        "more than the manifest size allows (decompression bomb?)")
    assert seconds < 2 and peak < 16 * MiB


def test_ratio_limit() -> None:
    info, _ = member("disk.img", b"")
    info.size = 1 << 31
    err, _, _ = _bomb(info.tobuf(tarfile.GNU_FORMAT), 1 << 31, Limits(max_ratio=100))
    assert (err.code, err.reason) == (
        "failed_untar", "the gzip stream expands more than 100:1 (decompression bomb?)")
