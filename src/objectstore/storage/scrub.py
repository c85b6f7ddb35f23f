"""Scrub: check every blob against its block checksums and every record against its blobs.

Finds blobs that are missing, shorter than recorded (truncated) or whose blocks do not
match their checksums (corrupt), object records whose size disagrees with their data, and
orphans (blob files no record refers to, older than a grace period). fsck's repairs are
here too: only what loses no acknowledged data — orphans and stale temp files are removed,
old-format blobs get their checksums. A record whose blob is damaged is reported, never
removed.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from objectstore.storage.blocksums import BLOCK
from objectstore.storage.crypto import stored_size
from objectstore.storage.db import Connection
from objectstore.storage.faults import BlobFault
from objectstore.storage.localfs import BlobStore
from objectstore.storage.rows import segments_from_json


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # missing | truncated | corrupt | size-mismatch | orphan | old-format | tmp
    blob: str
    where: str  # "object bucket/key", "part <upload> #n", "image <id>", ""
    detail: str = ""

    def line(self) -> str:
        return " ".join(x for x in (self.kind, self.blob or "-", self.where, self.detail) if x)


PROBLEMS = frozenset({"missing", "truncated", "corrupt", "size-mismatch", "orphan"})


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    blobs_checked: int = 0
    bytes_checked: int = 0
    records_checked: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in PROBLEMS]

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)

    def summary(self) -> str:
        kinds = ("missing", "truncated", "corrupt", "size-mismatch", "orphan", "old-format",
                 "tmp")
        counts = ", ".join(f"{self.count(k)} {k}" for k in kinds)
        return (f"checked {self.records_checked} records, {self.blobs_checked} blobs, "
                f"{self.bytes_checked} bytes: {counts}")


class Throttle:
    """Sleeps so that reads average at most ``rate`` bytes per second (0: unlimited)."""

    def __init__(self, rate: float, stop: threading.Event | None = None) -> None:
        self.rate = rate
        self.stop = stop or threading.Event()
        self._start = time.monotonic()
        self._done = 0

    def spend(self, n: int) -> None:
        if self.rate <= 0:
            return
        self._done += n
        ahead = self._done / self.rate - (time.monotonic() - self._start)
        if ahead > 0:
            self.stop.wait(ahead)


def referenced(conn: Connection) -> Iterator[tuple[str, int, str]]:
    """(blob, data size, who refers to it) for every blob a record refers to. The data of
    an encrypted blob is its ciphertext (crypto.stored_size of the plaintext size)."""
    for bucket, key, segs, sse in conn.execute(
            "SELECT bucket, key, segments, sse FROM objects WHERE segments != '[]'"):
        for seg in segments_from_json(segs):
            if seg.blob:
                size = stored_size(seg.size) if sse else seg.size
                yield seg.blob, size, f"object {bucket}/{key}"
    if _has_table(conn, "versions"):
        for bucket, key, vid, segs, sse in conn.execute(
                "SELECT bucket, key, version_id, segments, sse FROM versions "
                "WHERE segments != '[]'"):
            for seg in segments_from_json(segs):
                if seg.blob:
                    yield (seg.blob, stored_size(seg.size) if sse else seg.size,
                           f"version {bucket}/{key}?versionId={vid or 'null'}")
    if _has_table(conn, "parts"):
        for upload_id, number, blob, size, sse in conn.execute(
                "SELECT p.upload_id, p.number, p.blob, p.size, u.sse FROM parts p "
                "LEFT JOIN uploads u ON u.upload_id = p.upload_id WHERE p.blob != ''"):
            yield blob, stored_size(size) if sse else size, f"part {upload_id}#{number}"
    if _has_table(conn, "images"):
        for image_id, blob, size in conn.execute(
                "SELECT image_id, blob, size FROM images WHERE blob != ''"):
            yield blob, size, f"image {image_id}"


def _has_table(conn: Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                        (name,)).fetchone() is not None


def check_records(conn: Connection, report: Report) -> None:
    """Each object's size against its data (inline bytes or the sum of its segments; an
    encrypted inline body is its ciphertext, crypto.stored_size of the plaintext)."""
    for bucket, key, size, segs, data, sse in conn.execute(
            "SELECT bucket, key, size, segments, data, sse FROM objects"):
        report.records_checked += 1
        held = len(data) if data is not None else sum(
            s.size for s in segments_from_json(segs))
        if sse and data is not None:
            size = stored_size(size)
        if held != size:
            report.findings.append(Finding("size-mismatch", "", f"object {bucket}/{key}",
                                           f"record says {size} bytes, data holds {held}"))


def check_blob(blobs: BlobStore, blob: str, size: int, throttle: Throttle) -> Finding | None:
    """Read a whole blob and check it; None when it is sound."""
    try:
        fd = blobs.open(blob)
    except FileNotFoundError:
        return Finding("missing", blob, "")
    try:
        try:
            sums = blobs.sums(fd, blob, size)
            if sums.crcs is None:
                return Finding("old-format", blob, "", "no block checksums (fsck --repair adds "
                               "them)")
            pos = 0
            while pos < size:
                if throttle.stop.is_set():
                    return None
                n = min(BLOCK, size - pos)
                sums.read(fd, pos, n)
                pos += n
                throttle.spend(n)
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # leave the cache alone
        except BlobFault as fault:
            return Finding(fault.kind, blob, "", fault.detail)
    finally:
        os.close(fd)
    return None


def scrub(conn: Connection, blobs: BlobStore, *, rate: float = 0.0, grace: float = 3600,
          stop: threading.Event | None = None,
          on_finding: Callable[[Finding], None] | None = None) -> Report:
    """Check everything; ``rate`` bytes/s bounds the reading (0: as fast as possible)."""
    report = Report()
    throttle = Throttle(rate, stop)

    def add(f: Finding) -> None:
        report.findings.append(f)
        if on_finding is not None:
            on_finding(f)

    check_records(conn, report)
    for f in report.findings:
        if on_finding is not None:
            on_finding(f)
    seen: dict[str, int] = {}
    gone: list[Finding] = []
    for blob, size, where in list(referenced(conn)):
        if throttle.stop.is_set():
            break
        if blob in seen:
            continue
        seen[blob] = size
        report.blobs_checked += 1
        found = check_blob(blobs, blob, size, throttle)
        if found is None:
            report.bytes_checked += size
        elif found.kind == "missing":
            gone.append(Finding(found.kind, blob, where, found.detail))
        else:
            add(Finding(found.kind, blob, where, found.detail))
    if gone:  # a blob replaced or deleted since the records were read is no loss
        still = {b for b, _s, _w in referenced(conn)}
        for f in gone:
            if f.blob in still:
                add(f)
    cutoff = time.time() - grace
    candidates = [b for b, mtime in blobs.all_ids() if b not in seen and mtime < cutoff]
    if candidates:  # a blob written after the scan of records began may be referenced now
        now_seen = {b for b, _s, _w in referenced(conn)} | awaiting_reap(conn)
        for blob in candidates:
            if blob not in now_seen:
                add(Finding("orphan", blob, "", "no record refers to it"))
    for path in blobs.stale_tmp(grace, every=True):
        add(Finding("tmp", "", os.path.relpath(path, blobs.tmp_root), "stale temporary file"))
    return report


def awaiting_reap(conn: Connection) -> set[str]:
    """Blobs of the ``garbage`` table: no record refers to them, but a GET may still read
    them until the reaper unlinks them after --blob-grace (service/blob_gc.py)."""
    return {r[0] for r in conn.execute("SELECT blob FROM garbage")}


def repair(conn: Connection, blobs: BlobStore, report: Report, grace: float) -> None:
    """Fix what loses no acknowledged data, from a scrub's ``report``."""
    refs = {b: s for b, s, _w in referenced(conn)}
    reaped_later = awaiting_reap(conn)
    for f in report.findings:
        if f.kind == "orphan" and f.blob not in refs and f.blob not in reaped_later:
            blobs.delete(f.blob)
            report.repaired.append(f"removed orphan blob {f.blob}")
        elif f.kind == "old-format" and f.blob in refs:
            if blobs.add_trailer(f.blob, refs[f.blob]):
                report.repaired.append(f"added block checksums to {f.blob}")
    removed = blobs.clean_tmp(grace, every=True)
    if removed:
        report.repaired.append(f"removed {removed} stale temporary files")
