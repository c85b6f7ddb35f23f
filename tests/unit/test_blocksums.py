"""storage.blocksums (per-MiB CRC32C trailers), storage.faults.classify, cli.parse_size."""

from __future__ import annotations

import argparse
import errno
import os
import sqlite3
from pathlib import Path

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.cli import parse_size
from objectstore.storage.blocksums import BLOCK, Summer, Sums, decode, trailer_size
from objectstore.storage.faults import BlobFault, classify
from objectstore.storage.localfs import BlobStore

MiB = 1 << 20


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3 * MiB // 2), min_size=1, max_size=5))
def test_summer_matches_per_block_crcs_whatever_the_write_sizes(sizes: list[int]) -> None:
    data = os.urandom(sum(sizes))
    s = Summer()
    pos = 0
    for n in sizes:
        s.update(data[pos:pos + n])
        pos += n
    if not data:
        return
    crcs = decode(s.trailer(len(data)), len(data))
    assert list(crcs) == [crc32c.crc32c(data[i:i + BLOCK]) for i in range(0, len(data), BLOCK)]


def test_damaged_trailer_is_refused() -> None:
    size = 3 * MiB + 5
    raw = _trailer(b"\1" * size)
    assert len(raw) == trailer_size(size) == 4 * 4 + 24
    decode(raw, size)
    for i in (0, 5, len(raw) - 30, len(raw) - 1):
        bad = bytearray(raw)
        bad[i] ^= 1
        with pytest.raises(ValueError):
            decode(bytes(bad), size)
    with pytest.raises(ValueError):
        decode(raw, size + 1)  # the record and the trailer disagree on the size
    with pytest.raises(ValueError):
        decode(raw[:-1], size)


def _trailer(data: bytes) -> bytes:
    s = Summer()
    s.update(data)
    return s.trailer(len(data))


def _blob(tmp_path: Path, data: bytes) -> tuple[BlobStore, str]:
    store = BlobStore(tmp_path, fsync=False)
    w = store.writer()
    w.write(data)
    w.commit()
    return store, w.id


def test_reads_verify_the_covering_blocks(tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 100)
    store, blob = _blob(tmp_path, data)
    path = store.path(blob)
    assert path.stat().st_size == len(data) + trailer_size(len(data))
    fd = store.open(blob)
    try:
        sums = store.sums(fd, blob, len(data))
        assert sums.read(fd, 10, 20) == data[10:30]
        assert sums.read(fd, MiB - 5, 10) == data[MiB - 5:MiB + 5]
        assert sums.read(fd, 3 * MiB, 100) == data[3 * MiB:]
        with open(path, "r+b") as f:  # damage block 1
            f.seek(MiB + 7)
            f.write(bytes([data[MiB + 7] ^ 0x40]))
        assert sums.read(fd, 10, 20) == data[10:30]  # block 0 is fine
        with pytest.raises(BlobFault) as exc:
            sums.read(fd, 2 * MiB - 1, 2)  # touches block 1
        assert exc.value.kind == "corrupt" and "block 1" in exc.value.detail
    finally:
        os.close(fd)


def test_old_format_and_truncated_blobs(tmp_path: Path) -> None:
    data = os.urandom(MiB + 1)
    store, blob = _blob(tmp_path, data)
    os.truncate(store.path(blob), len(data))  # no trailer: written before checksums
    fd = store.open(blob)
    try:
        sums = store.sums(fd, blob, len(data))
        assert sums.crcs is None and sums.read(fd, 0, 5) == data[:5]
        with pytest.raises(BlobFault) as exc:
            store.sums(fd, blob, len(data) + 10)
        assert exc.value.kind == "truncated"
    finally:
        os.close(fd)
    assert store.add_trailer(blob, len(data))
    assert not store.add_trailer(blob, len(data))  # once
    fd = store.open(blob)
    try:
        assert list(Sums.load(fd, blob, len(data)).crcs or []) == \
            [crc32c.crc32c(data[:MiB]), crc32c.crc32c(data[MiB:])]
    finally:
        os.close(fd)


def test_reserve_refuses_new_blobs(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False, min_free=1 << 62)
    with pytest.raises(OSError) as exc:
        store.writer()
    assert exc.value.errno == errno.ENOSPC and classify(exc.value) == "full"
    assert os.listdir(tmp_path / "tmp") == []


def test_classify() -> None:
    assert classify(OSError(errno.ENOSPC, "x")) == "full"
    assert classify(OSError(errno.EDQUOT, "x")) == "full"
    assert classify(OSError(errno.EROFS, "x")) == "readonly"
    assert classify(OSError(errno.EIO, "x")) is None
    assert classify(ValueError()) is None
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert classify(err) == "full"
    err = sqlite3.OperationalError("attempt to write a readonly database")
    err.sqlite_errorcode = 8 | (3 << 8)  # type: ignore[attr-defined]
    assert classify(err) == "readonly"
    assert classify(sqlite3.OperationalError("no code")) is None


def test_parse_size() -> None:
    assert parse_size("0") == 0
    assert parse_size("256M") == 256 << 20
    assert parse_size("1G") == 1 << 30
    assert parse_size("4MiB") == 4 << 20
    assert parse_size("512k") == 512 << 10
    assert parse_size("1.5K") == 1536
    for bad in ("", "M", "-1M", "nan", "inf", "1X", "1e30G"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)
