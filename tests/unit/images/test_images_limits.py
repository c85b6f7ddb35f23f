"""Pure parts of the registry's hostile-input defences (issue 9, items 10-13): sparse
holes announced instead of written, expanded sizes checked before any output, manifests
that declare other encodings or nest deeply, and the fair per-account queue."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from pathlib import Path

import pytest
from images_util import DATA, EUCA, IV, KEY, encrypt_tar, member, tar_of

from objectstore.images import BundleError, Unbundler
from objectstore.images.manifest import MAX_DEPTH, ManifestError, parse_manifest
from objectstore.images.tarstream import TarReader
from objectstore.service.fairqueue import FairQueue
from objectstore.storage import blocksums
from objectstore.storage.localfs import BlobStore, clean_unlocked

MiB = 1 << 20
SPARSE_SIZE = 4 * MiB + 100
SPARSE_SHA1 = "c882c8c2f12e804e2546852147e93fab36f0a626"


def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def sparse_header(real: int, stored: int, segments: list[tuple[int, int]]) -> bytes:
    h = bytearray(512)
    h[0:8] = b"disk.img"
    h[100:108] = _octal(0o644, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = _octal(stored, 12)
    h[136:148] = _octal(0, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    for i, (offset, length) in enumerate(segments):
        h[386 + 24 * i:410 + 24 * i] = _octal(offset, 12) + _octal(length, 12)
    h[483:495] = _octal(real, 12)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


class Recorder:
    """A sink that keeps data and holes apart, as a sparse blob writer does."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.holes: list[int] = []
        self.written = 0  # bytes really handed over (not holes)

    def sink(self, data: bytes) -> None:
        self.out += data
        self.written += len(data)

    def hole(self, n: int) -> None:
        self.holes.append(n)
        self.out += bytes(n)


def test_real_gnu_sparse_file_through_the_hole_callback() -> None:
    tar = gzip.decompress((DATA / "gnu-sparse.tar.gz").read_bytes())
    rec = Recorder()
    reader = TarReader(SPARSE_SIZE, rec.sink, hole=rec.hole)
    for i in range(0, len(tar), 777):
        reader.feed(tar[i:i + 777])
    reader.finish()
    assert hashlib.sha1(rec.out).hexdigest() == SPARSE_SHA1
    assert reader.written == SPARSE_SIZE
    assert rec.holes and sum(rec.holes) + rec.written == SPARSE_SIZE
    assert rec.written < SPARSE_SIZE // 2  # most of it is holes, never written as zeros


def test_sparse_claim_is_checked_before_any_hole_or_byte() -> None:
    """A few hundred bytes claiming 40 GiB: refused from the header, nothing produced."""
    claim = 40 << 30
    tar = sparse_header(claim, 0, [(claim, 0)]) + bytes(1024)
    rec = Recorder()
    reader = TarReader(1 << 20, rec.sink, hole=rec.hole)
    with pytest.raises(BundleError) as err:
        reader.feed(tar)
    assert err.value.reason == f"the archive's file is {claim} bytes but the manifest size " \
        f"is {1 << 20}"
    assert (rec.holes, rec.written) == ([], 0)


def test_sparse_member_that_fits_is_one_hole_and_its_data() -> None:
    real, tail = 300 * MiB, b"end" * 100
    tar = sparse_header(real, len(tail), [(real - len(tail), len(tail))])
    tar += tail + bytes(-len(tail) % 512) + bytes(1024)
    holes: list[int] = []
    data = bytearray()
    reader = TarReader(real, data.extend, hole=holes.append)
    reader.feed(tar)
    reader.finish()
    assert holes == [real - len(tail)] and bytes(data) == tail


def test_unbundler_passes_holes_through() -> None:
    real = 64 * MiB
    tar = sparse_header(real, 512, [(0, 512)]) + b"x" * 512 + bytes(1024)
    parts, data = encrypt_tar(tar)
    out, holes = bytearray(), []
    u = Unbundler(KEY, IV, parts, size=real, bundled_size=sum(map(len, data)), digest=None,
                  sink=out.extend, hole=holes.append)
    for part, blob in zip(parts, data, strict=True):
        u.feed_part(part.index, blob)
        u.end_part(part.index)
    assert u.finish().size == real
    assert bytes(out) == b"x" * 512 and holes == [real - 512]


def test_blob_writer_skip_makes_holes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False)
    w = store.writer()
    w.write(b"head")
    w.skip(256 * MiB)
    w.write(b"middle")
    w.skip(128 * MiB)  # a hole at the very end: only a length before the checksum trailer
    w.commit()
    path = store.path(w.id)
    st = path.stat()
    size = 4 + 256 * MiB + 6 + 128 * MiB
    assert size == w.size
    assert st.st_size == size + blocksums.trailer_size(size)
    assert st.st_blocks * 512 < MiB
    with path.open("rb") as f:
        assert f.read(4) == b"head"
        f.seek(4 + 256 * MiB)
        assert f.read(6) == b"middle"
        f.seek(size - 10)
        assert f.read(10) == bytes(10)
    fd = store.open(w.id)  # the holes are covered by the block checksums
    try:
        sums = store.sums(fd, w.id, size)
        assert sums.read(fd, size - MiB, MiB) == bytes(MiB)
        assert sums.read(fd, 0, 4) == b"head"
    finally:
        os.close(fd)


def test_clean_unlocked_removes_only_dead_partials(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False)
    folder = tmp_path / "tmp-images"
    folder.mkdir()
    live = store.writer(folder, locked=True)
    live.write(b"being written")
    dead = folder / ("0" * 32)
    dead.write_bytes(b"left by a crash")
    (folder / "sub").mkdir()
    just_created = folder / ("1" * 32)  # its writer may be about to lock it
    just_created.touch()
    old_empty = folder / ("2" * 32)
    old_empty.touch()
    os.utime(old_empty, (1, 1))
    assert clean_unlocked(folder) == 2
    assert not dead.exists() and not old_empty.exists() and just_created.exists()
    assert (folder / live.id).exists() and (folder / "sub").is_dir()
    live.commit()
    assert store.path(live.id).read_bytes()[:13] == b"being written"
    assert clean_unlocked(tmp_path / "absent") == 0


# ------------------------------------------------------------------ manifests

def _fixture() -> bytes:
    return (EUCA / "1mb.manifest.xml").read_bytes()


@pytest.mark.parametrize("encoding", ["UTF-16", "utf-32", "bogus", "latin-1", "x" * 500])
def test_declared_encodings_other_than_utf8_are_refused(encoding: str) -> None:
    m = _fixture().replace(b'<?xml version="1.0" ?>',
                           f'<?xml version="1.0" encoding="{encoding}"?>'.encode(), 1)
    with pytest.raises(ManifestError) as err:
        parse_manifest(m)
    assert "only UTF-8 is supported" in err.value.reason


@pytest.mark.parametrize("encoding", ["UTF-8", "utf-8", "us-ascii"])
def test_utf8_and_ascii_declarations_are_fine(encoding: str) -> None:
    m = _fixture().replace(b'<?xml version="1.0" ?>',
                           f"<?xml version='1.0' encoding='{encoding}'?>".encode(), 1)
    assert parse_manifest(m).size == 1048576


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_multibyte_text_is_refused(codec: str) -> None:
    with pytest.raises(ManifestError) as err:
        parse_manifest(_fixture().decode().encode(codec))
    assert "is not UTF-8" in err.value.reason


@pytest.mark.parametrize("depth", [MAX_DEPTH, 300, 5000, 200000])
def test_deep_nesting_is_refused_without_recursion(depth: int) -> None:
    m = _fixture().replace(b"<image>", b"<image>" + b"<a>" * depth + b"</a>" * depth, 1)
    with pytest.raises(ManifestError) as err:
        parse_manifest(m)
    assert f"nests elements more than {MAX_DEPTH} deep" in err.value.reason


# ------------------------------------------------------------------ fair queue

def test_fair_queue_round_robin_and_per_account_cap() -> None:
    q: FairQueue[str] = FairQueue(per_account=1)
    for i in range(4):
        q.put("alice", f"a{i}")
    q.put("bob", "b0")
    q.put("carol", "c0")
    first = q.take(0)
    assert first == ("alice", "a0")
    # alice has one running: the others come first, then nothing until alice's is done
    assert [q.take(0), q.take(0)] == [("bob", "b0"), ("carol", "c0")]
    assert q.take(0) is None
    q.done("alice")
    assert q.take(0) == ("alice", "a1")


def test_fair_queue_alternates_between_busy_accounts() -> None:
    q: FairQueue[str] = FairQueue(per_account=2)
    for i in range(3):
        q.put("alice", f"a{i}")
        q.put("bob", f"b{i}")
    taken = []
    for _ in range(4):
        item = q.take(0)
        assert item is not None
        taken.append(item[1])
    assert taken == ["a0", "b0", "a1", "b1"]


def test_fair_queue_remove_close_and_wait_idle() -> None:
    q: FairQueue[tuple[str, str]] = FairQueue()
    q.put("alice", ("ami-1", "t1"))
    q.put("alice", ("ami-2", "t2"))
    assert q.remove(lambda job: job[1] == "t1") == 1
    assert q.take(0) == ("alice", ("ami-2", "t2"))
    assert not q.wait_idle(0.01)
    done = threading.Timer(0.05, q.done, ("alice",))
    done.start()
    assert q.wait_idle(2)
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(q.take()))
    t.start()
    q.close()
    t.join(2)
    assert got == [None]


def test_plain_tar_member_still_flows_without_hole_callback() -> None:
    payload = os.urandom(5000)
    tar = tar_of(member("disk.img", payload))
    out = bytearray()
    reader = TarReader(len(payload), out.extend)
    reader.feed(tar)
    reader.finish()
    assert bytes(out) == payload
